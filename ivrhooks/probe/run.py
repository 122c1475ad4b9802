"""One probe run: register on the receptionist, serve, walk the operator through the steps,
write the report, and remove the entries whatever happens.

The entries are removed in a ``finally`` around everything after they were written: at the end
of the run, on an error, and when the run is cancelled (``Probe.interrupt``, which the command
calls on SIGINT and SIGTERM). They go before the server stops, so the PBX is never left calling
a URL nobody serves.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import secrets
import socket
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from ivrhooks._version import __version__
from ivrhooks.conf.config import PBXConfig
from ivrhooks.core.types import Method, Scheme
from ivrhooks.errors import ConfigurationError
from ivrhooks.fakepbx.remote import place_call
from ivrhooks.probe.app import ProbeApp
from ivrhooks.probe.auth import ProbeAuth
from ivrhooks.probe.console import Console, in_daemon_thread
from ivrhooks.probe.entry import Entry, Receptionist, open_receptionist
from ivrhooks.probe.findings import findings
from ivrhooks.probe.fixtures import behaviour_of
from ivrhooks.probe.report import Report
from ivrhooks.probe.session import GRACE, ProbeSession, StepRun
from ivrhooks.probe.steps import FIRST_KEY, SECOND_KEY, STEPS, Step
from ivrhooks.registration.job import pbx_client
from ivrhooks.server.loopback import bind_socket, serve

__all__ = ["Probe", "ProbeOptions"]

#: The ``headers`` setting registered with the entries: whether both arrive, as written, is
#: part of what the report shows; they are left out of the behaviour file's header set.
CONFIGURED_HEADER = "x-ivrhooks-probe"


@dataclass(frozen=True)
class ProbeOptions:
    """What ``ivrhooks probe`` was asked (its options, one for one)."""

    receptionist: str
    public_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    method: Method = "POST"
    scheme: Scheme = "digest"
    request_timeout: int = 2
    dtmf_mask: str = "ALL"
    caller_mask: str | None = None
    steps: tuple[Step, ...] = STEPS
    out: Path = field(default_factory=lambda: Path("ivrhooks-probe"))
    force: bool = False
    self_dial: bool = False
    caller: str = "101"
    settle: float = 60.0
    ask: bool = False


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _probe_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(6))


def _listen(host: str, port: int) -> socket.socket:
    try:
        return bind_socket(host, port)
    except OSError as exc:
        raise ConfigurationError(
            f"--host/--port: cannot listen on {host}:{port} ({exc.strerror})"
        ) from None


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


class Probe:
    """A probe of one PBX; :meth:`run` once."""

    def __init__(self, options: ProbeOptions, pbx: PBXConfig, console: Console) -> None:
        self.options = options
        self.pbx = pbx
        self.console = console
        self.id = _probe_id()
        self.session = ProbeSession(
            receptionist=options.receptionist,
            request_timeout=options.request_timeout,
            connection_timeout=options.request_timeout,
        )
        self.auth = ProbeAuth(options.scheme)
        self.interrupted: str | None = None
        self.entries: list[Entry] = []
        self._task: asyncio.Task[Any] | None = None

    def interrupt(self, reason: str) -> bool:
        """Stop the run (the entries are still removed); False when already stopping."""
        if self.interrupted is not None or self._task is None:
            return False
        self.interrupted = reason
        self._task.cancel()
        return True

    async def run(self) -> Report:
        self._task = asyncio.current_task()
        o, say = self.options, self.console.say
        pbx_host = urlsplit(self.pbx.url).hostname or ""
        if o.public_url is None and not _loopback(pbx_host):
            raise ConfigurationError(
                f"--public-url (or IVRHOOKS_PUBLIC_URL): the PBX at {pbx_host} calls the probe, "
                "so give the URL at which it reaches --host/--port (e.g. http://10.0.0.5:8080)"
            )
        paths: dict[str, Literal["dtmf", "caller"]] = {
            f"/probe/{self.id}/dtmf": "dtmf",
            f"/probe/{self.id}/caller": "caller",
        }
        app = ProbeApp(self.session, self.auth, paths)
        started = _now()
        say(
            f"ivrhooks probe {self.id}: PBX {urlsplit(self.pbx.url).netloc.rpartition('@')[2]}, "
            f"receptionist {o.receptionist}"
        )
        async with pbx_client(self.pbx) as client:
            receptionist = await open_receptionist(client, o.receptionist, force=o.force)
            for name in receptionist.leftovers:
                say(f"removed {name}: an earlier probe's entry left behind")
            if receptionist.others:
                say(f"--force: probing beside {', '.join(receptionist.others)} (left alone)")
            sock = _listen(o.host, o.port)
            host, port = sock.getsockname()[:2]
            local = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
            local = f"[{local}]" if ":" in local else local
            base = (o.public_url or f"http://{local}:{port}").rstrip("/")
            try:
                async with serve(app, sock=sock, lifespan="off"):
                    say(f"serving on http://{local}:{port}; the PBX calls {base}/probe/{self.id}/")
                    await self._register(receptionist, base)
                    await self._steps()
            finally:
                await receptionist.remove(self.entries)
                for entry in self.entries:
                    say(f"removed {entry.name} from receptionist {o.receptionist}")
                report = self._report(started)
                written = report.write(o.out)
                say(f"wrote {', '.join(str(p) for p in written)}")
        return report

    async def _register(self, receptionist: Receptionist, base: str) -> None:
        o = self.options
        credentials = {
            "basic": {"username": self.auth.username, "password": self.auth.password},
            "digest": {"username": self.auth.username, "password": self.auth.password},
            "bearer": {"token": self.auth.token},
            "none": {},
        }[o.scheme]
        headers = f"{CONFIGURED_HEADER}:{self.id}"
        wanted = [("DTMF", o.dtmf_mask, "dtmf")]
        if o.caller_mask:
            wanted.append(("CALLER", o.caller_mask, "caller"))
        for kind, mask, path in wanted:
            entry = await receptionist.add(
                kind,  # type: ignore[arg-type]
                probe_id=self.id,
                mask=mask,
                url=f"{base}/probe/{self.id}/{path}",
                method=o.method,
                scheme=o.scheme,
                credentials=credentials,
                headers=headers,
                seconds=o.request_timeout,
            )
            self.entries.append(entry)
            self.console.say(
                f"registered {entry.name}: {kind} {mask!r} -> {o.method} {entry.url} "
                f"({o.scheme}, request_timeout {o.request_timeout} s)"
            )

    async def _steps(self) -> None:
        o, say = self.options, self.console.say
        total = len(o.steps)
        if not o.self_dial:
            say(f"{total} call(s) to make, one per step; each step says what to do.")
        for number, step in enumerate(o.steps, start=1):
            self.session.begin(step)
            say()
            say(f"step {number}/{total} {step.key}: the probe {step.says}")
            if o.self_dial:
                await in_daemon_thread(self._dial)
            else:
                await self._operator(step)
            run = await self.session.finish()
            if o.ask and not o.self_dial and not self.console.eof:
                say("  what did you hear after the probe's answer? (one line; Enter to skip)")
                run.note = (await self.console.line() or "").strip() or None
            for line in _summary(run):
                say("  " + line)

    def _dial(self) -> None:
        # The fake PBX follows the call: the first key, then the second at a new prompt.
        o = self.options
        place_call(self.pbx.url, to=o.receptionist, caller=o.caller, digits=[FIRST_KEY, SECOND_KEY])

    async def _operator(self, step: Step) -> None:
        o, say = self.options, self.console.say
        say(f"  1. call {o.receptionist}")
        say(f"  2. when the prompt plays, key {FIRST_KEY}")
        say(
            f"  3. if the prompt plays again (or the call comes back to {o.receptionist}), "
            f"key {SECOND_KEY}"
        )
        if step.answer == "late":
            held = o.request_timeout * 2 + GRACE
            say(f"     (the probe holds its answer for up to {held:g} s: wait for what follows)")
        say("  4. once nothing more happens, hang up, then press Enter here")
        if await self.console.line() is not None:
            return
        # No input (stdin closed): the step ends after --settle quiet seconds.
        activity = self.session.activity
        while True:
            activity.clear()
            try:
                async with asyncio.timeout(o.settle):
                    await activity.wait()
            except TimeoutError:
                return

    def _report(self, started: str) -> Report:
        o = self.options
        found = findings(
            self.session.runs,
            self.session.seen,
            scheme=o.scheme,
            timeouts=(o.request_timeout, o.request_timeout),
            caller_probed=o.caller_mask is not None,
        )
        pbx = urlsplit(self.pbx.url).netloc.rpartition("@")[2]
        meta = {
            "ivrhooks": __version__,
            "pbx": pbx,
            "receptionist": o.receptionist,
            "probe_id": self.id,
            "started": started,
            "finished": _now(),
            "interrupted": self.interrupted,
            "registered": [e.to_json() for e in self.entries],
            "configured_headers": f"{CONFIGURED_HEADER}:{self.id}",
        }
        behaviour = behaviour_of(
            self.session.runs,
            self.session.seen,
            found,
            source={
                "pbx": pbx,
                "receptionist": o.receptionist,
                "probed": started,
                "ivrhooks": __version__,
                "method": o.method,
            },
            configured_headers=[CONFIGURED_HEADER],
        )
        return Report(meta, self.session.runs, self.session.seen, found, behaviour)


def _summary(run: StepRun) -> list[str]:
    if not run.seen:
        return ["no request arrived"]
    return [
        f"#{s.index} {s.kind}: {s.method} input {s.input!r}, answered {s.answer}" for s in run.seen
    ]
