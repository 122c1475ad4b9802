"""A setting is declared once, as a field of a configuration class::

    deadline: float = setting(
        1.5,
        doc="the answer budget in seconds, below the request timeout",
        rule=rules.number(0, above=True),
        env="IVRHOOKS_DEADLINE",
        parse=rules.parse_number,
    )

That one call says everything ivrhooks knows about the setting: its default, its rule (checked
when the object is made, by :meth:`replace`, and on the variable's value), its ``IVRHOOKS_*``
variable and how that variable's text is read, its one-line meaning (the README's configuration
table is rendered from it, and a test compares the two), how the default reads there when the
value alone would not say enough, and whether it is a secret (never in a repr nor a message).
:data:`ivrhooks.conf.settings.VARIABLES` is derived from these declarations; nothing else lists
the settings.

Why not pydantic / pydantic-settings. ``pydantic-settings`` was a declared dependency that
nothing used, and it does not fit:

- it reads a list-typed variable as JSON (``IVRHOOKS_ALLOW='["10.0.0.0/8"]'``) and refuses
  ``IVRHOOKS_ALLOW=10.0.0.0/8,192.0.2.0/24``, the comma list people type in env files and that
  ivrhooks has always accepted (turning that off takes ``NoDecode`` and a splitting validator);
- its messages are pydantic's (``Input should be a valid number, unable to parse string as a
  number [type=float_parsing, input_value='abc', ...]``), not ours, which name the variable
  *or* the code argument, show the value as typed and never a secret: every message would
  need rewriting, keyed by field, which is the table this module removes;
- it costs import time: 50-80 ms on top of an already imported ivrhooks (measured with
  ``python -X importtime`` and a wall clock, pydantic 2.14, pydantic-settings 2.16), for
  code that every ``ivrhooks`` command and app start would run, while what it would replace is
  a few dozen lines of parsers.

So the configuration stays stdlib frozen dataclasses whose fields carry a :class:`Setting` in
their metadata, and ``pydantic-settings`` is no longer a dependency. ``pydantic`` itself stays:
:mod:`ivrhooks.schema` models the PortSIP REST API with it, where its validation and messages
are what is wanted. This package imports only the standard library, ``ivrhooks.core`` and
``ivrhooks.errors``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from ivrhooks.conf.rules import Parse, Rule, plain
from ivrhooks.errors import SettingError

__all__ = ["Group", "Setting", "declare", "declared", "readme_default", "setting", "setting_error"]

_KEY = "ivrhooks.setting"


@dataclass(frozen=True)
class Setting:
    """What a configuration field says about itself (see the module's docstring)."""

    doc: str
    """Its meaning in one line (Markdown): the README's "meaning" column."""
    rule: Rule | None = None
    """What is wrong with a value, or ``None``; unset for objects only code passes."""
    env: str | None = None
    """The ``IVRHOOKS_*`` variable that overrides it, if any."""
    parse: Parse | None = None
    """The variable's text to a value (every variable has one)."""
    readme_default: str | None = None
    """The README's "default" column when the default alone would not say enough."""
    secret: bool = False
    """Never shown: not in a repr, ``***`` in a message; deployments keep it in a secret store."""
    show: Callable[[Any], str] | None = None
    """How a value is shown in a message (a URL without its login); default: as typed."""
    normalize: Callable[[Any], Any] | None = None
    """Applied to a code argument before its rule (``"get"`` to ``"GET"``)."""
    means_real_pbx: bool = False
    """Its variable set without ``IVRHOOKS_PBX_URL`` stops startup instead of starting the
    embedded fake PBX: a login, a secret or a public URL are meant for a real PBX."""

    def __post_init__(self) -> None:
        if (self.env is None) != (self.parse is None):
            raise TypeError(f"setting {self.env or self.doc!r}: a variable needs a parser")
        if self.env is not None and self.rule is None:
            raise TypeError(f"setting {self.env}: a variable needs a rule")
        if self.means_real_pbx and self.env is None:
            raise TypeError(f"setting {self.doc!r}: only a variable can mean a real PBX")

    def problem(self, value: Any) -> str | None:
        return self.rule(value) if self.rule is not None else None

    def shown(self, value: Any) -> str:
        """The value for a message: never a secret's (nor the login in a URL)."""
        if self.show is not None:
            return self.show(value)
        if self.secret and value is not None:
            return "***"
        return plain(value)


def declare(**setting: Any) -> Mapping[str, Setting]:
    """Field metadata carrying a :class:`Setting`, for a field without a default:
    ``url: str = field(metadata=declare(doc=..., rule=...))`` (``field()`` keeps the type
    checker seeing the argument as required)."""
    return {_KEY: Setting(**setting)}


def setting(default: Any, *, secret: bool = False, compare: bool = True, **declared: Any) -> Any:
    """A dataclass field with ``default``, carrying its :class:`Setting` (``doc``, ``rule``,
    ``env``, ``parse``, ...). Typed ``Any``, as ``field()`` is.

    A secret stays out of the repr; ``compare=False`` keeps an object the code passes (a store)
    out of equality."""
    return dataclasses.field(
        default=default,
        repr=not secret,
        compare=compare,
        metadata=declare(secret=secret, **declared),
    )


def declared(cls: type[Any]) -> Iterator[tuple[str, Setting, Any]]:
    """``(field name, its Setting, its default)`` for every setting of a group, in order."""
    for f in dataclasses.fields(cls):
        found = f.metadata.get(_KEY)
        if isinstance(found, Setting):
            yield f.name, found, f.default


def setting_error(spelled: str, declared_as: Setting, value: Any, problem: str) -> SettingError:
    """``IVRHOOKS_DEADLINE='abc': ...`` or ``ServingConfig(deadline='abc'): ...``.

    ``spelled`` is how the user wrote the setting: a variable, or a code argument with ``...``
    where the value goes."""
    shown = declared_as.shown(value)
    where = spelled.replace("...", shown) if "..." in spelled else f"{spelled}={shown}"
    return SettingError(f"{where}: {problem}", name=spelled, problem=problem)


def readme_default(declared_as: Setting, default: Any) -> str:
    """The README's "default" column: as declared, else the default as it would be typed."""
    if declared_as.readme_default is not None:
        return declared_as.readme_default
    if default is None or default == () or default is dataclasses.MISSING:
        return ""
    if isinstance(default, bool):
        typed = "true" if default else "false"
    elif isinstance(default, float):
        typed = f"{default:g}"
    elif isinstance(default, tuple):
        typed = ",".join(str(item) for item in default)
    else:
        typed = str(default)
    return f"`{typed}`"


class Group:
    """A frozen dataclass of settings, checked whenever one is made (``replace()`` included).

    A bad code argument raises :class:`SettingError` naming it: ``ServingConfig(deadline=0):
    must be above 0``. A sequence field (its default a tuple) takes any sequence but a bare
    string, which would otherwise become a tuple of characters."""

    spelled: ClassVar[str] = ""
    """How messages name the group in code, when not by its class name."""

    def __post_init__(self) -> None:
        name = self.spelled or type(self).__name__
        fields = list(declared(type(self)))
        for field, declared_as, default in fields:
            value = getattr(self, field)
            if isinstance(default, tuple):
                if isinstance(value, str):
                    raise SettingError(
                        f"{name}({field}={value!r}): pass a list, e.g. [{value!r}]",
                        name=field,
                        problem="pass a list",
                    )
                value = tuple(value)
            if declared_as.normalize is not None:
                value = declared_as.normalize(value)
            if value is not getattr(self, field):
                object.__setattr__(self, field, value)
        for field, declared_as, _ in fields:
            value = getattr(self, field)
            problem = declared_as.problem(value)
            if problem is not None:
                raise setting_error(f"{name}({field}=...)", declared_as, value, problem)

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (and checked)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]  # dataclass subclasses
