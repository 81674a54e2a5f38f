"""Response and request models. Masking of persons' data happens here, on serialisation.

`Party` is the base of every model that names an entity: when it is a person and the caller
may not see identity numbers in clear (api.access: clear_id_numbers), its `identifier` is
masked (`**************3018`, creditgraph.base.privacy.mask), its birth date and addresses
left out and its phones masked: nothing of the area code or the birth date shows (docs/api.md,
"Persons' data"). Review evidence shows identity numbers and birth dates only as comparisons.
"""
from __future__ import annotations

from datetime import date
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from creditgraph.api.masking import clear_ids_allowed, mask_number
from creditgraph.base.privacy import scrub_any
from creditgraph.linkage.decisions import Verdict


class RelationType(str, Enum):
    LEGAL_REP_OF = "LEGAL_REP_OF"
    SHAREHOLDER_OF = "SHAREHOLDER_OF"
    EXECUTIVE_OF = "EXECUTIVE_OF"
    GUARANTEES = "GUARANTEES"
    BRANCH_OF = "BRANCH_OF"
    EMPLOYED_BY = "EMPLOYED_BY"
    POSSIBLY_SAME_AS = "POSSIBLY_SAME_AS"


class Kind(str, Enum):
    PERSON = "person"
    ENTERPRISE = "enterprise"


class Error(BaseModel):
    detail: Any = Field(description="what went wrong and how to fix the request")


class Health(BaseModel):
    status: str
    store: str
    review_queue: int


def _mask_phone(p: str) -> str:
    digits = "".join(c for c in p if c.isdigit())
    return digits[:3] + "*" * max(len(digits) - 7, 0) + digits[-4:] if len(digits) >= 8 else "*" * len(digits)


class Party(BaseModel):
    """An entity (enterprise or person) as named in any answer."""

    model_config = ConfigDict(extra="ignore")

    entity_id: str
    kind: str
    name: str | None = None
    identifier: str | None = Field(None, description=(
        "USCC / organisation code for enterprises; a person's identity number, "
        "masked unless the caller's role may see it in clear"))
    identifier_type: str | None = None

    def _person_masked(self) -> bool:
        return self.kind == Kind.PERSON.value and not clear_ids_allowed()

    @field_serializer("identifier")
    def _ser_identifier(self, v: str | None) -> str | None:
        return mask_number(v) if v and self._person_masked() else v


class SourceRecord(BaseModel):
    source: str
    record_id: str


class ListRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    record_uid: str | None = None
    list: str
    grade: str | None = None
    authority: str | None = None
    case_no: str | None = None
    date: str | None = None
    source: str | None = None
    record_id: str | None = None
    effective_from: str | None = None
    effective_to: str | None = Field(None, description="the last day in force (a term), if any")
    removed_on: str | None = Field(None, description="removed (performed, revoked, repaired, expired) from this day")
    removal_reason: str | None = None


class EntityDetail(Party):
    aliases: list[str] = []
    departments: list[str] = Field([], description="departments whose records name this entity")
    records: list[SourceRecord] = Field([], description="source records (provenance)")
    n_sources: int | None = None
    addresses: list[str] = []
    phones: list[str] = []
    birth_date: str | None = None
    attrs: dict[str, Any] = {}
    list_records: list[ListRecord] = Field([], description="blacklist / red-list records")

    @field_serializer("birth_date")
    def _ser_birth(self, v: str | None) -> str | None:
        return None if self._person_masked() else v

    @field_serializer("addresses")
    def _ser_addresses(self, v: list[str]) -> list[str]:
        return [] if self._person_masked() else v  # a home address points at the area code

    @field_serializer("phones")
    def _ser_phones(self, v: list[str]) -> list[str]:
        return [_mask_phone(p) for p in v] if self._person_masked() else v


class SearchHit(Party):
    aliases: list[str] = []
    score: float | None = None
    departments: list[str] = []


