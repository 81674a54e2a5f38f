"""Who may do what: the role matrix, in one table.

| permission          | service | investigator | steward | admin |
|---------------------|:-------:|:------------:|:-------:|:-----:|
| search              |    x    |      x       |         |   x   |
| search_id_number    |         |      x       |         |   x   |
| entity (detail, records) | x  |      x       |    x    |   x   |
| related             |         |      x       |         |   x   |
| discipline_forward  |         |      x       |         |   x   |
| discipline_reverse  |    x    |      x       |         |   x   |
| history             |         |      x       |         |   x   |
| beneficial_owners   |    x    |      x       |         |   x   |
| credit_profile      |         |      x       |         |   x   |
| credit_report       |    x    |      x       |         |   x   |
| guarantee_circles   |         |      x       |         |   x   |
| path                |         |      x       |         |   x   |
| review (queue, decide) |      |              |    x    |   x   |
| audit               |         |              |         |   x   |
| clear_id_numbers    |         |      x       |         |   x   |

`history` is not an endpoint either: it lets `include_history=true` show records outside their
period (not yet in force, ended, removed) beside those in force; a service sees what applies.
`clear_id_numbers` is not an endpoint: it decides whether a person's identity number is
shown in clear (from the resolve output's identity vault) or masked, in every response.
`search_id_number` is /search/identifier given a person's identity number (enterprise
identifiers need only `search`): an oracle for guessed numbers, so investigators only, rate
limited per key and audited hit or miss (api/routes/search.py).
`credit_profile` (/entities/{id}/credit) gathers the forward rules and the related parties under
discipline, which a service may not see one by one, so investigators only. `credit_report` files
and reads reports (/reports): what a procurement officer's service key checks before a bid, so
service too; a report holds only what the service role sees (the entity's records in force,
the reverse check, freshness), always masked, so any of these roles may read any report.
"""
from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    SERVICE = "service"
    INVESTIGATOR = "investigator"
    STEWARD = "steward"
    ADMIN = "admin"


class Permission(str, Enum):
    SEARCH = "search"
    SEARCH_ID_NUMBER = "search_id_number"
    ENTITY = "entity"
    RELATED = "related"
    DISCIPLINE_FORWARD = "discipline_forward"
    DISCIPLINE_REVERSE = "discipline_reverse"
    HISTORY = "history"
    BENEFICIAL_OWNERS = "beneficial_owners"
    CREDIT_PROFILE = "credit_profile"
    CREDIT_REPORT = "credit_report"
    GUARANTEE_CIRCLES = "guarantee_circles"
    PATH = "path"
    REVIEW = "review"
    AUDIT = "audit"
    CLEAR_ID_NUMBERS = "clear_id_numbers"


S, I, W, A = Role.SERVICE, Role.INVESTIGATOR, Role.STEWARD, Role.ADMIN
P = Permission

MATRIX: dict[Permission, frozenset[Role]] = {
    P.SEARCH: frozenset({S, I, A}),
    P.SEARCH_ID_NUMBER: frozenset({I, A}),
    P.ENTITY: frozenset({S, I, W, A}),
    P.RELATED: frozenset({I, A}),
    P.DISCIPLINE_FORWARD: frozenset({I, A}),
    P.DISCIPLINE_REVERSE: frozenset({S, I, A}),
    P.HISTORY: frozenset({I, A}),
    P.BENEFICIAL_OWNERS: frozenset({S, I, A}),
    P.CREDIT_PROFILE: frozenset({I, A}),
    P.CREDIT_REPORT: frozenset({S, I, A}),
    P.GUARANTEE_CIRCLES: frozenset({I, A}),
    P.PATH: frozenset({I, A}),
    P.REVIEW: frozenset({W, A}),
    P.AUDIT: frozenset({A}),
    P.CLEAR_ID_NUMBERS: frozenset({I, A}),
}


def allowed(roles: frozenset[Role] | set[Role], permission: Permission) -> bool:
    return bool(MATRIX[permission] & set(roles))


def roles_for(permission: Permission) -> list[str]:
    return sorted(r.value for r in MATRIX[permission])
