"""Operators' Apache credential files, read once at start-up and refused if any entry is unusable.

htpasswd and htdigest files are parsed by libpass (the maintained fork providing ``passlib``).
An entry is refused, with the file, the line and the user named, when it can never work or is
not worth protecting:

- a username outside ``[a-z0-9]{6,64}``: PortSIP stores only such usernames on an action URL
  (reference/portsip.md §1), so ``Alice.Smith`` would load and then refuse every correct request;
- the same user twice: Apache uses the first entry, and a reader may not;
- ``plaintext`` (the password itself), ``des_crypt`` (keeps only 8 characters) and ``{SHA}``
  (``ldap_sha1``: one unsalted SHA-1, cracked at billions of guesses a second when a file leaks).

``$apr1$`` (``apr_md5_crypt``, what ``htpasswd`` writes without ``-B``) is salted but fast to
crack: it loads with one warning naming the users to re-create with ``htpasswd -B``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from ivrhooks.core.types import CREDENTIAL_PATTERN
from ivrhooks.errors import ConfigurationError

__all__ = ["REFUSED_SCHEMES", "WEAK_SCHEMES", "load_htdigest", "read_htpasswd"]

logger = logging.getLogger("ivrhooks")

REFUSED_SCHEMES = frozenset({"plaintext", "des_crypt", "ldap_sha1"})
WEAK_SCHEMES = frozenset({"apr_md5_crypt"})
_HA1 = re.compile(r"[0-9a-fA-F]{32}")


def _read(kind: str, path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"{kind} file {path}: cannot be read ({exc.strerror})") from None


def _entries(data: bytes) -> list[tuple[int, list[str]]]:
    """``(line number, fields)`` of every entry, skipping what Apache skips (blank, ``#``)."""
    out: list[tuple[int, list[str]]] = []
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            out.append((number, stripped.split(":")))
    return out


def _check_user(kind: str, path: Path, number: int, user: str, seen: dict[str, int]) -> None:
    where = f"{kind} file {path}, line {number}"
    if not CREDENTIAL_PATTERN.fullmatch(user):
        raise ConfigurationError(
            f"{where}: user {user!r} can never authenticate: the PBX sends only usernames "
            "of 6 to 64 characters a-z and 0-9; re-create the entry under such a name"
        )
    if user in seen:
        raise ConfigurationError(
            f"{where}: user {user!r} is already on line {seen[user]}; keep one entry per user"
        )
    seen[user] = number


def read_htpasswd(path: Path) -> Any:
    """The parsed htpasswd file (a passlib ``HtpasswdFile``); raises :class:`ConfigurationError`
    naming the file, line, user."""
    # Imported here, the one place the core needs it: importing the core loads no libpass.
    from passlib.apache import HtpasswdFile  # type: ignore[import-untyped]  # no type hints

    data = _read("htpasswd", path)
    try:
        file = HtpasswdFile.from_string(data)
    except ValueError as exc:
        raise ConfigurationError(f"htpasswd file {path}: {exc}") from None
    seen: dict[str, int] = {}
    weak: list[str] = []
    for number, fields in _entries(data):
        user = fields[0]
        _check_user("htpasswd", path, number, user, seen)
        hashed = file.get_hash(user)
        scheme = file.context.identify(hashed) if hashed else None
        if scheme is None or scheme in REFUSED_SCHEMES:
            raise ConfigurationError(
                f"htpasswd file {path}, line {number}: user {user!r} uses "
                f"{scheme or 'an unknown'} hashing; re-create it with `htpasswd -B` (bcrypt)"
            )
        if scheme in WEAK_SCHEMES:
            weak.append(user)
    if not seen:
        raise ConfigurationError(f"htpasswd file {path}: no users")
    if weak:
        logger.warning(
            "htpasswd file %s: %s use apr_md5_crypt ($apr1$, htpasswd without -B): salted but "
            "fast to crack if the file leaks; re-create them with `htpasswd -B` (bcrypt)",
            path,
            ", ".join(repr(u) for u in weak),
        )
    return file


def load_htdigest(path: Path, realm: str) -> dict[str, bytes]:
    """``username -> HA1`` (MD5 hex, RFC 7616 §3.4.2) for ``realm`` from an htdigest file."""
    from passlib.apache import HtdigestFile

    data = _read("htdigest", Path(path))
    try:
        file = HtdigestFile.from_string(data)
    except ValueError as exc:
        raise ConfigurationError(f"htdigest file {path}: {exc}") from None
    table: dict[str, bytes] = {}
    seen: dict[str, int] = {}
    for number, fields in _entries(data):
        if len(fields) != 3 or fields[1] != realm:
            continue  # another realm's entries never answer this realm's challenge
        user = fields[0]
        _check_user("htdigest", path, number, user, seen)
        ha1 = file.get_hash(user, realm)
        if ha1 is None or not _HA1.fullmatch(ha1):
            raise ConfigurationError(
                f"htdigest file {path}, line {number}: user {user!r} has no MD5 HA1"
            )
        table[user] = ha1.lower().encode("ascii")
    if not table:
        raise ConfigurationError(
            f"htdigest file {path}: no users for realm {realm!r} "
            f"(realms in the file: {', '.join(file.realms()) or 'none'}); the realm must match"
        )
    return table