class SearchResult(BaseModel):
    query: str
    identifier_type: str | None = None
    hits: list[SearchHit]


class Edge(BaseModel):
    """A relation as stored: `from_id` is its start node (a walk may go against the arrow)."""

    model_config = ConfigDict(extra="ignore")

    from_id: str
    to_id: str
    type: str
    ratio: float | None = None
    role: str | None = None
    amount: float | None = None


class RelatedParty(Party):
    distance: int = Field(description="hops from the queried entity")
    path: list[Edge] = Field([], description="the shortest walk from the queried entity")


class RelatedResult(BaseModel):
    entity: Party
    depth: int
    types: list[str]
    limit: int
    truncated: bool = Field(description="more parties than `limit` were found")
    parties: list[RelatedParty]


class DisciplineHit(BaseModel):
    """Forward: `listed` is the listed subject, `reached` a party its listing reaches.
    Reverse: `reached` is the candidate, `listed` the holder of the record (itself, its legal
    representative, controller or executive)."""

    listed: Party
    reached: Party
    relation: str = Field(description="legal_rep, controller, director, ..., or self (reverse; an incentive)")
    role: str | None = Field(None, description="an executive's role text")
    kind: str | None = Field(None, description=(
        "discipline (a negative list's joint discipline; reverse: a record on the lists checked) or "
        "incentive (a red list's measures, reaching the listed entity itself)"))
    list: str
    record_uid: str | None = None
    authority: str | None = None
    case_no: str | None = None
    date: str | None = None
    rule: str | None = None
    basis: str | None = Field(None, description="the rule that extends the listing, or grants the incentive")
    measures: list[str] = Field([], description="an incentive's measures (green_channel, fewer_inspections, ...)")
    share: float | None = Field(None, description="a controller's ultimate share")
    path: list[Edge] = []
    status: str | None = Field(None, description=(
        "the record at `as_of`: in_force, or (include_history only) not_yet, ended, removed"))
    effective_from: str | None = None
    effective_to: str | None = Field(None, description="the last day in force (a term), if any")
    removed_on: str | None = Field(None, description="the day a removal took effect: not in force from then")
    removal_reason: str | None = Field(None, description="performed, revoked, repaired or expired")


class DisciplineResult(BaseModel):
    entity: Party
    direction: str
    as_of: str | None = Field(None, description="the date the rules were applied at (YYYY-MM-DD)")
    hits: list[DisciplineHit]


class Chain(BaseModel):
    share: float
    path: list[Edge]


class Owner(Party):
    share: float = Field(description="ultimate share: products along each chain, summed over chains")
    chains: list[Chain] = []


class OwnersResult(BaseModel):
    entity: Party
    threshold: float
    owners: list[Owner]


class Circle(BaseModel):
    members: list[Party] = Field(description="in circle order, starting at the smallest id")
    length: int
    steps: list[Edge] = []
    total_amount: float | None = None


class CirclesResult(BaseModel):
    entity_id: str | None
    max_length: int
    limit: int
    circles: list[Circle]


class Path(BaseModel):
    length: int
    nodes: list[Party]
    steps: list[Edge]


class PathResult(BaseModel):
    from_id: str
    to_id: str
    max_length: int
    found: bool
    paths: list[Path] = Field([], description="all shortest paths (at most `limit`)")


class Contact(BaseModel):
    type: str
    value: str
    sharing: int | None = None


class SharedContact(Party):
    shared: int
    weight: float | None = None
    contacts: list[Contact] = []


class SharedContactsResult(BaseModel):
    entity: Party
    max_sharing: int
    parties: list[SharedContact]


# Fields a steward sees only as a comparison (linkage.compare.DESCRIBERS), per kind: resolve
# writes `compare` instead of the values; values a queue from before issue 9 holds are dropped here.
COMPARED_ONLY = {"person": ("id", "birth_date"), "enterprise": ("row_person",)}


