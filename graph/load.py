"""Read a resolve output directory into node and relation batches (shared by both stores).

Input (docs/architecture.md, "Resolve outputs"): ``entities.csv``, ``relations.csv``,
``list_records.csv``, ``review_queue.csv``. ``identity_vault.csv`` is never read: persons carry
only the masked number (``id_masked``, ``creditgraph.base.privacy.mask``, whatever shape the
output holds) and the keyed hash (``id_hash``).

Output: :class:`ResolvedReader` streams batches of plain dicts ready for
``UNWIND $rows AS row MERGE ...`` (``read_resolved`` collects them into a :class:`GraphData`):

nodes (label -> rows ``{"id": key, "props": {...}}``)
    ``Enterprise``/``Person`` (key ``entity_id``; both also get the common ``:Entity`` label in
    Neo4j), ``ListRecord`` (``record_uid``), ``Address`` (``key``: NFKC, no white space),
    ``Phone`` (``number``: digits only).
relations (type -> rows ``{"from": id, "to": id, "props": {"key": ..., ...}}``)
    LEGAL_REP_OF, SHAREHOLDER_OF {ratio}, EXECUTIVE_OF {role, role_classes}, BRANCH_OF,
    GUARANTEES {amount}, EMPLOYED_BY (from relations.csv), HAS_RECORD (entity -> ListRecord),
    AT (entity -> Address), HAS_PHONE (entity -> Phone), POSSIBLY_SAME_AS {score, reasons,
    pair_ids} (review_queue.csv; one per entity pair, from the smaller id to the larger).
    Every relation has a ``key`` ``from|TYPE|role|to``, the identity the loader MERGEs on.

Ratios are fractions (0..1); a value above 1 is read as a percentage and divided by 100.
Relations whose ends are not both loaded nodes are dropped and counted in ``skipped``.
Both stores load from the same stream, so they build the same graph.
"""
from __future__ import annotations

import csv
import hashlib
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from creditgraph.base.privacy import mask, scrub

ENTITY_RELATIONS = ("LEGAL_REP_OF", "SHAREHOLDER_OF", "EXECUTIVE_OF", "BRANCH_OF", "GUARANTEES",
                    "EMPLOYED_BY")
REVIEW_RELATION = "POSSIBLY_SAME_AS"
CONTACT_RELATIONS = ("AT", "HAS_PHONE")
NODE_LABELS = ("Enterprise", "Person", "ListRecord", "Address", "Phone")
RELATION_TYPES = (*ENTITY_RELATIONS, REVIEW_RELATION, "HAS_RECORD", *CONTACT_RELATIONS)
INPUT_FILES = ("entities.csv", "relations.csv", "list_records.csv", "review_queue.csv")
#: a list record's period (an older output lacks these: such a record has no dates and is in
#: force at any date; graph/store.py record_status)
PERIOD_FIELDS = ("effective_from", "effective_to", "removed_on", "removal_reason")
#: a ListRecord's properties: list_records.csv's columns
LIST_RECORD_PROPS = ("record_uid", "entity_id", "list", "grade", "authority", "case_no", "date",
                     "source", "record_id", "department", *PERIOD_FIELDS)

#: executive role text -> role classes; a role may have several
#: (执行董事兼总经理 -> director, manager, principal). "manager" is the Company Law's senior
#: manager (经理, 副经理, 财务负责人, 董事会秘书); "principal" the principal person in charge.
ROLE_CLASSES: dict[str, tuple[str, ...]] = {
    "director": ("董事", "director", "chairman"),
    "supervisor": ("监事", "supervisor"),
    "manager": ("经理", "总裁", "财务负责人", "财务总监", "董事会秘书", "manager", "ceo", "cfo"),
    "finance": ("财务", "会计", "cfo", "finance"),
    "principal": ("总经理", "总裁", "厂长", "主要负责人", "ceo", "general manager", "principal"),
}


def role_classes(role: str | None) -> list[str]:
    text = (role or "").strip().lower()
    out = {cls for cls, words in ROLE_CLASSES.items() if any(w in text for w in words)}
    if text == "负责人":
        out.add("principal")
    if "董事会秘书" in text and not text.replace("董事会秘书", "").count("董事"):
        out.discard("director")
    return sorted(out)


