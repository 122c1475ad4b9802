"""Static credentials for hand-configured action URLs: a password, a token, or an Apache file.

htpasswd / htdigest files are read and checked by :mod:`ivrhooks.auth.files` (entries that can
never authenticate, or are not real hashes, are refused at load time) and checked by
:mod:`ivrhooks.auth.hashed` (constant work whether the user exists; slow hashes off the event
loop, successes remembered).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ivrhooks.core.auth.files import REFUSED_SCHEMES, load_htdigest
from ivrhooks.core.auth.hashed import HashedPasswords
from ivrhooks.core.types import CREDENTIAL_PATTERN, CREDENTIAL_RE
from ivrhooks.errors import ConfigurationError

__all__ = ["REFUSED_SCHEMES", "HashedPasswords", "StaticCredentials", "load_htdigest"]

_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]{16,1024}=*")  # RFC 6750 §2.1 b64token, 16+ chars


@dataclass(frozen=True, slots=True)
class StaticCredentials:
    """Exactly one of: ``username`` + ``password``, ``token``, ``htpasswd`` or ``htdigest``."""

    username: str | None = None
    password: str | None = None
    token: str | None = None
    htpasswd: Path | None = None
    htdigest: Path | None = None

    def __post_init__(self) -> None:
        given = [
            name
            for name, present in (
                ("username/password", self.username is not None or self.password is not None),
                ("token", self.token is not None),
                ("htpasswd", self.htpasswd is not None),
                ("htdigest", self.htdigest is not None),
            )
            if present
        ]
        if len(given) != 1:
            raise ConfigurationError(
                "static credentials: give exactly one of username/password, token, htpasswd "
                f"or htdigest (got {', '.join(given) or 'none'})"
            )
        for field in ("username", "password"):
            value = getattr(self, field)
            if given[0] == "username/password" and (
                not isinstance(value, str) or not CREDENTIAL_PATTERN.fullmatch(value)
            ):
                # The PBX itself only stores [a-z0-9]{6,64} (reference/portsip.md §1).
                raise ConfigurationError(f"static credentials: {field} must match {CREDENTIAL_RE}")
        if self.token is not None and not _TOKEN.fullmatch(self.token):
            raise ConfigurationError(
                "static credentials: token must be 16..1024 characters of A-Z a-z 0-9 - . _ ~ + /"
            )

    def __repr__(self) -> str:
        kind = "password" if self.username else "token" if self.token else "file"
        return f"StaticCredentials(kind={kind!r}, username={self.username!r})"
