"""The declarative manifest: which export yields which parties, relations and list records.

Validated when it loads (pydantic), so a bad reference fails before row 1, not on row 40,000
(the followthemoney mapping idea). The format is documented in docs/architecture.md.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from creditgraph import cypher
from creditgraph.linkage.identifiers import BUILTIN_TYPES

Kind = Literal["enterprise", "person"]
FieldType = Literal["text", "date", "number", "ratio", "amount"]
_SCHEME = re.compile(r"[a-z][a-z0-9_]*")
Unit = Literal["percent", "fraction", "元", "万元", "亿元"]
UNITS = {"ratio": ("percent", "fraction"), "amount": ("元", "万元", "亿元")}
RELATION_TYPES = {"LEGAL_REP_OF", "SHAREHOLDER_OF", "EXECUTIVE_OF", "GUARANTEES", "BRANCH_OF", "EMPLOYED_BY"}
ENCODINGS = {"auto", "utf-8", "utf-8-sig", "gb18030", "gbk"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldSpec(Strict):
    column: str | None = None
    literal: str | None = None
    type: FieldType = "text"
    unit: Unit | None = None  # no value tells whether a bare `1` is 1% or 100%, 1元 or 1万元
    scheme: str | None = None  # an identifier column of a scheme of its own (customs_code)
    required: bool = False

    @model_validator(mode="after")
    def _one_source(self):
        if (self.column is None) == (self.literal is None):
            raise ValueError("a field takes exactly one of `column` or `literal`")
        return self

    @model_validator(mode="after")
    def _scheme(self):
        if self.scheme is None:
            return self
        if not _SCHEME.fullmatch(self.scheme):
            raise ValueError(f"scheme {self.scheme!r}: a name of lower-case letters, digits and _ (customs_code)")
        if self.scheme in BUILTIN_TYPES:
            raise ValueError(f"scheme {self.scheme!r} is a built-in identifier type, recognised by its shape: "
                             "leave `scheme` out")
        if self.type != "text":
            raise ValueError(f"a `scheme` goes with text values, not `type: {self.type}`")
        return self

    @model_validator(mode="after")
    def _unit(self):
        if self.type not in UNITS and self.unit is not None:
            raise ValueError(f"`unit` goes with `type: ratio` or `type: amount` only, not with `type: {self.type}`")
        if self.unit is not None and self.unit not in UNITS[self.type]:
            raise ValueError(f"a {self.type}'s unit is one of {list(UNITS[self.type])}, not {self.unit!r}")
        if self.type == "amount" and self.unit is None:
            named = _AMOUNT_IN_NAME.search(self.column or "")
            hint = f" (the column name {self.column!r} suggests {named[1]})" if named else ""
            raise ValueError(f"an amount needs its unit: `unit: 元`, `unit: 万元` or `unit: 亿元` (a bare 500 "
                             f"in a 万元 column is 5,000,000 yuan); amounts are stored in yuan{hint}")
        if self.type == "ratio" and self.unit is None:
            hint = f" (the column name {self.column!r} suggests percent)" if "%" in (self.column or "") else ""
            raise ValueError("a ratio needs its unit: `unit: percent` (a bare 35 is 35%) or `unit: fraction` "
                             f"(a bare 0.35 is 35%); a value written with % is a percentage either way{hint}")
        return self


def _field(key: str, value) -> FieldSpec:
    """A column name or a mapping. Built inside the validator of the mapping that holds it, where
    pydantic's error location would lose the field's key, so an error names the field itself."""
    try:
        spec = FieldSpec(column=value) if isinstance(value, str) else FieldSpec(**value)
    except ValidationError as e:
        raise ValueError(f"field {key!r}: " + "; ".join(map(_reason, e.errors()))) from None
    if spec.type != "amount" and _is_amount(key, spec.column):
        raise ValueError(f"field {key!r}: an amount ({spec.column or spec.literal!r}) takes `type: amount` "
                         "with its unit (`unit: 元`, `万元` or `亿元`), so that it is stored in yuan")
    return spec


# A money column, by its field key or its header (金额 amount, 资本 capital, a (万元) unit).
_AMOUNT_KEYS = re.compile(r"^(amount|capital)$|_amount$")
_AMOUNT_IN_NAME = re.compile(r"[(（]\s*(元|万元|亿元)\s*[)）]")
_MONEY_WORDS = re.compile(r"金额|资本")


def _is_amount(key: str, column: str | None) -> bool:
    return bool(_AMOUNT_KEYS.search(key) or column and (_AMOUNT_IN_NAME.search(column)
                                                        or _MONEY_WORDS.search(column)))


def _reason(err: dict) -> str:
    where, msg = ".".join(map(str, err["loc"])), err["msg"].removeprefix("Value error, ")
    return f"{where}: {msg}" if where else msg


class Condition(Strict):
    column: str
    equals: str | None = None
    not_equals: str | None = None
    in_: list[str] | None = Field(default=None, alias="in")

    def met_by(self, row: dict) -> bool:
        """Does the row's (trimmed) value in `column` meet the condition?"""
        return self.holds(row[self.column].strip())

    def holds(self, value: str) -> bool:
        if self.equals is not None:
            return value == self.equals
        if self.not_equals is not None:
            return value != self.not_equals
        return self.in_ is None or value in self.in_


