"""Test helpers shipped as public API: a loopback server, and the fake PBX."""

from __future__ import annotations

from ivrhooks.testing.fake_pbx import DialResult, FakePBX
from ivrhooks.testing.harness import RunningApp, running
from ivrhooks.testing.server import bind_socket, free_port, serve

__all__ = ["DialResult", "FakePBX", "RunningApp", "bind_socket", "free_port", "running", "serve"]
