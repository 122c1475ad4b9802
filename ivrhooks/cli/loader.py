"""Load the user's app from ``path/to/file.py[:attr]`` or ``module[:attr]`` (``app`` by default)."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

import click

from ivrhooks.app import IVRHooks

__all__ = ["load_app"]


def load_app(spec: str) -> IVRHooks:
    """Import the app named by ``spec``; a click error says what is wrong and what to pass."""
    target, _, attr = spec.partition(":")
    attr = attr or "app"
    if target.endswith(".py") or "/" in target or "\\" in target:
        module = _import_file(Path(target))
    else:
        # As uvicorn does (its --app-dir defaults to "."): `module:attr` is found from the
        # current directory, not only from the installed packages.
        if "" not in sys.path and os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as exc:
            if exc.name != target.split(".")[0] and exc.name != target:
                raise
            raise click.BadParameter(
                f"no module named {target!r}; pass a file (path/to/app.py) or module:attr",
                param_hint="APP",
            ) from None
    app = getattr(module, attr, None)
    if not isinstance(app, IVRHooks):
        found = "nothing" if app is None else type(app).__name__
        raise click.BadParameter(
            f"{target}:{attr} is {found}, not an IVRHooks app; name the app as {target}:NAME",
            param_hint="APP",
        )
    return app


def _import_file(path: Path) -> object:
    if not path.is_file():
        raise click.BadParameter(f"no such file: {path}", param_hint="APP")
    path = path.resolve()
    # The app's own directory goes on sys.path so it can import its sibling modules.
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    name = path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise click.BadParameter(f"cannot import {path}", param_hint="APP")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
