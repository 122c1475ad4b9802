"""The probe's report: ``report.md`` for people, ``report.json`` for tools, and
``behaviour.json`` for the fake PBX (``ivrhooks fake-pbx --behaviour``), in one directory.

Nothing secret is written: no credential (only the Digest parameters' names), the caller's
number and name masked (:mod:`.seen`), the PBX named by host and port only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivrhooks.errors import ConfigurationError
from ivrhooks.fakepbx.behaviour import Behaviour
from ivrhooks.probe.findings import Finding
from ivrhooks.probe.seen import Seen
from ivrhooks.probe.session import StepRun

__all__ = ["FORMAT", "Report"]

FORMAT = "ivrhooks.probe-report/1"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


@dataclass
class Report:
    """Everything a run learnt, ready to write."""

    meta: dict[str, Any]
    """ivrhooks' version, the PBX (host:port), the receptionist, the probe's id, the times,
    the entries registered (without secrets), whether it was interrupted."""
    runs: Sequence[StepRun]
    seen: Sequence[Seen]
    found: Mapping[str, Finding]
    behaviour: Behaviour

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            **self.meta,
            "findings": {key: f.to_json() for key, f in self.found.items()},
            "steps": [
                {
                    "step": run.step.key,
                    "number": run.number,
                    "says": run.step.says,
                    "asks": run.step.asks,
                    "finished": run.finished,
                    "note": run.note,
                    "requests": [s.index for s in run.seen],
                }
                for run in self.runs
            ],
            "requests": [s.to_json() for s in self.seen],
        }

    def markdown(self) -> str:
        m = self.meta
        lines = [
            f"# What PBX {m['pbx']} does where PortSIP's documents are silent",
            "",
            f"Probed by ivrhooks {m['ivrhooks']} on receptionist {m['receptionist']}, "
            f"{m['started']} to {m['finished']}"
            + (f" (interrupted: {m['interrupted']})" if m.get("interrupted") else "")
            + ".",
            "",
            "| entry | type | mask | method | url | auth | timeouts |",
            "|---|---|---|---|---|---|---|",
        ]
        for e in m["registered"]:
            lines.append(
                f"| `{e['name']}` | {e['type']} | `{e['mask']}` | {e['method']} | {e['url']} "
                f"| {e['auth']} | connect {e['connection_timeout']} s, "
                f"request {e['request_timeout']} s |"
            )
        lines += [
            "",
            "## Answers",
            "",
            "| question | this PBX | ivrhooks' fake PBX |",
            "|---|---|---|",
        ]
        for f in self.found.values():
            lines.append(f"| {_cell(f.question)} | {_cell(f.answer)} | {_cell(f.fake)} |")
        lines += [
            "",
            "The last column is the fake PBX's behaviour as shipped (`ivrhooks/fakepbx/dial.py`, "
            "`flow.py`). Loaded with this run's `behaviour.json` (`ivrhooks fake-pbx --behaviour "
            "behaviour.json`, `FakePBX(behaviour=path)`), it sends requests shaped as this PBX "
            "sent them and reacts to a late, 500 or not-JSON answer as this PBX did.",
            "",
            "## Steps",
        ]
        for run in self.runs:
            lines += ["", f"### {run.number}. `{run.step.key}`: the probe {run.step.says}", ""]
            lines.append(f"_{run.step.asks}_")
            lines.append("")
            if not run.seen:
                lines.append("No request arrived.")
            for s in run.seen:
                sid = s.session_id or "(no session_id)"
                gap = "" if s.gap is None else f", {s.gap:.3f} s after the one before"
                lines.append(
                    f"- #{s.index} at {s.at:.3f} s{gap}: {s.method} {s.path} "
                    f"({s.route}, input {s.input!r}, session {sid}) from {s.source}: "
                    f"**{s.kind}**, answered {s.answer}"
                    + ("" if s.answered_after is None else f" after {s.answered_after:.3f} s")
                )
            if run.note:
                lines.append(f"- the operator heard: {run.note}")
        outside = [s for s in self.seen if s.step is None]
        if outside:
            lines += ["", "### Outside the steps", ""]
            lines += [
                f"- #{s.index} at {s.at:.3f} s: {s.method} {s.path} (input {s.input!r}): "
                f"**{s.kind}**, answered {s.answer}"
                for s in outside
            ]
        lines += self._shape()
        return "\n".join(lines) + "\n"

    def _shape(self) -> list[str]:
        firsts = [s for s in self.seen if s.kind == "first"] or list(self.seen)
        if not firsts:
            return []
        s = firsts[0]
        lines = [
            "",
            "## A request as sent",
            "",
            f"`{s.method} {s.path}`" + (f"`?{s.query}`" if s.query else ""),
            "",
            "```",
        ]
        lines += [f"{name}: {value}" for name, value in s.headers]
        lines += ["", s.body, "```", ""]
        lines.append(f"Fields in order: {', '.join(s.field_order) or '(none)'}.")
        sources = sorted({x.source or "?" for x in self.seen})
        lines.append(f"Sent from: {', '.join(sources)}.")
        return lines

    def write(self, directory: str | Path) -> list[Path]:
        """Write the three files into ``directory`` (made if missing); returns their paths."""
        out = Path(directory)
        written = [out / "report.md", out / "report.json", out / "behaviour.json"]
        try:
            out.mkdir(parents=True, exist_ok=True)
            written[0].write_text(self.markdown())
            written[1].write_text(json.dumps(self.to_json(), indent=2) + "\n")
            self.behaviour.save(written[2])
        except OSError as exc:
            raise ConfigurationError(
                f"--out: cannot write the report into {out} ({exc.strerror})"
            ) from None
        return written
