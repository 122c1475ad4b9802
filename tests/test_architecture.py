"""The package's shape, checked from its source: no import circles, HTTP libraries only at the
edges, and the public surface of every public package pinned.

Every ``import`` statement counts, including those under ``if TYPE_CHECKING:`` and inside
functions: a circle that only the type checker sees is still a circle a reader has to untangle.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ivrhooks"

# The edges: the server wing (ASGI), the PBX edge (the REST client), the fake PBX (a PBX of its
# own, with both HTTP edges) and the test helpers shipped for users. Nothing else may import an
# HTTP library; the CLI talks HTTP only through these.
HTTP_LIBRARIES = ("starlette", "httpx")
EDGES = ("ivrhooks.server", "ivrhooks.pbx", "ivrhooks.fakepbx", "ivrhooks.testing")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py")}


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports (ivrhooks modules resolved to the module, others as given)."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
    return found


GRAPH = {name: {i for i in _imports(name, path) if i in MODULES} for name, path in MODULES.items()}


def _cycle() -> list[str] | None:
    """One import circle among ivrhooks modules, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(GRAPH[node]):
            if nxt == node:
                continue
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if state.get(nxt) is None and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(GRAPH):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_the_package_has_no_import_circle() -> None:
    assert len(GRAPH) > 50, "the walk found the package's modules"
    assert _cycle() is None, " -> ".join(_cycle() or [])


def test_the_walk_sees_a_circle_when_there_is_one() -> None:
    # The check itself can fail: a circle added to a copy of the graph is found.
    GRAPH["ivrhooks.core.types"].add("ivrhooks.app")
    try:
        assert _cycle() is not None
    finally:
        GRAPH["ivrhooks.core.types"].discard("ivrhooks.app")


def _is_edge(name: str) -> bool:
    return any(name == edge or name.startswith(edge + ".") for edge in EDGES)


@pytest.mark.parametrize("library", HTTP_LIBRARIES)
def test_only_the_edges_import_http_libraries(library: str) -> None:
    users = sorted(
        name
        for name, path in MODULES.items()
        if any(i == library or i.startswith(library + ".") for i in _imports(name, path))
    )
    assert users, f"some edge module imports {library}"
    assert [name for name in users if not _is_edge(name)] == []


def test_no_production_module_imports_the_test_helpers() -> None:
    """ivrhooks.testing is for users' tests (the pytest plugin, FakePBX re-exported): the CLI,
    the server and everything else reach the fake PBX through ivrhooks.fakepbx, never it."""
    importers = sorted(
        name
        for name, targets in GRAPH.items()
        if not (name == "ivrhooks.testing" or name.startswith("ivrhooks.testing."))
        and any(t == "ivrhooks.testing" or t.startswith("ivrhooks.testing.") for t in targets)
    )
    assert importers == []
    assert "ivrhooks.fakepbx" in GRAPH["ivrhooks.testing"] or any(
        t.startswith("ivrhooks.fakepbx") for t in GRAPH["ivrhooks.testing"]
    ), "the helpers re-export the fake PBX from its own package"


# PortSIP's field rules, written once in ivrhooks.types and derived everywhere else.
FIELD_RULES = ("[0-9]{3,64}", "[a-z0-9]{6,64}", "3 to 64 digits")


def _strings(tree: ast.AST) -> list[str]:
    """Every str or bytes constant in code, docstrings excepted (those may quote a rule)."""
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            docstrings.add(id(body[0].value))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and id(node) not in docstrings:
            if isinstance(node.value, str):
                found.append(node.value)
            elif isinstance(node.value, bytes):
                found.append(node.value.decode("latin-1"))
    return found


def test_portsip_field_rules_are_written_once() -> None:
    spelled = sorted(
        f"{name}: {rule}"
        for name, path in MODULES.items()
        for text in _strings(ast.parse(path.read_text()))
        for rule in FIELD_RULES
        if rule in text
    )
    assert spelled == [f"ivrhooks.core.types: {rule}" for rule in sorted(FIELD_RULES)]


# -- the folders -----------------------------------------------------------------------------

