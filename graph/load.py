"""Read a resolve output directory into node and relation batches (shared by both stores).

Input (docs/architecture.md, "Resolve outputs"): ``entities.csv``, ``relations.csv``,
``list_records.csv``, ``review_queue.csv``. ``identity_vault.csv`` is never read: persons carry
only the masked number (``id_masked``) and the keyed hash (``id_hash``).

Output: :class:`GraphData`, plain dicts ready for ``UNWIND $rows AS row MERGE ...``:

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
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

ENTITY_RELATIONS = ("LEGAL_REP_OF", "SHAREHOLDER_OF", "EXECUTIVE_OF", "BRANCH_OF", "GUARANTEES",
                    "EMPLOYED_BY")
REVIEW_RELATION = "POSSIBLY_SAME_AS"
CONTACT_RELATIONS = ("AT", "HAS_PHONE")
NODE_LABELS = ("Enterprise", "Person", "ListRecord", "Address", "Phone")
RELATION_TYPES = (*ENTITY_RELATIONS, REVIEW_RELATION, "HAS_RECORD", *CONTACT_RELATIONS)
#: which labels each relation type joins (from, to)
RELATION_ENDS = {**{t: ("Entity", "Entity") for t in (*ENTITY_RELATIONS, REVIEW_RELATION)},
                 "HAS_RECORD": ("Entity", "ListRecord"), "AT": ("Entity", "Address"),
                 "HAS_PHONE": ("Entity", "Phone")}
INPUT_FILES = ("entities.csv", "relations.csv", "list_records.csv", "review_queue.csv")

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

_ID18 = re.compile(r"(?<![0-9])([1-9][0-9]{5})(?:19|20)[0-9]{6}([0-9]{3}[0-9Xx])(?![0-9])")


def role_classes(role: str | None) -> list[str]:
    text = (role or "").strip().lower()
    out = {cls for cls, words in ROLE_CLASSES.items() if any(w in text for w in words)}
    if text == "负责人":
        out.add("principal")
    if "董事会秘书" in text and not text.replace("董事会秘书", "").count("董事"):
        out.discard("director")
    return sorted(out)


def mask_id_numbers(text: str) -> str:
    """Mask any 18-digit identity number in free text (``210802********3018``)."""
    return _ID18.sub(lambda m: m.group(1) + "********" + m.group(2), text)


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


@dataclass
class GraphData:
    nodes: dict[str, list[dict]] = field(default_factory=lambda: {l: [] for l in NODE_LABELS})
    relations: dict[str, list[dict]] = field(default_factory=lambda: {t: [] for t in RELATION_TYPES})
    content_hash: str = ""
    skipped: dict[str, int] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return sum(len(v) for v in self.nodes.values())

    @property
    def n_relations(self) -> int:
        return sum(len(v) for v in self.relations.values())

    def steps(self) -> list[tuple[str, str, list[dict]]]:
        """(kind, label or type, rows) in load order: nodes first, then relations."""
        return ([("node", l, self.nodes[l]) for l in NODE_LABELS]
                + [("relation", t, self.relations[t]) for t in RELATION_TYPES])

    def batches(self, size: int) -> Iterator[tuple[str, str, list[dict]]]:
        for kind, name, rows in self.steps():
            for i in range(0, len(rows), size):
                yield kind, name, rows[i:i + size]


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
    attrs = mask_id_numbers((row.get("attrs") or "").strip())
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
    if kind == "person":
        label = "Person"
        # persons never hold the number in clear: mask it if the resolve output ever does
        props["id_masked"] = mask_id_numbers(identifier) or None
        props["id_hash"] = (row.get("id_hash") or "").strip() or None
        props["birth_date"] = (row.get("birth_date") or "").strip() or None
    else:
        label = "Enterprise"
        props["identifier"] = identifier or None
        props["identifier_type"] = id_type or None
        org = identifier.replace("-", "")
        if len(org) == 18 and id_type in ("", "uscc"):
            props["org_code"] = org[8:17]
        elif id_type in ("org_code", "organization_code") or len(org) == 9:
            props["org_code"] = org
    return label, _clean(props)


def read_resolved(out_dir: str | Path) -> GraphData:
    """The resolve output directory as node and relation rows (see the module doc)."""
    out_dir = Path(out_dir)
    if not (out_dir / "entities.csv").exists():
        raise FileNotFoundError(f"{out_dir}: no entities.csv (not a resolve output directory)")
    data = GraphData(content_hash=content_hash(out_dir))
    skipped: dict[str, int] = {}
    entities: set[str] = set()
    addresses: set[str] = set()
    phones: set[str] = set()
    contact_rels: dict[str, list[dict]] = {"AT": [], "HAS_PHONE": []}
    for row in _read(out_dir / "entities.csv"):
        if not (row.get("entity_id") or "").strip():
            skipped["entity_without_id"] = skipped.get("entity_without_id", 0) + 1
            continue
        label, props = _entity_props(row)
        eid = props["entity_id"]
        if eid in entities:
            skipped["duplicate_entity"] = skipped.get("duplicate_entity", 0) + 1
            continue
        entities.add(eid)
        data.nodes[label].append({"id": eid, "props": props})
        for a in props.get("addresses", []):
            addresses.add(a)
            contact_rels["AT"].append({"from": eid, "to": a, "props": {"key": f"{eid}|AT||{a}"}})
        for p in props.get("phones", []):
            phones.add(p)
            contact_rels["HAS_PHONE"].append(
                {"from": eid, "to": p, "props": {"key": f"{eid}|HAS_PHONE||{p}"}})
    data.nodes["Address"] = [{"id": a, "props": {"key": a}} for a in sorted(addresses)]
    data.nodes["Phone"] = [{"id": p, "props": {"number": p}} for p in sorted(phones)]
    data.relations.update(contact_rels)

    merged: dict[str, dict] = {}
    for row in _read(out_dir / "relations.csv"):
        typ = (row.get("type") or "").strip().upper()
        f, t = (row.get("from_id") or "").strip(), (row.get("to_id") or "").strip()
        if typ not in ENTITY_RELATIONS:
            skipped[f"relation_type:{typ}"] = skipped.get(f"relation_type:{typ}", 0) + 1
            continue
        if f not in entities or t not in entities:
            skipped["relation_dangling"] = skipped.get("relation_dangling", 0) + 1
            continue
        role = (row.get("role") or "").strip()
        key = f"{f}|{typ}|{role}|{t}"
        ratio = _float(row.get("ratio"))
        if ratio is not None and ratio > 1:
            ratio = ratio / 100.0
        props = _clean({"key": key, "ratio": ratio if typ == "SHAREHOLDER_OF" else None,
                        "role": role or None, "amount": _float(row.get("amount")),
                        "role_classes": role_classes(role) if typ == "EXECUTIVE_OF" else None,
                        "sources": _split(row.get("source")),
                        "record_ids": _split(row.get("record_id"))})
        if key in merged:  # the contract deduplicates, but be safe: union the provenance
            old = merged[key]["props"]
            for k in ("sources", "record_ids"):
                old[k] = sorted(set(old.get(k, [])) | set(props.get(k, [])))
            continue
        merged[key] = {"from": f, "to": t, "props": props}
    for rel in merged.values():
        data.relations[rel["props"]["key"].split("|")[1]].append(rel)

    records: set[str] = set()
    for row in _read(out_dir / "list_records.csv"):
        uid, eid = (row.get("record_uid") or "").strip(), (row.get("entity_id") or "").strip()
        if not uid or eid not in entities or uid in records:
            skipped["list_record_dangling"] = skipped.get("list_record_dangling", 0) + 1
            continue
        records.add(uid)
        props = _clean({k: (row.get(k) or "").strip() for k in
                        ("record_uid", "entity_id", "list", "grade", "authority", "case_no", "date",
                         "source", "record_id")})
        data.nodes["ListRecord"].append({"id": uid, "props": props})
        data.relations["HAS_RECORD"].append(
            {"from": eid, "to": uid, "props": {"key": f"{eid}|HAS_RECORD||{uid}"}})

    pairs: dict[tuple[str, str], dict] = {}
    for row in _read(out_dir / "review_queue.csv"):
        a, b = (row.get("left_entity") or "").strip(), (row.get("right_entity") or "").strip()
        if a == b or a not in entities or b not in entities:
            skipped["review_pair_unusable"] = skipped.get("review_pair_unusable", 0) + 1
            continue
        f, t = min(a, b), max(a, b)
        p = pairs.setdefault((f, t), {"from": f, "to": t, "props": {
            "key": f"{f}|{REVIEW_RELATION}||{t}", "score": None, "reasons": [], "pair_ids": []}})
        pr = p["props"]
        score = _float(row.get("score"))
        if score is not None and (pr["score"] is None or score > pr["score"]):
            pr["score"] = score
        pr["reasons"] = sorted(set(pr["reasons"]) | set(_split(row.get("reason"))))
        pr["pair_ids"] = sorted(set(pr["pair_ids"]) | set(_split(row.get("pair_id"))))
    data.relations[REVIEW_RELATION] = [{**p, "props": _clean(p["props"])} for p in pairs.values()]
    for typ in RELATION_TYPES:
        data.relations[typ].sort(key=lambda r: r["props"]["key"])
    data.skipped = skipped
    return data
