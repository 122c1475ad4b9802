"""Load the user's app from ``path/to/file.py[:attr]`` or ``module[:attr]`` (``app`` by default).

One set of rules for every command (``run``, ``dev``, ``routes``, ...), so that an app that
runs also reloads:

- ``module[:attr]`` is imported by name, found from the current directory first (as uvicorn's
  ``--app-dir`` defaults to ``.``) and then the installed packages.
- ``path/to/file.py`` inside a regular package (its directory has ``__init__.py``) is imported
  by its dotted name from the directory above the outermost package, as ``python -m`` would:
  ``myivr/app.py`` is ``myivr.app``, its relative imports (``from .menu import ...``) and
  absolute ones (``from myivr.crm import ...``) work, and it is the same module (and the same
  app, with the same app id) as ``myivr.app``.
- a lone ``file.py`` is imported from its location, its directory first on ``sys.path`` so it
  can import its sibling modules.

``locate_app`` tells, without importing anything, where an app lives: ``ivrhooks dev`` watches
the directories it names.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import click

from ivrhooks.app import IVRHooks

__all__ = ["AppLocation", "load_app", "locate_app"]


@dataclass(frozen=True, slots=True)
class AppLocation:
    """Where an app named on the command line lives."""

    module: str  # the name it is imported as: dotted, or a lone file's stem
    attr: str
    search_path: str  # put on sys.path (first) before importing
    watch: tuple[Path, ...]  # the directories whose .py files make up the app
    file: Path | None = None  # the file named on the command line, if one was
    lone: bool = False  # a file outside any package: imported from its location, not by name


def locate_app(spec: str) -> AppLocation:
    """Where ``spec``'s app lives; a click error names what is missing."""
    target, _, attr = spec.partition(":")
    attr = attr or "app"
    if target.endswith(".py") or "/" in target or "\\" in target:
        return _locate_file(Path(target), attr)
    search = os.getcwd()
    _search(search)
    try:
        # The top-level name only: find_spec of a submodule would import its parents.
        found = importlib.util.find_spec(target.split(".")[0])
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise _no_module(target)
    if found.submodule_search_locations:
        watch = tuple(Path(p) for p in found.submodule_search_locations)
    elif found.origin is not None:
        watch = (Path(found.origin).resolve().parent,)
    else:
        raise click.BadParameter(f"cannot tell where {target!r} lives", param_hint="APP")
    return AppLocation(target, attr, search, watch)


def load_app(spec: str) -> IVRHooks:
    """Import the app named by ``spec``; a click error says what is wrong and what to pass."""
    where = locate_app(spec)
    _search(where.search_path)
    module = _import_file(where) if where.lone else _import(where)
    app = getattr(module, where.attr, None)
    if not isinstance(app, IVRHooks):
        found = "nothing" if app is None else type(app).__name__
        target = spec.partition(":")[0]
        raise click.BadParameter(
            f"{target}:{where.attr} is {found}, not an IVRHooks app; name the app as {target}:NAME",
            param_hint="APP",
        )
    return app


def _locate_file(path: Path, attr: str) -> AppLocation:
    if not path.is_file():
        raise click.BadParameter(f"no such file: {path}", param_hint="APP")
    path = path.resolve()
    parts = [] if path.stem == "__init__" else [path.stem]
    root = path.parent
    while (root / "__init__.py").is_file():
        parts.insert(0, root.name)
        root = root.parent
    if root != path.parent and all(part.isidentifier() for part in parts):
        return AppLocation(".".join(parts), attr, str(root), (root / parts[0],), path)
    return AppLocation(path.stem, attr, str(path.parent), (path.parent,), path, lone=True)


def _search(directory: str) -> None:
    """Put ``directory`` first on ``sys.path`` unless it is there already ("" is the cwd)."""
    if directory not in sys.path and not (directory == os.getcwd() and "" in sys.path):
        sys.path.insert(0, directory)


def _import(where: AppLocation) -> object:
    try:
        module = importlib.import_module(where.module)
    except ModuleNotFoundError as exc:
        if exc.name != where.module.split(".")[0] and exc.name != where.module:
            raise
        raise _no_module(where.module) from None
    origin = getattr(module, "__file__", None)
    if where.file is not None and (origin is None or Path(origin).resolve() != where.file):
        # A file of a package was named, but a package of that name came first on sys.path.
        raise click.BadParameter(
            f"{where.file} is module {where.module}, but {where.module} was imported from "
            f"{origin}: another package {where.module.split('.')[0]!r} comes first; rename "
            "one of them",
            param_hint="APP",
        )
    return module


def _import_file(where: AppLocation) -> object:
    assert where.file is not None
    path, name = where.file, where.module
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise click.BadParameter(f"cannot import {path}", param_hint="APP")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except ImportError as exc:
        frames = traceback.extract_tb(exc.__traceback__)
        if "no known parent package" not in str(exc) or frames[-1].filename != str(path):
            raise
        raise click.BadParameter(
            f"{path} uses a relative import but {path.parent} is no package: add an empty "
            f"{path.parent / '__init__.py'}, or import its modules by name",
            param_hint="APP",
        ) from None
    return module


def _no_module(target: str) -> click.BadParameter:
    return click.BadParameter(
        f"no module named {target!r}; pass a file (path/to/app.py) or module:attr",
        param_hint="APP",
    )
