"""The Store interface (the factory that picks a store is graph/factory.py).

Two stores answer the same named queries (``cypher/*.cypher``) with the same row shapes:

* :class:`creditgraph.graph.neo4j_store.Neo4jStore` runs the Cypher on a Neo4j server;
* :class:`creditgraph.graph.memory_store.MemoryStore` answers with Python functions over a networkx
  MultiDiGraph, persisted as a pickle (default ``$CREDITGRAPH_DATA/graph.pickle``) so that
  ``creditgraph load`` and a later ``creditgraph serve`` share it.

``creditgraph.graph.factory.open_store(uri)``: a ``bolt://`` / ``neo4j://`` URI (argument, else ``$NEO4J_URI``) gives a
Neo4jStore (database ``$NEO4J_DATABASE`` or ``neo4j``; auth from ``$NEO4J_USER`` /
``$NEO4J_PASSWORD`` when a password is set); no URI, ``memory`` or ``memory:///path/file.pickle``
gives a MemoryStore.

Incremental load rule (both stores): a load writes every node and relation of the new
resolve output with the load's ``run_id`` and ``loaded_at``; once all of it is written,
relations not written by this run are deleted, then nodes (entities, list records, addresses,
phones) not written by this run are deleted with DETACH DELETE (their relations go with them).
The graph is a projection of the latest resolve output; the history stays in the resolve
outputs and the steward log, which is why nothing is kept as a retired flag.
"""
from __future__ import annotations

import unicodedata
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Protocol, runtime_checkable

import yaml

from creditgraph.graph.load import ENTITY_RELATIONS, REVIEW_RELATION
from creditgraph.graph.queries import CYPHER_DIR, NamedQuery, QueryError, QueryLibrary, library

TRAVERSABLE = (*ENTITY_RELATIONS, REVIEW_RELATION)
RULES_FILE = CYPHER_DIR / "joint_discipline_rules.yaml"

#: called after each committed batch with (batches_done, batches_total)
BatchHook = Callable[[int, int], None]


@dataclass
class LoadReport:
    store: str
    out_dir: str
    run_id: str
    content_hash: str
    nodes_created: int = 0
    nodes_updated: int = 0
    nodes_retired: int = 0
    relations_created: int = 0
    relations_updated: int = 0
    relations_retired: int = 0
    nodes_total: int = 0
    relations_total: int = 0
    batches: int = 0
    resumed_from: int = 0          # batches already committed by an interrupted load
    skipped: dict[str, int] = field(default_factory=dict)   # rows the reader dropped, by reason
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase


@runtime_checkable
class Store(Protocol):
    def load(self, out_dir: Path) -> LoadReport: ...
    def query(self, name: str, **params: Any) -> list[dict]: ...
    def close(self) -> None: ...


RULE_KINDS = ("discipline", "incentive")


@lru_cache
def discipline_rules() -> list[dict[str, Any]]:
    """The joint discipline and incentive rules (cypher/joint_discipline_rules.yaml), each with
    its `kind` (default discipline) and `measures` (default none). An incentive reaches the
    listed subject itself: its roles are [self]."""
    rules = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    for r in rules:
        missing = {"list", "subject_kind", "rule", "basis", "roles"} - set(r)
        if missing:
            raise ValueError(f"{RULES_FILE}: rule {r} lacks {sorted(missing)}")
        r.setdefault("kind", "discipline")
        r.setdefault("measures", [])
        if r["kind"] not in RULE_KINDS:
            raise ValueError(f"{RULES_FILE}: rule {r['rule']!r}: kind {r['kind']!r} is not one of {RULE_KINDS}")
        if r["kind"] == "incentive" and r["roles"] != ["self"]:
            raise ValueError(f"{RULES_FILE}: incentive rule {r['rule']!r} reaches the listed subject itself: "
                             "roles: [self]")
    return rules


