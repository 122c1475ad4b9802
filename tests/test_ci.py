"""CI runs the README's test command as written, in a virtual environment of its own; the
command's first step, scripts/test-tools, brings the programs the suite drives."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CI = (ROOT / ".ci" / "run").read_text()
README = (ROOT / "README.md").read_text()
TOOLS = ROOT / "scripts" / "test-tools"

#: Each Debian package the suite needs, and the program the tests look for.
PACKAGES = {
    "redis-server": "redis-server",  # tests/redis_server.py: shared state, for real
    "chromium": "chromium",  # tests/devui: Playwright drives Debian's, never its own download
    "firefox-esr": "firefox-esr",  # tests/devui/bidi.py: over WebDriver BiDi; fails, not skips
    "wrk": "wrk",  # the bench smoke tests' load generator (bench/loadgen.py is the fallback)
    "curl": "curl",  # tests/auth/test_interop.py: a real HTTP client
    "nginx-light": "nginx",  # tests/deploy: the compose kit's proxy, run for real
    "kubernetes-client": "kubectl",  # tests/deploy: its kustomize builds the Kubernetes kit
}


def _readme_block(marker: str) -> str:
    """The command in the README's fenced block right after ``<!-- marker -->``."""
    found = re.search(rf"^<!-- {marker} -->\n```sh\n(.+)\n```$", README, re.MULTILINE)
    assert found is not None, f"README.md: <!-- {marker} --> and its fenced block"
    return found.group(1)


def _readme_command(marker: str) -> str:
    done = subprocess.run(
        [str(ROOT / ".ci" / "readme-command"), marker],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.rstrip("\n")


@pytest.mark.parametrize("marker", ["test-command", "main-command"])
def test_ci_reads_the_readmes_commands_as_written(marker: str) -> None:
    assert _readme_command(marker) == _readme_block(marker)


def test_ci_runs_the_readmes_test_command_verbatim_in_its_own_venv() -> None:
    venv = CI.index("python3 -m venv")
    activate = CI.index('source "$venv/bin/activate"')
    read = CI.index("test_cmd=$(.ci/readme-command test-command)")
    run = CI.index('bash -c "$test_cmd"')
    assert venv < activate < read < run
    assert "readme-command main-command" in (ROOT / ".ci" / "readme-quickstart").read_text()


def test_ci_installs_nothing_the_readmes_command_does_not() -> None:
    # The tools come from the command's first step, as on a person's machine.
    assert "apt-get" not in CI
    assert _readme_block("test-command").startswith(
        'scripts/test-tools && pip install -e ".[test]" && '
    )


# --- scripts/test-tools, on a PATH of stubs: nothing is installed for real -------------------


def _stub(path: Path, body: str = "exit 0") -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _tools(
    tmp_path: Path,
    present: list[str],
    *,
    uid: int = 0,
    apt: bool = True,
    provides: bool = True,
    args: tuple[str, ...] = (),
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """scripts/test-tools with PATH holding only stubs: ``present``'s programs, ``id`` saying
    ``uid``, and an ``apt-get`` that logs its arguments and (``provides``) "installs" a stub of
    each package. Returns the run and apt-get's calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in present:
        _stub(bin_dir / PACKAGES[name])
    _stub(bin_dir / "id", f"echo {uid}")
    log = tmp_path / "apt.log"
    if apt:
        programs = " ".join(f"{package}) p={program};;" for package, program in PACKAGES.items())
        _stub(
            bin_dir / "apt-get",
            f'echo "$*" >> "{log}"\n'
            f'[ "$1" = install ] && {"true" if provides else "false"} || exit 0\n'
            "for pkg; do\n"
            f'  case "$pkg" in {programs} *) continue;; esac\n'
            f'  printf "#!/bin/sh\\n" > "{bin_dir}/$p"; /bin/chmod +x "{bin_dir}/$p"\n'
            "done",
        )
    done = subprocess.run(
        ["/bin/sh", str(TOOLS), *args],
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return done, calls


def test_the_tools_script_is_silent_and_installs_nothing_when_all_are_there(
    tmp_path: Path,
) -> None:
    done, calls = _tools(tmp_path, list(PACKAGES))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert calls == []


@pytest.mark.parametrize("package", list(PACKAGES))
def test_the_tools_script_installs_each_missing_package_as_root(
    tmp_path: Path, package: str
) -> None:
    done, calls = _tools(tmp_path, [p for p in PACKAGES if p != package])
    assert done.returncode == 0, done.stderr
    assert calls == ["update -qq", f"install -y -qq {package}"]
    assert done.stdout == f"test-tools: installing {package} (apt-get)\n"


def test_the_tools_script_installs_every_missing_one_in_one_apt_get(tmp_path: Path) -> None:
    done, calls = _tools(tmp_path, ["curl", "nginx-light", "kubernetes-client"])
    assert done.returncode == 0, done.stderr
    assert calls == ["update -qq", "install -y -qq redis-server chromium firefox-esr wrk"]


def test_not_root_it_stops_with_one_line_naming_the_packages_and_the_command(
    tmp_path: Path,
) -> None:
    present = ["redis-server", "chromium", "firefox-esr", "nginx-light", "kubernetes-client"]
    done, calls = _tools(tmp_path, present, uid=1000)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        "test-tools: the tests need wrk curl; install them as root: "
        "apt-get update && apt-get install -y wrk curl\n"
    )
    assert calls == []


def test_dry_run_says_what_it_would_install_and_installs_nothing(tmp_path: Path) -> None:
    present = ["chromium", "firefox-esr", "curl", "nginx-light", "kubernetes-client"]
    done, calls = _tools(tmp_path, present, uid=1000, args=("--dry-run",))
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "test-tools: would install: apt-get update && apt-get install -y redis-server wrk\n"
    )
    assert calls == []


def test_without_apt_get_it_names_what_is_missing(tmp_path: Path) -> None:
    done, _ = _tools(tmp_path, [p for p in PACKAGES if p != "curl"], apt=False)
    assert done.returncode == 1
    assert done.stderr == (
        "test-tools: the tests need curl; install them with your system's package manager\n"
    )


def test_a_package_apt_get_did_not_provide_is_an_error(tmp_path: Path) -> None:
    present = [p for p in PACKAGES if p != "wrk"]
    done, calls = _tools(tmp_path, present, provides=False)
    assert calls == ["update -qq", "install -y -qq wrk"]
    assert done.returncode == 1
    assert done.stderr == "test-tools: still missing after apt-get: wrk\n"


def test_the_tools_script_is_executable_and_posix_sh() -> None:
    assert os.access(TOOLS, os.X_OK)
    assert TOOLS.read_text().startswith("#!/bin/sh\n")
    subprocess.run(["/bin/sh", "-n", str(TOOLS)], check=True, timeout=30)
