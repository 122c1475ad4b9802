"""Test helpers shipped as public API: an app run in process (:func:`local`) and requests for
calling handlers directly (:func:`request`), captured traffic replayed (:func:`replay`), the fake
PBX, an app running against it over loopback (:func:`running`), a loopback server, and the
pytest plugin (``ivrhooks.testing.pytest_plugin``).

Lazy, like the package's face: pytest loads the plugin (a submodule, so this file first) in every
run of every project where ivrhooks is installed, whether its tests use the fixtures or not; each
name below is imported from its module the first time it is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ivrhooks import _lazy_face

if TYPE_CHECKING:
    from ivrhooks.fakepbx import DialResult, FakePBX
    from ivrhooks.server.loopback import bind_socket, free_port, serve
    from ivrhooks.testing.harness import RunningApp, running
    from ivrhooks.testing.local import Local, LocalCall, LocalResult, local
    from ivrhooks.testing.replay import ReplayDecision, ReplayDifference, replay
    from ivrhooks.testing.requests import request

#: Where each public name lives.
_HOMES = {
    "DialResult": "ivrhooks.fakepbx",
    "FakePBX": "ivrhooks.fakepbx",
    "Local": "ivrhooks.testing.local",
    "LocalCall": "ivrhooks.testing.local",
    "LocalResult": "ivrhooks.testing.local",
    "ReplayDecision": "ivrhooks.testing.replay",
    "ReplayDifference": "ivrhooks.testing.replay",
    "RunningApp": "ivrhooks.testing.harness",
    "bind_socket": "ivrhooks.server.loopback",
    "free_port": "ivrhooks.server.loopback",
    "local": "ivrhooks.testing.local",
    "replay": "ivrhooks.testing.replay",
    "request": "ivrhooks.testing.requests",
    "running": "ivrhooks.testing.harness",
    "serve": "ivrhooks.server.loopback",
}

__all__ = [
    "DialResult",
    "FakePBX",
    "Local",
    "LocalCall",
    "LocalResult",
    "ReplayDecision",
    "ReplayDifference",
    "RunningApp",
    "bind_socket",
    "free_port",
    "local",
    "replay",
    "request",
    "running",
    "serve",
]


__getattr__, __dir__ = _lazy_face(__name__, globals(), _HOMES)