class KindFrom(Strict):
    column: str
    map: dict[str, Kind]


class PartySpec(Strict):
    kind: Kind | None = None
    kind_from: KindFrom | None = None
    when: Condition | None = None
    optional: bool = False
    fields: dict[str, FieldSpec | list[FieldSpec]]

    @field_validator("fields", mode="before")
    @classmethod
    def _fields(cls, value: dict):
        out = {}
        for key, spec in value.items():
            out[key] = [_field(key, v) for v in spec] if isinstance(spec, list) else _field(key, spec)
            schemed = [s.scheme for s in (out[key] if isinstance(out[key], list) else [out[key]]) if s.scheme]
            if schemed and key != "identifiers":
                raise ValueError(f"field {key!r}: `scheme` goes with `identifiers` only")
        if "name" not in out:
            raise ValueError("a party needs a `name` field")
        return out

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.kind is None) == (self.kind_from is None):
            raise ValueError("a party takes exactly one of `kind` or `kind_from`")
        return self


class RelationSpec(Strict):
    type: str
    from_: str = Field(alias="from")
    to: str
    props: dict[str, FieldSpec] = {}
    when: Condition | None = None

    @field_validator("type")
    @classmethod
    def _known(cls, value: str):
        if value not in RELATION_TYPES:
            raise ValueError(f"unknown relation type {value!r}; known: {sorted(RELATION_TYPES)}")
        return value

    @field_validator("props", mode="before")
    @classmethod
    def _props(cls, value: dict):
        return {k: _field(k, v) for k, v in (value or {}).items()}


CYPHER = Path(cypher.__file__).resolve().parent
LISTS_FILE = CYPHER / "lists.yaml"


class ListEntry(Strict):
    kind: Literal["negative", "positive", "grade"]
    authority: str
    rules: list[str] = []


@lru_cache
def list_catalogue() -> dict[str, ListEntry]:
    """The lists a manifest may name (cypher/lists.yaml)."""
    raw = yaml.safe_load(LISTS_FILE.read_text(encoding="utf-8"))
    return {name: ListEntry(**entry) for name, entry in raw.items()}


REMOVAL_REASONS = ("performed", "revoked", "repaired", "expired")
RemovalReason = Literal["performed", "revoked", "repaired", "expired"]
_TERM = re.compile(r"([1-9][0-9]*)([ym])")
DATE_KEYS = ("effective_from", "effective_to", "removed_on")


def _date_field(key: str, value) -> FieldSpec:
    """A date of a record's period: a bare column name is read as a date."""
    spec = _field(key, {"column": value, "type": "date"} if isinstance(value, str) else value)
    if spec.type != "date" and spec.literal is None:
        raise ValueError(f"field {key!r}: a period's date takes `type: date`")
    return spec


