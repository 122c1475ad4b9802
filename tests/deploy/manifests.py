"""deploy/'s files as their engines read them, for the deploy tests: the compose file with its
``${VAR:?message}`` interpolation, nginx.conf as directives, the Kubernetes manifests the
kustomization lists, and each deployment's app environment as Kubernetes or compose builds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBE_DIR = DEPLOY / "kubernetes"
COMPOSE_DIR = DEPLOY / "compose"


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines, as compose's ``--env-file`` and kustomize's ``envs`` read them."""
    pairs = (line.split("=", 1) for line in path.read_text().splitlines())
    return {p[0]: p[1] for p in pairs if len(p) == 2 and not p[0].lstrip().startswith("#")}


# ---- compose ------------------------------------------------------------------------------

COMPOSE: dict[str, Any] = yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())
DEMO_ENV = env_file(COMPOSE_DIR / "demo.env")
APPS = sorted(s for s in COMPOSE["services"] if re.fullmatch(r"app\d+", s))


class Unset(Exception):
    """Compose's refusal of a ``${VAR:?message}`` whose variable is not set."""


def compose_value(raw: str, given: Mapping[str, str]) -> str:
    """Compose's ``${VAR:-default}`` and ``${VAR:?message}``; ``given`` stands for the env files."""

    def sub(match: re.Match[str]) -> str:
        name, op, word = match.group(1), match.group(2), match.group(3)
        if given.get(name):
            return given[name]
        if op == ":?":
            raise Unset(f"required variable {name} is missing a value: {word}")
        return word

    return re.sub(r"\$\{([A-Z_]+)(:-|:\?)([^}]*)\}", sub, str(raw))


def compose_env(given: Mapping[str, str]) -> dict[str, str]:
    """Every replica's environment (they must be the same), interpolated."""
    envs = [COMPOSE["services"][a]["environment"] for a in APPS]
    assert all(e == envs[0] for e in envs), "every replica runs the same configuration"
    return {k: compose_value(v, given) for k, v in envs[0].items()}


# ---- nginx --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Directive:
    context: tuple[str, ...]
    """The blocks it is in: ``("http", "server", "location /hooks/")``."""
    name: str
    args: tuple[str, ...]


def nginx_directives(text: str) -> list[Directive]:
    """Every simple directive of an nginx configuration, with the blocks it is in."""
    tokens = re.findall(r"'[^']*'|\"[^\"]*\"|[{};]|[^\s{};'\"#]+|#[^\n]*", text)
    found: list[Directive] = []
    context: list[str] = []
    words: list[str] = []
    for token in tokens:
        if token.startswith("#"):
            continue
        if token == "{":
            context.append(" ".join(words))
            words = []
        elif token == "}":
            assert not words, f"unterminated directive {words}"
            context.pop()
        elif token == ";":
            found.append(Directive(tuple(context), words[0], tuple(words[1:])))
            words = []
        else:
            words.append(token.strip("'\""))
    assert not context and not words, "balanced blocks, every directive ended by ;"
    return found


NGINX_TEXT = (COMPOSE_DIR / "nginx.conf").read_text()
NGINX = nginx_directives(NGINX_TEXT)


# ---- kubernetes ---------------------------------------------------------------------------

KUSTOMIZATION: dict[str, Any] = yaml.safe_load((KUBE_DIR / "kustomization.yaml").read_text())
KUBE = {name: documents(KUBE_DIR / name) for name in KUSTOMIZATION["resources"]}
RESOURCES = [d for docs in KUBE.values() for d in docs]
#: The names secret.env must give values to (the kustomization generates the Secret from it).
SECRET_NAMES = tuple(env_file(KUBE_DIR / "secret.env.example"))
POD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")


def kind(kind: str, name: str) -> dict[str, Any]:
    found = [d for d in RESOURCES if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"one {kind} {name} in {sorted(KUBE)}"
    return found[0]


def pods() -> Iterator[tuple[str, dict[str, Any]]]:
    """``(workload name, pod spec)`` for every workload in the kit."""
    for d in RESOURCES:
        if d["kind"] in POD_KINDS:
            yield d["metadata"]["name"], d["spec"]["template"]["spec"]


def containers(pod: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [*pod.get("initContainers", []), *pod["containers"]]


def generated_secret_name() -> str:
    (generator,) = KUSTOMIZATION["secretGenerator"]
    assert generator["env"] == "secret.env"
    return str(generator["name"])


def kube_env(container: Mapping[str, Any], secret: Mapping[str, str]) -> dict[str, str]:
    """The container's environment as Kubernetes builds it: the ConfigMaps, then ``env`` in
    order with ``$(NAME)`` expanded from the names before it; ``secret`` stands for secret.env."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(kind("ConfigMap", source["configMapRef"]["name"])["data"])
    for item in container.get("env", []):
        if "valueFrom" in item:
            ref = item["valueFrom"]["secretKeyRef"]
            assert ref["name"] == generated_secret_name()
            env[item["name"]] = secret[ref["key"]]
        else:
            env[item["name"]] = re.sub(r"\$\(([A-Z_]+)\)", lambda m: env[m.group(1)], item["value"])
    return env


def service_links(pod: Mapping[str, Any]) -> dict[str, str]:
    """What Kubernetes adds to every container's environment for each Service in the namespace
    (docker-link style), unless the pod says ``enableServiceLinks: false``."""
    if pod.get("enableServiceLinks", True) is False:
        return {}
    links: dict[str, str] = {}
    for service in (d for d in RESOURCES if d["kind"] == "Service"):
        name = service["metadata"]["name"].upper().replace("-", "_")
        address = "10.96.0.10"
        for i, port in enumerate(service["spec"]["ports"]):
            number, proto = port["port"], port.get("protocol", "TCP")
            if i == 0:
                links[f"{name}_SERVICE_HOST"] = address
                links[f"{name}_SERVICE_PORT"] = str(number)
                links[f"{name}_PORT"] = f"{proto.lower()}://{address}:{number}"
            if "name" in port:
                links[f"{name}_SERVICE_PORT_{port['name'].upper()}"] = str(number)
            prefix = f"{name}_PORT_{number}_{proto}"
            links[prefix] = f"{proto.lower()}://{address}:{number}"
            links[f"{prefix}_PROTO"] = proto.lower()
            links[f"{prefix}_PORT"] = str(number)
            links[f"{prefix}_ADDR"] = address
    return links
