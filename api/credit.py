"""An entity's credit at a date: its profile (GET /entities/{id}/credit) and what a credit
report shows (api/reports.py).

    Credit(queries).profile(entity_id, as_of) -> CreditProfile
    Credit(queries).report_content(entity_id, as_of, ...) -> ReportContent
    freshness(resolved_dir) -> Freshness     per department, from the resolve output's run report

Every rule is applied at `as_of` by the store's named queries (entity_records,
joint_discipline_forward and _reverse take $as_of); `shareholders` gives the direct holders at
or above the threshold. Persons are named through Queries.party, so masking is the caller's.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from creditgraph.api import models as m
from creditgraph.api.queries import Queries, _num
from creditgraph.graph.queries import CYPHER_DIR

SHAREHOLDER_THRESHOLD = 0.25  # as the beneficial-owner and controller rules (2024 measures)


@lru_cache
def list_kinds() -> dict[str, str]:
    """list -> negative, positive or grade (cypher/lists.yaml, the catalogue manifests name lists from)."""
    lists = yaml.safe_load((CYPHER_DIR / "lists.yaml").read_text(encoding="utf-8"))
    return {name: entry["kind"] for name, entry in lists.items()}


def _modified(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")


def freshness(resolved_dir: Path | None) -> m.Freshness:
    """Per department: its sources, when each export was made and the rows accepted, from
    run_report.json (`sources`: department and exported, loaders/reader.py); when the resolve
    output was written. Empty when the server was started without a resolve output."""
    report = resolved_dir / "run_report.json" if resolved_dir else None
    if report is None or not report.is_file():
        return m.Freshness()
    sources = json.loads(report.read_text(encoding="utf-8")).get("sources") or []
    departments: dict[str, list[m.SourceFreshness]] = {}
    for s in sources:
        departments.setdefault(s.get("department") or s["source"], []).append(m.SourceFreshness(
            source=s["source"], exported=s.get("exported") or None, rows=s.get("accepted")))
    return m.Freshness(resolved=_modified(report), departments=[
        m.DepartmentFreshness(department=d, sources=srcs,
                              latest_export=max((s.exported for s in srcs if s.exported), default=None))
        for d, srcs in sorted(departments.items())])


def by_department(records: list[m.DatedRecord]) -> list[m.DepartmentRecords]:
    """Records grouped by department, then list (both sorted), each group in store order."""
    groups: dict[str, dict[str, list[m.DatedRecord]]] = {}
    for r in records:
        groups.setdefault(r.department or r.source or "", {}).setdefault(r.list, []).append(r)
    return [m.DepartmentRecords(department=d, lists=[
        m.ListRecords(list=name, kind=list_kinds().get(name), records=rs) for name, rs in sorted(lists.items())])
        for d, lists in sorted(groups.items())]


class Credit:
    def __init__(self, queries: Queries):
        self.queries = queries
        self.store = queries.store

    @cached_property
    def _source_departments(self) -> dict[str, str]:
        """source -> department, for records loaded before list records carried their department."""
        return {s.source: d.department for d in freshness(self.queries.resolved_dir).departments for s in d.sources}

    def records(self, entity_id: str, as_of: str, in_force_only: bool = False) -> list[m.DatedRecord]:
        return [self._dated(r) for r in self.store.records(entity_id, as_of=as_of, include_history=not in_force_only)]

    def _dated(self, r: dict[str, Any]) -> m.DatedRecord:
        text = {k: (str(v) if v not in (None, "") else None) for k, v in r.items() if k != "status"}
        department = text.get("department") or self._source_departments.get(text.get("source") or "")
        return m.DatedRecord(**{**text, "department": department, "list": text.get("list") or ""},
                             kind=list_kinds().get(text.get("list") or ""), status=str(r.get("status")))

    def reverse(self, entity_id: str, as_of: str) -> m.ReverseCheck:
        hits = self.queries.discipline(entity_id, "reverse", as_of=as_of).hits
        negative = [h for h in hits if h.kind != "incentive"]
        return m.ReverseCheck(reached=bool(negative), hits=negative,
                              incentives=[h for h in hits if h.kind == "incentive"])

    def profile(self, entity_id: str, as_of: str) -> m.CreditProfile:
        entity = self.queries.entity_party(entity_id)
        records = self.records(entity_id, as_of)
        reverse = self.reverse(entity_id, as_of)
        return m.CreditProfile(
            entity=entity, as_of=as_of, departments=by_department(records), grades=grades(records),
            rules=self.queries.discipline(entity_id, "forward", as_of=as_of).hits, reverse=reverse,
            related_under_discipline=self._related_under_discipline(entity_id, reverse, as_of))

    def _related_under_discipline(self, entity_id: str, reverse: m.ReverseCheck,
                                  as_of: str) -> list[m.PartyUnderDiscipline]:
        """The reverse check's holders, then the direct shareholders; each party's records read once."""
        in_force: dict[str, list[m.DatedRecord]] = {}

        def negative_in_force(party: str) -> list[m.DatedRecord]:
            if party not in in_force:
                in_force[party] = [r for r in self.records(party, as_of, in_force_only=True)
                                   if r.kind == "negative"]
            return in_force[party]
        return (self._holders_under_discipline(reverse, negative_in_force)
                + self._shareholders_under_discipline(entity_id, negative_in_force))

    @staticmethod
    def _holders_under_discipline(reverse: m.ReverseCheck, negative_in_force) -> list[m.PartyUnderDiscipline]:
        """The reverse check's holders other than the entity itself, once per (holder, relation, role)."""
        groups: dict[tuple, list[m.DisciplineHit]] = {}
        for h in reverse.hits:
            if h.relation != "self":
                groups.setdefault((h.listed.entity_id, h.relation, h.role), []).append(h)
        out = []
        for (holder, _, _), hits in groups.items():
            uids = {x.record_uid for x in hits}
            h = hits[0]
            out.append(m.PartyUnderDiscipline(
                party=h.listed, relation=h.relation, role=h.role, share=h.share, path=h.path,
                records=[r for r in negative_in_force(holder) if r.record_uid in uids]))
        return out

    def _shareholders_under_discipline(self, entity_id: str, negative_in_force) -> list[m.PartyUnderDiscipline]:
        out = []
        for row in self.store.query("shareholders", entity_id=entity_id, threshold=SHAREHOLDER_THRESHOLD):
            records = negative_in_force(str(row["entity_id"]))
            if records:
                out.append(m.PartyUnderDiscipline(
                    party=self.queries.party(row), relation="shareholder", share=_num(row.get("ratio")),
                    path=Queries._steps(row.get("path")), records=records))
        return out

    def report_content(self, entity_id: str, as_of: str, *, number: str, created: str, reference: str,
                       purpose: str, produced_by: str) -> m.ReportContent:
        """What a report shows: the entity's records in force at as_of (a listing that ended or was
        removed harms nobody; the `history` permission is not the service's) and its grades among
        them, the reverse check, freshness."""
        records = self.records(entity_id, as_of, in_force_only=True)
        return m.ReportContent(
            number=number, created=created, as_of=as_of, reference=reference, purpose=purpose,
            produced_by=produced_by, entity=self.queries.entity_party(entity_id),
            departments=by_department(records), grades=grades(records),
            reverse=self.reverse(entity_id, as_of), freshness=freshness(self.queries.resolved_dir))


def grades(records: list[m.DatedRecord]) -> list[m.DatedRecord]:
    """Grade records (a record of its year, not a standing listing) oldest first."""
    return sorted((r for r in records if r.kind == "grade"), key=lambda r: (r.date or "", r.record_uid or ""))
