"""The fake PBX's state: resources in insertion order, optionally mirrored to SQLite.

With ``db=path`` every write also lands in one SQLite table, so a development PBX started
from the CLI keeps its receptionists and action URLs across restarts. Reads always come from
memory; the file is read once at start.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from pathlib import Path
from typing import Any, Literal

__all__ = ["Kind", "Store", "new_id"]

Kind = Literal["ivr_server", "ivr", "action_url"]
Row = dict[str, Any]


def new_id() -> str:
    """An opaque id shaped like PortSIP's (base64-ish, e.g. ``NzAwNTUxOTA5NzczMTQ4MTYw``)."""
    return secrets.token_urlsafe(18)


class Store:
    def __init__(self, db: str | Path | None = None) -> None:
        self.ivr_servers: dict[str, Row] = {}
        self.ivrs: dict[str, Row] = {}
        self.action_urls: dict[str, dict[str, Row]] = {}  # ivr id -> url id -> row
        self._db: sqlite3.Connection | None = None
        if db is not None:
            self._db = sqlite3.connect(str(db), isolation_level=None)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS resources (kind TEXT NOT NULL, id TEXT PRIMARY KEY,"
                " parent TEXT, seq INTEGER NOT NULL, data TEXT NOT NULL)"
            )
            self._load()

    @property
    def persistent(self) -> bool:
        return self._db is not None

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def _load(self) -> None:
        assert self._db is not None
        rows = self._db.execute("SELECT kind, id, parent, data FROM resources ORDER BY seq")
        for kind, rid, parent, data in rows:
            self._table(kind, parent)[rid] = json.loads(data)

    def _table(self, kind: Kind, parent: str | None = None) -> dict[str, Row]:
        if kind == "ivr_server":
            return self.ivr_servers
        if kind == "ivr":
            return self.ivrs
        assert parent is not None
        return self.action_urls.setdefault(parent, {})

    def put(self, kind: Kind, row: Row, parent: str | None = None) -> None:
        """Insert or replace ``row`` (keyed by ``row["id"]``)."""
        self._table(kind, parent)[row["id"]] = row
        if self._db is not None:
            self._db.execute(
                "INSERT INTO resources (kind, id, parent, seq, data) VALUES (?, ?, ?,"
                " (SELECT COALESCE(MAX(seq), 0) + 1 FROM resources), ?)"
                " ON CONFLICT(id) DO UPDATE SET data = excluded.data",
                (kind, row["id"], parent, json.dumps(row)),
            )

    def delete(self, kind: Kind, rid: str, parent: str | None = None) -> None:
        self._table(kind, parent).pop(rid, None)
        if kind == "ivr":
            self.action_urls.pop(rid, None)
        if self._db is not None:
            self._db.execute("DELETE FROM resources WHERE id = ? OR parent = ?", (rid, rid))
