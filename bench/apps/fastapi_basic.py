"""What a user would otherwise write: one FastAPI endpoint with ``HTTPBasic``.

It checks one username and password in constant time and reads the fields the PBX sends from
the query string; it has no masks, no deadline and no Digest.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from bench.apps import SECRET, route_count, target_route
from ivrhooks.core.auth import derive_credentials

app = FastAPI()
security = HTTPBasic()
_CREDS = derive_credentials(SECRET, f"r{target_route(route_count())}")


@app.get("/hooks/{name}")
def decision(
    name: str,
    credentials: Annotated[HTTPBasicCredentials, Depends(security)],
    caller: Annotated[str, Query(alias="from")],
    to: str,
    input: str = "",
) -> dict[str, object]:
    user_ok = secrets.compare_digest(credentials.username.encode(), _CREDS.username.encode())
    password_ok = secrets.compare_digest(credentials.password.encode(), _CREDS.password.encode())
    if not (user_ok and password_ok):
        raise HTTPException(401, "unauthorized", headers={"WWW-Authenticate": "Basic"})
    return {"status_code": 200, "action": "call", "destination": "2001"}