class Reasons(Strict):
    """A removal's reason: a column (or literal) whose values `map` turns into one of
    REMOVAL_REASONS; a value already one of them needs no entry."""
    column: str | None = None
    literal: RemovalReason | None = None
    map: dict[str, RemovalReason] = {}

    @model_validator(mode="before")
    @classmethod
    def _bare_column(cls, value):
        return {"column": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_source(self):
        if (self.column is None) == (self.literal is None):
            raise ValueError("a removal reason takes exactly one of `column` or `literal`")
        return self


class ListSpec(Strict):
    party: str
    list: str
    grade: FieldSpec | None = None
    authority: FieldSpec | None = None
    case_no: FieldSpec | None = None
    date: FieldSpec | None = None  # publication date
    when: Condition | None = None
    # The record's period (docs/architecture.md, "Records over time"): from (default: `date`),
    # to (the last day in force; else `term` after the start, else none: in force until removed)
    effective_from: FieldSpec | None = None
    effective_to: FieldSpec | None = None
    term: str | None = None  # the list's own term: `3y`, `18m`
    removed_on: FieldSpec | None = None
    removal_reason: Reasons | None = None

    @field_validator("grade", "authority", "case_no", "date", mode="before")
    @classmethod
    def _spec(cls, value, info):
        return None if value is None else _field(info.field_name, value)

    @field_validator(*DATE_KEYS, mode="before")
    @classmethod
    def _period(cls, value, info):
        return None if value is None else _date_field(info.field_name, value)

    @field_validator("term")
    @classmethod
    def _term(cls, value):
        if value is not None and not _TERM.fullmatch(value):
            raise ValueError(f"term {value!r}: years or months, `3y` or `18m`")
        return value

    def columns(self) -> set[str]:
        specs = (self.grade, self.authority, self.case_no, self.date, self.effective_from,
                 self.effective_to, self.removed_on, self.removal_reason)
        return {s.column for s in specs if s and s.column} | ({self.when.column} if self.when else set())

    @field_validator("list")
    @classmethod
    def _known(cls, value: str):
        if value not in list_catalogue():
            raise ValueError(f"unknown list {value!r}: not in the catalogue cypher/lists.yaml, so no rule "
                             f"would reach it; known: {sorted(list_catalogue())}")
        return value

    @model_validator(mode="after")
    def _graded(self):
        if list_catalogue()[self.list].kind == "grade" and self.grade is None:
            raise ValueError(f"list {self.list!r} is a grade: its records need a `grade` field")
        if self.term and self.effective_from is None and self.date is None:
            raise ValueError("a `term` runs from the record's start: map `effective_from` or `date`")
        return self


class RemovalSpec(Strict):
    """What a source of kind `removals` ends: a record of `source` named by its record id, or by
    case number + the subject's identifier; on `removed_on`, for `reason`."""
    source: str
    list: str | None = None  # only that list's records (a row may carry several)
    record_id: FieldSpec | None = None
    case_no: FieldSpec | None = None
    identifier: FieldSpec | None = None
    removed_on: FieldSpec
    reason: Reasons

    @field_validator("record_id", "case_no", "identifier", mode="before")
    @classmethod
    def _spec(cls, value, info):
        return None if value is None else _field(info.field_name, value)

    @field_validator("removed_on", mode="before")
    @classmethod
    def _date(cls, value):
        return _date_field("removed_on", value)

    @field_validator("list")
    @classmethod
    def _known(cls, value):
        if value is not None and value not in list_catalogue():
            raise ValueError(f"unknown list {value!r}: not in the catalogue cypher/lists.yaml")
        return value

    @model_validator(mode="after")
    def _names_a_record(self):
        by_case = self.case_no is not None and self.identifier is not None
        if (self.record_id is not None) == by_case or (not by_case and (self.case_no or self.identifier)):
            raise ValueError("a removal names its record by `record_id`, or by `case_no` and `identifier`")
        return self

    def columns(self) -> set[str]:
        specs = (self.record_id, self.case_no, self.identifier, self.removed_on, self.reason)
        return {s.column for s in specs if s and s.column}


# The keys each format takes beside the common ones (name, department, record_id, parties...).
_FORMAT_KEYS = {"csv": {"file", "encoding", "delimiter"}, "xlsx": {"file", "sheet", "header_row"},
                "sql": {"url", "table", "query"}}
_URL_PASSWORD = re.compile(r"^[\w+.-]+://[^:@/]*:(?P<pw>[^@]*)@|[?&]password=(?P<qpw>[^&]*)")
_ENV_VAR = re.compile(r"\$\{\w+\}")
_TABLE = re.compile(r"\w+(\.\w+)?")
_SELECT = re.compile(r"\s*(select|with)\b", re.IGNORECASE)


class SourceSpec(Strict):
    name: str
    department: str
    format: Literal["csv", "xlsx", "sql"] = "csv"
    file: str | None = None  # csv, xlsx: relative to the manifest
    encoding: str = "auto"  # csv
    delimiter: str = ","  # csv
    sheet: str | None = None  # xlsx: by name; default the first
    header_row: int = Field(1, ge=1)  # xlsx: the row holding the column names
    url: str | None = None  # sql: SQLAlchemy URL, ${VAR} read from the environment (loaders/sql.py)
    table: str | None = None  # sql: `name` or `schema.name`, read whole
    query: str | None = None  # sql: a SELECT run as given, read only
    record_id: str
    main: str = "subject"  # the row's main party; the other party keys are free role names
    kind: Literal["records", "removals"] = "records"  # removals: each row ends a record (`removes`)
    removes: RemovalSpec | None = None
    parties: dict[str, PartySpec] = {}
    relations: list[RelationSpec] = []
    lists: list[ListSpec] = []

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str):
        if value.lower() not in ENCODINGS:
            raise ValueError(f"encoding {value!r} not supported; use one of {sorted(ENCODINGS)}")
        return value.lower()

    @model_validator(mode="after")
    def _format(self):
        takes = _FORMAT_KEYS[self.format]
        wrong = sorted((set().union(*_FORMAT_KEYS.values()) - takes) & self.model_fields_set)
        if wrong:
            raise ValueError(f"{wrong} do not go with `format: {self.format}`, which takes {sorted(takes)}")
        if self.format != "sql":
            if self.file is None:
                raise ValueError(f"a {self.format} source needs its `file`")
            return self
        if self.url is None or (self.table is None) == (self.query is None):
            raise ValueError("a sql source takes a `url` and exactly one of `table` or `query`")
        for found in _URL_PASSWORD.finditer(self.url):
            password = found["pw"] if found["pw"] is not None else found["qpw"]
            if password and not _ENV_VAR.fullmatch(password):
                raise ValueError("the url holds a password in clear: name an environment variable instead, "
                                 "`postgresql://reader:${CITY_DB_PASSWORD}@host/db` or `url: ${CITY_DB_URL}`")
        if self.table is not None and not _TABLE.fullmatch(self.table):
            raise ValueError(f"table {self.table!r}: a name or schema.name")
        if self.query is not None and not _SELECT.match(self.query):
            raise ValueError("a `query` reads: it begins with SELECT or WITH")
        return self

    @model_validator(mode="after")
    def _references(self):
        if self.kind == "removals":
            if self.removes is None or self.parties or self.relations or self.lists:
                raise ValueError("a source of kind `removals` has `removes` (the records it ends), "
                                 "no parties, relations or lists")
            return self
        if self.removes is not None:
            raise ValueError("`removes` goes with `kind: removals`")
        main = self.parties.get(self.main)
        if main is None:
            raise ValueError(f"the main party {self.main!r} is not among the parties {sorted(self.parties)}; "
                             "name the row's main party with `main: <role>` (default `subject`)")
        if main.optional or main.when:
            raise ValueError(f"the main party {self.main!r} cannot be optional or conditional: every row has it")
        for rel in self.relations:
            for end in (rel.from_, rel.to):
                if end not in self.parties:
                    raise ValueError(f"relation {rel.type} names party {end!r}, not among {sorted(self.parties)}")
        for lst in self.lists:
            if lst.party not in self.parties:
                raise ValueError(f"list {lst.list} names party {lst.party!r}, not among {sorted(self.parties)}")
        return self

    def columns(self) -> set[str]:
        """Every column this entry reads: the file must have them all."""
        cols = {self.record_id}
        for party in self.parties.values():
            cols |= _party_columns(party)
        for rel in self.relations:
            cols |= {s.column for s in rel.props.values() if s.column}
            cols |= {rel.when.column} if rel.when else set()
        for lst in self.lists:
            cols |= lst.columns()
        cols |= self.removes.columns() if self.removes else set()
        return cols


