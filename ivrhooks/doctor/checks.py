"""The doctor's judgements, as pure functions: what a finding is, what an account's role and
capabilities allow, and whether the public URL is one a PBX can call.

PortSIP facts (reference/portsip.md §5): a service account should be a tenant administrator
(role ``Admin``) without two-factor login; system administrators get two-factor login and a
password policy from v22.6; from v22.3 many endpoints need the "Phone System: Full Access"
capability. Built-in roles are listed in the OpenAPI document's ``GET /login`` ``role``.

The role and capabilities are the PBX's words: they are shown through
:func:`~ivrhooks.pbx.untrusted.pbx_text` (control characters escaped, length capped), so a
role named with terminal escapes cannot rewrite the operator's screen.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from ivrhooks.core.types import MAX_ACTION_URL
from ivrhooks.pbx.untrusted import pbx_text
from ivrhooks.schema.models import AccountInfo

__all__ = ["Finding", "Level", "account_findings", "public_url_findings"]

Level = Literal["ok", "info", "warn", "fail"]

#: Built-in roles that cannot manage a tenant's virtual receptionists (OpenAPI ``role``).
USER_ROLES = frozenset({"StandardUser", "StandardInternationalUser", "QueueManager"})
FULL_ACCESS = "Phone System: Full Access"


@dataclass(frozen=True)
class Finding:
    """One line of the diagnosis: ``fail`` is a problem to fix, ``warn`` a risk."""

    level: Level
    topic: str
    text: str


def _has_full_access(capabilities: Iterable[str]) -> bool:
    wanted = FULL_ACCESS.lower().replace(" ", "")
    return any(str(c).lower().replace(" ", "") == wanted for c in capabilities)


def account_findings(account: AccountInfo | None) -> list[Finding]:
    """What the account's role and capabilities say about managing receptionists."""
    if account is None:
        return [
            Finding(
                "info",
                "account",
                "the PBX does not say who the account is (no GET /auth/user, no role in "
                "GET /login): whether it may manage receptionists shows at the first write",
            )
        ]
    found: list[Finding] = []
    role, source = account.role, account.source or "the PBX"
    shown = pbx_text(role, limit=64)
    if not role:
        found.append(Finding("info", "account", f"{source} names no role"))
    elif role == "Admin":
        found.append(
            Finding(
                "ok",
                "account",
                f"role Admin ({source}): a tenant administrator can manage virtual receptionists",
            )
        )
    elif role == "SystemAdmin":
        found.append(
            Finding(
                "warn",
                "account",
                f"role SystemAdmin ({source}): it can manage receptionists, but from PBX v22.6 "
                "system administrators must use two-factor login, which ivrhooks cannot answer; "
                "use a tenant administrator (role Admin) without two-factor login",
            )
        )
    elif role in USER_ROLES:
        found.append(
            Finding(
                "fail",
                "account",
                f"role {shown} ({source}) cannot manage virtual receptionists: use a tenant "
                "administrator (role Admin) without two-factor login",
            )
        )
    else:
        found.append(
            Finding(
                "warn",
                "account",
                f"role {shown} ({source}) is not a built-in administrator role: the API does not "
                "say whether it may manage virtual receptionists; registration's first write will",
            )
        )
    if account.capabilities is None:
        if account.source == "GET /auth/user":
            found.append(Finding("info", "account", "no capabilities listed (PBX before v22.3)"))
    elif _has_full_access(account.capabilities):
        found.append(Finding("ok", "account", f"capability {FULL_ACCESS!r}"))
    else:
        listed = pbx_text(", ".join(account.capabilities) or "none")
        found.append(
            Finding(
                "fail",
                "account",
                f"the account lacks the {FULL_ACCESS!r} capability that managing receptionists "
                f"needs from PBX v22.3 (it has: {listed})",
            )
        )
    if account.password_force_reset:
        found.append(
            Finding(
                "fail",
                "account",
                "the PBX wants this account's password changed first: sign in to the web portal "
                "once with it and set a new one",
            )
        )
    return found


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_url_findings(
    public_url: str | None, paths: Iterable[str], pbx_url: str
) -> list[Finding]:
    """Whether the PBX can call ``public_url`` + each route's path, and within 128 characters."""
    topic = "public URL"
    if not public_url:
        return [
            Finding(
                "fail",
                topic,
                "not set: set IVRHOOKS_PUBLIC_URL to the base URL at which the PBX reaches this "
                "service, e.g. https://ivr.example.com",
            )
        ]
    parts = urlsplit(public_url)
    problems = []
    if parts.scheme not in ("http", "https"):
        problems.append("it must start with https:// (or http://)")
    if not parts.hostname:
        problems.append("it names no host")
    if parts.username is not None or parts.password is not None:
        problems.append("it carries credentials (user:password@): the PBX sends its own auth")
    if parts.query or parts.fragment:
        problems.append("a query (?...) or fragment (#...) would come before every route's path")
    if any(c.isspace() for c in public_url):
        problems.append("it contains whitespace")
    if problems:
        return [Finding("fail", topic, f"{public_url!r}: {p}") for p in problems]
    found: list[Finding] = []
    host = parts.hostname or ""
    pbx_host = urlsplit(pbx_url).hostname or ""
    if _is_loopback(host) and not _is_loopback(pbx_host):
        found.append(
            Finding(
                "fail",
                topic,
                f"{public_url}: {host} is this machine's own address; a PBX at {pbx_host} "
                "cannot reach it",
            )
        )
    elif parts.scheme == "http" and not _is_loopback(host):
        found.append(
            Finding(
                "warn",
                topic,
                f"{public_url}: plain http, so the PBX sends the action URLs' credentials in "
                "clear; serve https (a TLS proxy in front) and register that",
            )
        )
    urls = [public_url.rstrip("/") + path for path in paths]
    longest = max(urls, key=len, default=public_url)
    if len(longest) > MAX_ACTION_URL:
        found.append(
            Finding(
                "fail",
                topic,
                f"the action URL {longest!r} is {len(longest)} characters; the PBX keeps at most "
                f"{MAX_ACTION_URL}: shorten IVRHOOKS_PUBLIC_URL or the route's name",
            )
        )
    else:
        found.append(
            Finding(
                "ok",
                topic,
                f"{public_url}: the longest action URL is {len(longest)} of {MAX_ACTION_URL} "
                "characters",
            )
        )
    return found
