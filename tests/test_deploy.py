"""deploy/: the compose file and the Kubernetes manifests agree with the code.

No container engine or cluster runs here, so what they would catch late is checked early:
every ``IVRHOOKS_*`` name is a setting and every value passes its check, ports, paths and probes
are the ones the app serves, selectors select, secrets referenced exist, and the commands parse
as ``ivrhooks`` commands. Then each deployment's app environment, its service addresses mapped to
loopback (a fake PBX, a real redis-server with the manifest's password), runs ``ivrhooks run``
and the manifests' own probes pass against it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from ivrhooks.cli.fake_pbx import fake_pbx
from ivrhooks.cli.run import run as run_command
from ivrhooks.conf.config import ServingConfig
from ivrhooks.conf.settings import VARIABLES, Declared, resolve
from ivrhooks.testing import FakePBX, serve
from tests.ports import spare_port
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NAMES = {v.name for v in VARIABLES}
RUN_PORT = next(p.default for p in run_command.params if p.name == "port")
PREFIX = ServingConfig().path_prefix
SECRET = "deploy-test-secret-0123456789abcdef"


def _documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / "kubernetes" / name).read_text()) if d]


COMPOSE: dict[str, Any] = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
NGINX = (DEPLOY / "compose" / "nginx.conf").read_text()
KUBE = {name: _documents(name) for name in ("secret.yaml", "redis.yaml", "ivrhooks.yaml")}


def _kind(kind: str, name: str, file: str = "ivrhooks.yaml") -> dict[str, Any]:
    found = [d for d in KUBE[file] if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"one {kind} {name} in {file}"
    return found[0]


DEPLOYMENT = _kind("Deployment", "ivrhooks")
CONTAINER = DEPLOYMENT["spec"]["template"]["spec"]["containers"][0]
SECRET_DATA = _kind("Secret", "ivrhooks", "secret.yaml")["stringData"]
CONFIGMAP = _kind("ConfigMap", "ivrhooks")["data"]
REDIS_DEPLOYMENT = _kind("Deployment", "ivrhooks-redis", "redis.yaml")
REDIS_SERVICE = _kind("Service", "ivrhooks-redis", "redis.yaml")
APPS = sorted(s for s in COMPOSE["services"] if re.fullmatch(r"app\d+", s))


def _compose_value(raw: str, given: dict[str, str]) -> str:
    """Compose's ``${VAR:-default}`` and ``${VAR:?message}``: ``given`` stands for the .env."""

    def sub(match: re.Match[str]) -> str:
        name, op, word = match.group(1), match.group(2), match.group(3)
        if name in given:
            return given[name]
        assert op == ":-", f"${{{name}}} has no default: the test must give it"
        return word

    return re.sub(r"\$\{([A-Z_]+)(:-|:\?)([^}]*)\}", sub, str(raw))


def compose_env(given: dict[str, str]) -> dict[str, str]:
    envs = [COMPOSE["services"][a]["environment"] for a in APPS]
    assert all(e == envs[0] for e in envs), "every replica runs the same configuration"
    return {k: _compose_value(v, given) for k, v in envs[0].items()}