def _party_columns(party: PartySpec) -> set[str]:
    cols = set()
    for spec in party.fields.values():
        for s in spec if isinstance(spec, list) else [spec]:
            if s.column:
                cols.add(s.column)
    if party.kind_from:
        cols.add(party.kind_from.column)
    if party.when:
        cols.add(party.when.column)
    return cols


class Manifest(Strict):
    dataset: str
    sources: list[SourceSpec]
    base_dir: Path = Path(".")

    @model_validator(mode="after")
    def _unique(self):
        names = [s.name for s in self.sources]
        dupes = {n for n in names if names.count(n) > 1}
        if dupes:
            raise ValueError(f"source names must be unique; repeated: {sorted(dupes)}")
        kinds = {s.name: s.kind for s in self.sources}
        for s in self.sources:
            if s.removes and kinds.get(s.removes.source) != "records":
                raise ValueError(f"source {s.name!r} removes records of {s.removes.source!r}, which is not "
                                 f"a source of records in this manifest; sources: {sorted(kinds)}")
        return self

    def path_of(self, source: SourceSpec) -> Path | None:
        """The export's path; None for a database source."""
        return None if source.file is None else self.base_dir / source.file


class ManifestError(ValueError):
    pass


def load_manifest(path: Path) -> Manifest:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise ManifestError(f"{path}: cannot read the manifest: {e}") from e
    if not isinstance(raw, dict):
        raise ManifestError(f"{path}: the manifest must be a mapping with `dataset` and `sources`")
    try:
        return Manifest(**raw, base_dir=path.parent)
    except ValidationError as e:
        raise ManifestError(f"{path}: invalid manifest:\n{_explain(e, raw)}") from e


def _explain(error: ValidationError, raw: dict) -> str:
    lines = []
    for err in error.errors():
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc)
        if loc[:1] == ["sources"] and len(loc) > 1 and isinstance(loc[1], int):
            name = (raw.get("sources") or [{}])[loc[1]].get("name", "?")
            where = f"source {name!r}: " + ".".join(str(p) for p in loc[2:])
        lines.append(f"  {where}: {err['msg']}")
    return "\n".join(lines)
