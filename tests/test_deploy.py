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
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from ivrhooks.cli.fake_pbx import fake_pbx
from ivrhooks.cli.run import run as run_command
from ivrhooks.conf.config import ServingConfig
from ivrhooks.conf.settings import VARIABLES, Declared, resolve
from ivrhooks.testing import FakePBX, serve
from tests.deploy import redis_pod
from tests.deploy.manifests import (
    APPS,
    COMPOSE,
    DEMO_ENV,
    KUBE,
    KUBE_DIR,
    NGINX_TEXT,
    SECRET_NAMES,
    compose_env,
    containers,
    generated_secret_name,
    kind,
    kube_env,
    service_links,
)
from tests.ports import spare_port
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
NAMES = {v.name for v in VARIABLES}
RUN_PORT = next(p.default for p in run_command.params if p.name == "port")
PREFIX = ServingConfig().path_prefix
SECRET = "deploy-test-secret-0123456789abcdef"
# deploy/compose/.env for a real PBX, and with demo.env after it for the demo.
DOTENV = {
    "IVRHOOKS_SECRET": SECRET,
    "IVRHOOKS_PBX_URL": "https://pbx.example.com:8900/api",
    "IVRHOOKS_PBX_USERNAME": "ivrhooks",
    "IVRHOOKS_PBX_PASSWORD": "deploy-test-pbx-password",
    "IVRHOOKS_PUBLIC_URL": "http://192.0.2.10:8080",
}
DEMO = {**DOTENV, **DEMO_ENV}
# deploy/kubernetes/secret.env, as secret.env.example says to write it.
SECRET_ENV = {
    "IVRHOOKS_SECRET": SECRET,
    "IVRHOOKS_PBX_PASSWORD": "deploy-test-pbx-password",
    "REDIS_PASSWORD": "deploy-test-redis-password-0123",
}

DEPLOYMENT = kind("Deployment", "ivrhooks")
POD = DEPLOYMENT["spec"]["template"]["spec"]
CONTAINER = POD["containers"][0]
CONFIGMAP = kind("ConfigMap", "ivrhooks")["data"]
REDIS_DEPLOYMENT = kind("Deployment", "ivrhooks-redis")
REDIS_POD = REDIS_DEPLOYMENT["spec"]["template"]["spec"]
REDIS_SERVICE = kind("Service", "ivrhooks-redis")


# ---- static agreement -------------------------------------------------------------------


def test_every_variable_named_in_deploy_is_a_setting() -> None:
    text = "\n".join(p.read_text() for p in DEPLOY.rglob("*") if p.is_file())
    named = set(re.findall(r"\bIVRHOOKS_[A-Z_]+\b", text))
    assert named, "deploy/ configures ivrhooks by its variables"
    assert named <= NAMES, f"not settings: {sorted(named - NAMES)}"


@pytest.mark.parametrize("deployment", ["compose", "compose-demo", "kubernetes"])
def test_each_deployments_app_environment_resolves_without_a_problem(deployment: str) -> None:
    if deployment == "kubernetes":
        env = kube_env(CONTAINER, SECRET_ENV)
    else:
        env = compose_env(DOTENV if deployment == "compose" else DEMO)
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
    upstream = re.search(r"upstream ivrhooks \{(.*?)\}", NGINX_TEXT, re.S)
    assert upstream is not None
    servers = re.findall(r"server ([\w.-]+):(\d+)", upstream.group(1))
    assert servers == [(a, str(RUN_PORT)) for a in APPS]
    location = rf"location {re.escape(PREFIX)}/ \{{\s*proxy_pass http://ivrhooks;"
    assert re.search(location, NGINX_TEXT)
    listen = re.search(r"listen (\d+);", NGINX_TEXT)
    assert listen is not None
    lb = COMPOSE["services"]["lb"]
    assert lb["ports"] == [f"8080:{listen.group(1)}"]
    public = urlsplit(compose_env(DEMO)["IVRHOOKS_PUBLIC_URL"])
    assert (public.hostname, public.port) == ("lb", int(listen.group(1)))
    assert all(word not in NGINX_TEXT for word in ("$args", "$request ", "$request_uri")), (
        "the access log never carries the query string (the caller's number)"
    )


def test_compose_trusts_exactly_the_balancers_fixed_address() -> None:
    env = compose_env(DOTENV)
    lb_address = COMPOSE["services"]["lb"]["networks"]["ivrhooks"]["ipv4_address"]
    subnet = COMPOSE["networks"]["ivrhooks"]["ipam"]["config"][0]["subnet"]
    assert env["IVRHOOKS_TRUSTED_PROXIES"] == lb_address
    assert ipaddress.ip_address(lb_address) in ipaddress.ip_network(subnet)


