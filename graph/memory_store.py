"""MemoryStore: the same graph in a networkx MultiDiGraph, the same named queries in Python.

Nodes: entity ids for :Entity (``label`` 'Enterprise'|'Person'), ``ListRecord:<uid>``,
``Address:<key>``, ``Phone:<number>``; each node has ``label`` and ``props`` (the loader's
props, as in Neo4j). Edges: key = the relation's ``key``, data ``type`` and ``props``.

State persists as a pickle (``$CREDITGRAPH_DATA/graph.pickle`` by default), written to a
temporary file and renamed: a load that dies leaves the previous graph whole, and rerunning
it gives the same graph (resumable by being atomic). Counts created/updated/retired come
from comparing the new graph with the previous one; the rule is the same as Neo4j's (see
graph/store.py).

Each named query is a function in ``QUERIES`` (name -> function) returning the same rows,
in the same order, as the Cypher in cypher/. One documented difference: ``search_name``
scores substring matches first, then by bigram coverage (the share of the query's CJK
bigrams found in a name or alias, with a rapidfuzz partial ratio for non-CJK text) instead
of Lucene's BM25; both return every entity sharing at least one bigram, but rank ties and
near-ties may order differently. It reads a name index (graph/name_index.py) built when a
graph is loaded and pickled with it, not every entity.
"""
from __future__ import annotations

import os
import pickle
import tempfile
import time
from collections import defaultdict, deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import networkx as nx

from creditgraph.base.files import private_dir
from creditgraph.graph.load import NODE_LABELS, PERIOD_FIELDS, RELATION_TYPES, ROLE_CLASSES, ResolvedReader
from creditgraph.graph.name_index import NameIndex
from creditgraph.graph.queries import QueryLibrary
from creditgraph.graph.store import BaseStore, BatchHook, LoadReport, record_status

NODE_PREFIX = {"Enterprise": "", "Person": "", "ListRecord": "ListRecord:",
               "Address": "Address:", "Phone": "Phone:"}
ENTITY_LABELS = ("Enterprise", "Person")
RELATION_TO_LABEL = {"HAS_RECORD": "ListRecord", "AT": "Address", "HAS_PHONE": "Phone"}
EXEC_ROLES = tuple(ROLE_CLASSES)
LIST_RECORD_FIELDS = ("record_uid", "list", "grade", "authority", "case_no", "date", "source", *PERIOD_FIELDS)
MAX_OWNERSHIP_HOPS = 5


def node_id(label: str, key: str) -> str:
    return NODE_PREFIX[label] + key


def _step_key(step: dict) -> str:
    return f"{step['type']} {step['from']} {step['to']}"


def _path_key(path: list[dict]) -> list[str]:
    return [_step_key(s) for s in path]


def _cypher_round(x: float, places: int) -> float:
    """Cypher's round(x, n) (HALF_UP on the decimal value)."""
    from decimal import ROUND_HALF_UP, Decimal
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


