"""Secrets that are no secret: values shipped in ivrhooks' own files, and placeholders.

Every action URL's credentials derive from ``IVRHOOKS_SECRET`` and the route's public name, so a
secret anyone can read lets anyone authenticate. Two kinds are refused at startup
(:mod:`ivrhooks.conf.checks`):

- **Shipped values**: any secret or password written in ``deploy/``, ``docs/``, ``README.md`` or
  ``examples/``, now or in an earlier release. The package carries their SHA-256 digests, not
  the values; ``tests/conf/test_known_secrets.py`` recomputes the current ones from the
  repository, so the list cannot go stale.
- **Placeholders**: text a person writes where a secret should go (``replace-with-…``,
  ``changeme``, ``<your secret>``, ``TODO``, ``xxxxxx``), and one character or a few repeated.

The placeholder words are at least seven characters long; shorter ones (``todo``, ``xxx``) count
only as a word of their own in a value with spaces (prose): a secret from
``secrets.token_urlsafe(32)`` (43 random characters, no spaces) contains a given four-letter
string about once in 26,000 draws, and ``-xXx-`` about once in 300,000, a seven-letter one about
once in 10⁹.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["GENERATE", "RETIRED", "SHIPPED", "weakness"]

#: How to make a secret: printed with every refusal.
GENERATE = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"

#: SHA-256 (hex) of every secret or password value in deploy/, docs/, README.md and examples/
#: (the fake PBX's demo passwords): tests/conf/test_known_secrets.py recomputes this set, and
#: prints the digests to put here when a file gains or loses one.
SHIPPED: frozenset[str] = frozenset(
    {
        "c5534185df527bc9a1ebca8f5276b5785820e6e3382b43fc88c26296db3d59f3",  # docs/doctor.md
        "d85b687a61975f6a8dd35e3f13f75f5d6c53512985eb2421c1dc68e4e4da475d",  # deploy/compose
    }
)

#: Values earlier releases shipped, gone from the files but perhaps not from deployments made
#: with them: deploy/kubernetes/secret.yaml's three placeholders (before the kit generated its
#: Secret from an untracked secret.env).
RETIRED: frozenset[str] = frozenset(
    {
        "d0ab992be463c84483063d55e5915bf65517aeedeebb5adec9b228060f2b2c4c",  # IVRHOOKS_SECRET
        "531cd302dddd392f66f8b68a01a97049bbe69702d338a59e3f4026236281fa16",  # the PBX's
        "857508432822b0bb92207a9e3fafb8313f85a7f63bda273000f8d985b76f0c55",  # Redis's
    }
)

# Each placeholder as a pattern and the words the refusal shows (never the value's own text).
_PLACEHOLDERS = tuple(
    (re.compile(pattern, re.IGNORECASE), shown)
    for pattern, shown in (
        (r"replace[-_ ]?(?:with|me|this)", "replace-with"),
        (r"change[-_ ]?(?:me|it|this)", "changeme"),
        (r"example", "example"),
        (r"placeholder", "placeholder"),
        (r"your[-_ ]?(?:secret|password|token)", "your-secret"),
        (r"(?:secret|password)[-_ ]?here|insert[-_ ]?(?:secret|here)", "secret-here"),
        (r"<[^>]*>", "<...>"),
        (r"\.\.\.", "..."),
        (r"x{6,}", "xxxxxx"),
    )
)
# Short words are placeholders only in prose ("TODO put the secret here"): a random token has
# no spaces, and the same words turn up by chance in about one token in a few hundred thousand.
_PROSE_WORDS = (
    re.compile(r"(?<![a-z0-9])(?:todo|tbd|fixme|x{3,})(?![a-z0-9])", re.IGNORECASE),
    "todo",
)
_REPEATED = re.compile(r"(.{1,4}?)\1+", re.DOTALL)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def weakness(value: str) -> str | None:
    """Why ``value`` cannot be a secret, or ``None``. The reason never repeats the value."""
    if _digest(value) in SHIPPED | RETIRED:
        return (
            "is a value written in ivrhooks' own files (deploy/, docs/, README.md or "
            "examples/), known to anyone who read them"
        )
    found = [shown for pattern, shown in _PLACEHOLDERS if pattern.search(value)]
    prose, shown = _PROSE_WORDS
    if any(c.isspace() for c in value) and prose.search(value):
        found.append(shown)
    if found:
        return f"looks like a placeholder (it contains {found[0]!r} or the like), not a secret"
    if _REPEATED.fullmatch(value):
        return "is a character, or a few, repeated: anyone can guess it"
    return None
