"""The words settings are declared with: parsers (a variable's text to a value), rules (a value
to a problem, or ``None``) and how a value is shown in a message.

A parser raises :class:`ValueError` whose text is the problem (``must be a number``); a rule
returns the problem. The same rule checks a code argument (``ServingConfig(deadline=0)``) and a
variable (``IVRHOOKS_DEADLINE=0``), so the two always agree; only the spelling of the message
differs (:func:`ivrhooks.conf.declare.setting_error`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

from ivrhooks.core.types import EXTENSION_RULE, METHODS, is_extension

__all__ = [
    "DIGEST_ALGORITHMS",
    "Parse",
    "Rule",
    "algorithms",
    "app_id",
    "boolean",
    "comma_list",
    "integer",
    "lower",
    "methods",
    "networks",
    "number",
    "one_of",
    "optional",
    "parse_boolean",
    "parse_integer",
    "parse_number",
    "path_prefix",
    "plain",
    "realm",
    "receptionists",
    "redis_url",
    "text",
    "trimmed",
    "upper",
    "upper_list",
    "url",
    "without_login",
]

Parse = Callable[[str], Any]
"""A variable's text (never empty) to a value; raises ``ValueError("must be ...")``."""
Rule = Callable[[Any], "str | None"]
"""A value to what is wrong with it, or ``None``."""

DIGEST_ALGORITHMS = ("MD5", "SHA-256")

# -- parsers: the text of a variable as typed in an env file ----------------------------------


def trimmed(raw: str) -> str:
    return raw.strip()


def upper(raw: str) -> str:
    return raw.strip().upper()


def lower(raw: str) -> str:
    return raw.strip().lower()


def comma_list(raw: str) -> tuple[str, ...]:
    # A comma-separated list ("8000,8001"), not JSON: what people type in an env file.
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def upper_list(raw: str) -> tuple[str, ...]:
    return tuple(item.upper() for item in comma_list(raw))


def parse_boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("must be true or false")


def parse_integer(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError("must be a whole number") from None


def parse_number(raw: str) -> float:
    try:
        return float(raw.strip())
    except ValueError:
        raise ValueError("must be a number") from None


# -- how a value is shown in a message ---------------------------------------------------------


def plain(value: Any) -> str:
    """``'abc'``, ``3``; a list as it would be typed (``GET,POST``)."""
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value) if value else "''"
    return repr(value)


def without_login(value: Any) -> str:
    """A URL without the ``user:password@`` it may carry (a Redis URL's password, a login the
    rule is about to refuse): messages end up in logs."""
    if isinstance(value, str) and "@" in value:
        head, _, host = value.rpartition("@")
        scheme = head.partition("://")[0] + "://" if "://" in head else ""
        return repr(f"{scheme}***@{host}")
    return plain(value)


# -- rules -------------------------------------------------------------------------------------


def one_of(choices: Sequence[str]) -> Rule:
    def check(value: Any) -> str | None:
        if value not in choices:
            return "choose " + ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}"
        return None

    return check


def boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def number(low: float, high: float | None = None, *, above: bool = False) -> Rule:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be a number"
        if value != value or value in (float("inf"), float("-inf")):
            return "must be a finite number"
        if above and value <= low:
            return f"must be above {low:g}"
        if not above and value < low:
            return f"must be at least {low:g}"
        if high is not None and value > high:
            return f"must be at most {high:g}"
        return None

    return check


def integer(low: int, high: int) -> Rule:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        if not low <= value <= high:
            return f"must be from {low} to {high}"
        return None

    return check


def optional(rule: Rule) -> Rule:
    """``rule``, or ``None`` (unset)."""

    def check(value: Any) -> str | None:
        return None if value is None else rule(value)

    return check


def text(value: Any) -> str | None:
    """Unset, or a non-empty string."""
    if value is None:
        return None
    return None if isinstance(value, str) and value else "must be a non-empty string"


def url(*, required: bool, login_hint: str) -> Rule:
    def check(value: Any) -> str | None:
        if value is None:
            return "is required" if required else None
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            return "must start with http:// or https://"
        if any(c.isspace() for c in value) or len(value) <= len("https://"):
            return "is not a URL"
        if "@" in urlsplit(value).netloc:
            # A login in a URL ends up in logs, /readyz and error messages: never accepted.
            return f"must not carry a login (user:password@): {login_hint}"
        return None

    return check


def networks(value: Any) -> str | None:
    for item in value:
        try:
            ipaddress.ip_network(str(item).strip(), strict=False)
        except ValueError:
            return f"{item!r} is not an IP address or network (CIDR)"
    return None


def hosts(value: Any) -> str | None:
    for item in value:
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,253}", str(item)):
            return f"{item!r} is not a host name (no scheme, no port: e.g. ivrhooks.internal)"
    return None


def algorithms(value: Any) -> str | None:
    algs = [str(a).upper() for a in value]
    if not algs or len(set(algs)) != len(algs) or any(a not in DIGEST_ALGORITHMS for a in algs):
        return (
            "choose from MD5 and SHA-256 (no -sess, no SHA-512-256: common clients get them wrong)"
        )
    return None


def methods(value: Any) -> str | None:
    if any(m not in METHODS for m in value) or len(set(value)) != len(value):
        return "choose from 'GET' and 'POST', each once (empty: the registered method only)"
    return None


def path_prefix(value: Any) -> str | None:
    if not isinstance(value, str) or not value.startswith("/") or value.endswith("/"):
        return "start it with '/' and do not end it with '/'"
    return None


def realm(value: Any) -> str | None:
    ok = isinstance(value, str) and 1 <= len(value) <= 64
    ok = ok and all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in value)
    return None if ok else "must be 1 to 64 printable ASCII characters, no quotes"


def redis_url(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.startswith(("redis://", "rediss://", "unix://")):
        return "must start with redis://, rediss:// or unix://"
    return None


def app_id(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"[a-z0-9]{1,8}", value):
        return "must be 1 to 8 characters of a-z and 0-9 (it goes into action URL names)"
    return None


def receptionists(value: Any) -> str | None:
    for item in value:
        if not is_extension(item):
            return f"{item!r} is not an extension number ({EXTENSION_RULE}, as a string)"
    return None
