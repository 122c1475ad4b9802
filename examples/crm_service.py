"""A small CRM HTTP service for the CRM example: who is this caller's account manager?

    GET  /customers/{phone}   200 {"phone", "name", "manager"} or 404
    POST /customers           201 with the stored customer; 400 names the bad field; 409 if known
    POST /accounts/{number}/verify  {"pin"}: 200 {"ok", "manager"} (manager only when ok) or 404
    PUT  /calls/{session_id}  a JSON object: how the call went; stored under the call's id, so
                              the same note written again replaces itself (200)
    GET  /calls/{session_id}  200 the note, or 404

Stdlib sqlite3 behind Starlette. Every query runs in a worker thread on a connection of its own
(``anyio.to_thread``), so a slow disk never stalls the event loop. An artificial ``delay`` makes
the service slow on purpose, to show the receiver's deadline and fallback at work; it ends early
if the client hangs up, so a timed-out lookup leaves nothing running.

Run it: ``python examples/crm_service.py --port 8900`` (``CRM_DELAY=1.5`` for a slow CRM).
"""

from __future__ import annotations

import argparse
import contextlib
import hmac
import json
import os
import re
import sqlite3
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = ["ACCOUNTS", "SEED", "create_app", "main"]

#: Customers every new database starts with.
SEED = (
    ("5551234", "Ada Lovelace", "2001"),
    ("5559876", "Grace Hopper", "2002"),
    ("+4930123456", "Alan Turing", "2003"),
)

