"""The path template of a PBX REST call, for span names and metric labels.

Resource ids are opaque (PortSIP REST "About") and unbounded in number: a label or span name that
carried them would make a new time series per receptionist, and tell a reader the PBX's ids. So
every segment that is not a word of the API's own vocabulary becomes ``{id}``:
``ivrs/4f1c…/action_urls/9a…/destroy`` is ``ivrs/{id}/action_urls/{id}/destroy``. A path
ivrhooks does not know still yields a bounded template (its words, ids replaced), and a query
string is never part of it.
"""

from __future__ import annotations

__all__ = ["VOCABULARY", "endpoint_template"]

#: Every literal path segment of the endpoints ivrhooks calls (resources, logins, the account).
VOCABULARY = frozenset(
    {
        "ivr_servers",
        "ivrs",
        "action_urls",
        "status",
        "destroy",
        "auth",
        "sign_in",
        "refresh_token",
        "user",
        "login",
        "oauth",
        "token",
    }
)


def endpoint_template(path: str) -> str:
    """``path`` (relative to the API base, as the client sends it) with ids as ``{id}``."""
    path = path.partition("?")[0].strip("/")
    return "/".join(s if s in VOCABULARY else "{id}" for s in path.split("/")) if path else ""
