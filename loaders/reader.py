"""Read each export of a manifest into mentions, relations and list records.

Every data row ends up accepted or in the rejects with file, line, column and reason, and the
per-source counts add up (rows_read == accepted + rejected). Nothing is dropped silently.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from creditgraph.base.privacy import scrub
from creditgraph.loaders.cells import raw_line
from creditgraph.loaders.fields import FieldError, parse_value
from creditgraph.loaders.manifest import FieldSpec, Manifest, PartySpec, SourceSpec
from creditgraph.loaders.removals import REMOVAL_COLUMNS, reason_of, term_end
from creditgraph.loaders.sql import SqlSourceError, sql_rows
from creditgraph.loaders.xlsx import SheetError, sheet_rows

# Fields a mention carries as columns; any other party field goes into `attrs`.
MENTION_FIELDS = ("birth_date", "gender", "address", "phone", "email")
MENTION_COLUMNS = ["mention_id", "source", "department", "file", "line", "record_id", "role", "kind",
                   "name", "identifiers", *MENTION_FIELDS, "attrs"]
RELATION_COLUMNS = ["from_mention", "to_mention", "type", "ratio", "role", "amount", "source", "record_id"]
LIST_COLUMNS = ["mention_id", "list", "grade", "authority", "case_no", "date", "source", "record_id",
                "department", "effective_from", "effective_to", "removed_on", "removal_reason"]
REJECT_COLUMNS = ["file", "line", "column", "reason", "source", "raw"]


class RowError(ValueError):
    def __init__(self, column: str, reason: str):
        super().__init__(reason)
        self.column = column
        self.reason = reason


@dataclass
class SourceReport:
    source: str
    file: str
    department: str = ""
    exported: str = ""  # the export file's modification time (UTC): its freshness in a credit report
    encoding: str = ""
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    mentions: int = 0
    error: str = ""


COLUMNS = {"mentions": MENTION_COLUMNS, "relations": RELATION_COLUMNS, "lists": LIST_COLUMNS,
           "rejects": REJECT_COLUMNS, "removals": REMOVAL_COLUMNS}
PARALLEL_BYTES = 20_000_000  # below this much input, a process pool costs more than it saves


@dataclass
class LoadResult:
    """Rows as lists while a source is read; each finished source is turned into frames, so
    the row dictionaries of only one source are in memory at a time."""
    mentions: list[dict] = field(default_factory=list)
    relations: list[dict] = field(default_factory=list)
    lists: list[dict] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    removals: list[dict] = field(default_factory=list)  # rows of sources of kind `removals`
    reports: list[SourceReport] = field(default_factory=list)
    chunks: dict[str, list[pd.DataFrame]] = field(default_factory=lambda: {k: [] for k in COLUMNS})

    def flush(self) -> dict[str, pd.DataFrame]:
        frames = {k: pd.DataFrame(getattr(self, k), columns=cols) for k, cols in COLUMNS.items()}
        for k, frame in frames.items():
            self.chunks[k].append(frame)
            getattr(self, k).clear()
        return frames

    def frames(self) -> dict[str, pd.DataFrame]:
        """The sources' frames joined; the per-source parts are let go (a second copy of every
        row's cells, alive as long as the LoadResult, which a resolve keeps for its report)."""
        self.flush()
        joined = {k: _concat(parts) for k, parts in self.chunks.items()}
        self.chunks = {k: [frame] for k, frame in joined.items()}
        return joined


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    filled = [p for p in parts if len(p)]
    if len(filled) <= 1:
        return (filled or parts)[0]
    with warnings.catch_warnings():
        # A source without, say, amounts has an all-empty column; the columns are fixed by
        # COLUMNS, so pandas' coming change in dtype inference for such columns is harmless.
        warnings.simplefilter("ignore", FutureWarning)
        return pd.concat(filled, ignore_index=True)


def read_manifest(manifest: Manifest) -> LoadResult:
    """Read every source; on large inputs, two sources at a time in worker processes."""
    paths = [manifest.path_of(s) for s in manifest.sources]
    size = sum(p.stat().st_size for p in paths if p and p.exists())
    if size < PARALLEL_BYTES or len(paths) < 2:
        return _gathered(map(_read_one, paths, manifest.sources))
    with ProcessPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:  # its workers end with the read
        return _gathered(pool.map(_read_one, paths, manifest.sources))