def test_compose_redis_and_demo_pbx_are_where_the_app_looks() -> None:
    env = compose_env(DEMO)
    redis = urlsplit(env["IVRHOOKS_REDIS_URL"])
    assert (redis.hostname, redis.port) == ("redis", 6379)
    assert "--port" not in COMPOSE["services"]["redis"]["command"]  # redis-server's 6379
    pbx = COMPOSE["services"]["pbx"]
    assert pbx["profiles"] == ["demo"] and pbx["entrypoint"] == ["ivrhooks", "fake-pbx"]
    ctx = fake_pbx.make_context("fake-pbx", list(pbx["command"]))
    url = urlsplit(env["IVRHOOKS_PBX_URL"])
    assert (url.hostname, url.port, url.path) == ("pbx", ctx.params["port"], "/api")
    # demo.env logs in with the fake PBX's own login.
    assert (ctx.params["username"], ctx.params["password"]) == (
        env["IVRHOOKS_PBX_USERNAME"],
        env["IVRHOOKS_PBX_PASSWORD"],
    )
    assert ("8000", "Main") in ctx.params["ivrs"]


def test_kubernetes_selectors_select_the_pods() -> None:
    labels = DEPLOYMENT["spec"]["template"]["metadata"]["labels"]
    assert DEPLOYMENT["spec"]["selector"]["matchLabels"].items() <= labels.items()
    service = kind("Service", "ivrhooks")
    pdb = kind("PodDisruptionBudget", "ivrhooks")
    assert service["spec"]["selector"].items() <= labels.items()
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    replicas = DEPLOYMENT["spec"]["replicas"]
    assert replicas == 3 and 1 <= pdb["spec"]["minAvailable"] < replicas
    redis_labels = REDIS_DEPLOYMENT["spec"]["template"]["metadata"]["labels"]
    assert REDIS_SERVICE["spec"]["selector"].items() <= redis_labels.items()


def test_kubernetes_ports_and_probes_are_the_served_ones() -> None:
    ports = {p["name"]: p["containerPort"] for p in CONTAINER["ports"]}
    assert ports == {"http": RUN_PORT}
    service = kind("Service", "ivrhooks")
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
    name = generated_secret_name()
    refs = [
        e["valueFrom"]["secretKeyRef"]
        for _, pod in [("ivrhooks", POD), ("redis", REDIS_POD)]
        for c in containers(pod)
        for e in c.get("env", [])
        if "valueFrom" in e
    ]
    mounted = [v["secret"] for v in REDIS_POD["volumes"] if "secret" in v]
    assert refs and all(r["name"] == name and r["key"] in SECRET_NAMES for r in refs)
    assert mounted and all(m["secretName"] == name for m in mounted)
    assert all(i["key"] in SECRET_NAMES for m in mounted for i in m["items"])
    assert set(SECRET_ENV) == set(SECRET_NAMES), "the test writes secret.env as the example says"
    secret_names = {n for n in SECRET_NAMES if n.startswith("IVRHOOKS_")}
    assert secret_names <= {v.name for v in VARIABLES if v.secret}, "secrets are secret settings"
    assert not {"IVRHOOKS_SECRET", "IVRHOOKS_PBX_PASSWORD"} & set(CONFIGMAP)
    redis = urlsplit(kube_env(CONTAINER, SECRET_ENV)["IVRHOOKS_REDIS_URL"])
    assert redis.hostname == REDIS_SERVICE["metadata"]["name"]
    assert redis.port == REDIS_SERVICE["spec"]["ports"][0]["port"] == 6379
    assert redis.password == SECRET_ENV["REDIS_PASSWORD"]


def test_kubernetes_runs_as_the_images_user_and_kustomize_lists_every_manifest() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    user = re.search(r"^USER (\d+):(\d+)$", dockerfile, re.M)
    assert user is not None
    pod = POD["securityContext"]
    assert (str(pod["runAsUser"]), str(pod["runAsGroup"])) == user.groups()
    manifests = {p.name for p in KUBE_DIR.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(KUBE) == manifests


# ---- the environments, run -----------------------------------------------------------------


@contextlib.contextmanager
def _redis(deployment: str, tmp: Path) -> Iterator[int]:
    """The deployment's Redis on a loopback port: compose's as its command says (no password,
    on the compose network only), Kubernetes' as its pod runs (tests/deploy/redis_pod.py)."""
    if deployment == "kubernetes":
        with redis_pod.running(tmp, SECRET_ENV) as pod:
            yield pod.port
        return
    assert COMPOSE["services"]["redis"]["command"][0] == "redis-server"
    server = RedisServer()
    server.start()
    try:
        yield server.port
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
    deployment: str, tmp_path: Path
) -> None:
    if deployment == "compose":
        env = compose_env(DEMO)
        args = COMPOSE["services"]["app1"]["command"]
        password = ""
    else:
        # What Kubernetes adds for the kit's Services, unless the pod turns service links off.
        env = {**service_links(POD), **kube_env(CONTAINER, SECRET_ENV)}
        args = CONTAINER["args"]
        password = SECRET_ENV["REDIS_PASSWORD"]
    fake = FakePBX(username=env["IVRHOOKS_PBX_USERNAME"], password=env["IVRHOOKS_PBX_PASSWORD"])
    fake.add_ivr("8000", "Main")
    port = spare_port()
    readiness = CONTAINER["readinessProbe"]["exec"]["command"]
    with _redis(deployment, tmp_path) as redis_port:
        async with serve(fake.app) as pbx_url:
            # The service names, mapped to loopback: the PBX, Redis, the public address.
            redis_url = urlsplit(env["IVRHOOKS_REDIS_URL"])
            netloc = redis_url.netloc.replace(
                f"{redis_url.hostname}:{redis_url.port}", f"127.0.0.1:{redis_port}"
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