#: The only modules at the top of the package: its face, the composition (the runtime, the
#: manifest, the embedded-PBX assembly; the app and the composition root are packages of their
#: own, ivrhooks.app and ivrhooks.compose), errors and the version.
TOP_LEVEL = {
    "ivrhooks",
    "ivrhooks.__main__",
    "ivrhooks._version",
    "ivrhooks.embedded",
    "ivrhooks.errors",
    "ivrhooks.manifest",
    "ivrhooks.runtime",
}

#: What each folder may import of ivrhooks (beyond itself), and which third-party packages.
#: The core is pure: the standard library, itself and the exceptions.
FOLDERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ivrhooks.core": (("ivrhooks.errors",), ()),
    "ivrhooks.conf": (("ivrhooks.core", "ivrhooks.errors"), ()),
    "ivrhooks.schema": (("ivrhooks.core", "ivrhooks.errors"), ("pydantic",)),
    "ivrhooks.observe": (
        ("ivrhooks.core", "ivrhooks.errors", "ivrhooks._version"),
        ("prometheus_client", "opentelemetry"),
    ),
    # Handlers' caches: the store only through its protocol (the app binds the real one).
    "ivrhooks.cache": (("ivrhooks.core", "ivrhooks.errors", "ivrhooks.store.base"), ()),
    # PortSIP's event webhooks: the models (standard library only, cheap enough for the
    # receiving endpoint), the decisions and presence kept in the store (through its protocol),
    # the dispatcher; never the server or HTTP.
    "ivrhooks.events": (
        ("ivrhooks.core", "ivrhooks.errors", "ivrhooks.conf.events", "ivrhooks.observe.observer"),
        ("redis",),
    ),
    # The event inbox: raw JSON bodies between the endpoint and the handlers, in memory or in
    # Redis (imported only when a Redis inbox is built); no HTTP, no event models, no server.
    "ivrhooks.events.inbox": (
        ("ivrhooks.core", "ivrhooks.errors", "ivrhooks.conf.events"),
        ("redis",),
    ),
    # The probe: the REST client and registration's naming for its entries, the server's
    # loopback uvicorn for its own app, the fake PBX's behaviour file and dial (--self-dial);
    # HTTP only through those, and no app (it has none).
    "ivrhooks.probe": (
        (
            "ivrhooks.core",
            "ivrhooks.errors",
            "ivrhooks.conf",
            "ivrhooks.observe.logs",
            "ivrhooks.schema",
            "ivrhooks.pbx",
            "ivrhooks.registration.job",
            "ivrhooks.registration.owner",
            "ivrhooks.registration.resolve",
            "ivrhooks.server.loopback",
            "ivrhooks.fakepbx.behaviour",
            "ivrhooks.fakepbx.shape",
            "ivrhooks.fakepbx.remote",
            "ivrhooks._version",
        ),
        (),
    ),
}
#: Imported inside one function of the core, when a credential file is read: never at import.
CORE_LAZY = {("ivrhooks.core.auth.files", "passlib.apache")}

