"""The Dockerfile, checked statically: no Docker engine runs in CI.

What a build or a run would catch late is checked here early: files the build copies exist
and are not dropped by .dockerignore, the entrypoint's console script is declared, the image
runs as non-root, the healthcheck, port and command agree, no secret is baked in.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.ports import spare_port

ROOT = Path(__file__).resolve().parent.parent

# Paths the image needs at build or run time. examples/quickstart.py is the default CMD's app.
REQUIRED_PATHS = [
    "pyproject.toml",
    "README.md",
    "ivrhooks/__init__.py",
    "ivrhooks/cli/__init__.py",
    "examples",
    "examples/quickstart.py",
]


@dataclass
class Instruction:
    keyword: str
    args: str
    flags: dict[str, str] = field(default_factory=dict)

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form instruction, or None for shell form."""
        try:
            value = json.loads(self.args)
        except json.JSONDecodeError:
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        return None


@dataclass
class Stage:
    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        found = self.all(keyword)
        assert found, f"stage {self.name or self.image} has no {keyword}"
        return found[-1]


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("#") or not stripped:
            continue  # comments (and parser directives) and blank lines, also inside continuations
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
        else:
            lines.append(current + stripped)
            current = ""
    assert not current, "the Dockerfile ends inside a line continuation"
    return lines


def _split_flags(args: str) -> tuple[dict[str, str], str]:
    flags: dict[str, str] = {}
    rest = args
    while rest.startswith("--"):
        token, _, rest = rest.partition(" ")
        key, _, value = token[2:].partition("=")
        flags[key] = value
        rest = rest.lstrip()
    return flags, rest


def parse_dockerfile(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for line in _logical_lines(text):
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            flags, rest = _split_flags(args.strip())
            words = rest.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(image=words[0], name=name))
            continue
        assert stages, f"{keyword} before the first FROM"
        flags, rest = _split_flags(args.strip())
        stages[-1].instructions.append(Instruction(keyword, rest, flags))
    return stages


STAGES = parse_dockerfile((ROOT / "Dockerfile").read_text())
FINAL = STAGES[-1]
STAGE_NAMES = {s.name for s in STAGES if s.name}


def _copy_sources() -> list[str]:
    """Sources of every COPY/ADD that reads the build context (not another stage)."""
    sources: list[str] = []
    for stage in STAGES:
        for ins in stage.all("COPY") + stage.all("ADD"):
            if "from" in ins.flags:
                continue
            words = ins.exec_form() or shlex.split(ins.args)
            sources.extend(words[:-1])
    return sources


# --- .dockerignore, with Docker's rules: last matching pattern wins; a pattern that matches a
# parent directory matches everything below it; "**" spans directories. -------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for segment in pattern.strip("/").split("/"):
        if segment == "**":
            parts.append(".*")
            continue
        regex = ""
        for char in segment:
            regex += {"*": "[^/]*", "?": "[^/]"}.get(char, re.escape(char))
        # [abc] classes: re.escape turned them into literals; restore them.
        regex = regex.replace(r"\[", "[").replace(r"\]", "]")
        parts.append(regex)
    return re.compile("/".join(parts).replace(".*/", "(?:.*/)?"))


def _dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    rules = []
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        rules.append((negated, _pattern_regex(line.lstrip("!"))))
    return rules


def is_ignored(path: str) -> bool:
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for negated, regex in _dockerignore():
        if any(regex.fullmatch(c) for c in candidates):
            ignored = not negated
    return ignored


# --- the checks ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", REQUIRED_PATHS)
def test_required_paths_exist(path: str) -> None:
    assert (ROOT / path).exists(), f"the image needs {path}, missing from the repository"


@pytest.mark.parametrize("source", _copy_sources())
def test_every_copy_source_exists_and_enters_the_build_context(source: str) -> None:
    assert (ROOT / source).exists(), f"COPY {source}: no such path in the repository"
    assert not is_ignored(source), f"COPY {source}: excluded by .dockerignore"
    if (ROOT / source).is_dir():
        files = [p for p in (ROOT / source).rglob("*.py") if "__pycache__" not in p.parts]
        assert files
        assert not [p for p in files if is_ignored(str(p.relative_to(ROOT)))]


def test_the_packages_readme_is_copied_into_the_builder() -> None:
    readme = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["readme"]
    assert readme in _copy_sources()


@pytest.mark.parametrize(
    "path",
    [
        ".git/config",
        ".env",
        "examples/.env",
        "crm.sqlite3",
        "tests/test_logs.py",
        "ivrhooks/__pycache__/logs.cpython-311.pyc",
        ".venv/bin/python",
    ],
)
def test_dockerignore_keeps_local_and_secret_files_out(path: str) -> None:
    assert is_ignored(path)


def test_multi_stage_builder_makes_wheels_and_runtime_installs_them() -> None:
    assert len(STAGES) >= 2
    builder = next(s for s in STAGES if s.name == "builder")
    assert any(re.search(r"\bpip wheel\b", i.args) for i in builder.all("RUN"))
    installs = [i for i in FINAL.all("RUN") if re.search(r"\bpip install\b", i.args)]
    assert installs, "the final stage installs nothing"
    assert any(
        "from=builder" in i.flags.get("mount", "") and "--no-index" in i.args for i in installs
    )
    # The runtime gets the package as a wheel, not as a source tree.
    assert not [i for i in FINAL.all("COPY") if "ivrhooks" in shlex.split(i.args)[0]]


