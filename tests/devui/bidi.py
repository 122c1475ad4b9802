"""Debian's ``firefox-esr``, headless, driven over WebDriver BiDi: the W3C protocol Firefox
speaks natively on a WebSocket, so no geckodriver and no patched Playwright build is needed.

``firefox()`` starts a fresh profile with ``--remote-debugging-port 0`` (the port it picked is
read from the "WebDriver BiDi listening on ws://…" line it prints), connects to ``/session``
and opens a session with ``session.new``; ``Firefox.new_tab()`` gives a ``Tab`` that navigates,
evaluates scripts, presses real keys and clicks with a real pointer (``input.performActions``),
and waits by polling with a deadline. The session is ended, the process stopped and the profile
removed on the way out.

Only what the dev page's tests use is here; the commands follow
https://w3c.github.io/webdriver-bidi/ as Firefox implements it.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

FIREFOX = shutil.which("firefox-esr") or "/usr/bin/firefox-esr"
INSTALL = "apt-get install firefox-esr"
LISTENING = re.compile(r"WebDriver BiDi listening on (ws://\S+)")

# Firefox's remote agent already applies its recommended automation preferences (no updates,
# no telemetry, no first-run pages); these keep a closed network quiet and the start fast.
PREFS = {
    "browser.startup.page": 0,  # a blank first tab, not about:home
    "browser.shell.checkDefaultBrowser": False,
    "browser.aboutwelcome.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
}

# WebDriver's codes for the keys that are not characters (the spec's "normalised key values").
KEYS = {"Backspace": "\ue003", "Tab": "\ue004", "Enter": "\ue007", "Shift": "\ue008", "Space": " "}


def _key(key: str) -> str:
    value = KEYS.get(key, key)
    if len(value) != 1:
        raise ValueError(f"not a key: {key!r}")
    return value


class BiDiError(Exception):
    """A command the browser answered with an error, or a script that threw."""


@dataclass(frozen=True)
class Node:
    """A DOM node as the browser shared it: a ``sharedId`` that commands can refer back to."""

    shared_id: str
    description: str

    def reference(self) -> dict[str, str]:
        return {"sharedId": self.shared_id}


def from_remote(value: dict[str, Any]) -> Any:
    """A BiDi ``RemoteValue`` as Python: primitives, lists, dicts; a ``Node`` for a node."""
    kind = value["type"]
    if kind in ("undefined", "null"):
        return None
    if kind in ("string", "boolean"):
        return value["value"]
    if kind == "number":
        number = value["value"]
        specials = {"NaN": math.nan, "-0": -0.0, "Infinity": math.inf, "-Infinity": -math.inf}
        return specials.get(number, number) if isinstance(number, str) else number
    if kind == "bigint":
        return int(value["value"])
    if kind in ("array", "set"):
        return [from_remote(item) for item in value.get("value", [])]
    if kind in ("object", "map"):
        return {
            key if isinstance(key, str) else from_remote(key): from_remote(item)
            for key, item in value.get("value", [])
        }
    if kind == "node":
        props = value.get("value", {})
        name = props.get("localName") or props.get("nodeName") or "node"
        return Node(value["sharedId"], name)
    return value  # functions, promises, windows...: the raw record says what it was


def to_local(value: object) -> dict[str, Any]:
    """A Python value as a BiDi ``LocalValue`` argument for ``script.callFunction``."""
    if isinstance(value, Node):
        return value.reference()
    if value is None:
        return {"type": "null"}
    if isinstance(value, bool):
        return {"type": "boolean", "value": value}
    if isinstance(value, int | float):
        return {"type": "number", "value": value}
    if isinstance(value, str):
        return {"type": "string", "value": value}
    if isinstance(value, list | tuple):
        return {"type": "array", "value": [to_local(item) for item in value]}
    if isinstance(value, dict):
        return {"type": "object", "value": [[str(k), to_local(v)] for k, v in value.items()]}
    raise TypeError(f"cannot pass {type(value).__name__} to the browser")


class Connection:
    """Commands and their answers over one WebSocket; events are kept as they arrive."""

    def __init__(self, socket: Any, timeout: float) -> None:
        self.socket = socket
        self.timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def command(self, method: str, timeout: float | None = None, **params: Any) -> Any:
        """Send ``method`` and wait for its answer; events that come first are kept."""
        ident = next(self._ids)
        self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{method}: no answer from Firefox")
            try:
                message = json.loads(self.socket.recv(timeout=left))
            except TimeoutError:
                raise TimeoutError(f"{method}: no answer from Firefox") from None
            if message.get("type") == "event":
                self.events.append(message)
            elif message.get("id") == ident:
                if message.get("type") == "error":
                    raise BiDiError(f"{method}: {message['error']}: {message.get('message')}")
                return message["result"]

    def script_errors(self, context: str | None = None) -> list[str]:
        """Uncaught errors of the pages' scripts heard of so far (``log.entryAdded`` of type
        javascript), in one browsing context or in all."""
        return [
            event["params"].get("text", "")
            for event in self.events
            if event["method"] == "log.entryAdded"
            and event["params"].get("type") == "javascript"
            and event["params"].get("level") == "error"
            and context in (None, event["params"].get("source", {}).get("context"))
        ]


class Tab:
    """One top-level browsing context (a tab): a page to look at and to type into."""

    def __init__(self, connection: Connection, context: str) -> None:
        self.connection = connection
        self.context = context

    def _command(self, method: str, **params: Any) -> Any:
        return self.connection.command(method, **params)

    def navigate(self, url: str) -> None:
        self._command("browsingContext.navigate", context=self.context, url=url, wait="complete")

    def close(self) -> None:
        self._command("browsingContext.close", context=self.context)

    def _result(self, answer: dict[str, Any]) -> Any:
        if answer["type"] == "exception":
            details = answer["exceptionDetails"]
            raise BiDiError(f"the script threw: {details.get('text')}")
        return from_remote(answer["result"])

    def evaluate(self, expression: str) -> Any:
        """``expression``'s value in the page (a promise is awaited)."""
        return self._result(
            self._command(
                "script.evaluate",
                expression=expression,
                target={"context": self.context},
                awaitPromise=True,
            )
        )

    def call(self, function: str, *args: object) -> Any:
        """``function`` (JavaScript source) called in the page with ``args``; its value."""
        return self._result(
            self._command(
                "script.callFunction",
                functionDeclaration=function,
                arguments=[to_local(arg) for arg in args],
                target={"context": self.context},
                awaitPromise=True,
            )
        )

    def query(self, selector: str) -> Node:
        node = self.call("(s) => document.querySelector(s)", selector)
        if not isinstance(node, Node):
            raise AssertionError(f"nothing in the page matches {selector!r}")
        return node

    def text(self, selector: str) -> str | None:
        """The text of the first element ``selector`` matches, or None if there is none."""
        found = self.call("(s) => document.querySelector(s)?.textContent ?? null", selector)
        return None if found is None else " ".join(str(found).split())

    def texts(self, selector: str) -> list[str]:
        """The text of every element ``selector`` matches, whitespace collapsed."""
        found = self.call(
            "(s) => [...document.querySelectorAll(s)].map((e) => e.textContent)", selector
        )
        return [" ".join(str(t).split()) for t in found]

    def value(self, selector: str) -> str:
        """The value of the form field ``selector`` matches."""
        return str(self.call("(s) => document.querySelector(s).value", selector))

    def count(self, selector: str) -> int:
        return int(self.call("(s) => document.querySelectorAll(s).length", selector))

    def wait(
        self,
        function: str,
        *args: object,
        until: Callable[[Any], bool] = bool,
        timeout: float = 10.0,
        what: str = "",
    ) -> Any:
        """Poll ``function(*args)`` in the page until ``until`` holds of its value; the value.

        Fails after ``timeout`` seconds, saying what was last seen.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = self.call(function, *args)
            if until(value):
                return value
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"waited {timeout} s for {what or function}; last saw {value!r}"
                )
            time.sleep(0.05)  # the poll's interval, not a wait for something to happen

    def wait_text(self, selector: str, expected: str | re.Pattern[str], **kw: Any) -> str:
        """Wait until the first match of ``selector`` has ``expected`` text (whole, or a
        pattern searched for); that text."""

        def ok(found: Any) -> bool:
            if found is None:
                return False
            text = " ".join(str(found).split())
            if isinstance(expected, re.Pattern):
                return expected.search(text) is not None
            return text == expected

        found = self.wait(
            "(s) => document.querySelector(s)?.textContent ?? null",
            selector,
            until=ok,
            what=f"{selector} to read {expected!r}",
            **kw,
        )
        return " ".join(str(found).split())

    def wait_value(self, selector: str, expected: str, **kw: Any) -> None:
        self.wait(
            "(s) => document.querySelector(s).value",
            selector,
            until=lambda v: v == expected,
            what=f"{selector} to hold {expected!r}",
            **kw,
        )

    def wait_count(self, selector: str, expected: int, **kw: Any) -> None:
        self.wait(
            "(s) => document.querySelectorAll(s).length",
            selector,
            until=lambda n: n == expected,
            what=f"{expected} of {selector}",
            **kw,
        )

    def keys(self, *keys: str, holding: str | None = None) -> None:
        """Press and release each key in turn, as a person types: a character ("7", "*",
        "#"), or a name in ``KEYS`` ("Enter", "Tab", "Backspace", "Space"); with ``holding``
        ("Shift", say) held down throughout."""
        strokes: list[dict[str, str]] = []
        for key in keys:
            value = _key(key)
            strokes += [{"type": "keyDown", "value": value}, {"type": "keyUp", "value": value}]
        if holding is not None:
            held = _key(holding)
            strokes = [{"type": "keyDown", "value": held}, *strokes]
            strokes.append({"type": "keyUp", "value": held})
        self._command(
            "input.performActions",
            context=self.context,
            actions=[{"type": "key", "id": "keyboard", "actions": strokes}],
        )

    def type(self, text: str) -> None:
        self.keys(*text)

    def click(self, selector: str) -> None:
        """A real left click in the middle of the element ``selector`` matches."""
        node = self.query(selector)
        self.call("(e) => e.scrollIntoView({block: 'center', inline: 'center'})", node)
        origin = {"type": "element", "element": node.reference()}
        self._command(
            "input.performActions",
            context=self.context,
            actions=[
                {
                    "type": "pointer",
                    "id": "mouse",
                    "parameters": {"pointerType": "mouse"},
                    "actions": [
                        {"type": "pointerMove", "x": 0, "y": 0, "origin": origin},
                        {"type": "pointerDown", "button": 0},
                        {"type": "pointerUp", "button": 0},
                    ],
                }
            ],
        )

    def focused(self) -> str:
        """The focused element, as ``tag#id`` or ``tag[data-route=…]``."""
        return str(
            self.evaluate(
                "(() => { const e = document.activeElement;"
                " if (!e) return ''; const id = e.id ? `#${e.id}` : '';"
                " const route = e.dataset?.route ? `[data-route=${e.dataset.route}]` : '';"
                " return `${e.localName}${id}${route}`; })()"
            )
        )