STDLIB = sys.stdlib_module_names


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _module_level(path: Path) -> set[str]:
    """What a module imports at its top (not inside a function)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in tree.body:
        # An import under ``if TYPE_CHECKING:`` counts as one at the top.
        nodes = [*node.body, *node.orelse] if isinstance(node, ast.If) else [node]
        for item in nodes:
            if isinstance(item, ast.Import):
                found.update(alias.name for alias in item.names)
            elif isinstance(item, ast.ImportFrom) and not item.level and item.module:
                found.add(item.module)
    return found


def test_only_the_composition_sits_at_the_top_of_the_package() -> None:
    top = {f"ivrhooks.{path.stem}" for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    assert top | {"ivrhooks"} == TOP_LEVEL


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_each_folder_imports_only_what_its_rule_allows(folder: str) -> None:
    allowed_ours, allowed_foreign = FOLDERS[folder]
    offenders = []
    for name, path in MODULES.items():
        if not _within(name, (folder,)):
            continue
        for target in _imports(name, path):
            root = target.split(".")[0]
            if root == "ivrhooks":
                if not _within(target, (folder, *allowed_ours)):
                    offenders.append(f"{name} -> {target}")
            elif (
                root not in STDLIB
                and not _within(target, allowed_foreign)
                and ((name, target) not in CORE_LAZY or target in _module_level(path))
            ):
                offenders.append(f"{name} -> {target}")
    assert offenders == []


def test_the_rules_catch_a_core_module_that_reaches_out() -> None:
    # The check itself can fail: a core module importing the server is found.
    GRAPH["ivrhooks.core.routes"].add("ivrhooks.server.app")
    try:
        offenders = [
            target
            for target in GRAPH["ivrhooks.core.routes"]
            if not _within(target, ("ivrhooks.core", *FOLDERS["ivrhooks.core"][0]))
        ]
        assert offenders == ["ivrhooks.server.app"]
    finally:
        GRAPH["ivrhooks.core.routes"].discard("ivrhooks.server.app")


HEAVY = ("starlette", "httpx", "uvicorn", "click", "passlib", "bcrypt", "pydantic", "redis")
CORE_MODULES = sorted(name for name in MODULES if _within(name, ("ivrhooks.core",)))


def _loaded_by(statement: str) -> dict[str, list[str]]:
    script = (
        "import json, sys\n"
        f"{statement}\n"
        "print(json.dumps({'ours': sorted(m for m in sys.modules if m.startswith('ivrhooks')),"
        f" 'heavy': sorted(m for m in {HEAVY!r} if m in sys.modules)}}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
    )
    loaded: dict[str, list[str]] = json.loads(done.stdout)
    return loaded


def test_importing_the_package_loads_only_its_face() -> None:
    loaded = _loaded_by("import ivrhooks")
    assert loaded == {"ours": ["ivrhooks", "ivrhooks._version"], "heavy": []}


def test_the_core_loads_no_server_client_or_their_libraries() -> None:
    """In a fresh interpreter, every core module (``ivrhooks.core.masks`` among them) loads
    none of Starlette, httpx, uvicorn, click, libpass, bcrypt, pydantic or redis."""
    statement = "; ".join(f"import {name}" for name in CORE_MODULES)
    loaded = _loaded_by(statement)
    assert "ivrhooks.core.masks" in CORE_MODULES and len(CORE_MODULES) > 20
    assert loaded["heavy"] == []
    assert [m for m in loaded["ours"] if not _within(m, ("ivrhooks.core",))] == [
        "ivrhooks",
        "ivrhooks._version",
        "ivrhooks.errors",
    ]


@pytest.mark.parametrize(
    ("former", "home"),
    [
        ("ivrhooks.masks", "ivrhooks.core.masks"),
        ("ivrhooks.types", "ivrhooks.core.types"),
        ("ivrhooks.auth", "ivrhooks.core.auth"),
        ("ivrhooks.observer", "ivrhooks.observe.observer"),
    ],
)
def test_a_moved_module_imported_by_its_former_name_is_the_module_and_loads_nothing_heavy(
    former: str, home: str
) -> None:
    """``import ivrhooks.masks`` (the name before the core had a folder) keeps working: in a
    fresh interpreter it is the very module at the new home, loaded once, with none of the
    server's or client's libraries."""
    loaded = _loaded_by(
        f"import {former}, {home}\n"
        f"assert sys.modules[{former!r}] is sys.modules[{home!r}]\n"
        f"assert sys.modules[{home!r}].__spec__.name == {home!r}"
    )
    assert loaded["heavy"] == []
    assert home in loaded["ours"]
    assert [m for m in loaded["ours"] if m.startswith(former + ".")] == []


def test_a_submodule_by_its_former_name_is_not_loaded_a_second_time() -> None:
    loaded = _loaded_by(
        "import ivrhooks.masks.mask, ivrhooks.core.masks.mask\n"
        "assert sys.modules['ivrhooks.masks.mask'] is sys.modules['ivrhooks.core.masks.mask']\n"
        "from ivrhooks.masks import Mask\n"
        "from ivrhooks.core.masks.mask import Mask as Same\n"
        "assert Mask is Same"
    )
    assert loaded["heavy"] == []


def test_declaring_an_app_loads_no_server_or_client() -> None:
    loaded = _loaded_by("from ivrhooks import IVRHooks, call, ActionRequest")
    assert loaded["heavy"] == []


def test_nothing_below_the_app_imports_it() -> None:
    in_app = ("ivrhooks.app",)
    importers = sorted(
        name
        for name, targets in GRAPH.items()
        if not _within(name, in_app) and any(_within(t, in_app) for t in targets)
    )
    # Above the app: the package root (its lazy face), the CLI, the test helpers and the one
    # helper both of those use to serve an app with the embedded fake PBX.
    allowed = ("ivrhooks.cli", "ivrhooks.testing", "ivrhooks.embedded")
    assert [n for n in importers if not _within(n, allowed)] == ["ivrhooks"]


PUBLIC = {
    "ivrhooks": [
        "ActionRequest",
        "AuthConfig",
        "ConfigurationError",
        "Decision",
        "EventsConfig",
        "IVRHooks",
        "IVRHooksError",
        "InboundError",
        "InvalidDecisionError",
        "MaskError",
        "Observer",
        "PBXConfig",
        "PBXError",
        "RegistrationConfig",
        "RouteConflictError",
        "ServingConfig",
        "SettingError",
        "StaticCredentials",
        "StoreConfig",
        "__version__",
        "call",
        "hangup",
        "repeat",
    ],
    "ivrhooks.cache": ["EVENTS", "JSON", "Cache", "Loader", "Report"],
    "ivrhooks.events.inbox": [
        "DeadDelivery",
        "Delivery",
        "Handle",
        "Inbox",
        "InboxFullError",
        "InboxUnavailableError",
        "MemoryInbox",
        "Report",
        "ReportEvent",
        "Retries",
        "open_inbox",
    ],
    "ivrhooks.core.auth": [
        "AuthGuard",
        "Authenticator",
        "Credentials",
        "MemoryReplayStore",
        "Pending",
        "ReplayOutcome",
        "ReplayStore",
        "Secrets",
        "StaticCredentials",
        "Throttle",
        "Verdict",
        "build_authenticator",
        "derive_credentials",
        "generate_secret",
    ],
    "ivrhooks.registration": [
        "MANAGED_PREFIX",
        "ApplyError",
        "Plan",
        "Registration",
        "RegistrationError",
        "Report",
        "UnknownReceptionistError",
        "desired_state",
        "fetch_plans",
        "reconcile",
    ],
    "ivrhooks.pbx": [
        "PBXAPIError",
        "PBXClient",
        "PBXConnectionError",
        "PBXError",
        "PBXLoginError",
        "PBXNotFoundError",
        "PBXResponseError",
        "PBXUnauthorizedError",
        "PBXValidationError",
        "RetryPolicy",
        "TwoFactorRequiredError",
    ],
    "ivrhooks.testing": [
        "DialResult",
        "FakePBX",
        "Local",
        "LocalCall",
        "LocalResult",
        "ReplayDecision",
        "ReplayDifference",
        "RunningApp",
        "bind_socket",
        "free_port",
        "local",
        "replay",
        "request",
        "running",
        "serve",
    ],
    "ivrhooks.fakepbx": [
        "DEFAULT_CAPABILITIES",
        "DEFAULT_PASSWORD",
        "DEFAULT_PIN",
        "DEFAULT_ROLE",
        "DEFAULT_USERNAME",
        "CallOutcome",
        "Counters",
        "DialResult",
        "EventFaults",
        "Extension",
        "FakePBX",
        "Faults",
        "SentEvent",
    ],
    "ivrhooks.events": [
        "CALL_STATUSES",
        "DIRECTIONS",
        "EVENT_KINDS",
        "EXTENSION_EVENTS",
        "PRESENCES",
        "TARGET_EVENTS",
        "AgentStatus",
        "CallCDR",
        "CallStart",
        "CallStatus",
        "CallTarget",
        "CallUpdateInfo",
        "Direction",
        "Event",
        "EventKind",
        "ExtensionEvent",
        "ExtensionState",
        "Presence",
        "RecordedDecision",
        "TargetEvent",
        "TargetStatus",
        "UnknownEvent",
        "event_digest",
        "normalize_presence",
        "parse_event",
        "to_direction",
    ],
    "ivrhooks.server": ["Server", "bind_socket", "free_port", "serve"],
    "ivrhooks.probe": [
        "FAKE_PBX",
        "QUESTIONS",
        "STEPS",
        "Console",
        "Finding",
        "Probe",
        "ProbeEnvironment",
        "ProbeOptions",
        "Report",
        "Step",
        "pick_steps",
        "read_environment",
    ],
    "ivrhooks.core.masks": [
        "Kind",
        "Mask",
        "MaskIndex",
        "parse_mask",
    ],
    "ivrhooks.store": [
        "FallbackStore",
        "Mark",
        "MemoryStore",
        "Store",
        "StoreError",
        "open_store",
    ],
    "ivrhooks.doctor": [
        "Diagnosis",
        "Finding",
        "account_findings",
        "diagnose",
        "public_url_findings",
    ],
    "ivrhooks.errors": [
        "ApplyError",
        "AuthHeaderError",
        "ConfigurationError",
        "FakePBXError",
        "IVRHooksError",
        "InboxFullError",
        "InboxUnavailableError",
        "InboundError",
        "InvalidArgumentError",
        "InvalidDecisionError",
        "KNOWN_PBX_CODES",
        "MaskError",
        "PBXAPIError",
        "PBXConnectionError",
        "PBXError",
        "PBXLoginBudgetError",
        "PBXLoginError",
        "PBXLoginRefusedError",
        "PBXNotFoundError",
        "PBXResponseError",
        "PBXUnauthorizedError",
        "PBXValidationError",
        "RegistrationConflictError",
        "RegistrationError",
        "ResourceError",
        "RouteConflictError",
        "SessionError",
        "SessionTooLargeError",
        "SessionUnavailableError",
        "SettingError",
        "StoreError",
        "TwoFactorRequiredError",
        "UnknownReceptionistError",
    ],
    "ivrhooks.core.types": [
        "ACTIONS",
        "AUTH_MODES",
        "Action",
        "CREDENTIAL_PATTERN",
        "CREDENTIAL_RE",
        "EXTENSION_PATTERN",
        "EXTENSION_RE",
        "EXTENSION_RULE",
        "FALLBACK_CAUSES",
        "FallbackCause",
        "KINDS",
        "Kind",
        "MAX_ACTION_URL",
        "MAX_MASK",
        "MAX_NAME",
        "METHODS",
        "Method",
        "Presence",
        "SCHEMES",
        "Scheme",
        "is_extension",
    ],
    # The observer interface (docs/observability.md) and what its methods receive.
    "ivrhooks.observe.observer": [
        "ActionRequest",
        "Observer",
        "Outcome",
        "PBXCall",
        "Verdict",
        "fan_out",
    ],
}


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_public_surface_is_pinned(package: str) -> None:
    module = importlib.import_module(package)
    exported = list(module.__all__)
    if PUBLIC[package] is not None:
        assert sorted(exported) == sorted(PUBLIC[package] or [])
    for name in exported:
        assert hasattr(module, name), f"{package}.__all__ names {name}, which it lacks"


def test_every_exception_is_defined_in_the_errors_module() -> None:
    import ivrhooks.errors as errors

    defined_elsewhere = []
    for name, path in MODULES.items():
        if name == "ivrhooks.errors":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = [ast.unparse(b) for b in node.bases]
            if node.name.startswith("_"):
                continue  # a module's internal signal, never raised to a caller
            if any(b.endswith(("Error", "Exception")) for b in bases):
                defined_elsewhere.append(f"{name}.{node.name}")
    # The fake PBX's own wire errors and the dev prompt's parse error are not ivrhooks errors
    # users catch; everything else lives in ivrhooks.errors.
    assert sorted(defined_elsewhere) == [
        "ivrhooks.cli.dev_prompt.PromptError",
        "ivrhooks.fakepbx.query.QueryError",
        "ivrhooks.fakepbx.resources.APIError",
    ]
    documented = errors.__doc__ or ""
    for name in errors.__all__:
        if name.endswith("Error"):
            assert name in documented, f"the tree in ivrhooks.errors does not draw {name}"


def test_the_version_is_written_once() -> None:
    import ivrhooks

    pyproject = (PACKAGE.parent / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'path = "ivrhooks/_version.py"' in pyproject
    hits = [p for p in PACKAGE.rglob("*.py") if "__version__ = " in p.read_text()]
    assert [p.name for p in hits] == ["_version.py"]
    assert ivrhooks.__version__.count(".") >= 2
