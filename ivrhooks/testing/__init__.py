"""Test helpers shipped as public API: a loopback server, and (see submodules) the fake PBX."""

from __future__ import annotations

from ivrhooks.testing.server import bind_socket, serve

__all__ = ["bind_socket", "serve"]
