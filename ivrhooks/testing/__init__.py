"""Test helpers shipped as public API: the fake PBX, an app running against it, a loopback
server, and the pytest plugin (``ivrhooks.testing.pytest_plugin``)."""

from __future__ import annotations

from ivrhooks.fakepbx import DialResult, FakePBX
from ivrhooks.server.loopback import bind_socket, free_port, serve
from ivrhooks.testing.harness import RunningApp, running

__all__ = ["DialResult", "FakePBX", "RunningApp", "bind_socket", "free_port", "running", "serve"]