def address_key(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def phone_key(text: str) -> str:
    digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", text or ""))
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def _split(value: str | None) -> list[str]:
    return sorted({v.strip() for v in (value or "").split("|") if v.strip()})


def _float(value: str | None) -> float | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    """Drop empty values (Neo4j removes a property set to null; keep both stores alike)."""
    return {k: v for k, v in props.items() if v is not None and v != "" and v != []}


def _read(path: Path) -> Iterator[dict[str, str]]:
    if not path.exists():
        return iter(())
    csv.field_size_limit(sys.maxsize)
    with path.open(encoding="utf-8-sig", newline="") as f:
        yield from csv.DictReader(f)


#: one part of a batch: ("node" | "relation", label or type, rows)
Part = tuple[str, str, list[dict]]


@dataclass
class GraphData:
    """Everything at once (small outputs, tests); the loaders stream with ResolvedReader."""
    nodes: dict[str, list[dict]] = field(default_factory=lambda: {l: [] for l in NODE_LABELS})
    relations: dict[str, list[dict]] = field(default_factory=lambda: {t: [] for t in RELATION_TYPES})
    content_hash: str = ""
    skipped: dict[str, int] = field(default_factory=dict)


def content_hash(out_dir: Path) -> str:
    h = hashlib.sha256()
    for name in INPUT_FILES:
        path = out_dir / name
        h.update(name.encode())
        if path.exists():
            with path.open("rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
    return h.hexdigest()[:16]


def _entity_props(row: dict[str, str]) -> tuple[str, dict[str, Any]]:
    kind = (row.get("kind") or "").strip()
    eid = row["entity_id"].strip()
    name = (row.get("name") or "").strip()
    aliases = sorted(set(_split(row.get("aliases"))) | ({name} if name else set()))
    attrs = scrub((row.get("attrs") or "").strip())
    props: dict[str, Any] = {
        "entity_id": eid, "kind": kind, "name": name, "aliases": aliases,
        "departments": _split(row.get("departments")), "records": _split(row.get("records")),
        "addresses": sorted({address_key(a) for a in _split(row.get("addresses"))} - {""}),
        "phones": sorted({phone_key(p) for p in _split(row.get("phones"))} - {""}),
        "n_sources": int(_float(row.get("n_sources")) or 0),
        "attrs": attrs if attrs not in ("{}", "null") else None,
    }
    identifier = (row.get("identifier") or "").strip().upper()
    id_type = (row.get("identifier_type") or "").strip()
    props["identifier_type"] = id_type or None  # as entities.csv has it (persons: id18, id_masked)
    if kind == "person":
        label = "Person"
        # the one display mask, also over a resolve output that holds more (an older one)
        props["id_masked"] = mask(identifier) if identifier else None
        props["id_hash"] = (row.get("id_hash") or "").strip() or None
        props["birth_date"] = (row.get("birth_date") or "").strip() or None
    else:
        label = "Enterprise"
        props["identifier"] = identifier or None
        org = identifier.replace("-", "")
        if len(org) == 18 and id_type in ("", "uscc"):
            props["org_code"] = org[8:17]
        elif id_type in ("org_code", "organization_code") or len(org) == 9:
            props["org_code"] = org
    return label, _clean(props)


def _chunks(rows: Iterator[dict[str, str]], size: int) -> Iterator[list[dict[str, str]]]:
    chunk: list[dict[str, str]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    n = 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            n += block.count(b"\n")
    return max(0, n - 1)


class ResolvedReader:
    """Streams a resolve output directory as batches, in a fixed order, in bounded memory.

    A batch is a list of parts ``(kind, label or type, rows)`` from one chunk of ``size``
    input rows; a loader writes a batch in one transaction, its node parts before its
    relation parts. Order: entities.csv (Enterprise, Person, Address, Phone nodes, then AT and
    HAS_PHONE), list_records.csv (ListRecord, HAS_RECORD), relations.csv (by type),
    review_queue.csv (POSSIBLY_SAME_AS, aggregated per entity pair). The same output always
    gives the same batches (what resuming relies on). Memory: the sets of entity ids, address
    and phone keys and record uids, plus one chunk. relations.csv is deduplicated by the
    contract; a duplicate key in another chunk is written again (the later row wins).
    ``skipped`` counts the rows dropped, by reason, once the stream is consumed.
    """

    def __init__(self, out_dir: str | Path):
        self.out_dir = Path(out_dir)
        if not (self.out_dir / "entities.csv").exists():
            raise FileNotFoundError(
                f"{self.out_dir}: no entities.csv (not a resolve output directory)")
        self.content_hash = content_hash(self.out_dir)
        self.skipped: dict[str, int] = {}

    def estimate_batches(self, size: int) -> int:
        """Roughly how many batches (for progress bars; quoted newlines make it inexact)."""
        return sum(-(-_count_lines(self.out_dir / f) // size) for f in INPUT_FILES)

    def _skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def batches(self, size: int) -> Iterator[list[Part]]:
        self.skipped = {}
        entities: set[str] = set()
        addresses: set[str] = set()
        phones: set[str] = set()
        for chunk in _chunks(_read(self.out_dir / "entities.csv"), size):
            parts: dict[str, list[dict]] = {k: [] for k in (*NODE_LABELS, *CONTACT_RELATIONS)}
            for row in chunk:
                if not (row.get("entity_id") or "").strip():
                    self._skip("entity_without_id")
                    continue
                label, props = _entity_props(row)
                eid = props["entity_id"]
                if eid in entities:
                    self._skip("duplicate_entity")
                    continue
                entities.add(eid)
                parts[label].append({"id": eid, "props": props})
                for a in props.get("addresses", []):
                    if a not in addresses:
                        addresses.add(a)
                        parts["Address"].append({"id": a, "props": {"key": a}})
                    parts["AT"].append({"from": eid, "to": a, "props": {"key": f"{eid}|AT||{a}"}})
                for p in props.get("phones", []):
                    if p not in phones:
                        phones.add(p)
                        parts["Phone"].append({"id": p, "props": {"number": p}})
                    parts["HAS_PHONE"].append(
                        {"from": eid, "to": p, "props": {"key": f"{eid}|HAS_PHONE||{p}"}})
            batch = [("node", l, parts[l]) for l in NODE_LABELS if parts[l]]
            batch += [("relation", t, parts[t]) for t in CONTACT_RELATIONS if parts[t]]
            if batch:
                yield batch
        del addresses, phones

        records: set[str] = set()
        for chunk in _chunks(_read(self.out_dir / "list_records.csv"), size):
            nodes, rels = [], []
            for row in chunk:
                uid, eid = (row.get("record_uid") or "").strip(), (row.get("entity_id") or "").strip()
                if not uid or eid not in entities or uid in records:
                    self._skip("list_record_dangling")
                    continue
                records.add(uid)
                props = _clean({k: (row.get(k) or "").strip() for k in LIST_RECORD_PROPS})
                nodes.append({"id": uid, "props": props})
                rels.append({"from": eid, "to": uid, "props": {"key": f"{eid}|HAS_RECORD||{uid}"}})
            if nodes:
                yield [("node", "ListRecord", nodes), ("relation", "HAS_RECORD", rels)]
        del records

        for chunk in _chunks(_read(self.out_dir / "relations.csv"), size):
            merged: dict[str, dict] = {}
            for row in chunk:
                rel = self._relation(row, entities)
                if rel is None:
                    continue
                key = rel["props"]["key"]
                if key in merged:  # union the provenance of a duplicate in the same chunk
                    old = merged[key]["props"]
                    for k in ("sources", "record_ids"):
                        old[k] = sorted(set(old.get(k, [])) | set(rel["props"].get(k, [])))
                else:
                    merged[key] = rel
            by_type: dict[str, list[dict]] = {}
            for rel in merged.values():
                by_type.setdefault(rel["props"]["key"].split("|")[1], []).append(rel)
            batch = [("relation", t, by_type[t]) for t in ENTITY_RELATIONS if t in by_type]
            if batch:
                yield batch

        pairs = self._review_pairs(entities)
        for i in range(0, len(pairs), size):
            yield [("relation", REVIEW_RELATION, pairs[i:i + size])]

    def _relation(self, row: dict[str, str], entities: set[str]) -> dict | None:
        typ = (row.get("type") or "").strip().upper()
        f, t = (row.get("from_id") or "").strip(), (row.get("to_id") or "").strip()
        if typ not in ENTITY_RELATIONS:
            self._skip(f"relation_type:{typ}")
            return None
        if f not in entities or t not in entities:
            self._skip("relation_dangling")
            return None
        role = (row.get("role") or "").strip()
        ratio = _float(row.get("ratio"))
        if ratio is not None and ratio > 1:
            ratio = ratio / 100.0
        props = _clean({"key": f"{f}|{typ}|{role}|{t}",
                        "ratio": ratio if typ == "SHAREHOLDER_OF" else None,
                        "role": role or None, "amount": _float(row.get("amount")),
                        "role_classes": role_classes(role) if typ == "EXECUTIVE_OF" else None,
                        "sources": _split(row.get("source")),
                        "record_ids": _split(row.get("record_id"))})
        return {"from": f, "to": t, "props": props}

    def _review_pairs(self, entities: set[str]) -> list[dict]:
        pairs: dict[tuple[str, str], dict] = {}
        for row in _read(self.out_dir / "review_queue.csv"):
            a, b = (row.get("left_entity") or "").strip(), (row.get("right_entity") or "").strip()
            if a == b or a not in entities or b not in entities:
                self._skip("review_pair_unusable")
                continue
            f, t = min(a, b), max(a, b)
            p = pairs.setdefault((f, t), {"from": f, "to": t, "props": {
                "key": f"{f}|{REVIEW_RELATION}||{t}", "score": None, "reasons": [],
                "pair_ids": []}})
            pr = p["props"]
            score = _float(row.get("score"))
            if score is not None and (pr["score"] is None or score > pr["score"]):
                pr["score"] = score
            pr["reasons"] = sorted(set(pr["reasons"]) | set(_split(row.get("reason"))))
            pr["pair_ids"] = sorted(set(pr["pair_ids"]) | set(_split(row.get("pair_id"))))
        return [{**p, "props": _clean(p["props"])} for p in pairs.values()]


def read_resolved(out_dir: str | Path, batch_size: int = 10_000) -> GraphData:
    """The whole resolve output at once, as node and relation rows (small outputs, tests)."""
    reader = ResolvedReader(out_dir)
    data = GraphData(content_hash=reader.content_hash)
    for batch in reader.batches(batch_size):
        for kind, name, rows in batch:
            (data.nodes if kind == "node" else data.relations)[name].extend(rows)
    data.skipped = dict(reader.skipped)
    return data