def _gathered(outcomes) -> LoadResult:
    result = LoadResult()
    for report, frames in outcomes:
        result.reports.append(report)
        for k, frame in frames.items():
            result.chunks[k].append(frame)
    return result


def _read_one(path: Path, source: SourceSpec) -> tuple[SourceReport, dict[str, pd.DataFrame]]:
    part = LoadResult()
    report = read_source(path, source, part)
    return report, part.flush()


# -- decoding ---------------------------------------------------------------------------------

class MixedEncodingError(ValueError):
    pass


def detect_encoding(data: bytes) -> str:
    """UTF-8 with BOM, UTF-8, else GB18030 (a superset of GBK and GB2312), judged line by line:
    one bad byte in a UTF-8 export makes that line undecodable, not the file GB18030 (which
    would garble every good line). Lines that only UTF-8 reads beside lines that only GB18030
    reads raise MixedEncodingError naming both."""
    body = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
    utf8 = "utf-8-sig" if body is not data else "utf-8"
    try:
        body.decode("utf-8")
        return utf8
    except UnicodeDecodeError:
        pass
    seen: dict[str, list[int]] = {"utf-8": [], "gb18030": []}
    for number, raw in enumerate(body.splitlines(), 1):
        kind = _line_encoding(raw)
        if kind:
            seen[kind].append(number)
    if seen["utf-8"] and seen["gb18030"]:
        raise MixedEncodingError(f"lines in two encodings: UTF-8 ({_lines(seen['utf-8'])}) and GB18030 "
                                 f"({_lines(seen['gb18030'])}); re-export it in one encoding")
    return utf8 if seen["utf-8"] or not seen["gb18030"] else "gb18030"


def _line_encoding(raw: bytes) -> str | None:
    """The encoding a line is evidently written in, or None (ASCII, too short to tell, or
    readable in neither). UTF-8 evidence is a whole CJK character (3 bytes; GB18030 text read as
    UTF-8 forms 2-byte ones by chance, hardly ever 3-byte). A line UTF-8 fails on is still UTF-8
    if it reads more CJK characters than runs of bad bytes (one damaged byte among good text)."""
    if raw.isascii():
        return None
    lenient = raw.decode("utf-8", errors="replace")
    cjk = sum(ch >= "\u0800" and ch != "\ufffd" for ch in lenient)
    if "\ufffd" not in lenient or cjk > len(_BAD_RUNS.findall(lenient)):
        return "utf-8" if cjk else None
    try:
        raw.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        return None


_BAD_RUNS = re.compile("\ufffd+")


def _lines(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:3]))
    return f"line {shown}" if len(numbers) == 1 else f"lines {shown}" + (", ..." if len(numbers) > 3 else "")


def decode_lines(data: bytes, encoding: str):
    """Yield (line_number, text or None, error) per physical line; a bad line never stops the file."""
    if encoding == "utf-8-sig" and data.startswith(codecs.BOM_UTF8):
        data, encoding = data[len(codecs.BOM_UTF8):], "utf-8"
    for number, raw in enumerate(data.splitlines(keepends=True), 1):
        try:
            yield number, raw.decode(encoding), None
        except UnicodeDecodeError as e:
            yield number, None, f"bytes not valid {encoding} at offset {e.start}: {raw[e.start:e.start + 4]!r}"


# -- one source -------------------------------------------------------------------------------

