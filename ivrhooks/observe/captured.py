"""A capture file read back (the lines :mod:`ivrhooks.observe.capture` writes), and written again
with other expected answers (``ivrhooks replay --accept``).

Reading is lenient where a running capture can leave damage: a line cut short by a crash or a
full disk is reported as unreadable (its number and why) and the rest is read. A line written
by another version of the format is refused as a whole file: its fields may not mean the same.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ivrhooks.core.types import KINDS, Kind
from ivrhooks.errors import InvalidArgumentError
from ivrhooks.observe.capture import FORMAT

__all__ = ["CaptureLines", "Captured", "read_capture", "rewrite_capture"]


@dataclass(frozen=True)
class Captured:
    """One captured request and the answer it got."""

    line: int
    """Its line in the file, from 1."""
    record: dict[str, Any]
    """The line as read (what ``--accept`` writes back, its answer replaced)."""
    time: datetime
    """When the request arrived (UTC)."""
    method: str
    receptionist: str
    kind: Kind
    route: str | None
    """The route that answered; ``None`` when an accepted replay found no route takes it (the
    receptionist's own menu does)."""
    fields: dict[str, str]
    masked: frozenset[str]
    """The fields not written as sent (``from`` masked, ``from_name`` left out, ``input``
    masked): what replay cannot check."""
    action: str | None
    destination: str | None
    answered_by: str | None
    cause: str | None

    @property
    def session_id(self) -> str | None:
        return self.fields.get("session_id") or None

    @property
    def digits(self) -> str:
        return self.fields.get("input", "")

    def answered(
        self,
        *,
        route: str | None,
        action: str | None,
        destination: str | None,
        answered_by: str | None,
        cause: str | None,
    ) -> dict[str, Any]:
        """The record with another answer (``route`` ``None``: no route of the app takes it)."""
        return {
            **self.record,
            "route": route,
            "action": action,
            "destination": destination,
            "answered_by": answered_by,
            "fallback_cause": cause,
        }


@dataclass(frozen=True)
class CaptureLines:
    """A capture file read: its requests, its unreadable lines, and every line as it was."""

    requests: list[Captured]
    unreadable: list[tuple[int, str]]
    """``(line number, why)`` for each line that is not a captured request."""
    lines: list[str]


class _Unreadable(Exception):
    """A line that is not a captured request (its message says why)."""


def _text(record: dict[str, Any], key: str, *, optional: bool = False) -> Any:
    value = record.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _Unreadable(f"{key!r} is not a string")
    return value


def _parse(number: int, text: str) -> Captured:
    try:
        record = json.loads(text)
    except ValueError:
        raise _Unreadable("not JSON (cut short?)") from None
    if not isinstance(record, dict):
        raise _Unreadable("not a JSON object")
    if record.get("v") != FORMAT:
        raise InvalidArgumentError(
            f"line {number}: a capture of format {record.get('v')!r}; this ivrhooks reads "
            f"format {FORMAT}: replay it with the version that wrote it"
        )
    fields = record.get("fields")
    if not isinstance(fields, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in fields.items()
    ):
        raise _Unreadable("'fields' is not an object of strings")
    kind = _text(record, "kind")
    if kind not in KINDS:
        raise _Unreadable(f"'kind' is {kind!r}")
    masked = record.get("masked", [])
    if not isinstance(masked, list):
        raise _Unreadable("'masked' is not a list")
    try:
        arrived = datetime.fromisoformat(_text(record, "time"))
    except ValueError:
        raise _Unreadable("'time' is not an ISO 8601 time") from None
    if arrived.tzinfo is None:
        raise _Unreadable("'time' has no time zone")
    return Captured(
        line=number,
        record=record,
        time=arrived,
        method=_text(record, "method"),
        receptionist=_text(record, "receptionist"),
        kind=kind,
        route=_text(record, "route", optional=True),
        fields=dict(fields),
        masked=frozenset(str(name) for name in masked),
        action=_text(record, "action", optional=True),
        destination=_text(record, "destination", optional=True),
        answered_by=_text(record, "answered_by", optional=True),
        cause=_text(record, "fallback_cause", optional=True),
    )


def read_capture(path: str | os.PathLike[str]) -> CaptureLines:
    """Every line of the capture at ``path``. Raises :class:`InvalidArgumentError` when it
    cannot be read or was written in another format."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InvalidArgumentError(
            f"capture {str(path)!r}: cannot read it ({exc.strerror})"
        ) from None
    # On "\n" only: a JSON string may hold U+2028 or U+0085 as they are, which splitlines()
    # would take for line ends.
    pieces = text.split("\n")
    lines = [piece + "\n" for piece in pieces[:-1]]
    if pieces[-1]:
        lines.append(pieces[-1])  # the last line, cut short
    requests: list[Captured] = []
    unreadable: list[tuple[int, str]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            requests.append(_parse(number, line))
        except _Unreadable as exc:
            unreadable.append((number, str(exc)))
    return CaptureLines(requests, unreadable, lines)


def rewrite_capture(
    path: str | os.PathLike[str], lines: list[str], changed: Iterable[tuple[int, dict[str, Any]]]
) -> None:
    """Write ``lines`` back to ``path`` with each ``(line number, record)`` of ``changed`` in
    place of its line: to a new file in the same directory (with the old one's permissions),
    flushed to disk, then renamed over the old one, so a crash leaves one or the other whole."""
    target = Path(path)
    out = list(lines)
    for number, record in changed:
        out[number - 1] = json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n"
    mode = target.stat().st_mode & 0o777
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.writelines(out)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
