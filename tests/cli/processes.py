"""Processes the CLI tests start as a person would."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

from ivrhooks.fakepbx import DEFAULT_PASSWORD

__all__ = ["fake_pbx_process"]


@contextlib.contextmanager
def fake_pbx_process(*ivrs: str) -> Iterator[str]:
    """``ivrhooks fake-pbx --port 0 --ivr EXT:NAME ...`` in a process of its own, reached as a
    real PBX would be: yields its REST URL (``http://127.0.0.1:PORT/api``); its login is
    ``DEFAULT_USERNAME`` / ``DEFAULT_PASSWORD``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    args = [arg for ivr in ivrs for arg in ("--ivr", ivr)]
    # The tests' login (it would generate one otherwise): DEFAULT_USERNAME / DEFAULT_PASSWORD.
    args += ["--password", DEFAULT_PASSWORD]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ivrhooks", "fake-pbx", "--port", "0", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # "fake PBX REST API: http://127.0.0.1:PORT/api"
    try:
        assert first.startswith("fake PBX REST API: "), first
        yield first.split()[-1]
    finally:
        proc.terminate()
        _, errors = proc.communicate(timeout=15)
        assert first.startswith("fake PBX REST API: "), errors