def _modified(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")


def read_source(path: Path | None, source: SourceSpec, result: LoadResult, tap=None) -> SourceReport:
    """Read one export of any format. `tap(header, rows)`, if given, returns the rows (line,
    values, raw) it is handed, having seen them: an ingest takes a delta's ops and the batch's
    digest from this same reading, whatever the format."""
    if source.format != "csv":
        return _read_table(path, source, result, tap)
    report = SourceReport(source=source.name, file=str(path), department=source.department)
    try:
        data = path.read_bytes()
        report.exported = _modified(path)
    except OSError as e:
        report.error = f"source {source.name!r}: cannot read {path}: {e.strerror}"
        return report  # a failed source (the run report's failed_sources), not a reject row
    try:
        report.encoding = source.encoding if source.encoding != "auto" else detect_encoding(data)
    except MixedEncodingError as e:
        report.error = f"source {source.name!r} ({path.name}): {e}"
        return report
    rows = _csv_rows(decode_lines(data, report.encoding), source.delimiter, report, result, source.name)
    header = next(rows, None)
    if header is None:
        report.error = f"source {source.name!r}: {path} is empty (no header)"
        return report
    header = [h.strip().lstrip("\ufeff") for h in header[1]]
    return _read_rows(source, header, _tapped(tap, header, rows), report, result, path.name)


def _tapped(tap, header: list[str], rows):
    return rows if tap is None else tap(header, rows)


def _read_table(path: Path | None, source: SourceSpec, result: LoadResult, tap=None) -> SourceReport:
    """An XLSX sheet or a database table or query: its typed cells as the text a CSV holds, then
    read as a CSV's rows are. `file` names the sheet (`court.xlsx[名单]`) or the database and
    table (password hidden); `line` is the sheet's row number, or the row's ordinal in the result."""
    report = SourceReport(source=source.name, file=str(path or ""), department=source.department)
    try:
        if source.format == "xlsx":
            label, header, rows = sheet_rows(path, source)
            report.exported, short = _modified(path), Path(label).name
        else:
            label, header, rows = sql_rows(source)
            # a database holds the department's current data: it is as fresh as its reading
            report.exported, short = datetime.now(timezone.utc).isoformat(timespec="seconds"), label
    except (OSError, SheetError, SqlSourceError) as e:
        report.error = f"source {source.name!r}: {e}"
        return report
    report.file = label
    rows = _table_rows(rows, report, result, source.name)
    return _read_rows(source, header, _tapped(tap, header, rows), report, result, short)


def _table_rows(rows, report: SourceReport, result: LoadResult, source: str):
    """(line, texts, raw) of a sheet's or a table's rows; one holding a value that cannot be
    trusted (an identifier that lost digits in a number cell) goes to the rejects."""
    for line, texts, raw, problem in rows:
        if problem:
            report.rows_read += 1
            report.rejected += 1
            result.rejects.append(_reject(report.file, line, *problem, source, raw))
            continue
        yield line, texts, raw


def _read_rows(source: SourceSpec, header: list[str], rows, report: SourceReport, result: LoadResult,
               short: str) -> SourceReport:
    """Every row accepted or rejected, whatever the format; `short` names the export in errors."""
    missing = sorted(source.columns() - set(header))
    if missing:
        report.error = (f"source {source.name!r} ({short}): missing column(s) {missing}; "
                        f"the file has {header}")
    seen: dict[str, int] = {}
    for line, values, raw in rows:
        report.rows_read += 1
        try:
            if missing:
                raise RowError(",".join(missing), report.error)
            _accept(source, header, values, line, seen, report, result)
            report.accepted += 1
        except RowError as e:
            report.rejected += 1
            result.rejects.append(_reject(report.file, line, e.column, e.reason, source.name, raw))
    if not report.rows_read and not report.error and source.kind != "removals":  # a day may remove nothing
        report.error = f"source {source.name!r}: {report.file} has a header but no data rows"
    return report


# A quoted field may hold line breaks (an address typed with Enter in a spreadsheet), so a record
# can span physical lines. An unclosed quote must not swallow the rest of the file: after this many
# lines the record's first line is rejected on its own and the lines after it are read again.
MAX_RECORD_LINES = 20


def _quote_open(text: str, delimiter: str) -> bool:
    """Does `text` end inside a quoted field? The csv module's strict mode says so at end of data
    (its lenient mode, used to read the values, would silently close the field)."""
    if '"' not in text:
        return False
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True):
            pass
    except csv.Error as e:
        return "unexpected end of data" in str(e)
    return False


def _records(lines, delimiter: str):
    """Join physical lines into CSV records: yield (first line, text, error); on an error the
    text is the record's first line (or None for an undecodable line)."""
    lines, again = iter(lines), []  # again: lines to read a second time, the next one last
    pending: list[tuple[int, str]] = []  # the lines of a record whose quoted field is open

    def unclosed():  # reject the first line alone; read the ones after it again
        again.extend((n, t, None) for n, t in reversed(pending[1:]))
        first, text = pending[0]
        return first, text, (f"unclosed quote: a quoted field opened on line {first} does not "
                             f"close within {MAX_RECORD_LINES} lines")

    while True:
        item = again.pop() if again else next(lines, None)
        if item is None:
            if not pending:
                return
            yield unclosed()  # end of file inside a quoted field
            pending = []
            continue
        number, text, error = item
        if error:
            yield (pending[0][0], pending[0][1], f"line {number} inside this quoted record: {error}"
                   ) if pending else item
            pending = []
            continue
        if not pending and not text.strip():
            continue
        pending.append((number, text))
        record = "".join(t for _, t in pending)
        if not _quote_open(record, delimiter):
            yield pending[0][0], record, None
            pending = []
        elif len(pending) == MAX_RECORD_LINES:
            yield unclosed()
            pending = []