class Evidence(BaseModel):
    model_config = ConfigDict(extra="allow")

    left: Any = None
    right: Any = None
    compare: str | None = Field(None, description=(
        "identity numbers and birth dates: where the two differ (same, one character differs at "
        "position k, different), never the values"))
    level: str | None = None
    weight: float | None = None


def _evidence_out(v: dict[str, Evidence], kind: str) -> dict[str, Any]:
    """Compared-only fields without values, and identity numbers scrubbed, unless the caller's
    role may see them in clear."""
    out = {k: e.model_dump() for k, e in v.items()}
    if clear_ids_allowed():
        return out
    for field in COMPARED_ONLY.get(kind, ()):
        if field in out:
            out[field].update(left=None, right=None)
    return scrub_any(out)


class Candidate(BaseModel):
    """One entity a mention of an item with candidates may be."""

    kind: str
    entity_id: str
    mention: str = Field(description="the candidate's mention the evidence compares with")
    left_mention: str | None = Field(None, description="the item's mention compared (the item's left_mention, "
                                                       "or another mention of its entity)")
    party: Party | None = None
    score: float | None = None
    reason: str | None = None
    evidence: dict[str, Evidence] = {}

    @field_serializer("evidence")
    def _ser_evidence(self, v: dict[str, Evidence]) -> dict[str, Any]:
        return _evidence_out(v, self.kind)


class FieldWeight(BaseModel):
    field: str
    level: str | None = Field(None, description="the comparison level the pair reached (missing: no value)")
    weight: float = Field(description="the level's weight in bits, log2(m/u); 0 for a missing value")


class PairWeights(BaseModel):
    """A pair's score as a sum of evidence in bits (log2 odds), for a waterfall: the prior, then
    each field of the model in order, ending at the match weight. Weights and levels only."""

    prior: float = Field(description="log2 odds of a match before any evidence, from the run's fitted prior")
    fields: list[FieldWeight]
    match_weight: float = Field(description="prior plus every field's weight")
    probability: float = Field(description="the match weight as a probability, 1 / (1 + 2^-match_weight)")


class ReviewItem(BaseModel):
    pair_id: str = Field(description="the item's id: a pair of mentions, or a mention with its candidates")
    kind: str
    left_mention: str
    right_mention: str = Field(description="a pair's other mention; for an item with candidates, the best one's")
    left_entity: str | None = None
    right_entity: str | None = None
    left: Party | None = Field(None, description="the entity the left record is in now")
    right: Party | None = None
    score: float | None = None
    reason: str | None = None
    evidence: dict[str, Evidence] = {}
    candidates: list[Candidate] = Field([], description=(
        "a mention that fits several entities, best first: decide `same` with `candidate` (the one "
        "it is) or `different` (none of them); empty for a pair"))
    decision: str | None = Field(None, description="latest steward verdict, if any")
    weights: PairWeights | None = Field(None, description=(
        "the score field by field, for a waterfall; none when the resolve output has no run_report.json "
        "with the fitted model"))

    @field_serializer("evidence")
    def _ser_evidence(self, v: dict[str, Evidence]) -> dict[str, Any]:
        return _evidence_out(v, self.kind)


class ReviewQueue(BaseModel):
    total: int = Field(description="items in the queue, decided or not")
    pending: int = Field(description="items not yet decided (none, or unsure)")
    items: list[ReviewItem]


class DecisionIn(BaseModel):
    pair_id: str = Field(min_length=1, max_length=200, description="pair_id from the review queue")
    verdict: Verdict
    note: str = Field("", max_length=2000)
    candidate: str | None = Field(None, min_length=1, max_length=200, description=(
        "an item with candidates: with `same`, the one chosen (its entity_id, mention or number from 1)"))


