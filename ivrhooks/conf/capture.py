"""The settings of the request capture: where every answered action-URL request is written, one
JSON line each, for ``ivrhooks replay`` to run against other code (docs/dev-loop.md, "Replay").

Off unless a file is named (``IVRHOOKS_CAPTURE``, ``ivrhooks run --capture FILE``). What is
written is chosen here too: caller numbers and names are masked unless the operator says
otherwise; the keyed digits are written unless the operator says otherwise, because replay
needs them (the reasons are in :mod:`ivrhooks.observe.capture`).

Each field is declared once with :func:`~ivrhooks.conf.declare.setting`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivrhooks.conf import rules
from ivrhooks.conf.declare import Group, setting

__all__ = ["CaptureConfig"]

_MIB = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class CaptureConfig(Group):
    """Whether and how answered action-URL requests are captured for ``ivrhooks replay``."""

    file: str | None = setting(
        None,
        doc="a file every authenticated action-URL request is appended to, one JSON line each, "
        "for `ivrhooks replay` (`ivrhooks run --capture FILE`); see "
        "[docs/dev-loop.md](docs/dev-loop.md#replay-does-tomorrows-code-route-yesterdays-calls-the-same-way)",
        rule=rules.text,
        env="IVRHOOKS_CAPTURE",
        parse=rules.trimmed,
        readme_default="unset: nothing is captured",
    )
    max_bytes: int = setting(
        100 * _MIB,
        doc="the capture file's size, at most, in bytes: then it is renamed `FILE.1` (`FILE.1` "
        "to `FILE.2`, ...) and a new one started",
        rule=rules.integer(4096, 1 << 40),
        env="IVRHOOKS_CAPTURE_MAX_BYTES",
        parse=rules.parse_integer,
        readme_default="`104857600` (100 MiB)",
    )
    files: int = setting(
        5,
        doc="rotated capture files kept (`FILE.1` ... `FILE.N`); the oldest goes",
        rule=rules.integer(1, 1000),
        env="IVRHOOKS_CAPTURE_FILES",
        parse=rules.parse_integer,
    )
    callers: bool = setting(
        False,
        doc="`true`: the capture holds callers' numbers and names in full (replay can then check "
        "caller routes); otherwise numbers are masked as in the logs and names left out",
        rule=rules.boolean,
        env="IVRHOOKS_CAPTURE_CALLERS",
        parse=rules.parse_boolean,
    )
    digits: bool = setting(
        True,
        doc="`false`: the keyed digits (`input`, maybe a PIN) are masked in the capture, and "
        "replay skips the DTMF requests it cannot rebuild",
        rule=rules.boolean,
        env="IVRHOOKS_CAPTURE_DIGITS",
        parse=rules.parse_boolean,
    )

    @property
    def enabled(self) -> bool:
        return self.file is not None