def _csv_rows(lines, delimiter: str, report: SourceReport, result: LoadResult, source: str):
    """Yield (line, values, raw text) for each CSV record; undecodable or unreadable ones go to rejects."""
    for number, text, error in _records(lines, delimiter):
        if error:
            report.rows_read += 1
            report.rejected += 1
            result.rejects.append(_reject(report.file, number, "", error, source, (text or "").rstrip("\r\n")))
            continue
        try:
            values = next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        except csv.Error as e:
            report.rows_read += 1
            report.rejected += 1
            result.rejects.append(_reject(report.file, number, "", f"unreadable CSV: {e}", source, text.rstrip()))
            continue
        yield number, values, text.rstrip("\r\n")


def mask_rejects(rejects: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rejects.csv, rejects_vault.csv): every identity number in a reject's row and reason shown
    by the display mask, and the rows that held one, in clear, for the 0600 vault. A data
    engineer fixes a row from file, line, column and reason; the clear value is in the vault."""
    def shown(column: pd.Series) -> pd.Series:
        return column.map(lambda v: scrub(v) if isinstance(v, str) else v)
    masked = rejects.assign(raw=shown(rejects["raw"]), reason=shown(rejects["reason"]))
    held = (masked["raw"] != rejects["raw"]) | (masked["reason"] != rejects["reason"])
    return masked, rejects[held]


def _reject(file: str, line: int, column: str, reason: str, source: str, raw: str) -> dict:
    return {"file": file, "line": line, "column": column, "reason": reason, "source": source, "raw": raw}


# -- one row ----------------------------------------------------------------------------------

def _accept(source: SourceSpec, header: list[str], values: list[str], line: int,
            seen: dict[str, int], report: SourceReport, result: LoadResult) -> None:
    if len(values) != len(header):
        raise RowError("", f"ragged row: {len(values)} fields where the header has {len(header)}")
    row = dict(zip(header, values))
    record_id = row[source.record_id].strip()
    if not record_id:
        raise RowError(source.record_id, "empty record id")
    if record_id in seen:
        raise RowError(source.record_id, f"duplicate record id {record_id!r} (first on line {seen[record_id]})")
    if source.kind == "removals":
        result.removals.append(_removal(source, row, record_id, line, report.file, values))
        seen[record_id] = line
        return
    mentions = {}
    for role, party in source.parties.items():
        mention = _party(source, role, party, row, record_id, line, report.file)
        if mention:
            mentions[role] = mention
    relations = [_relation(source, rel, row, mentions, record_id) for rel in source.relations]
    lists = [_list_record(source, spec, row, mentions, record_id) for spec in source.lists]
    seen[record_id] = line
    result.mentions.extend(mentions.values())
    result.relations.extend(r for r in relations if r)
    result.lists.extend(r for r in lists if r)
    report.mentions += len(mentions)


def _value(spec: FieldSpec, row: dict) -> object:
    if spec.literal is not None:
        return spec.literal
    text = row[spec.column].strip()
    if not text:
        if spec.required:
            raise RowError(spec.column, "required value is empty")
        return None
    try:
        return parse_value(text, spec.type, spec.unit)
    except FieldError as e:
        raise RowError(spec.column, str(e)) from None


def _party(source: SourceSpec, role: str, party: PartySpec, row: dict, record_id: str,
           line: int, file: str) -> dict | None:
    if party.when and not party.when.met_by(row):
        return None
    kind = party.kind or _kind_from(party, row)
    name = _value(party.fields["name"], row)
    if not name:
        if party.optional:
            return None
        raise RowError(party.fields["name"].column or "", f"empty name for party {role!r}")
    mention = {"mention_id": f"{source.name}:{record_id}:{role}", "source": source.name,
               "department": source.department, "file": file, "line": line, "record_id": record_id,
               "role": role, "kind": kind, "name": name, "identifiers": "", "attrs": ""}
    attrs = {}
    for key, spec in party.fields.items():
        if key == "name":
            continue
        if key == "identifiers":
            specs = spec if isinstance(spec, list) else [spec]
            mention["identifiers"] = "|".join(v for v in (_identifier(s, row) for s in specs) if v)
        elif key in MENTION_FIELDS:
            mention[key] = _value(spec, row)
        else:
            value = _value(spec, row)
            if value is not None:
                attrs[key] = value
    mention["attrs"] = json.dumps(attrs, ensure_ascii=False) if attrs else ""
    return mention


def _identifier(spec: FieldSpec, row: dict) -> str | None:
    """A raw identifier; one of a declared scheme carries it (`customs_code:2108960123`)."""
    value = _value(spec, row)
    return f"{spec.scheme}:{value}" if value and spec.scheme else value


def _kind_from(party: PartySpec, row: dict) -> str:
    rule = party.kind_from
    value = row[rule.column].strip()
    if value not in rule.map:
        raise RowError(rule.column, f"value {value!r} is not one of {sorted(rule.map)}")
    return rule.map[value]


def _relation(source, rel, row, mentions, record_id) -> dict | None:
    if rel.from_ not in mentions or rel.to not in mentions:
        return None
    if rel.when and not rel.when.met_by(row):
        return None
    props = {key: _value(spec, row) for key, spec in rel.props.items()}
    return {"from_mention": mentions[rel.from_]["mention_id"], "to_mention": mentions[rel.to]["mention_id"],
            "type": rel.type, "ratio": props.get("ratio"), "role": props.get("role"),
            "amount": props.get("amount"), "source": source.name, "record_id": record_id}


def _list_record(source, spec, row, mentions, record_id) -> dict | None:
    if spec.party not in mentions:
        return None
    if spec.when and not spec.when.met_by(row):
        return None
    values = {k: _value(s, row) if s else None for k, s in
              (("grade", spec.grade), ("authority", spec.authority), ("case_no", spec.case_no), ("date", spec.date))}
    return {"mention_id": mentions[spec.party]["mention_id"], "list": spec.list, **values,
            "source": source.name, "record_id": record_id, "department": source.department,
            **_period(spec, row, values["date"])}


def _period(spec, row, published: str | None) -> dict:
    """effective_from (default: the publication date), effective_to (else the list's term after
    the start), removed_on, removal_reason."""
    start = _value(spec.effective_from, row) if spec.effective_from else published
    end = _value(spec.effective_to, row) if spec.effective_to else None
    if end is None and spec.term and start:
        end = term_end(start, spec.term)
    if start and end and end < start:
        column = spec.effective_to.column if spec.effective_to else ""
        raise RowError(column or "", f"the record ends ({end}) before it starts ({start})")
    return {"effective_from": start, "effective_to": end,
            "removed_on": _value(spec.removed_on, row) if spec.removed_on else None,
            "removal_reason": _reason(spec.removal_reason, row)}


def _reason(spec, row) -> str | None:
    if spec is None:
        return None
    try:
        return reason_of(spec, row)
    except ValueError as e:
        raise RowError(spec.column or "", str(e)) from None


def _removal(source, row, record_id, line, file, values) -> dict:
    """A row of a removals source: the record it names and when and why it ends."""
    rm = source.removes
    named = {k: _value(s, row) if s else None for k, s in
             (("target_record_id", rm.record_id), ("case_no", rm.case_no), ("identifier", rm.identifier))}
    needed = {"target_record_id": rm.record_id} if rm.record_id else {"case_no": rm.case_no, "identifier": rm.identifier}
    for k, spec in needed.items():
        if not named[k]:
            raise RowError(spec.column or "", f"the removal does not name its record: empty {k}")
    key = rm.record_id or rm.case_no
    removed_on = _value(rm.removed_on, row)
    if not removed_on:
        raise RowError(rm.removed_on.column or "", "the removal has no date")
    return {"source": source.name, "record_id": record_id, "file": file, "line": line, "raw": raw_line(values),
            "column": key.column or "", "target_source": rm.source, "target_list": rm.list, **named,
            "removed_on": removed_on, "removal_reason": _reason(rm.reason, row)}
