"""One verifying TLS context per process for the HTTP clients ivrhooks makes.

httpx builds a new ``ssl.SSLContext`` for every client made with ``verify=True``, loading the
whole CA bundle each time: tens of milliseconds of CPU per client, paid by every ``PBXClient``
and by every call the fake PBX places. This context is built once, on first use, exactly as
httpx builds its own (certifi's bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR`` as set then), and
shared: verification is unchanged. An ``SSLContext`` is safe to share between clients.
"""

from __future__ import annotations

import functools
import ssl

import httpx

__all__ = ["tls_context", "verifying"]


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's verifying TLS context, as ``httpx.AsyncClient(verify=True)`` would make."""
    return httpx.create_ssl_context()


def verifying(verify: bool) -> ssl.SSLContext | bool:
    """What to pass as httpx's ``verify``: the shared context, or ``False`` (no verification)."""
    return tls_context() if verify else False
