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


@lru_cache
def discipline_rules() -> list[dict[str, Any]]:
    """The joint discipline rules (cypher/joint_discipline_rules.yaml)."""
    rules = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    for r in rules:
        missing = {"list", "subject_kind", "rule", "basis", "roles"} - set(r)
        if missing:
            raise ValueError(f"{RULES_FILE}: rule {r} lacks {sorted(missing)}")
    return rules


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

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:  # pragma: no cover - overridden
        pass
