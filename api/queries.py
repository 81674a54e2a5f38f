"""The query layer: routes call these methods, these call the store's named queries.

It validates what the store cannot (identifier shapes, existence), turns store rows into the
response models, fills persons' numbers from the identity vault only when the caller may see
them (the models mask again on output), and reads the review queue of the resolve output.
"""
from __future__ import annotations

import csv
import json
import math
import threading
from datetime import date
from pathlib import Path
from functools import cached_property
from typing import Any

from creditgraph.api import models as m
from creditgraph.api.errors import BadRequest, NotFound
from creditgraph.api.masking import clear_ids_allowed
from creditgraph.base.privacy import id_hash, mask
from creditgraph.base.settings import Settings, get_settings, id_key
from creditgraph.linkage.decisions import DecisionLog, Verdict
from creditgraph.graph.load import PERIOD_FIELDS
from creditgraph.graph.store import as_of_text, normalise_name
from creditgraph.linkage import review
from creditgraph.linkage.identifiers import Identifier, classify

# the store's default for related_parties / shortest_path: every type but POSSIBLY_SAME_AS
DEFAULT_TYPES = [t.value for t in m.RelationType if t is not m.RelationType.POSSIBLY_SAME_AS]


def _kind_of(entity_id: str) -> str:
    return "person" if str(entity_id).startswith("P-") else "enterprise"


def _split(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v if x not in (None, "")]
    s = str(v)
    return [x for x in s.split("|") if x] if s else []


def _num(v: Any) -> float | None:
    if v is None or v == "":
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f  # NaN -> None


def _evidence(ev: Any) -> dict[str, m.Evidence]:
    """A queue row's evidence (field -> level, weight, values) as the API's model."""
    return {str(k): (m.Evidence(**v) if isinstance(v, dict) else m.Evidence(left=v))
            for k, v in (ev.items() if isinstance(ev, dict) else [])}


def _candidates(row: dict) -> list[dict]:
    """A queue row's candidates (review.candidates), none when unreadable."""
    try:
        return [c for c in review.candidates(row) if isinstance(c, dict) and c.get("entity_id") and c.get("mention")]
    except (ValueError, TypeError):
        return []


