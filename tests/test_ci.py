"""The CI script installs into a virtual environment of its own and runs the README's command."""

from __future__ import annotations

from pathlib import Path

CI = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()


def test_ci_makes_its_own_venv_before_installing_anything() -> None:
    venv = CI.index("python3 -m venv")
    activate = CI.index('source "$venv/bin/activate"')
    install = CI.index('bash -c "$test_cmd"')
    assert venv < activate < install
    assert "grep -A2 '<!-- test-command -->' README.md" in CI


def test_ci_installs_the_browsers_the_dev_page_tests_drive() -> None:
    # The Firefox tests fail rather than skip without firefox-esr: CI must bring it.
    for binary in ("chromium", "firefox-esr"):
        assert f"command -v {binary} >/dev/null 2>&1 || need+=({binary})" in CI
    assert 'apt-get install -y -qq "${need[@]}"' in CI


def test_ci_installs_the_load_generator_the_bench_smoke_tests_drive() -> None:
    # Without wrk the benches fall back to bench/loadgen.py: CI would test another path.
    assert "command -v wrk >/dev/null 2>&1 || need+=(wrk)" in CI