def test_base_images_are_slim() -> None:
    bases = [s.image for s in STAGES if s.image not in STAGE_NAMES]
    assert bases
    for image in bases:
        assert re.fullmatch(r"python:3\.1[1-9]-slim(-[a-z]+)?", image), image
    assert FINAL.image == "python:3.11-slim"  # requires-python >= 3.11: test the floor


def test_the_final_stage_runs_as_a_non_root_user() -> None:
    user = FINAL.last("USER").args.split(":")
    assert user[0] not in ("root", "0"), user
    assert user[-1] not in ("root", "0"), user
    assert int(user[0]) >= 1000  # clear of system accounts
    assert FINAL.last("WORKDIR").args == "/app"


def test_the_entrypoint_is_exec_form_and_its_script_is_declared() -> None:
    entrypoint = FINAL.last("ENTRYPOINT").exec_form()
    assert entrypoint == ["ivrhooks", "run"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts[entrypoint[0]] == "ivrhooks.cli:main"


def _image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in FINAL.all("ENV"):
        env.update(dict(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", ins.args)))
    return env


def test_cmd_runs_a_copied_app_on_the_exposed_port() -> None:
    cmd = FINAL.last("CMD").exec_form()
    assert cmd == ["examples/quickstart.py"]
    assert cmd[0] in REQUIRED_PATHS
    assert any(cmd[0].startswith(s.rstrip("/") + "/") for s in _copy_sources())
    env = _image_env()
    # S104: inside a container the app must listen on every interface to be reachable.
    assert env["IVRHOOKS_HOST"] == "0.0.0.0"  # noqa: S104
    assert FINAL.last("EXPOSE").args.split() == [env["IVRHOOKS_PORT"]]


def test_the_image_never_embeds_the_fake_pbx_unless_asked() -> None:
    assert _image_env()["IVRHOOKS_EMBEDDED_PBX"] == "false"


def test_the_healthcheck_asks_healthz_with_python_on_the_served_port() -> None:
    healthcheck = FINAL.last("HEALTHCHECK")
    assert healthcheck.flags.keys() >= {"interval", "timeout", "retries"}
    keyword, _, command = healthcheck.args.partition(" ")
    assert keyword == "CMD"
    argv = json.loads(command)
    assert argv[:2] == ["python", "-c"]
    script = argv[2]
    assert "urllib.request.urlopen(" in script
    assert "http://127.0.0.1:%s/healthz" in script and "IVRHOOKS_PORT" in script
    assert not re.search(r"\b(curl|wget)\b", healthcheck.args)
    compile(script, "<healthcheck>", "exec")


def _entrypoint(extra_env: dict[str, str], port: int) -> subprocess.Popen[str]:
    # The image's entrypoint and CMD with the image's environment, as a container would run them
    # (there is no Docker engine here: the same command, in the source tree).
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVRHOOKS_")}
    env.update(_image_env(), IVRHOOKS_HOST="127.0.0.1", IVRHOOKS_PORT=str(port), **extra_env)
    entrypoint, cmd = FINAL.last("ENTRYPOINT").exec_form(), FINAL.last("CMD").exec_form()
    assert entrypoint is not None and cmd is not None
    argv = [*entrypoint, *cmd]
    argv[0] = str(Path(sys.executable).parent / argv[0])
    # The embedded PBX (when asked for) and its dev page off their fixed defaults (8887, 8888).
    return subprocess.Popen(
        [*argv, "--pbx-port", str(spare_port()), "--ui-port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_the_image_without_a_pbx_stops_at_once_saying_what_to_set() -> None:
    proc = _entrypoint({}, spare_port())
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, output
    assert output.startswith("Error: no PBX: set IVRHOOKS_PBX_URL"), output
    assert "Traceback" not in output


def test_the_healthcheck_passes_against_the_entrypoint_asked_to_embed(tmp_path: Path) -> None:
    port = spare_port()
    proc = _entrypoint({"IVRHOOKS_EMBEDDED_PBX": "true"}, port)
    script = json.loads(FINAL.last("HEALTHCHECK").args.partition(" ")[2])[2]
    try:
        deadline = time.monotonic() + 30
        while True:  # a bounded poll: the server starts in another process
            check = subprocess.run(
                [sys.executable, "-c", script],
                env={**os.environ, "IVRHOOKS_PORT": str(port)},
                capture_output=True,
                timeout=10,
                check=False,
            )
            if check.returncode == 0:
                break
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, check.stderr
            time.sleep(0.2)
    finally:
        proc.terminate()
        proc.communicate(timeout=15)
    stopped = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "IVRHOOKS_PORT": str(port)},
        capture_output=True,
        timeout=10,
        check=False,
    )
    assert stopped.returncode == 1, "nothing listening: unhealthy"


def test_no_secret_is_baked_into_the_image() -> None:
    secretish = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|API_?KEY|CREDENTIAL", re.IGNORECASE)
    for stage in STAGES:
        for ins in stage.all("ENV") + stage.all("ARG"):
            names = re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=", ins.args) or [ins.args.split()[0]]
            assert not [n for n in names if secretish.search(n)], ins.args