# -- records over time (docs/architecture.md, "Records over time") -----------------------------
# A record is in force at date D when effective_from <= D (or no start), D <= effective_to (the
# last day of its term, inclusive; or no end) and D < removed_on (a removal takes effect on its
# day). Dates are ISO text (YYYY-MM-DD), so text order is date order, in Cypher as in Python;
# cypher/*.cypher spell the same rule as a CASE over $as_of.
STATUSES = ("in_force", "not_yet", "removed", "ended")


def record_status(record: dict[str, Any], as_of: str) -> str:
    """'not_yet', 'removed', 'ended' or 'in_force' of a list record at ISO date `as_of`."""
    start, end, removed = (record.get(k) for k in ("effective_from", "effective_to", "removed_on"))
    if start and start > as_of:
        return "not_yet"
    if removed and removed <= as_of:
        return "removed"
    if end and end < as_of:
        return "ended"
    return "in_force"


def as_of_text(value: date | str | None) -> str:
    """The ISO date a query applies its rules at: today when None."""
    if value is None:
        return date.today().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text).isoformat()
    except ValueError:
        pass
    raise QueryError(f"$as_of must be a date YYYY-MM-DD, got {value!r}")


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def normalise_name(text: str) -> str:
    """NFKC, lower case, no white space or punctuation (brackets, dots, dashes)."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text or "").lower())


class BaseStore:
    """What both stores share: the query library and parameter checks."""

    kind = "base"

    def __init__(self, queries: QueryLibrary | None = None):
        self.queries = queries or library()

    def prepare(self, name: str, params: dict[str, Any]) -> tuple[NamedQuery, dict[str, Any]]:
        """Look the query up, apply defaults, check every parameter (both stores)."""
        nq = self.queries[name]
        if nq.internal:
            raise QueryError(f"{name!r} is a loader statement, not a named query")
        params = dict(params)
        if "rules" in nq.params and "rules" not in params:
            params["rules"] = discipline_rules()
        if "as_of" in nq.params:
            params["as_of"] = as_of_text(params.get("as_of"))
        merged = nq.check(params)
        if "types" in merged:
            types = merged["types"]
            if isinstance(types, str) or not isinstance(types, (list, tuple)):
                raise QueryError(f"query {name!r}: $types must be a list of relation types")
            bad = sorted(set(types) - set(TRAVERSABLE))
            if bad:
                raise QueryError(f"query {name!r}: unknown relation type(s) {bad}; "
                                 f"allowed: {list(TRAVERSABLE)}")
            merged["types"] = list(types)
        if name == "search_name":  # normalised, the text has no punctuation: no Lucene syntax
            merged["q"] = normalise_name(str(merged.get("q") or ""))
            if not merged["q"]:
                raise QueryError("query 'search_name': $q is empty")
        return nq, merged

    # Records over time: what the credit profile and report build on. `as_of` None is today.
    def records(self, entity_id: str, *, as_of: date | None = None,
                include_history: bool = True) -> list[dict]:
        """The entity's list records with their period and `status` at `as_of`
        (in_force | not_yet | removed | ended); only those in force unless include_history."""
        return self.query("entity_records", entity_id=entity_id, as_of=as_of,
                          include_history=include_history)

    def discipline_forward(self, entity_id: str, *, as_of: date | None = None,
                           include_history: bool = False, threshold: float = 0.25) -> list[dict]:
        """Whom the entity's records reach under the rules (discipline and incentive) at `as_of`."""
        return self.query("joint_discipline_forward", entity_id=entity_id, as_of=as_of,
                          include_history=include_history, threshold=threshold)

    def discipline_reverse(self, entity_id: str, *, as_of: date | None = None,
                           include_history: bool = False, lists: list[str] | None = None,
                           threshold: float = 0.25) -> list[dict]:
        """Is candidate `entity_id` reached at `as_of` (records on `lists`, default the negative
        lists, of itself and its people), and which incentives does it earn?"""
        params: dict[str, Any] = {"lists": lists} if lists is not None else {}
        return self.query("joint_discipline_reverse", entity_id=entity_id, as_of=as_of,
                          include_history=include_history, threshold=threshold, **params)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:  # pragma: no cover - overridden
        pass