class DecisionOut(BaseModel):
    pair_id: str
    left: str
    right: str
    verdict: Verdict
    who: str
    note: str
    score: float | None
    when: str
    candidate: str | None = Field(None, description="the entity chosen, for `same` on an item with candidates")
    pairs: list[list[str]] = Field([], description=(
        "every mention pair the verdict was recorded for: one, or each candidate for `different` on an "
        "item with candidates"))


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="allow")

    when: str | None = None
    who: str | None = None
    roles: list[str] = []
    method: str | None = None
    endpoint: str | None = None
    params: dict[str, Any] = {}
    purpose: str | None = None
    status: int | None = None
    ms: float | None = None


class AuditResult(BaseModel):
    entries: list[AuditEntry]


# --- credit profile and credit report (api/credit.py, api/reports.py) -----------------------------

class DatedRecord(ListRecord):
    """A list record with its department, its list's kind and its status at the answer's `as_of`."""

    department: str | None = None
    kind: str | None = Field(None, description="negative, positive or grade (cypher/lists.yaml)")
    status: str = Field(description="in_force, not_yet, removed or ended at as_of")


class ListRecords(BaseModel):
    list: str
    kind: str | None = None
    records: list[DatedRecord]


class DepartmentRecords(BaseModel):
    department: str = Field(description="the department whose export holds the records")
    lists: list[ListRecords]


class ReverseCheck(BaseModel):
    """Is the entity under joint discipline at as_of, itself or through its legal
    representative, actual controller or executives? And which incentives does it earn?"""

    reached: bool = Field(description="a negative record in force reaches the entity")
    hits: list[DisciplineHit] = Field([], description="the records that reach it")
    incentives: list[DisciplineHit] = Field([], description="its own positive records an incentive rule reaches")


class PartyUnderDiscipline(BaseModel):
    party: Party
    relation: str = Field(description="legal_rep, controller, executive or shareholder")
    role: str | None = Field(None, description="an executive's role text")
    share: float | None = Field(None, description="a controller's ultimate share, a shareholder's ratio")
    path: list[Edge] = []
    records: list[DatedRecord] = Field(description="its negative records in force at as_of")


class CreditProfile(BaseModel):
    entity: Party
    as_of: str
    departments: list[DepartmentRecords] = Field(description="every record, by department and list")
    grades: list[DatedRecord] = Field(description="grade records (tax, customs) by date")
    rules: list[DisciplineHit] = Field(description="the rules its records in force trigger, and whom they reach")
    reverse: ReverseCheck
    related_under_discipline: list[PartyUnderDiscipline] = Field(description=(
        "its legal representatives, actual controllers, executives and shareholders at or above the "
        "threshold that are themselves under discipline at as_of, with the path to them"))


class SourceFreshness(BaseModel):
    source: str
    exported: str | None = Field(None, description="when the export file was made (UTC)")
    rows: int | None = Field(None, description="rows accepted")


class DepartmentFreshness(BaseModel):
    department: str
    latest_export: str | None = None
    sources: list[SourceFreshness]


class Freshness(BaseModel):
    resolved: str | None = Field(None, description="when the resolve output was written (UTC)")
    departments: list[DepartmentFreshness] = []


class ReportIn(BaseModel):
    entity_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")
    as_of: date | None = Field(None, description="the date the rules apply at, YYYY-MM-DD; default today")
    reference: str = Field("", max_length=200, description="the bid or tender the report is filed with")


class ReportContent(BaseModel):
    """What a credit report shows: only what the service role sees (records in force at as_of,
    the reverse check, freshness), identity numbers masked."""

    number: str
    created: str
    as_of: str
    reference: str
    purpose: str
    produced_by: str
    entity: Party
    departments: list[DepartmentRecords]
    grades: list[DatedRecord]
    reverse: ReverseCheck
    freshness: Freshness


class ReportOut(BaseModel):
    number: str = Field(description="CR-YYYYMMDD-NNNNNN: the same number gives the same report later")
    entity_id: str
    as_of: str
    created: str
    reached: bool = Field(description="the reverse check's answer")
    html: str = Field(description="path of the report as HTML")
    pdf: str = Field(description="path of the report as PDF")