def kube_env() -> dict[str, str]:
    """The container's environment as Kubernetes builds it: the ConfigMap, then ``env`` in order
    with ``$(NAME)`` expanded from the names before it."""
    assert CONTAINER["envFrom"] == [{"configMapRef": {"name": "ivrhooks"}}]
    env = dict(CONFIGMAP)
    for item in CONTAINER["env"]:
        if "valueFrom" in item:
            ref = item["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "ivrhooks"
            env[item["name"]] = SECRET_DATA[ref["key"]]
        else:
            env[item["name"]] = re.sub(r"\$\(([A-Z_]+)\)", lambda m: env[m.group(1)], item["value"])
    return env


# ---- static agreement -------------------------------------------------------------------


def test_every_variable_named_in_deploy_is_a_setting() -> None:
    text = "\n".join(p.read_text() for p in DEPLOY.rglob("*") if p.is_file())
    named = set(re.findall(r"\bIVRHOOKS_[A-Z_]+\b", text))
    assert named, "deploy/ configures ivrhooks by its variables"
    assert named <= NAMES, f"not settings: {sorted(named - NAMES)}"


@pytest.mark.parametrize("deployment", ["compose", "kubernetes"])
def test_each_deployments_app_environment_resolves_without_a_problem(deployment: str) -> None:
    env = compose_env({"IVRHOOKS_SECRET": SECRET}) if deployment == "compose" else kube_env()
    config = resolve(Declared(receptionists=("8000",)), env)
    assert config.store.redis_url, "replicas share state: the store is Redis"
    assert config.pbx is not None and config.pbx.url
    assert int(env["IVRHOOKS_PORT"]) == RUN_PORT


def test_compose_runs_three_replicas_of_one_image_and_command() -> None:
    assert APPS == ["app1", "app2", "app3"]
    services = COMPOSE["services"]
    assert {services[a]["image"] for a in APPS} == {"ivrhooks:local"}
    for app in APPS:
        context = services[app]["build"]["context"]
        assert (DEPLOY / "compose" / context / "Dockerfile").is_file()
        # The image's ENTRYPOINT is `ivrhooks run`: the command is its arguments.
        run_command.make_context("run", list(services[app]["command"]))
        assert (ROOT / services[app]["command"][0]).is_file()


def test_compose_balancer_sends_action_urls_to_every_replica_on_the_served_port() -> None:
    upstream = re.search(r"upstream ivrhooks \{(.*?)\}", NGINX, re.S)
    assert upstream is not None
    servers = re.findall(r"server ([\w.-]+):(\d+)", upstream.group(1))
    assert servers == [(a, str(RUN_PORT)) for a in APPS]
    assert re.search(rf"location {re.escape(PREFIX)}/ \{{\s*proxy_pass http://ivrhooks;", NGINX)
    listen = re.search(r"listen (\d+);", NGINX)
    assert listen is not None
    lb = COMPOSE["services"]["lb"]
    assert lb["ports"] == [f"8080:{listen.group(1)}"]
    public = urlsplit(compose_env({"IVRHOOKS_SECRET": SECRET})["IVRHOOKS_PUBLIC_URL"])
    assert (public.hostname, public.port) == ("lb", int(listen.group(1)))
    assert "$args" not in NGINX and "$request " not in NGINX and "$request_uri" not in NGINX, (
        "the access log never carries the query string (the caller's number)"
    )


def test_compose_trusts_exactly_the_balancers_fixed_address() -> None:
    env = compose_env({"IVRHOOKS_SECRET": SECRET})
    lb_address = COMPOSE["services"]["lb"]["networks"]["ivrhooks"]["ipv4_address"]
    subnet = COMPOSE["networks"]["ivrhooks"]["ipam"]["config"][0]["subnet"]
    assert env["IVRHOOKS_TRUSTED_PROXIES"] == lb_address
    assert ipaddress.ip_address(lb_address) in ipaddress.ip_network(subnet)


def test_compose_redis_and_demo_pbx_are_where_the_app_looks() -> None:
    env = compose_env({"IVRHOOKS_SECRET": SECRET})
    redis = urlsplit(env["IVRHOOKS_REDIS_URL"])
    assert (redis.hostname, redis.port) == ("redis", 6379)
    assert "--port" not in COMPOSE["services"]["redis"]["command"]  # redis-server's 6379
    pbx = COMPOSE["services"]["pbx"]
    assert pbx["profiles"] == ["demo"] and pbx["entrypoint"] == ["ivrhooks", "fake-pbx"]
    ctx = fake_pbx.make_context("fake-pbx", list(pbx["command"]))
    url = urlsplit(env["IVRHOOKS_PBX_URL"])
    assert (url.hostname, url.port, url.path) == ("pbx", ctx.params["port"], "/api")
    assert (ctx.params["username"], ctx.params["password"]) == (
        env["IVRHOOKS_PBX_USERNAME"],
        env["IVRHOOKS_PBX_PASSWORD"],
    )
    assert ("8000", "Main") in ctx.params["ivrs"]


def test_compose_requires_the_secret_rather_than_defaulting_it() -> None:
    raw = COMPOSE["services"]["app1"]["environment"]["IVRHOOKS_SECRET"]
    assert raw.startswith("${IVRHOOKS_SECRET:?")


def test_kubernetes_selectors_select_the_pods() -> None:
    labels = DEPLOYMENT["spec"]["template"]["metadata"]["labels"]
    assert DEPLOYMENT["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = _kind("Service", "ivrhooks")
    pdb = _kind("PodDisruptionBudget", "ivrhooks")
    assert service["spec"]["selector"].items() <= labels.items()
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    replicas = DEPLOYMENT["spec"]["replicas"]
    assert replicas == 3 and 1 <= pdb["spec"]["minAvailable"] < replicas
    redis_labels = REDIS_DEPLOYMENT["spec"]["template"]["metadata"]["labels"]
    assert REDIS_SERVICE["spec"]["selector"].items() <= redis_labels.items()


def test_kubernetes_ports_and_probes_are_the_served_ones() -> None:
    ports = {p["name"]: p["containerPort"] for p in CONTAINER["ports"]}
    assert ports == {"http": RUN_PORT}
    service = _kind("Service", "ivrhooks")
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    live = CONTAINER["livenessProbe"]["httpGet"]
    assert (live["path"], live["port"]) == ("/healthz", "http")
    command = CONTAINER["readinessProbe"]["exec"]["command"]
    assert command[:2] == ["python", "-c"] and "/readyz" in command[2]
    assert "127.0.0.1" in command[2], "from inside the pod: /readyz answers IVRHOOKS_OPS_ALLOW"
    # The ConfigMap's IVRHOOKS_PORT is the port the container declares.
    assert int(CONFIGMAP["IVRHOOKS_PORT"]) == ports["http"]
    run_command.make_context("run", list(CONTAINER["args"]))


def test_kubernetes_secrets_referenced_exist_and_redis_is_where_the_app_looks() -> None:
    refs = [
        e["valueFrom"]["secretKeyRef"]
        for c in (CONTAINER, REDIS_DEPLOYMENT["spec"]["template"]["spec"]["containers"][0])
        for e in c.get("env", [])
        if "valueFrom" in e
    ]
    assert refs and all(r["name"] == "ivrhooks" and r["key"] in SECRET_DATA for r in refs)
    secret_names = {name for name in SECRET_DATA if name.startswith("IVRHOOKS_")}
    assert secret_names <= {v.name for v in VARIABLES if v.secret}, "secrets are secret settings"
    assert not {"IVRHOOKS_SECRET", "IVRHOOKS_PBX_PASSWORD"} & set(CONFIGMAP)
    redis = urlsplit(kube_env()["IVRHOOKS_REDIS_URL"])
    assert redis.hostname == REDIS_SERVICE["metadata"]["name"]
    assert redis.port == REDIS_SERVICE["spec"]["ports"][0]["port"] == 6379
    assert redis.password == SECRET_DATA["REDIS_PASSWORD"]
    redis_args = REDIS_DEPLOYMENT["spec"]["template"]["spec"]["containers"][0]["args"]
    assert redis_args[redis_args.index("--requirepass") + 1] == "$(REDIS_PASSWORD)"


def test_kubernetes_runs_as_the_images_user_and_kustomize_lists_every_manifest() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    user = re.search(r"^USER (\d+):(\d+)$", dockerfile, re.M)
    assert user is not None
    pod = DEPLOYMENT["spec"]["template"]["spec"]["securityContext"]
    assert (str(pod["runAsUser"]), str(pod["runAsGroup"])) == user.groups()
    kustomization = yaml.safe_load((DEPLOY / "kubernetes" / "kustomization.yaml").read_text())
    manifests = {p.name for p in (DEPLOY / "kubernetes").glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == manifests


# ---- the environments, run -----------------------------------------------------------------


@contextlib.contextmanager
def _redis(password: str) -> Iterator[RedisServer]:
    """A redis-server of this test's own, asking for ``password`` when there is one."""
    server = RedisServer()
    server.start()
    try:
        if password:
            with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
                sock.sendall(f"CONFIG SET requirepass {password}\r\n".encode())
                assert sock.recv(16).startswith(b"+OK")
        yield server
    finally:
        server.stop()


async def _probe(command: list[str], port: int) -> int:
    """The exec probe's exit status, run as the kubelet would (in the container: here)."""
    argv = [sys.executable, *command[1:]] if command[0] == "python" else command
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env={**os.environ, "IVRHOOKS_PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(proc.wait(), 10)


@pytest.mark.parametrize("deployment", ["compose", "kubernetes"])
async def test_the_deployments_app_environment_runs_ready_and_its_probes_pass(
    deployment: str,
) -> None:
    if deployment == "compose":
        env = compose_env({"IVRHOOKS_SECRET": SECRET})
        args = COMPOSE["services"]["app1"]["command"]
        password = ""
    else:
        env = kube_env()
        args = CONTAINER["args"]
        password = SECRET_DATA["REDIS_PASSWORD"]
    fake = FakePBX(username=env["IVRHOOKS_PBX_USERNAME"], password=env["IVRHOOKS_PBX_PASSWORD"])
    fake.add_ivr("8000", "Main")
    port = spare_port()
    readiness = CONTAINER["readinessProbe"]["exec"]["command"]
    with _redis(password) as redis:
        async with serve(fake.app) as pbx_url:
            # The service names, mapped to loopback: the PBX, Redis, the public address.
            redis_url = urlsplit(env["IVRHOOKS_REDIS_URL"])
            netloc = redis_url.netloc.replace(
                f"{redis_url.hostname}:{redis_url.port}", f"127.0.0.1:{redis.port}"
            )
            env.update(
                IVRHOOKS_PBX_URL=pbx_url + "/api",
                IVRHOOKS_REDIS_URL=redis_url._replace(netloc=netloc).geturl(),
                IVRHOOKS_PUBLIC_URL=f"http://127.0.0.1:{port}",
                IVRHOOKS_HOST="127.0.0.1",
                IVRHOOKS_PORT=str(port),
            )
            base = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
            assert await _probe(readiness, port) != 0, "nothing listening yet: not ready"
            proc = subprocess.Popen(  # noqa: ASYNC220 - waited for by polling its probes
                [sys.executable, "-m", "ivrhooks", "run", *args],
                cwd=ROOT,
                env={**base, **env},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            try:
                deadline = time.monotonic() + 30
                while await _probe(readiness, port) != 0:  # bounded: another process starts
                    assert proc.poll() is None, proc.communicate()[1]
                    assert time.monotonic() < deadline, "the readiness probe never passed"
                    await asyncio.sleep(0.2)
                async with httpx.AsyncClient() as http:
                    live = await http.get(f"http://127.0.0.1:{port}/healthz")
                assert live.status_code == 200
                # Ready means registered: the action URLs are on the PBX, at the public URL.
                urls = fake.action_urls("8000")
                assert urls and all(
                    str(u.url).startswith(f"http://127.0.0.1:{port}/") for u in urls
                )
                assert fake.tokens.logins == 1
            finally:
                proc.terminate()
                _, stderr = proc.communicate(timeout=15)
            assert SECRET not in stderr and env["IVRHOOKS_PBX_PASSWORD"] not in stderr
            if password:
                assert password not in stderr, "the Redis URL's password is never logged"