def _str(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v != v:
        return None
    s = str(v)
    return s if s != "" else None


class Vault:
    """entity_id -> identity number in clear, from the resolve output's identity_vault.csv."""

    def __init__(self, path: Path | None):
        self.path = path
        self._data: dict[str, str] | None = None
        self._lock = threading.Lock()

    def get(self, entity_id: str) -> str | None:
        if self._data is None:
            with self._lock:
                if self._data is None:
                    data: dict[str, str] = {}
                    if self.path and self.path.exists():
                        with open(self.path, encoding="utf-8-sig", newline="") as f:
                            for r in csv.DictReader(f):
                                if r.get("entity_id") and r.get("id_number"):
                                    data[r["entity_id"]] = r["id_number"].strip()
                    self._data = data
        return self._data.get(entity_id)


class Queries:
    def __init__(self, store: Any, resolved_dir: Path | None = None, settings: Settings | None = None):
        self.store = store
        self.resolved_dir = Path(resolved_dir) if resolved_dir else None
        self.settings = settings or get_settings()
        self.vault = Vault(self.resolved_dir / "identity_vault.csv" if self.resolved_dir else None)
        self.decisions = DecisionLog(self.settings.decisions_path)
        self._queue = None  # the review queue's DataFrame, read once

    @cached_property
    def _id_key(self) -> bytes:
        """The keyed-hash secret, read on the first identity-number search (not at start-up, so
        serving does not create DATA/secret.key)."""
        return id_key(self.settings)

    # --- rows -> models ---------------------------------------------------------------------

    def _q(self, name: str, **params) -> list[dict]:
        return list(self.store.query(name, **params) or [])

    def _party_fields(self, p: dict) -> dict:
        kind = _str(p.get("kind")) or _kind_of(str(p.get("entity_id", "")))
        ident = _str(p.get("identifier")) or _str(p.get("id_masked"))
        if kind == "person":  # clear from the vault only for roles that may see it
            number = self.vault.get(str(p.get("entity_id")))
            if number:
                ident = number if clear_ids_allowed() else mask(number)
        return {"entity_id": str(p.get("entity_id")), "kind": kind, "name": _str(p.get("name")),
                "identifier": ident, "identifier_type": _str(p.get("identifier_type"))}

    def party(self, p: dict) -> m.Party:
        return m.Party(**self._party_fields(p))

    @staticmethod
    def _edge(e: dict) -> m.Edge:
        return m.Edge(from_id=str(e.get("from_id") or e.get("from") or e.get("start") or ""),
                      to_id=str(e.get("to_id") or e.get("to") or e.get("end") or ""),
                      type=str(e.get("type") or ""), ratio=_num(e.get("ratio")),
                      role=_str(e.get("role")), amount=_num(e.get("amount")))

    @staticmethod
    def _list_record(r: dict) -> m.ListRecord:
        return m.ListRecord(**{k: _str(r.get(k)) for k in
                               ("record_uid", "grade", "authority", "case_no", "date", "source", "record_id",
                                *PERIOD_FIELDS)},
                            list=str(r.get("list") or ""))

    # --- entities ---------------------------------------------------------------------------

    def _entity_row(self, entity_id: str) -> dict:
        rows = self._q("entity_by_id", entity_id=entity_id)
        if not rows:
            raise NotFound(f"no entity {entity_id!r}: ids look like E-… (enterprises) or P-… (persons); "
                           "find one with /search/name or /search/identifier")
        return rows[0]

    def entity_party(self, entity_id: str) -> m.Party:
        return self.party(self._entity_row(entity_id))

    def entity(self, entity_id: str) -> m.EntityDetail:
        p = self._entity_row(entity_id)
        attrs = p.get("attrs") or {}
        if isinstance(attrs, str):
            try:
                attrs = json.loads(attrs) or {}
            except ValueError:
                attrs = {"raw": attrs}
        records = []
        for r in _split(p.get("records")):
            source, _, rid = r.partition(":")
            records.append(m.SourceRecord(source=source, record_id=rid))
        n_sources = _num(p.get("n_sources"))
        return m.EntityDetail(
            **self._party_fields(p),
            aliases=_split(p.get("aliases")), departments=_split(p.get("departments")),
            records=records, n_sources=int(n_sources) if n_sources is not None else None,
            addresses=_split(p.get("addresses")), phones=_split(p.get("phones")),
            birth_date=_str(p.get("birth_date")), attrs=attrs if isinstance(attrs, dict) else {},
            list_records=self._list_records(p))

    def list_records(self, entity_id: str) -> list[m.ListRecord]:
        return self._list_records(self._entity_row(entity_id))

    @classmethod
    def _list_records(cls, row: dict) -> list[m.ListRecord]:
        lists = row.get("list_records")
        return [cls._list_record(x) for x in lists if isinstance(x, dict)] if isinstance(lists, list) else []

    # --- search -----------------------------------------------------------------------------

    def search_name(self, q: str, kind: str | None, limit: int) -> m.SearchResult:
        q = q.strip()
        if not normalise_name(q):
            raise BadRequest("q has no letters or digits: give part of a name, e.g. q=鑫达")
        # the named query has no kind filter: over-fetch, then filter here
        fetch = min(limit * 5, 500) if kind else limit
        hits = [self._hit(r) for r in self._q("search_name", q=q, limit=fetch)]
        if kind:
            hits = [h for h in hits if h.kind == kind]
        return m.SearchResult(query=q, hits=hits[:limit])

    def _hit(self, row: dict) -> m.SearchHit:
        return m.SearchHit(**self._party_fields(row), aliases=_split(row.get("aliases")),
                           departments=_split(row.get("departments")), score=_num(row.get("score")))

    @staticmethod
    def identifier(value: str) -> Identifier:
        """`value` classified; 400 unless it is an identifier one can search by."""
        ident = classify(value)
        if ident is None:
            raise BadRequest("value is empty: give a USCC, organisation code, registration number "
                             "or identity number")
        if ident.type == "id_masked":
            raise BadRequest("a masked identity number is not an identifier: search by name "
                             "(/search/name) and compare the visible digits")
        if ident.type == "unknown":
            raise BadRequest(f"{ident.note or 'not an identifier'}: expected an 18-character USCC, "
                             "a 9-character organisation code, a 15-character registration or tax "
                             "number, or an 18-digit identity number")
        return ident

    def search_identifier(self, ident: Identifier) -> m.SearchResult:
        """Entities carrying `ident` (Queries.identifier); a person's number by its keyed hash."""
        if ident.type == "id18":
            rows = self._q("entity_by_identifier", identifier=id_hash(ident.value, key=self._id_key))
        else:
            rows = self._q("entity_by_identifier", identifier=ident.value)
        hits = [self._hit(r) for r in rows]
        query = ident.raw if ident.type != "id18" else "(identity number)"
        return m.SearchResult(query=query, identifier_type=ident.type, hits=hits)

    # --- relations --------------------------------------------------------------------------

    def _parties(self, ids: list[str], known: dict[str, m.Party] | None = None) -> dict[str, m.Party]:
        """Parties for entity ids, each fetched once (`known`: those already in hand); ids the
        store does not know are left out."""
        out = dict(known or {})
        for eid in dict.fromkeys(ids):
            if eid not in out:
                rows = self._q("entity_by_id", entity_id=eid)
                if rows:
                    out[eid] = self.party(rows[0])
        return out

    def _names(self, ids: list[str], known: dict[str, m.Party] | None = None) -> dict[str, m.Party]:
        """Parties for rows that only carry ids (circles, paths); an unknown id gets a bare party."""
        found = self._parties(ids, known)
        return {eid: found.get(eid) or m.Party(entity_id=eid, kind=_kind_of(eid)) for eid in ids}

    @staticmethod
    def _steps(steps: Any) -> list[m.Edge]:
        return [Queries._edge(e) for e in (steps or []) if isinstance(e, dict)]

    def related(self, entity_id: str, depth: int, types: list[str], limit: int) -> m.RelatedResult:
        entity = self.entity_party(entity_id)
        params: dict[str, Any] = {"entity_id": entity_id, "depth": depth}
        if types:
            params["types"] = types
        rows = self._q("related_parties", **params)
        parties = [m.RelatedParty(**self._party_fields(r), distance=int(_num(r.get("distance")) or 0),
                                  path=self._steps(r.get("path")))
                   for r in rows[: limit]]
        return m.RelatedResult(entity=entity, depth=depth, types=types or DEFAULT_TYPES, limit=limit,
                               truncated=len(rows) > limit, parties=parties)

    def shared_contacts(self, entity_id: str, max_sharing: int, limit: int) -> m.SharedContactsResult:
        entity = self.entity_party(entity_id)
        rows = self._q("shared_contacts", entity_id=entity_id, max_sharing=max_sharing)
        parties = [m.SharedContact(**self._party_fields(r), shared=int(_num(r.get("shared")) or 0),
                                   weight=_num(r.get("weight")),
                                   contacts=[m.Contact(type=str(c.get("type")), value=str(c.get("value")),
                                                       sharing=c.get("sharing"))
                                             for c in r.get("contacts") or [] if isinstance(c, dict)])
                   for r in rows[:limit]]
        return m.SharedContactsResult(entity=entity, max_sharing=max_sharing, parties=parties)

    def discipline(self, entity_id: str, direction: str, as_of: date | str | None = None,
                   include_history: bool = False) -> m.DisciplineResult:
        """Forward or reverse joint discipline (and incentives) at `as_of` (a date or ISO text;
        None: today); records out of force too, with their status, when include_history."""
        entity = self.entity_party(entity_id)
        when = {"as_of": as_of_text(as_of), "include_history": include_history}
        hits = []
        if direction == "forward":
            for r in self._q("joint_discipline_forward", entity_id=entity_id, **when):
                listed = {"entity_id": r.get("subject_id"), "name": r.get("subject_name"),
                          "kind": r.get("subject_kind")}
                reached = {"entity_id": r.get("target_id"), "name": r.get("target_name"),
                           "kind": r.get("target_kind")}
                hits.append(m.DisciplineHit(
                    listed=self.party(listed), reached=self.party(reached),
                    relation=str(r.get("role") or ""), list=str(r.get("list") or ""),
                    record_uid=_str(r.get("record_uid")), rule=_str(r.get("rule")),
                    basis=_str(r.get("basis")), share=_num(r.get("share")),
                    path=self._steps(r.get("path")), **self._dated(r)))
        else:
            for r in self._q("joint_discipline_reverse", entity_id=entity_id, **when):
                holder = {"entity_id": r.get("holder_id"), "name": r.get("holder_name"),
                          "kind": r.get("holder_kind")}
                hits.append(m.DisciplineHit(
                    listed=self.party(holder), reached=entity,
                    relation=str(r.get("relation") or ""), role=_str(r.get("role")),
                    list=str(r.get("list") or ""), record_uid=_str(r.get("record_uid")),
                    authority=_str(r.get("authority")), case_no=_str(r.get("case_no")),
                    date=_str(r.get("date")), rule=_str(r.get("rule")), basis=_str(r.get("basis")),
                    share=_num(r.get("share")), path=self._steps(r.get("path")), **self._dated(r)))
        return m.DisciplineResult(entity=entity, direction=direction, as_of=when["as_of"], hits=hits)

    @staticmethod
    def _dated(r: dict) -> dict:
        """A hit's rule kind and measures, and its record's period and status."""
        return {"kind": _str(r.get("kind")), "measures": [str(x) for x in r.get("measures") or []],
                **{k: _str(r.get(k)) for k in ("status", *PERIOD_FIELDS)}}

    def beneficial_owners(self, entity_id: str, threshold: float) -> m.OwnersResult:
        entity = self.entity_party(entity_id)
        owners = []
        for r in self._q("beneficial_owners", entity_id=entity_id, threshold=threshold):
            p = {"entity_id": r.get("person_id"), "name": r.get("name"), "kind": "person"}
            chains = [m.Chain(share=_num(c.get("share")) or 0.0, path=self._steps(c.get("path")))
                      for c in r.get("chains") or [] if isinstance(c, dict)]
            owners.append(m.Owner(**self._party_fields(p), share=_num(r.get("share")) or 0.0,
                                  chains=chains))
        return m.OwnersResult(entity=entity, threshold=threshold, owners=owners)

    def guarantee_circles(self, entity_id: str | None, max_length: int, limit: int) -> m.CirclesResult:
        known = {entity_id: self.entity_party(entity_id)} if entity_id else None
        rows = self._q("guarantee_circles", entity_id=entity_id, max_len=max_length)[:limit]
        names = self._names([str(x) for r in rows for x in r.get("circle") or []], known)
        circles = []
        for r in rows:
            steps = self._steps(r.get("steps"))
            amounts = [e.amount for e in steps if e.amount is not None]
            circles.append(m.Circle(members=[names[str(x)] for x in r.get("circle") or []],
                                    length=int(_num(r.get("length")) or len(r.get("circle") or [])),
                                    steps=steps, total_amount=sum(amounts) if amounts else None))
        return m.CirclesResult(entity_id=entity_id, max_length=max_length, limit=limit, circles=circles)

    def path(self, from_id: str, to_id: str, max_length: int, types: list[str], limit: int) -> m.PathResult:
        start = self.entity_party(from_id)
        if from_id == to_id:  # the empty path
            return m.PathResult(from_id=from_id, to_id=to_id, max_length=max_length, found=True,
                                paths=[m.Path(length=0, nodes=[start], steps=[])])
        end = self.entity_party(to_id)
        params: dict[str, Any] = {"from_id": from_id, "to_id": to_id, "max_len": max_length,
                                  "limit": limit}
        if types:
            params["types"] = types
        rows = self._q("shortest_path", **params)
        names = self._names([str(x) for r in rows for x in r.get("nodes") or []], {from_id: start, to_id: end})
        paths = [m.Path(length=int(_num(r.get("length")) or 0),
                        nodes=[names[str(x)] for x in r.get("nodes") or []],
                        steps=self._steps(r.get("path"))) for r in rows]
        return m.PathResult(from_id=from_id, to_id=to_id, max_length=max_length, found=bool(paths),
                            paths=paths)

    # --- review -----------------------------------------------------------------------------

    def _queue_frame(self):
        """The resolve output's queue (linkage.review.queue, as the CLI reads it), read once;
        None when the resolve output has none."""
        if self._queue is None:
            path = self.resolved_dir / "review_queue.csv" if self.resolved_dir else None
            q = review.queue(self.resolved_dir) if path and path.exists() else None
            self._queue = q[q["pair_id"] != ""] if q is not None else None
        return self._queue

    def queue_size(self) -> int:
        q = self._queue_frame()
        return 0 if q is None else len(q)

    def _item(self, r: dict, verdict: str | None, parties: dict[str, m.Party]) -> m.ReviewItem:
        try:
            ev = json.loads(r.get("evidence") or "{}")
        except ValueError:
            ev = {}
        kind = r.get("kind") or ""
        candidates = [m.Candidate(kind=kind, entity_id=c["entity_id"], mention=c["mention"],
                                  left_mention=c.get("left_mention"), party=parties.get(c["entity_id"]),
                                  score=_num(c.get("score")), reason=_str(c.get("reason")),
                                  evidence=_evidence(c.get("evidence")))
                      for c in _candidates(r)]
        return m.ReviewItem(
            pair_id=r["pair_id"], kind=kind, left_mention=r.get("left_mention") or "",
            right_mention=r.get("right_mention") or "", left_entity=_str(r.get("left_entity")),
            right_entity=_str(r.get("right_entity")), score=_num(r.get("score")),
            reason=_str(r.get("reason")), evidence=_evidence(ev), candidates=candidates, decision=verdict,
            left=parties.get(r.get("left_entity") or ""), right=parties.get(r.get("right_entity") or ""),
            weights=self._pair_weights(r.get("kind") or "", ev))

    @cached_property
    def _models(self) -> dict[str, dict]:
        """Per kind the run's fitted model (prior, weights per field and level), from run_report.json."""
        path = self.resolved_dir / "run_report.json" if self.resolved_dir else None
        if path is None or not path.is_file():
            return {}
        linkage = json.loads(path.read_text(encoding="utf-8")).get("linkage") or {}
        return {kind: v["model"] for kind, v in linkage.items() if isinstance(v, dict) and "model" in v}

    def _pair_weights(self, kind: str, ev: Any) -> m.PairWeights | None:
        """The waterfall of a pair's evidence: the prior's log2 odds, then each model field's weight."""
        model = self._models.get(kind)
        if not model or not isinstance(ev, dict):
            return None
        prior = math.log2(model["prior"] / (1 - model["prior"]))
        parts = {name: ev.get(name) if isinstance(ev.get(name), dict) else {} for name in model["weights"]}
        fields = [m.FieldWeight(field=name, level=_str(e.get("level")) or "missing",
                                weight=_num(e.get("weight")) or 0.0) for name, e in parts.items()]
        total = prior + sum(f.weight for f in fields)
        return m.PairWeights(prior=round(prior, 2), fields=fields, match_weight=round(total, 2),
                             probability=1 / (1 + 2 ** -max(min(total, 60), -60)))

    def review_queue(self, include_decided: bool, limit: int, offset: int) -> m.ReviewQueue:
        latest = self.decisions.latest()
        q = self._queue_frame()
        rows = [] if q is None else review.review_order(q, latest).to_dict("records")
        pending = [r for r in rows if review.state(r, latest) != review.DECIDED]
        shown = rows if include_decided else pending
        page = shown[offset: offset + limit]
        parties = self._parties([e for r in page for e in (r.get("left_entity"), r.get("right_entity"),
                                                           *(c["entity_id"] for c in _candidates(r))) if e])
        items = [self._item(r, review.verdict_of(r, latest), parties) for r in page]
        return m.ReviewQueue(total=len(rows), pending=len(pending), items=items)

    def decide(self, pair_id: str, verdict: Verdict, note: str, who: str,
               candidate: str | None = None) -> m.DecisionOut:
        q = self._queue_frame()
        row = review.pair_row(q, pair_id) if q is not None else None
        if row is None:
            raise NotFound(f"no pair {pair_id!r} in the review queue: take pair_id from GET /review/queue")
        try:
            made = review.decisions_for(row, Verdict(verdict).value, who, note.strip(), candidate)
        except review.NeedsCandidate as e:
            raise BadRequest(str(e)) from None
        for d in made:
            self.decisions.append(d)
        d = made[0]
        chosen = next((c["entity_id"] for c in _candidates(row) if c["mention"] == d.right), None)
        return m.DecisionOut(pair_id=pair_id, left=d.left, right=d.right, verdict=d.verdict,
                             who=d.who, note=d.note, score=d.score, when=d.when,
                             candidate=chosen if d.verdict == Verdict.SAME else None,
                             pairs=[[x.left, x.right] for x in made])

