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