class MemoryStore(BaseStore):
    kind = "memory"

    def __init__(self, path: Path | str | None = None, queries: QueryLibrary | None = None):
        super().__init__(queries)
        self.path = Path(path) if path else None
        self._seen = None
        self.refresh()  # the pickle, when there is one
        if self._seen is None:
            self._adopt({})

    def _adopt(self, state: dict) -> None:
        """The graph and name index of a pickled state ({}: an empty graph)."""
        self.graph = state["graph"] if "graph" in state else nx.MultiDiGraph()
        self.names = state.get("names")
        if getattr(self.names, "version", None) != NameIndex.VERSION:  # none yet, or an older format
            self.names = NameIndex.of_graph(self.graph, ENTITY_LABELS)

    def _stamp(self) -> tuple | None:
        try:
            st = self.path.stat()
        except (AttributeError, TypeError, OSError):
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def refresh(self) -> None:
        """Read the pickle again when another process replaced it (a `creditgraph load` or
        `load --changes` beside a running API): the API shows a load without a restart."""
        stamp = self._stamp()
        if stamp is None or stamp == self._seen:
            return
        with self.path.open("rb") as f:
            self._adopt(pickle.load(f))
        self._seen = stamp

    # ------------------------------------------------------------------ load
    def load(self, out_dir: Path | str, *, batch_size: int = 5000,
             on_batch: BatchHook | None = None, progress: bool | None = None) -> LoadReport:
        t0 = time.perf_counter()
        reader = ResolvedReader(out_dir)
        timings = {"read": time.perf_counter() - t0, "nodes": 0.0, "relations": 0.0}
        run_id = f"{reader.content_hash}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}"
        loaded_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        report = LoadReport(store=self.kind, out_dir=str(out_dir), run_id=run_id,
                            content_hash=reader.content_hash)
        new = nx.MultiDiGraph()
        old = self.graph
        t_write = time.perf_counter()
        estimate = reader.estimate_batches(batch_size)
        i = 0
        for i, batch in enumerate(reader.batches(batch_size), start=1):
            for kind, name, rows in batch:
                t = time.perf_counter()
                if kind == "node":
                    for row in rows:
                        nid = node_id(name, row["id"])
                        props = dict(row["props"], run_id=run_id, loaded_at=loaded_at)
                        new.add_node(nid, label=name, props=props)
                        if old.has_node(nid):
                            report.nodes_updated += 1
                        else:
                            report.nodes_created += 1
                    timings["nodes"] += time.perf_counter() - t
                    continue
                to_label = RELATION_TO_LABEL.get(name, "Enterprise")
                for row in rows:
                    u, v = row["from"], node_id(to_label, row["to"])
                    key = row["props"]["key"]
                    props = dict(row["props"], run_id=run_id, loaded_at=loaded_at)
                    updated = new.has_edge(u, v, key) or old.has_edge(u, v, key)  # keys carry the type
                    new.add_edge(u, v, key=key, type=name, props=props)
                    if updated:
                        report.relations_updated += 1
                    else:
                        report.relations_created += 1
                timings["relations"] += time.perf_counter() - t
            if on_batch:
                on_batch(i, max(i, estimate))
        report.batches = i
        report.skipped = dict(reader.skipped)
        timings["write"] = time.perf_counter() - t_write
        t = time.perf_counter()
        retired_nodes = [n for n in old.nodes if not new.has_node(n)]
        report.nodes_retired = len(retired_nodes)
        report.relations_retired = sum(1 for u, v, k, d in old.edges(keys=True, data=True)
                                       if not new.has_edge(u, v, k))
        self.graph = new
        self.names = NameIndex.of_graph(new, ENTITY_LABELS)
        self.save()
        timings["retire"] = time.perf_counter() - t
        report.nodes_total = new.number_of_nodes()
        report.relations_total = new.number_of_edges()
        timings["total"] = time.perf_counter() - t0
        report.timings = {k: round(v, 4) for k, v in timings.items()}
        return report

    def save(self) -> None:
        if not self.path:
            return
        private_dir(self.path.parent)  # persons' data: 0700 directory, and mkstemp makes the file 0600
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=self.path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump({"graph": self.graph, "names": self.names}, f,
                            protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._seen = self._stamp()  # our own write: nothing to read again

    def counts(self) -> dict[str, int]:
        return {"nodes": self.graph.number_of_nodes(), "relations": self.graph.number_of_edges()}

    # ------------------------------------------------------------------ query
    def query(self, name: str, **params: Any) -> list[dict]:
        _, merged = self.prepare(name, params)  # the same checks (variants, ranges) as the Cypher side
        self.refresh()
        return QUERIES[name](self, **merged)

    def close(self) -> None:
        pass

    # ------------------------------------------------------------------ helpers
    def _entity(self, eid: str) -> dict | None:
        if eid in self.graph and self.graph.nodes[eid]["label"] in ENTITY_LABELS:
            return self.graph.nodes[eid]["props"]
        return None

    def _is_entity(self, n: str) -> bool:
        return self.graph.nodes[n]["label"] in ENTITY_LABELS

    def _out(self, n: str, types: tuple[str, ...] | set[str] | None = None):
        for _, v, d in self.graph.out_edges(n, data=True):
            if types is None or d["type"] in types:
                yield v, d

    def _in(self, n: str, types: tuple[str, ...] | set[str] | None = None):
        for u, _, d in self.graph.in_edges(n, data=True):
            if types is None or d["type"] in types:
                yield u, d

    def _step(self, u: str, v: str, d: dict, **extra) -> dict:
        return {"from": u, "type": d["type"], "to": v, **extra}

    def _records(self, eid: str) -> list[dict]:
        return sorted((self.graph.nodes[v]["props"] for v, _ in self._out(eid, ("HAS_RECORD",))),
                      key=lambda r: r["record_uid"])

    def _dated_records(self, eid: str, as_of: str, include_history: bool) -> list[tuple[dict, str]]:
        """(record, status at as_of), only those in force unless include_history."""
        out = [(r, record_status(r, as_of)) for r in self._records(eid)]
        return [(r, st) for r, st in out if include_history or st == "in_force"]

    def _entity_row(self, p: dict) -> dict:
        return {
            "entity_id": p["entity_id"], "kind": p.get("kind"), "name": p.get("name"),
            "aliases": p.get("aliases", []), "identifier": p.get("identifier"),
            "identifier_type": p.get("identifier_type"), "org_code": p.get("org_code"),
            "id_masked": p.get("id_masked"), "id_hash": p.get("id_hash"),
            "birth_date": p.get("birth_date"), "departments": p.get("departments", []),
            "records": p.get("records", []), "addresses": p.get("addresses", []),
            "phones": p.get("phones", []), "n_sources": p.get("n_sources"),
            "attrs": p.get("attrs"),
            "list_records": [{k: r.get(k) for k in LIST_RECORD_FIELDS}
                             for r in self._records(p["entity_id"])],
        }

    def _entities(self):
        for n, d in self.graph.nodes(data=True):
            if d["label"] in ENTITY_LABELS:
                yield n, d["props"]

    def _ownership_chains(self, firm: str) -> dict[str, list[tuple[float, list[dict]]]]:
        """person -> [(share, path)] over simple SHAREHOLDER_OF chains of 1..5 hops to firm,
        each path sorted like the Cypher (rounded share descending, then steps)."""
        chains: dict[str, list[list[dict]]] = defaultdict(list)

        def walk(node: str, visited: set[str], steps: list[dict]) -> None:
            if len(steps) == MAX_OWNERSHIP_HOPS:
                return
            for u, d in self._in(node, ("SHAREHOLDER_OF",)):
                if u in visited:
                    continue
                path = [self._step(u, node, d, ratio=d["props"].get("ratio")), *steps]
                if self.graph.nodes[u]["label"] == "Person":
                    chains[u].append(path)
                walk(u, visited | {u}, path)

        # Cypher multiplies from the holder down: reduce(x = 1.0, r IN rels | x * r.ratio)
        def product(path: list[dict]) -> float:
            x = 1.0
            for st in path:
                x = x * (st["ratio"] if st["ratio"] is not None else 0.0)
            return x

        walk(firm, {firm}, [])
        out = {}
        for person, paths in chains.items():
            items = [(product(p), p) for p in paths]
            items.sort(key=lambda it: (-_cypher_round(it[0], 6), _path_key(it[1])))
            out[person] = items
        return out

    def _controllers(self, firm: str, threshold: float) -> list[tuple[str, float, list[dict]]]:
        owners = []
        for person, items in self._ownership_chains(firm).items():
            total = 0.0
            for s, _ in items:
                total += s
            path = [{k: v for k, v in st.items() if k != "ratio"} for st in items[0][1]]
            owners.append((person, total, path))
        if not owners:
            return []
        top = max(t for _, t, _ in owners)
        bo = [o for o in owners if _cypher_round(o[1], 9) >= threshold]
        if bo:
            return bo
        return [o for o in owners if top > 0 and o[1] == top]


# ---------------------------------------------------------------------- named queries
def entity_by_id(store: MemoryStore, entity_id: str) -> list[dict]:
    p = store._entity(entity_id)
    return [store._entity_row(p)] if p else []


def entity_by_identifier(store: MemoryStore, identifier: str) -> list[dict]:
    ident = identifier.strip()
    code = ident.upper()
    org = code.replace("-", "")
    rows = []
    for _, p in store._entities():
        if p["kind"] == "enterprise" and (p.get("identifier") == code or p.get("org_code") == org) \
                or p["kind"] == "person" and p.get("id_hash") == ident:
            rows.append(store._entity_row(p))
    return sorted(rows, key=lambda r: r["entity_id"])


def search_name(store: MemoryStore, q: str, limit: int = 20) -> list[dict]:
    return store.names.search(q, limit)


def related_parties(store: MemoryStore, entity_id: str, depth: int = 2,
                    types: list[str] | None = None) -> list[dict]:
    if store._entity(entity_id) is None:
        return []
    types = set(types or ())
    best: dict[str, tuple[int, list[dict]]] = {entity_id: (0, [])}
    frontier = [entity_id]
    for distance in range(1, depth + 1):
        cand: dict[str, list[dict]] = {}
        for u in frontier:
            prefix = best[u][1]
            steps = [(v, store._step(u, v, d)) for v, d in store._out(u, types)]
            steps += [(w, store._step(w, u, d)) for w, d in store._in(u, types)]
            for v, step in steps:
                if v in best or not store._is_entity(v):
                    continue
                path = [*prefix, step]
                if v not in cand or _path_key(path) < _path_key(cand[v]):
                    cand[v] = path
        for v, path in cand.items():
            best[v] = (distance, path)
        frontier = list(cand)
    rows = []
    for v, (distance, path) in best.items():
        if v == entity_id:
            continue
        p = store._entity(v)
        rows.append({"entity_id": v, "kind": p.get("kind"), "name": p.get("name"),
                     "distance": distance, "path": path})
    rows.sort(key=lambda r: (r["distance"], r["entity_id"]))
    return rows


def shortest_path(store: MemoryStore, from_id: str, to_id: str, max_len: int = 6,
                  limit: int = 10, types: list[str] | None = None) -> list[dict]:
    if from_id == to_id or store._entity(from_id) is None or store._entity(to_id) is None:
        return []
    types = set(types or ())

    def neighbours(u: str):
        for v, d in store._out(u, types):
            yield v, store._step(u, v, d)
        for w, d in store._in(u, types):
            yield w, store._step(w, u, d)

    dist = {from_id: 0}
    queue = deque([from_id])
    while queue:
        u = queue.popleft()
        # no further than max_len, nor past to_id's distance: extend() uses nothing beyond
        if u == to_id or dist[u] >= min(max_len, 10) or dist.get(to_id, 11) <= dist[u]:
            continue
        for v, _ in neighbours(u):
            if v not in dist:
                dist[v] = dist[u] + 1
                queue.append(v)
    if to_id not in dist or dist[to_id] > max_len:
        return []
    paths: list[tuple[list[str], list[dict]]] = []

    def extend(u: str, nodes: list[str], steps: list[dict]) -> None:
        if u == to_id:
            paths.append((nodes, steps))
            return
        for v, step in neighbours(u):
            if dist.get(v) == dist[u] + 1 and dist[v] <= dist[to_id]:
                extend(v, [*nodes, v], [*steps, step])

    extend(from_id, [from_id], [])
    rows, seen = [], set()
    for nodes, steps in sorted(paths, key=lambda p: _path_key(p[1])):
        key = tuple(_path_key(steps))
        if key in seen:
            continue
        seen.add(key)
        rows.append({"length": len(steps), "nodes": nodes, "path": steps})
    return rows[:limit]


def shared_contacts(store: MemoryStore, entity_id: str, max_sharing: int = 20) -> list[dict]:
    if store._entity(entity_id) is None:
        return []
    found: dict[str, list[dict]] = defaultdict(list)
    for c, _ in store._out(entity_id, ("AT", "HAS_PHONE")):
        holders = [u for u, _ in store._in(c, ("AT", "HAS_PHONE")) if store._is_entity(u)]
        sharing = len(holders)
        if sharing > max_sharing:
            continue
        label = store.graph.nodes[c]["label"]
        props = store.graph.nodes[c]["props"]
        contact = {"type": "address" if label == "Address" else "phone",
                   "value": props.get("key") if label == "Address" else props.get("number"),
                   "sharing": sharing}
        for u in holders:
            if u != entity_id:
                found[u].append(contact)
    rows = []
    for u, contacts in found.items():
        contacts.sort(key=lambda c: (c["type"], c["value"]))
        weight = 0.0
        for c in contacts:
            weight += 1.0 / (c["sharing"] - 1)
        p = store._entity(u)
        rows.append({"entity_id": u, "kind": p.get("kind"), "name": p.get("name"),
                     "shared": len(contacts), "weight": _cypher_round(weight, 6),
                     "contacts": contacts})
    rows.sort(key=lambda r: (-r["weight"], -r["shared"], r["entity_id"]))
    return rows


def beneficial_owners(store: MemoryStore, entity_id: str, threshold: float = 0.25) -> list[dict]:
    if store._entity(entity_id) is None:
        return []
    rows = []
    for person, items in store._ownership_chains(entity_id).items():
        total = 0.0
        for s, _ in items:
            total += s
        if _cypher_round(total, 9) < threshold:
            continue
        rows.append({"person_id": person, "name": store._entity(person).get("name"),
                     "share": _cypher_round(total, 6),
                     "chains": [{"share": _cypher_round(s, 6), "path": path}
                                for s, path in items]})
    rows.sort(key=lambda r: (-r["share"], r["person_id"]))
    return rows


def shareholders(store: MemoryStore, entity_id: str, threshold: float = 0.25) -> list[dict]:
    if store._entity(entity_id) is None:
        return []
    ratios: dict[str, float] = {}
    for u, d in store._in(entity_id, ("SHAREHOLDER_OF",)):
        ratio = d["props"].get("ratio")
        ratios[u] = max(ratios.get(u, 0.0), 0.0 if ratio is None else ratio)
    rows = []
    for u, ratio in ratios.items():
        if _cypher_round(ratio, 9) < threshold:
            continue
        h = store._entity(u)
        rows.append({"entity_id": u, "kind": h.get("kind"), "name": h.get("name"),
                     "identifier": h.get("identifier"), "identifier_type": h.get("identifier_type"),
                     "id_masked": h.get("id_masked"), "ratio": ratio,
                     "path": [{"from": u, "type": "SHAREHOLDER_OF", "to": entity_id, "ratio": ratio}]})
    rows.sort(key=lambda r: (-r["ratio"], r["entity_id"]))
    return rows


def _guarantees(store: MemoryStore, entity_id: str | None):
    """GUARANTEES edges (u, v, data): all of them, or those of entity_id's guarantee group
    (walked out from it, not filtered from the whole graph)."""
    if entity_id is None:
        yield from ((u, v, d) for u, v, d in store.graph.edges(data=True) if d["type"] == "GUARANTEES")
        return
    if store.graph.has_node(entity_id):
        group, todo = {entity_id}, [entity_id]
        while todo:
            u = todo.pop()
            for w, d in [*store._out(u, ("GUARANTEES",)), *store._in(u, ("GUARANTEES",))]:
                if w not in group:
                    group.add(w)
                    todo.append(w)
        for u in group:
            yield from ((u, v, d) for v, d in store._out(u, ("GUARANTEES",)))


def guarantee_circles(store: MemoryStore, entity_id: str | None = None,
                      max_len: int = 6) -> list[dict]:
    g = nx.DiGraph()
    amounts: dict[tuple[str, str], Any] = {}
    for u, v, d in _guarantees(store, entity_id):
        if u != v:
            g.add_edge(u, v)
            amounts[(u, v)] = d["props"].get("amount")
    if entity_id is not None and entity_id not in g:
        return []
    rows, seen = [], set()
    for cycle in nx.simple_cycles(g, length_bound=max_len):
        if len(cycle) < 2 or (entity_id is not None and entity_id not in cycle):
            continue
        i = cycle.index(min(cycle))
        circle = cycle[i:] + cycle[:i]
        if tuple(circle) in seen:
            continue
        seen.add(tuple(circle))
        steps = [{"from": a, "type": "GUARANTEES", "to": b, "amount": amounts[(a, b)]}
                 for a, b in zip(circle, circle[1:] + circle[:1])]
        rows.append({"circle": circle, "length": len(circle), "steps": steps})
    rows.sort(key=lambda r: (r["length"], r["circle"]))
    return rows


def _direct_roles(store: MemoryStore, node: str, role: str, to_firm: bool):
    """(other end, [step], None) over the legal_rep or executive edges of `node`: the persons
    holding `role` at firm `node` (to_firm), else the firms where person `node` holds it."""
    rel = "LEGAL_REP_OF" if role == "legal_rep" else "EXECUTIVE_OF"
    edges, label = (store._in(node, (rel,)), "Person") if to_firm else (store._out(node, (rel,)), "Enterprise")
    for other, d in edges:
        if store.graph.nodes[other]["label"] == label and \
                (rel == "LEGAL_REP_OF" or role in d["props"].get("role_classes", [])):
            step = store._step(other, node, d) if to_firm else store._step(node, other, d)
            yield other, [step], None


def _role_holders(store: MemoryStore, firm: str, role: str, threshold: float):
    """(person, path, share) holding `role` at enterprise `firm`."""
    if role == "legal_rep" or role in EXEC_ROLES:
        yield from _direct_roles(store, firm, role, to_firm=True)
    elif role == "controller":
        for person, total, path in store._controllers(firm, threshold):
            yield person, path, _cypher_round(total, 6)


def _held_firms(store: MemoryStore, person: str, role: str, threshold: float):
    """(firm, path, share) where `person` holds `role`."""
    if role == "legal_rep" or role in EXEC_ROLES:
        yield from _direct_roles(store, person, role, to_firm=False)
    elif role == "controller":
        reach, frontier = set(), {person}
        for _ in range(MAX_OWNERSHIP_HOPS):
            frontier = {v for u in frontier for v, _ in store._out(u, ("SHAREHOLDER_OF",))}
            reach |= {v for v in frontier if store.graph.nodes[v]["label"] == "Enterprise"}
        for firm in reach:
            for p, total, path in store._controllers(firm, threshold):
                if p == person:
                    yield firm, path, _cypher_round(total, 6)


def _period(rec: dict, status: str) -> dict:
    return {"status": status, **{k: rec.get(k) for k in PERIOD_FIELDS}}


def _reach(store: MemoryStore, entity_id: str, label: str, role: str, threshold: float) -> list:
    if role == "self":
        return [(entity_id, [], None)]
    return list(_role_holders(store, entity_id, role, threshold) if label == "Enterprise"
                else _held_firms(store, entity_id, role, threshold))


def joint_discipline_forward(store: MemoryStore, entity_id: str, rules: list[dict], as_of: str,
                             include_history: bool = False, threshold: float = 0.25) -> list[dict]:
    s = store._entity(entity_id)
    if s is None:
        return []
    label = store.graph.nodes[entity_id]["label"]
    rows, seen = [], set()
    reached: dict[str, list] = {}  # role -> who the entity reaches through it (per call)
    for rec, status in store._dated_records(entity_id, as_of, include_history):
        for rule in rules:
            if rule["list"] != rec.get("list") or rule["subject_kind"] != s.get("kind"):
                continue
            for role in rule["roles"]:
                if role not in reached:
                    reached[role] = _reach(store, entity_id, label, role, threshold)
                for target, path, share in reached[role]:
                    key = (rec["record_uid"], rule["rule"], role, target, repr(path), share)
                    if key in seen:
                        continue
                    seen.add(key)
                    t = store._entity(target)
                    rows.append({
                        "subject_id": entity_id, "subject_name": s.get("name"),
                        "subject_kind": s.get("kind"), "list": rec.get("list"),
                        "record_uid": rec["record_uid"], "rule": rule["rule"],
                        "kind": rule.get("kind"), "basis": rule["basis"],
                        "measures": rule.get("measures"), "role": role, "target_id": target,
                        "target_name": t.get("name"), "target_kind": t.get("kind"),
                        "share": share, "path": path, **_period(rec, status)})
    rows.sort(key=lambda r: (r["record_uid"], r["rule"], r["role"], r["target_id"]))
    return rows


_RELATION_RANK = {"self": 0, "legal_rep": 1, "controller": 2, "executive": 3}


def _answers(rec: dict, relation: str, kind: str | None, lists: list[str], rules: list[dict]) -> list[dict]:
    """What a holder's record answers in the reverse check: a record on `lists`, and for the
    candidate's own records each incentive rule that reaches it."""
    out = [{"kind": "discipline", "rule": None, "basis": None, "measures": None}] \
        if rec.get("list") in lists else []
    if relation == "self":
        out += [{"kind": "incentive", "rule": r["rule"], "basis": r["basis"], "measures": r.get("measures")}
                for r in rules if r.get("kind") == "incentive" and r["list"] == rec.get("list")
                and r["subject_kind"] == kind]
    return out


def joint_discipline_reverse(store: MemoryStore, entity_id: str, lists: list[str], rules: list[dict],
                             as_of: str, include_history: bool = False,
                             threshold: float = 0.25) -> list[dict]:
    c = store._entity(entity_id)
    if c is None:
        return []
    holders: list[tuple[str, str, str | None, list[dict], float | None]] = [
        (entity_id, "self", None, [], None)]
    for u, d in store._in(entity_id, ("LEGAL_REP_OF",)):
        holders.append((u, "legal_rep", None, [store._step(u, entity_id, d)], None))
    for u, d in store._in(entity_id, ("EXECUTIVE_OF",)):
        holders.append((u, "executive", d["props"].get("role"), [store._step(u, entity_id, d)],
                        None))
    if store.graph.nodes[entity_id]["label"] == "Enterprise":
        for person, total, path in store._controllers(entity_id, threshold):
            holders.append((person, "controller", None, path, _cypher_round(total, 6)))
    rows, seen = [], set()
    for h, relation, role, path, share in holders:
        key = (h, relation, role, repr(path), share)
        if key in seen:
            continue
        seen.add(key)
        hp = store._entity(h)
        for rec, status in store._dated_records(h, as_of, include_history):
            for answer in _answers(rec, relation, hp.get("kind"), lists, rules):
                rows.append({"candidate_id": entity_id, "relation": relation, "role": role,
                             "holder_id": h, "holder_name": hp.get("name"),
                             "holder_kind": hp.get("kind"), "list": rec.get("list"),
                             "record_uid": rec["record_uid"], "authority": rec.get("authority"),
                             "case_no": rec.get("case_no"), "date": rec.get("date"),
                             "share": share, "path": path, **answer, **_period(rec, status)})
    rows.sort(key=lambda r: (_RELATION_RANK[r["relation"]], r["holder_id"],
                             (r["role"] is None, r["role"] or ""), r["record_uid"], r["kind"],
                             (r["rule"] is None, r["rule"] or "")))
    return rows


def entity_records(store: MemoryStore, entity_id: str, as_of: str,
                   include_history: bool = True) -> list[dict]:
    if store._entity(entity_id) is None:
        return []
    return [{**{k: rec.get(k) for k in ("record_uid", "list", "grade", "authority", "case_no", "date",
                                         "source", "record_id", "department")},
             **{k: rec.get(k) for k in PERIOD_FIELDS}, "status": status}
            for rec, status in store._dated_records(entity_id, as_of, include_history)]


QUERIES: dict[str, Callable[..., list[dict]]] = {
    "entity_by_id": entity_by_id,
    "entity_by_identifier": entity_by_identifier,
    "search_name": search_name,
    "related_parties": related_parties,
    "shortest_path": shortest_path,
    "shared_contacts": shared_contacts,
    "beneficial_owners": beneficial_owners,
    "shareholders": shareholders,
    "guarantee_circles": guarantee_circles,
    "joint_discipline_forward": joint_discipline_forward,
    "joint_discipline_reverse": joint_discipline_reverse,
    "entity_records": entity_records,
}

__all__ = ["MemoryStore", "QUERIES", "NODE_LABELS", "RELATION_TYPES"]
