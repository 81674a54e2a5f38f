"""Dependencies: the query layer, the current principal and the purpose.

    QueriesDep    the query layer (api.queries.Queries) over it
    PrincipalDep  who is calling (API key from X-API-Key or Authorization: Bearer) -> 401
    allow(P)      route dependency: the principal's roles grant permission P -> 403,
                  and the request states a purpose in X-Purpose -> 400
"""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from creditgraph.api.access import Permission, allowed, roles_for
from creditgraph.api.audit import MAX_PURPOSE, decode_purpose
from creditgraph.api.keys import KeyRing, Principal
from creditgraph.api.masking import set_clear_ids
from creditgraph.api.queries import Queries

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="API key (or send it as Authorization: Bearer KEY)")
bearer = HTTPBearer(auto_error=False)


async def get_queries(request: Request) -> Queries:
    return request.app.state.queries


QueriesDep = Annotated[Queries, Depends(get_queries)]


async def current_principal(
    request: Request,
    api_key: Annotated[str | None, Security(api_key_header)] = None,
    auth: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> Principal:
    key = api_key or (auth.credentials if auth else None)
    if not key:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "no API key: send it in the X-API-Key header (or Authorization: Bearer)",
                            headers={"WWW-Authenticate": "Bearer"})
    keyring: KeyRing = request.app.state.keyring
    principal = keyring.lookup(key.strip())
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED,
                            "unknown or revoked API key: ask an admin for a key "
                            "(creditgraph apikey create NAME --role ROLE)",
                            headers={"WWW-Authenticate": "Bearer"})
    request.state.principal = principal
    # masking decision for every model serialised in this request (api.masking)
    set_clear_ids(allowed(principal.roles, Permission.CLEAR_ID_NUMBERS))
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]

# purpose documented in OpenAPI on every data route
PurposeHeader = Annotated[str | None, Header(alias="X-Purpose", description=(
    "why you query (recorded in the audit trail; required). Percent-encode non-ASCII text."))]


def allow(permission: Permission):
    """Route dependency: 401 without a valid key, 403 outside the role, 400 without purpose."""

    async def check(principal: PrincipalDep, x_purpose: PurposeHeader = None) -> Principal:
        if not allowed(principal.roles, permission):
            mine = ", ".join(sorted(r.value for r in principal.roles))
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"key {principal.name!r} has role(s) {mine}; "
                                f"{permission.value} needs one of: {', '.join(roles_for(permission))}")
        purpose = decode_purpose(x_purpose)
        if not purpose:
            raise HTTPException(status.HTTP_400_BAD_REQUEST,
                                "state the purpose of this query in the X-Purpose header "
                                "(e.g. 'X-Purpose: procurement check, tender 2024-117'); "
                                "it is recorded in the audit trail")
        if len(purpose) > MAX_PURPOSE:
            raise HTTPException(status.HTTP_400_BAD_REQUEST,
                                f"X-Purpose is {len(purpose)} characters; keep it under {MAX_PURPOSE}")
        return principal

    return Depends(check)


