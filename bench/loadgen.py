"""Fallback load generator for bench/e2e.py when ``wrk`` is absent: keep-alive HTTP/1.1 on raw
asyncio sockets (uvloop when installed), closed loop, one request in flight per connection.

It measures what wrk measures (requests/s, per-request latency p50/p99, non-2xx answers) but is
itself Python: on a 2-core machine it saturates earlier than wrk, so absolute figures are lower
and the ratios between apps are what to read. Digest mode does what bench/wrk/digest.lua does:
a request without credentials, the 401 challenge, then the authorised request (nc=00000001).

    python bench/loadgen.py http://127.0.0.1:8000/hooks/r1?from=... -c 32 -d 5 \
        [--method POST --body '{...}'] [--header 'Authorization: Basic ...']
        [--digest USER:PASSWORD:REALM]

Prints one ``WRKJSON {...}`` line, the same as the wrk scripts.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import time
from urllib.parse import urlsplit

_NONCE = re.compile(rb'nonce="([^"]+)"')
_OPAQUE = re.compile(rb'opaque="([^"]*)"')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324  # RFC 7616 Digest's MD5


class Digest:
    """Client side of RFC 7616 qop=auth, one nonce per authorised request (as the PBX does)."""

    def __init__(self, spec: str, target: str) -> None:
        self.user, password, self.realm = spec.split(":", 2)
        self.target = target
        self.ha1 = _md5(f"{self.user}:{self.realm}:{password}")
        self.ha2 = _md5(f"GET:{target}")
        self.count = 0

    def header(self, challenge: bytes) -> str | None:
        nonce = _NONCE.search(challenge)
        if nonce is None:
            return None
        opaque = _OPAQUE.search(challenge)
        self.count += 1
        cnonce = f"{self.count:016x}"
        n = nonce.group(1).decode()
        response = _md5(f"{self.ha1}:{n}:00000001:{cnonce}:auth:{self.ha2}")
        return (
            f'Digest username="{self.user}", realm="{self.realm}", nonce="{n}", '
            f'uri="{self.target}", algorithm=MD5, qop=auth, nc=00000001, cnonce="{cnonce}", '
            f'response="{response}", opaque="{opaque.group(1).decode() if opaque else ""}"'
        )


def _request(method: str, target: str, host: str, headers: list[str], body: bytes) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", *headers]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status, head


async def run(args: argparse.Namespace) -> dict[str, int]:
    url = urlsplit(args.url)
    target = url.path + (f"?{url.query}" if url.query else "")
    host, port = url.hostname or "127.0.0.1", url.port or 80
    body = args.body.encode()
    plain = _request(args.method, target, f"{host}:{port}", args.header, body)
    digest = Digest(args.digest, target) if args.digest else None
    latencies: list[float] = []
    counts = {"non2xx": 0, "errors": 0}
    loop = asyncio.get_running_loop()
    start = loop.time()
    stop = start + args.duration

    async def connection() -> None:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            counts["errors"] += 1
            return
        pending: str | None = None  # a Digest Authorization value waiting to be spent
        try:
            while loop.time() < stop:
                if digest is not None and pending is not None:
                    auth = [f"Authorization: {pending}"]
                    data = _request("GET", target, f"{host}:{port}", auth, b"")
                    pending = None
                else:
                    data = plain
                sent = time.perf_counter()
                writer.write(data)
                status, head = await _read_response(reader)
                latencies.append(time.perf_counter() - sent)
                if status == 401 and digest is not None:
                    pending = digest.header(head)
                if not 200 <= status < 400:
                    counts["non2xx"] += 1
        except (OSError, asyncio.IncompleteReadError):
            counts["errors"] += 1
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(args.connections)))
    elapsed = loop.time() - start
    latencies.sort()

    def pct(p: float) -> int:
        return int(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1e6)

    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "p50_us": pct(0.50) if latencies else 0,
        "p99_us": pct(0.99) if latencies else 0,
        **counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("-c", "--connections", type=int, default=32)
    parser.add_argument("-d", "--duration", type=float, default=5.0)
    parser.add_argument("--method", default="GET", choices=["GET", "POST"])
    parser.add_argument("--body", default="")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--digest", default="", help="USER:PASSWORD:REALM")
    args = parser.parse_args()
    if args.digest and args.method != "GET":
        parser.error("--digest drives GET requests only")
    factory = asyncio.new_event_loop
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        pass
    with asyncio.Runner(loop_factory=factory) as runner:
        result = runner.run(run(args))
    print("WRKJSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