@dataclass
class Firefox:
    """A headless Firefox with one BiDi session open; ``log`` is what it printed."""

    connection: Connection
    proc: subprocess.Popen[bytes]
    log: Path
    version: str

    def new_tab(self, width: int = 1280, height: int = 1000) -> Tab:
        context = self.connection.command("browsingContext.create", type="tab")["context"]
        self.connection.command(
            "browsingContext.setViewport",
            context=context,
            viewport={"width": width, "height": height},
        )
        return Tab(self.connection, context)


def _listening(proc: subprocess.Popen[bytes], log: Path, limit: float) -> str:
    # A bounded poll of Firefox's log: it says which port it took, and sends no other signal.
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = LISTENING.search(log.read_text(errors="replace"))
        if found:
            return found.group(1)
        if proc.poll() is not None:
            raise AssertionError(f"firefox-esr exited ({proc.returncode}):\n{log.read_text()}")
        time.sleep(0.05)
    raise AssertionError(
        f"firefox-esr did not open WebDriver BiDi in {limit} s:\n{log.read_text()}"
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()  # Firefox shuts its content processes down on SIGTERM
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever of its process group is left
    proc.wait()


@contextlib.contextmanager
def firefox(timeout: float = 10.0) -> Iterator[Firefox]:
    """Debian's firefox-esr, headless, on a fresh profile, with a WebDriver BiDi session.

    Fails (never skips) without firefox-esr: the page must be seen working in Firefox.
    """
    if not Path(FIREFOX).exists():
        pytest.fail(f"needs Debian's firefox-esr: {INSTALL} (scripts/test-tools installs it)")
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with tempfile.TemporaryDirectory(prefix="ivrhooks-firefox-") as root:
        profile, log = Path(root, "profile"), Path(root, "firefox.log")
        profile.mkdir()
        (profile / "user.js").write_text(
            "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in PREFS.items())
        )
        cmd = [FIREFOX, "--headless", "--no-remote", "--profile", str(profile)]
        cmd += ["--remote-debugging-port", "0"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOZ_")}
        with log.open("wb") as out:
            proc = subprocess.Popen(
                cmd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its content processes are ended with it
            )
        try:
            url = _listening(proc, log, limit=30.0)
            with connect(f"{url}/session", proxy=None, max_size=None) as socket:
                connection = Connection(socket, timeout)
                caps = connection.command("session.new", capabilities={})["capabilities"]
                try:
                    connection.command("session.subscribe", events=["log.entryAdded"])
                    yield Firefox(connection, proc, log, caps.get("browserVersion", "?"))
                finally:
                    with contextlib.suppress(BiDiError, TimeoutError, ConnectionClosed, OSError):
                        connection.command("session.end")
        finally:
            _stop(proc)
