"""Dependencies: the query layer, the current principal and the purpose.

    QueriesDep    the query layer (api.queries.Queries) over it
    CreditDep     credit profiles and report contents (api.credit.Credit); ReportsDep the
                  stored credit reports (api.reports.Reports)
    PrincipalDep  who is calling (API key from X-API-Key or Authorization: Bearer) -> 401
    allow(P)      route dependency: the principal's roles grant permission P -> 403,
                  and the request states a purpose in X-Purpose -> 400 (parse_purpose)
"""
from __future__ import annotations

import unicodedata
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from creditgraph.api.access import Permission, allowed, roles_for
from creditgraph.api.credit import Credit
from creditgraph.api.keys import KeyRing, Principal
from creditgraph.api.masking import set_clear_ids
from creditgraph.api.queries import Queries
from creditgraph.api.reports import Reports

api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="API key (or send it as Authorization: Bearer KEY)")
bearer = HTTPBearer(auto_error=False)


async def get_queries(request: Request) -> Queries:
    return request.app.state.queries


QueriesDep = Annotated[Queries, Depends(get_queries)]


async def get_credit(request: Request) -> Credit:
    return request.app.state.credit


async def get_reports(request: Request) -> Reports:
    return request.app.state.reports


CreditDep = Annotated[Credit, Depends(get_credit)]
ReportsDep = Annotated[Reports, Depends(get_reports)]


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

MAX_PURPOSE = 200
# letters and symbols that show nothing, beside the format characters (Unicode category Cf:
# zero-width spaces and joiners, BOM, bidi controls) that are dropped too
BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")
CONTROL = frozenset(("Cc", "Cs", "Co", "Cn", "Zl", "Zp"))  # controls, surrogates, unassigned, line breaks

# purpose documented in OpenAPI on every data route
PurposeHeader = Annotated[str | None, Header(alias="X-Purpose", description=(
    "why you query (recorded in the audit trail; required): one header, at most "
    f"{MAX_PURPOSE} characters. Percent-encode non-ASCII text."))]


def parse_purpose(values: list[str]) -> str:
    """The purpose of a request from its X-Purpose headers (as Starlette gives them, latin-1):
    exactly one, UTF-8 (raw or percent-encoded), invisible characters dropped, trimmed, printable,
    not blank, at most MAX_PURPOSE characters. ValueError saying what to fix."""
    if len(values) != 1:
        raise ValueError(f"send exactly one X-Purpose header (this request has {len(values)}), "
                         "e.g. 'X-Purpose: procurement check, tender 2024-117'; it is recorded in the audit trail")
    try:
        text = unquote(values[0].encode("latin-1").decode("utf-8"), errors="strict")
    except UnicodeError:
        raise ValueError("X-Purpose is not UTF-8: percent-encode non-ASCII text (e.g. %E9%87%87 for 采)") from None
    text = "".join(c for c in text if unicodedata.category(c) != "Cf" and c not in BLANK_LOOKING).strip()
    if any(unicodedata.category(c) in CONTROL for c in text):
        raise ValueError("X-Purpose holds control characters (a NUL, a line break, a tab): state the purpose "
                         "in plain text")
    if not text:
        raise ValueError("state the purpose of this query in the X-Purpose header "
                         "(e.g. 'X-Purpose: procurement check, tender 2024-117'); "
                         "it is recorded in the audit trail")
    if len(text) > MAX_PURPOSE:
        raise ValueError(f"X-Purpose is {len(text)} characters; keep it to {MAX_PURPOSE}")
    return text


def allow(permission: Permission):
    """Route dependency: 401 without a valid key, 403 outside the role, 400 without a valid purpose."""

    async def check(request: Request, principal: PrincipalDep, x_purpose: PurposeHeader = None) -> Principal:
        # x_purpose documents the header; every X-Purpose header is read here, so that the purpose
        # checked is the one the audit records (request.state.purpose), and two are refused
        try:
            purpose, problem = parse_purpose(request.headers.getlist("x-purpose")), None
        except ValueError as e:
            purpose, problem = None, str(e)
        request.state.purpose = purpose
        if not allowed(principal.roles, permission):
            mine = ", ".join(sorted(r.value for r in principal.roles))
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"key {principal.name!r} has role(s) {mine}; "
                                f"{permission.value} needs one of: {', '.join(roles_for(permission))}")
        if problem:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, problem)
        return principal

    return Depends(check)
