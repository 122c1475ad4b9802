"""The Kubernetes kit as an attacker meets it (issue 23, findings 1 and 7): it ships no secret
value, the PBX reaches ivrhooks over TLS and only the PBX does, Redis is reachable only from the
ivrhooks pods, bounded in memory and never shown its password on a command line, and every pod
passes Pod Security "restricted"."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from ivrhooks.conf.settings import Declared, resolve
from tests.deploy import redis_pod
from tests.deploy.manifests import (
    KUBE_DIR,
    KUSTOMIZATION,
    RESOURCES,
    ROOT,
    SECRET_NAMES,
    containers,
    env_file,
    kind,
    pods,
)

PODS = dict(pods())
CONFIGMAP = kind("ConfigMap", "ivrhooks")["data"]
SECRET_ENV = {
    "IVRHOOKS_SECRET": "hardening-test-secret-0123456789",
    "IVRHOOKS_PBX_PASSWORD": "hardening-test-pbx-password",
    "REDIS_PASSWORD": "hardening-test-redis-0123456789",
}
# Pod Security Standards, level "restricted" (the Kubernetes documentation's
# concepts/security/pod-security-standards).
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def restricted_violations(pod: dict[str, Any]) -> list[str]:
    """What Pod Security admission at level "restricted" refuses in ``pod``."""
    found = []
    pod_context = pod.get("securityContext", {})
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(host):
            found.append(host)
    for volume in pod.get("volumes", []):
        if not set(volume) - {"name"} <= RESTRICTED_VOLUMES:
            found.append(f"volume {volume['name']}")
    for c in containers(pod):
        context = c.get("securityContext", {})
        name = c["name"]
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation")
        if context.get("privileged"):
            found.append(f"{name}: privileged")
        if context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is not True:
            found.append(f"{name}: runAsNonRoot")
        if context.get("runAsUser", pod_context.get("runAsUser")) == 0:
            found.append(f"{name}: runAsUser 0")
        seccomp = context.get("seccompProfile", pod_context.get("seccompProfile", {}))
        if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
            found.append(f"{name}: seccompProfile")
        capabilities = context.get("capabilities", {})
        if "ALL" not in capabilities.get("drop", []):
            found.append(f"{name}: capabilities not dropped")
        if not set(capabilities.get("add", [])) <= {"NET_BIND_SERVICE"}:
            found.append(f"{name}: capabilities added")
        if any(p.get("hostPort") for p in c.get("ports", [])):
            found.append(f"{name}: hostPort")
    return found


def _bytes(quantity: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([KMG]i)?", quantity).groups()  # type: ignore[union-attr]
    return int(number) * {None: 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30}[unit]


# ---- no secret value ----------------------------------------------------------------------


def test_the_kustomization_carries_no_secret_value() -> None:
    assert not [d for d in RESOURCES if d["kind"] == "Secret"], "no Secret among the resources"
    (generator,) = KUSTOMIZATION["secretGenerator"]
    assert set(generator) <= {"name", "env"}, "no literals, no files of values"
    for env in [generator["env"]]:
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", f"deploy/kubernetes/{env}"], cwd=ROOT
        )
        assert ignored.returncode == 0, f"{env} is git-ignored: the user's values stay untracked"
        example = env_file(KUBE_DIR / f"{env}.example")
        assert example and all(value == "" for value in example.values()), "names only"


def test_kustomize_refuses_without_secret_env_and_wires_the_generated_secret(
    tmp_path: Path,
) -> None:
    kit = tmp_path / "kubernetes"
    shutil.copytree(KUBE_DIR, kit, ignore=shutil.ignore_patterns("secret.env"))
    build = ["kubectl", "kustomize", str(kit)]
    missing = subprocess.run(build, capture_output=True, text=True, timeout=120)
    assert missing.returncode != 0 and "secret.env" in missing.stderr
    (kit / "secret.env").write_text("".join(f"{k}={v}\n" for k, v in SECRET_ENV.items()))
    built = subprocess.run(build, capture_output=True, text=True, timeout=120, check=True)
    out = [d for d in yaml.safe_load_all(built.stdout) if d]
    (secret,) = [d for d in out if d["kind"] == "Secret"]
    name = secret["metadata"]["name"]
    assert name.startswith("ivrhooks-"), "named with a hash of its contents: changes roll pods"
    assert set(secret["data"]) == set(SECRET_NAMES)
    workloads = [d["spec"]["template"]["spec"] for d in out if d["kind"] == "Deployment"]
    refs = [
        e["valueFrom"]["secretKeyRef"]["name"]
        for pod in workloads
        for c in containers(pod)
        for e in c.get("env", [])
        if "valueFrom" in e
    ] + [
        v["secret"]["secretName"]
        for pod in workloads
        for v in pod.get("volumes", [])
        if "secret" in v
    ]
    assert len(refs) == 4 and set(refs) == {name}, "every reference is to the generated Secret"


# ---- every pod ----------------------------------------------------------------------------


def test_the_kit_runs_the_app_and_redis() -> None:
    assert set(PODS) == {"ivrhooks", "ivrhooks-redis"}


@pytest.mark.parametrize("name", sorted(PODS))
def test_every_pod_passes_pod_security_restricted(name: str) -> None:
    pod = PODS[name]
    assert restricted_violations(pod) == []
    assert pod["automountServiceAccountToken"] is False, "neither talks to the Kubernetes API"
    assert pod["enableServiceLinks"] is False, "no IVRHOOKS_*-named service variables"
    for c in containers(pod):
        assert c["securityContext"]["readOnlyRootFilesystem"] is True, c["name"]
        assert _bytes(c["resources"]["limits"]["memory"]) > 0, c["name"]


# ---- the way in: TLS, the PBX only --------------------------------------------------------


def test_the_pbx_reaches_ivrhooks_over_tls_through_the_ingress_only() -> None:
    assert all(
        d["spec"].get("type", "ClusterIP") == "ClusterIP"
        for d in RESOURCES
        if d["kind"] == "Service"
    ), "no Service is exposed outside the cluster in plain HTTP"
    public = urlsplit(CONFIGMAP["IVRHOOKS_PUBLIC_URL"])
    assert public.scheme == "https"
    ingress = kind("Ingress", "ivrhooks")
    spec = ingress["spec"]
    assert any(public.hostname in tls["hosts"] and tls["secretName"] for tls in spec["tls"])
    (rule,) = spec["rules"]
    assert rule["host"] == public.hostname
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/hooks/", "Prefix"), "action URLs only"
    backend = path["backend"]["service"]
    service = kind("Service", backend["name"])
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/ssl-redirect"] == "true"


def test_only_the_pbx_is_admitted_and_only_through_the_controller() -> None:
    annotations = kind("Ingress", "ivrhooks")["metadata"]["annotations"]
    at_ingress = annotations["nginx.ingress.kubernetes.io/whitelist-source-range"]
    assert at_ingress == CONFIGMAP["IVRHOOKS_ALLOW"], "the same PBX network at both gates"
    assert ipaddress.ip_network(at_ingress) == ipaddress.ip_network("192.0.2.0/24"), (
        "a documentation network, to be replaced by the PBX's address"
    )
    config = resolve(Declared(), {**CONFIGMAP, **SECRET_ENV})
    assert config.auth.allow == (at_ingress,)
    assert config.auth.trusted_proxies, "X-Forwarded-For believed from the controller only"
    policy = kind("NetworkPolicy", "ivrhooks")["spec"]
    labels = kind("Deployment", "ivrhooks")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    assert policy["policyTypes"] == ["Ingress"]
    (rule,) = policy["ingress"]
    assert [set(peer) for peer in rule["from"]] == [{"namespaceSelector"}]
    assert rule["ports"] == [{"port": "http"}]


# ---- Redis ------------------------------------------------------------------------------


def test_redis_admits_only_the_ivrhooks_pods() -> None:
    policy = kind("NetworkPolicy", "ivrhooks-redis")["spec"]
    redis_labels = kind("Deployment", "ivrhooks-redis")["spec"]["template"]["metadata"]["labels"]
    app_labels = kind("Deployment", "ivrhooks")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= redis_labels.items()
    assert policy["policyTypes"] == ["Ingress"]
    (rule,) = policy["ingress"]
    assert [set(peer) for peer in rule["from"]] == [{"podSelector"}]
    assert rule["from"][0]["podSelector"]["matchLabels"].items() <= app_labels.items()
    assert not redis_labels.items() >= rule["from"][0]["podSelector"]["matchLabels"].items()
    assert rule["ports"] == [{"port": "redis"}]


def test_redis_reads_its_password_from_a_file_and_bounds_its_memory(tmp_path: Path) -> None:
    pod = PODS["ivrhooks-redis"]
    for c in containers(pod):
        # The Secret reaches Redis as a mounted file only: no variable, no argument.
        assert not c.get("env") and not c.get("envFrom") and not c.get("args"), c["name"]
        assert "requirepass" not in " ".join(c["command"][:-1]), c["name"]
    password = SECRET_ENV["REDIS_PASSWORD"]
    with redis_pod.running(tmp_path, SECRET_ENV) as redis:
        cmdline = Path(f"/proc/{redis.pid}/cmdline").read_bytes().decode()
        assert password not in cmdline, "never on redis-server's command line"
        assert redis_pod.ask(redis.port, "PING")[0].startswith(b"-NOAUTH")
        auth, memory, policy = redis_pod.ask(
            redis.port,
            f"AUTH {password}",
            "CONFIG GET maxmemory",
            "CONFIG GET maxmemory-policy",
        )
    assert auth == b"+OK"
    maxmemory = int(memory.split()[-1])
    limit = _bytes(pod["containers"][0]["resources"]["limits"]["memory"])
    print(f"maxmemory {maxmemory >> 20} MiB of a {limit >> 20} MiB limit")
    assert 0 < maxmemory < limit
    assert policy.split()[-1] == b"noeviction", "full means refused writes, not evicted windows"


@pytest.mark.parametrize(
    "password", ["", "short", "has spaces in it 0123", "two\nlines-0123456789"], ids=repr
)
def test_redis_will_not_start_with_a_password_it_cannot_use(password: str, tmp_path: Path) -> None:
    _, outcomes = redis_pod.initialise(tmp_path, {**SECRET_ENV, "REDIS_PASSWORD": password})
    assert not outcomes[-1].startswith("0:")
    assert "REDIS_PASSWORD" in outcomes[-1] and "token_urlsafe" in outcomes[-1]
    if password:
        assert password not in outcomes[-1]