_PHONE = re.compile(r"\+?[0-9]{1,32}")
_EXTENSION = re.compile(r"[0-9]{1,16}")
#: Accounts every new database starts with: number, PIN (a demo keeps it plain), manager.
ACCOUNTS = (
    ("31234", "2468", "2001"),
    ("40001", "1357", "2002"),
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    phone   TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    manager TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    number  TEXT PRIMARY KEY,
    pin     TEXT NOT NULL,
    manager TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    session_id TEXT PRIMARY KEY,
    note       TEXT NOT NULL
);
"""
_SESSION = re.compile(r"[0-9A-Za-z_.-]{1,64}")


def _connect(db_path: Path) -> contextlib.closing[sqlite3.Connection]:
    # closing(): sqlite3's own context manager commits but never closes the connection.
    return contextlib.closing(sqlite3.connect(db_path, timeout=5.0))


def _init_db(db_path: Path) -> None:
    with _connect(db_path) as conn, conn:
        conn.executescript(_SCHEMA)
        conn.executemany("INSERT OR IGNORE INTO customers VALUES (?, ?, ?)", SEED)
        conn.executemany("INSERT OR IGNORE INTO accounts VALUES (?, ?, ?)", ACCOUNTS)


def _account(db_path: Path, number: str) -> tuple[str, str] | None:
    with _connect(db_path) as conn:
        row = conn.execute(
            "SELECT pin, manager FROM accounts WHERE number = ?", (number,)
        ).fetchone()
    return None if row is None else (row[0], row[1])


def _find(db_path: Path, phone: str) -> dict[str, str] | None:
    with _connect(db_path) as conn:
        row = conn.execute(
            "SELECT phone, name, manager FROM customers WHERE phone = ?", (phone,)
        ).fetchone()
    return None if row is None else {"phone": row[0], "name": row[1], "manager": row[2]}


def _insert(db_path: Path, customer: dict[str, str]) -> bool:
    with _connect(db_path) as conn, conn:
        cursor = conn.execute(
            "INSERT OR IGNORE INTO customers VALUES (:phone, :name, :manager)", customer
        )
        return cursor.rowcount == 1


def _put_call(db_path: Path, session_id: str, note: str) -> None:
    with _connect(db_path) as conn, conn:
        conn.execute("INSERT OR REPLACE INTO calls VALUES (?, ?)", (session_id, note))


def _call(db_path: Path, session_id: str) -> str | None:
    with _connect(db_path) as conn:
        row = conn.execute("SELECT note FROM calls WHERE session_id = ?", (session_id,)).fetchone()
    return None if row is None else str(row[0])


async def _pause(request: Request, delay: float) -> None:
    """Wait ``delay`` seconds, or less if the client disconnects first."""
    with anyio.move_on_after(delay):
        # After the (empty) request body, the next ASGI message is the disconnect.
        while (await request.receive())["type"] != "http.disconnect":
            pass


def _validate(body: Any) -> dict[str, str]:
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object with phone, name and manager")
    checks = {
        "phone": (_PHONE, "digits with an optional leading +, at most 32"),
        "name": (re.compile(r"\S.{0,99}", re.DOTALL), "1 to 100 characters"),
        "manager": (_EXTENSION, "an extension number of 1 to 16 digits"),
    }
    customer: dict[str, str] = {}
    for field, (pattern, rule) in checks.items():
        value = body.get(field)
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ValueError(f"field {field!r} must be {rule}")
        customer[field] = value
    return customer


def create_app(db_path: str | os.PathLike[str], *, delay: float = 0.0) -> Starlette:
    """The CRM service on the sqlite database at ``db_path`` (created and seeded if new).

    ``app.state.lookups`` counts ``GET /customers/{phone}`` requests, so tests and demos can
    see how many lookups reached the CRM; ``app.state.notes`` counts ``PUT /calls/...``.
    """
    if delay < 0:
        raise ValueError(f"delay must be >= 0 seconds, got {delay}")
    path = Path(db_path)

    async def get_customer(request: Request) -> Response:
        request.app.state.lookups += 1
        if delay:
            await _pause(request, delay)
        phone = request.path_params["phone"]
        customer = await anyio.to_thread.run_sync(partial(_find, path, phone))
        if customer is None:
            return JSONResponse({"error": "no such customer"}, status_code=404)
        return JSONResponse(customer)

    async def add_customer(request: Request) -> Response:
        try:
            customer = _validate(await request.json())
        except ValueError as exc:  # JSONDecodeError is a ValueError too
            return JSONResponse({"error": str(exc)}, status_code=400)
        added = await anyio.to_thread.run_sync(partial(_insert, path, customer))
        if not added:
            return JSONResponse({"error": "customer already exists"}, status_code=409)
        return JSONResponse(customer, status_code=201)

    async def verify(request: Request) -> Response:
        if delay:
            await _pause(request, delay)
        try:
            body = await request.json()
            pin = body["pin"] if isinstance(body, dict) else None
        except (ValueError, KeyError):
            pin = None
        if not isinstance(pin, str):
            return JSONResponse({"error": 'send {"pin": "..."}'}, status_code=400)
        found = await anyio.to_thread.run_sync(
            partial(_account, path, request.path_params["number"])
        )
        if found is None:
            return JSONResponse({"error": "no such account"}, status_code=404)
        stored, manager = found
        if hmac.compare_digest(stored, pin):
            return JSONResponse({"ok": True, "manager": manager})
        return JSONResponse({"ok": False})

    async def put_call(request: Request) -> Response:
        session_id = request.path_params["session_id"]
        if not _SESSION.fullmatch(session_id):
            return JSONResponse({"error": "a session id is 1 to 64 of 0-9A-Za-z_.-"}, 400)
        try:
            note = await request.json()
        except ValueError:
            note = None
        if not isinstance(note, dict):
            return JSONResponse({"error": "the note must be a JSON object"}, status_code=400)
        request.app.state.notes += 1
        text = json.dumps(note, sort_keys=True)
        await anyio.to_thread.run_sync(partial(_put_call, path, session_id, text))
        return JSONResponse(note)

    async def get_call(request: Request) -> Response:
        found = await anyio.to_thread.run_sync(
            partial(_call, path, request.path_params["session_id"])
        )
        if found is None:
            return JSONResponse({"error": "no such call"}, status_code=404)
        return Response(found, media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await anyio.to_thread.run_sync(partial(_init_db, path))
        yield

    app = Starlette(
        routes=[
            Route("/customers/{phone}", get_customer, methods=["GET"]),
            Route("/customers", add_customer, methods=["POST"]),
            Route("/accounts/{number}/verify", verify, methods=["POST"]),
            Route("/calls/{session_id}", put_call, methods=["PUT"]),
            Route("/calls/{session_id}", get_call, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.lookups = 0
    app.state.notes = 0
    return app


def main(argv: list[str] | None = None) -> None:
    """Command line: ``python examples/crm_service.py [--host H] [--port P] [--db FILE]``."""
    import uvicorn

    parser = argparse.ArgumentParser(description="The CRM service of the ivrhooks CRM example.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--db", default="crm.sqlite3", help="sqlite file (created if missing)")
    parser.add_argument(
        "--delay",
        type=float,
        default=None,
        help="artificial delay per lookup in seconds (default: $CRM_DELAY or 0)",
    )
    args = parser.parse_args(argv)
    if args.delay is None:
        try:
            args.delay = float(os.environ.get("CRM_DELAY") or 0)
        except ValueError:
            parser.error(f"CRM_DELAY must be a number of seconds, got {os.environ['CRM_DELAY']!r}")
    if args.delay < 0:
        parser.error(f"the delay must be >= 0 seconds, got {args.delay}")
    uvicorn.run(create_app(args.db, delay=args.delay), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
