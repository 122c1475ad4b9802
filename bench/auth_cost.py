"""Server-side cost of one authentication check per scheme, in µs per request (warm cache).

Run: ``python bench/auth_cost.py``. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import base64
import hashlib
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import bcrypt

from ivrhooks.core.auth import (
    Authenticator,
    MemoryReplayStore,
    Pending,
    Secrets,
    StaticCredentials,
    build_authenticator,
    derive_credentials,
)

SECRET = "bench-secret-0123456789-abcdefghij"
TARGET = b"/ivr/8000/dtmf?caller=1001&from_name=J%C3%BCrgen&digits=1"


def per_call(fn: Callable[[], object], n: int) -> float:
    fn()  # warm
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def digest_header(user: str, password: str, nonce: str, opaque: str, nc: int, alg: str) -> bytes:
    h = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}[alg]
    ha1 = h(f"{user}:ivrhooks:{password}".encode()).hexdigest()
    ha2 = h(b"GET:" + TARGET).hexdigest()
    ncs = f"{nc:08x}"
    resp = h(f"{ha1}:{nonce}:{ncs}:abc123:auth:{ha2}".encode()).hexdigest()
    return (
        f'Digest username="{user}", realm="ivrhooks", nonce="{nonce}", uri="{TARGET.decode()}", '
        f'algorithm={alg}, response="{resp}", qop=auth, nc={ncs}, cnonce="abc123", '
        f'opaque="{opaque}"'
    ).encode()


def main() -> None:
    secrets = Secrets(SECRET)
    creds = derive_credentials(SECRET, "sales")
    n = 20_000
    rows: list[tuple[str, float]] = []

    basic = build_authenticator("basic", "sales", secrets=secrets)
    header = b"Basic " + base64.b64encode(f"{creds.username}:{creds.password}".encode())
    rows.append(("basic (derived)", per_call(lambda: basic.check("GET", TARGET, [header]), n)))

    bearer = build_authenticator("bearer", "sales", secrets=secrets)
    token = b"Bearer " + creds.token.encode()
    rows.append(("bearer (derived)", per_call(lambda: bearer.check("GET", TARGET, [token]), n)))

    for alg in ("MD5", "SHA-256"):
        digest = build_authenticator(
            "digest",
            "sales",
            secrets=secrets,
            digest_algorithms=(alg,),
            replay_store=MemoryReplayStore(),
        )
        challenge = digest.check("GET", TARGET, []).headers[0][1].decode()
        nonce = challenge.split('nonce="')[1].split('"')[0]
        opaque = challenge.split('opaque="')[1].split('"')[0]
        # Precompute headers with increasing nc so each check is a genuine, fresh success.
        headers = [
            digest_header(creds.username, creds.password, nonce, opaque, i, alg)
            for i in range(1, n + 2)
        ]
        it = iter(headers)

        def fresh(d: Authenticator = digest, i: Iterator[bytes] = it) -> object:
            return d.check("GET", TARGET, [next(i)])

        rows.append((f"digest {alg} (nc counting up)", per_call(fresh, n)))
        challenge_only = partial(digest.check, "GET", TARGET, [])
        rows.append((f"digest {alg} challenge (401)", per_call(challenge_only, n)))

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "htpasswd"
        # Cost 10: what `htpasswd -B` writes by default.
        hashed = bcrypt.hashpw(b"s3cretpass", bcrypt.gensalt(10)).decode()
        path.write_text(f"operator1:{hashed}\n")
        ht = build_authenticator(
            "basic", "s", secrets=None, static=StaticCredentials(htpasswd=path)
        )
        good = b"Basic " + base64.b64encode(b"operator1:s3cretpass")
        start = time.perf_counter()
        first = ht.check("GET", TARGET, [good])
        # Not yet remembered: the bcrypt check comes back as a Pending, which the server runs
        # in its hash threads; here it runs inline, so the figure is the hash itself.
        assert isinstance(first, Pending) and first.finish().ok
        rows.append(
            ("basic htpasswd bcrypt (cold, first request)", (time.perf_counter() - start) * 1e6)
        )
        rows.append(
            (
                "basic htpasswd bcrypt (warm cache)",
                per_call(lambda: ht.check("GET", TARGET, [good]), n),
            )
        )

    width = max(len(name) for name, _ in rows)
    for name, us in rows:
        print(f"{name:<{width}}  {us:10.1f} µs/request")


if __name__ == "__main__":
    main()
