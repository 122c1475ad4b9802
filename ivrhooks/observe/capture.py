"""Capture: every answered action-URL request, one JSON line in a file, for ``ivrhooks replay``.

``ivrhooks run --capture FILE`` (or ``IVRHOOKS_CAPTURE=FILE``) adds a :class:`CaptureObserver`
to the app's observers. After each answer is sent it writes one line (:mod:`.captured` reads
it back)::

    {"v":1,"time":"2026-11-26T10:00:00.123456+00:00","method":"POST","receptionist":"8000",
     "kind":"DTMF","route":"sales","fields":{"from":"55***34","to":"8000","input":"1",
     "account_name":"Main","session_id":"812039440321876551"},"masked":["from"],
     "action":"call","destination":"2001","answered_by":"route","fallback_cause":null,
     "latency_ms":1.234}

Only requests that passed authentication are answered, so only those are written (a refused
request reaches :meth:`Observer.rejected`, which this observer leaves alone). ``time`` is when
the request arrived (UTC): what a handler reading the clock saw, and what replay pins it to.

What is never written: a header (``Authorization`` included), the body or query string as sent,
and any field but PortSIP's six (``from``, ``to``, ``input``, ``from_name``, ``account_name``,
``session_id``: ``portsip.md`` §1), since an unknown field could hold anything. What is written
only when the operator says so:

- **Caller numbers and names** (``IVRHOOKS_CAPTURE_CALLERS=true``). By default ``from`` is
  masked as the logs mask it (:func:`~ivrhooks.observe.logs.mask_number`; so
  ``set_number_masking(False)``, the process-wide switch that shows full numbers in the logs,
  shows them here too) and ``from_name`` is left out: replay does not need them to re-route
  DTMF input, and they are personal data. Without them replay cannot check which caller route
  takes a call, and a handler reading ``req.caller`` sees the masked number.
- **The keyed digits** are written unless ``IVRHOOKS_CAPTURE_DIGITS=false`` (then each digit
  becomes ``*``). They are what replay is about: which route takes ``input`` and what its
  handler decides from it; without them a DTMF request cannot be replayed at all. They may be a
  PIN, so the file is created ``0600`` and the docs say to keep it as a secret is kept; an
  operator whose receptionists take PINs and who does not need to replay them turns digits off.

``masked`` lists the fields not written as sent, so replay knows what it cannot check.

The line is rendered on the event loop (:func:`capture_line`) and handed to a writer
thread (:class:`~ivrhooks.observe.capturefile.CaptureFile`): a slow, full or failing disk
loses lines, counted in ``ivrhooks_capture_lines_total{result="dropped"|"failed"}``, and never
delays or fails an answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from json.encoder import encode_basestring  # the C implementation when available

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from ivrhooks.core.request import ActionRequest
from ivrhooks.core.runner import Outcome
from ivrhooks.errors import ConfigurationError
from ivrhooks.observe.capturefile import CaptureFile
from ivrhooks.observe.logs import mask_number
from ivrhooks.observe.observer import Observer

__all__ = ["FORMAT", "CaptureObserver", "capture_line"]

#: The version of the line's shape, written as ``"v"``; replay refuses another.
FORMAT = 1

#: The fields PortSIP sends (``portsip.md`` §1), in this order: nothing else is written.
_FIELDS = ("from", "to", "input", "from_name", "account_name", "session_id")


_second: tuple[int, str] = (-1, "")


def _iso(when: float) -> str:
    """``2026-11-26T10:00:00.123456+00:00``, the form ``datetime.isoformat`` gives a UTC time,
    with the date and time formatted once a second."""
    global _second
    second = int(when)
    if _second[0] != second:
        _second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    micros = min(999_999, int((when - second) * 1_000_000))
    return f"{_second[1]}.{micros:06d}+00:00"


def capture_line(
    request: ActionRequest,
    outcome: Outcome,
    latency: float,
    *,
    now: float,
    callers: bool,
    digits: bool,
) -> str:
    """The captured line of one answered request, ending in ``\n`` (see the module's
    docstring); ``now`` is the wall-clock time the answer was sent.

    Rendered straight to text, as the request line is (:mod:`.requestline`): every string the
    PBX or the app chose is escaped by the C encoder ``json.dumps`` uses; the vocabulary words
    (kind, action, who answered) need none.
    """
    q = encode_basestring
    sent = request.fields
    fields: list[str] = []
    masked: list[str] = []
    for name in _FIELDS:
        value = sent.get(name)
        if value is None:
            continue
        if name == "from" and not callers:
            value = mask_number(value) or ""
            masked.append('"from"')
        elif name == "from_name" and not callers:
            if value:  # a caller's name is left out
                masked.append('"from_name"')
            continue
        elif name == "input" and not digits and value:
            value = "*" * len(value)
            masked.append('"input"')
        fields.append(f'"{name}":{q(value)}')
    decision = outcome.decision
    destination = decision.destination
    cause = outcome.cause
    return (
        f'{{"v":{FORMAT},"time":"{_iso(now - latency)}","method":{q(request.method)},'
        f'"receptionist":{q(request.to)},"kind":"{request.kind}","route":{q(request.route)},'
        f'"fields":{{{",".join(fields)}}},"masked":[{",".join(masked)}],'
        f'"action":"{decision.action}",'
        f'"destination":{"null" if destination is None else q(destination)},'
        f'"answered_by":"{outcome.handler}",'
        f'"fallback_cause":{"null" if cause is None else q(cause)},'
        f'"latency_ms":{latency * 1000.0:.3f}}}\n'
    )


class CaptureObserver(Observer):
    """Writes every answered request to ``path`` (see the module's docstring).

    The file is opened when the app starts serving (:meth:`serving`, a service the composition
    adds) and closed, everything queued written, when it stops; ``max_bytes`` and ``files`` say
    when it rotates and how many old ones stay (:class:`~ivrhooks.observe.capturefile.CaptureFile`).
    """

    def __init__(
        self,
        path: str,
        *,
        max_bytes: int,
        files: int,
        callers: bool = False,
        digits: bool = True,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.files = files
        self.callers = callers
        self.digits = digits
        self.file: CaptureFile | None = None
        self._before = (0, 0, 0)  # written, dropped, failed by files already closed
        self.unopened = 0  # answered while no file was open (before start, after stop)

    def answered(
        self, request: ActionRequest, outcome: Outcome, latency: float, scheme: str
    ) -> None:
        file = self.file
        if file is None:
            self.unopened += 1
            return
        file.write(
            capture_line(
                request,
                outcome,
                latency,
                now=time.time(),
                callers=self.callers,
                digits=self.digits,
            )
        )

    def start(self) -> None:
        """Open the file (again, after :meth:`stop`); raises :class:`ConfigurationError`
        naming the setting when it cannot be opened."""
        if self.file is not None:
            return
        try:
            self.file = CaptureFile(self.path, max_bytes=self.max_bytes, files=self.files)
        except OSError as exc:
            raise ConfigurationError(
                f"IVRHOOKS_CAPTURE={self.path}: cannot open it for writing ({exc.strerror}); "
                "name a file in a directory that exists and this process may write "
                "(`ivrhooks run --capture FILE`)"
            ) from None

    def stop(self) -> None:
        """Write what is queued and close the file."""
        file, self.file = self.file, None
        if file is not None:
            file.close()
            written, dropped, failed = self._before
            self._before = (written + file.written, dropped + file.dropped, failed + file.failed)

    @contextlib.asynccontextmanager
    async def serving(self, runtime: object) -> AsyncIterator[None]:
        """The service that keeps the file open while the app serves (any ``Runtime``)."""
        self.start()
        try:
            yield
        finally:
            # Off the loop: the thread writes what is left, within its close timeout.
            await asyncio.to_thread(self.stop)

    def counts(self) -> tuple[int, int, int]:
        """Lines written, dropped (the buffer was full) and failed (the disk refused them)."""
        written, dropped, failed = self._before
        file = self.file
        if file is not None:
            return written + file.written, dropped + file.dropped, failed + file.failed
        return written, dropped, failed

    def collector(self) -> Collector:
        """``ivrhooks_capture_lines_total{result}`` for the app's metrics registry."""
        return _CaptureSeries(self)


class _CaptureSeries(Collector):
    def __init__(self, observer: CaptureObserver) -> None:
        self.observer = observer

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "ivrhooks_capture_lines",
            "Captured requests (IVRHOOKS_CAPTURE) by result: written to the file, dropped "
            "because the writer fell behind, failed because the disk refused them.",
            labels=("result",),
        )
        written, dropped, failed = self.observer.counts()
        family.add_metric(("written",), written)
        family.add_metric(("dropped",), dropped)
        family.add_metric(("failed",), failed)
        yield family
