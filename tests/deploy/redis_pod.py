"""The Kubernetes kit's Redis pod, run here as processes: its volumes are folders (the Secret's
file, the ConfigMap's redis.conf, the emptyDirs), its init container's script runs under ``sh``
and its container's command under the installed redis-server, every mount path mapped to its
folder. Only the port and the bind address are the test's own (no fixed ports)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivrhooks.testing import free_port
from tests.deploy.manifests import containers, kind
from tests.redis_server import REDIS_SERVER


def _pod() -> dict[str, Any]:
    spec: dict[str, Any] = kind("Deployment", "ivrhooks-redis")["spec"]["template"]["spec"]
    return spec


@dataclass(frozen=True)
class RedisPod:
    port: int
    pid: int


def ask(port: int, *commands: str) -> list[bytes]:
    """Each command's first reply line, on one connection (AUTH first, when given)."""
    replies = []
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        reader = sock.makefile("rb")
        for command in commands:
            sock.sendall(command.encode() + b"\r\n")
            line = reader.readline()
            if line.startswith(b"*"):  # an array: CONFIG GET's name and value
                line = b" ".join(reader.readline() for _ in range(2 * int(line[1:])))
            replies.append(line.strip())
    return replies


def _volumes(tmp: Path, secret: Mapping[str, str]) -> dict[str, Path]:
    """Each mount path to its volume's folder, filled as the kubelet would fill it."""
    paths = {}
    for container in containers(_pod()):
        for mount in container.get("volumeMounts", []):
            paths[mount["mountPath"]] = tmp / mount["name"]
    for volume in _pod().get("volumes", []):
        folder = tmp / volume["name"]
        folder.mkdir()
        for item in volume.get("secret", {}).get("items", []):
            (folder / item["path"]).write_text(secret[item["key"]])
        if "configMap" in volume:
            for key, text in kind("ConfigMap", volume["configMap"]["name"])["data"].items():
                (folder / key).write_text(_local(text, paths))
    return paths


def _local(text: str, paths: Mapping[str, Path]) -> str:
    for path in sorted(paths, key=len, reverse=True):
        text = text.replace(path, str(paths[path]))
    return text


def initialise(tmp: Path, secret: Mapping[str, str]) -> tuple[dict[str, Path], list[str]]:
    """The volumes laid out and the init containers run in order, until one fails: the mount
    paths, and each init container's exit status and stderr (``"0:"`` when it succeeded)."""
    paths = _volumes(tmp, secret)
    outcomes = []
    for init in _pod().get("initContainers", []):
        done = subprocess.run(
            [_local(arg, paths) for arg in init["command"]],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        outcomes.append(f"{done.returncode}:{done.stderr}")
        if done.returncode:
            break
    return paths, outcomes


@contextlib.contextmanager
def running(tmp: Path, secret: Mapping[str, str]) -> Iterator[RedisPod]:
    """The pod started: init containers run to completion, then redis-server, ready."""
    paths, outcomes = initialise(tmp, secret)
    assert all(o.startswith("0:") for o in outcomes), f"an init container failed: {outcomes}"
    (redis,) = _pod()["containers"]
    command = [_local(arg, paths) for arg in redis["command"]]
    assert command[0] == "redis-server"
    port = free_port()
    proc = subprocess.Popen(
        [REDIS_SERVER, *command[1:], "--port", str(port), "--bind", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:  # a bounded wait for a server starting in another process
            with contextlib.suppress(OSError):
                if ask(port, "PING")[0]:  # +PONG, or -NOAUTH: up either way
                    break
            assert proc.poll() is None, "redis-server exited at startup"
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)
        yield RedisPod(port=port, pid=proc.pid)
    finally:
        proc.kill()
        proc.wait(10)
