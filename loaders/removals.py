"""Records with a life: a list record's period, and the removals that end records early.

A list record is in force from `effective_from` (default: its publication `date`) to
`effective_to` (its last day; else the list's `term` after the start; else until removed) and
stops on `removed_on` (docs/architecture.md, "Records over time"). A removal arrives as a row of
a source of kind `removals` (a court's 屏蔽/移出 list, a credit-repair decision list) naming the
record it ends: by the source's record id, or by case number + the subject's identifier.

`apply_removals` runs on the loaded frames, before resolution: a removal that matches no record
goes to the rejects with the reason, one that matches several too (a steward's call, never a
guess), and its source's counts move it from accepted to rejected, so read = accepted + rejected
still holds per source.
"""
from __future__ import annotations

import calendar
import re
import unicodedata
from collections import defaultdict
from datetime import date, timedelta

import pandas as pd

from creditgraph.linkage.identifiers import classify, masked_compatible, normalize_raw
from creditgraph.loaders.manifest import REMOVAL_REASONS, Reasons

REMOVAL_COLUMNS = ["source", "record_id", "file", "line", "raw", "column", "target_source", "target_list",
                   "target_record_id", "case_no", "identifier", "removed_on", "removal_reason"]


def term_end(start: str, term: str) -> str:
    """The last day in force of a term (`3y`, `18m`) starting on ISO date `start`: a 2-year
    listing from 2024-03-01 is in force through 2026-02-28."""
    n, unit = int(term[:-1]), term[-1]
    d = date.fromisoformat(start)
    months = d.month - 1 + (n * 12 if unit == "y" else n)
    year, month = d.year + months // 12, months % 12 + 1
    end = date(year, month, min(d.day, calendar.monthrange(year, month)[1]))
    return (end - timedelta(days=1)).isoformat()


def reason_of(spec: Reasons, row: dict) -> str | None:
    """One of REMOVAL_REASONS, from the literal or the column through `map`; ValueError names a
    value the map does not know."""
    if spec.literal is not None:
        return spec.literal
    text = row[spec.column].strip()
    if not text:
        return None
    reason = spec.map.get(text, text)
    if reason not in REMOVAL_REASONS:
        raise ValueError(f"removal reason {text!r} is none of {list(REMOVAL_REASONS)} and not in the "
                         f"manifest's map {sorted(spec.map)}")
    return reason


# -- matching ---------------------------------------------------------------------------------

def _case(text) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))


def same_subject(wanted: str, held: str) -> bool:
    """Does identifier `wanted` (a removal's) name the subject whose identifiers are `held`
    (a mention's, `|`-joined)? A USCC and an organisation code agree through the code they
    carry; a masked identity number agrees with a full one, or another mask, where both show."""
    a = classify(wanted)
    if a is None:
        return False
    for raw in filter(None, str(held or "").split("|")):
        b = classify(raw)
        if b is None:
            continue
        if a.org_code and a.org_code == b.org_code or a.value == b.value:
            return True
        if {a.type, b.type} == {"id_masked", "id18"}:
            masked, full = (a, b) if a.type == "id_masked" else (b, a)
            if masked_compatible(masked.value, full.value):
                return True
        if a.type == b.type == "id_masked" and _masks_agree(a.value, b.value):
            return True
    return False


def _masks_agree(a: str, b: str) -> bool:
    a, b = normalize_raw(a), normalize_raw(b)
    shown = [(x, y) for x, y in zip(a, b) if x != "*" and y != "*"]
    return len(a) == len(b) and len(shown) >= 4 and all(x == y for x, y in shown)


def _keys(lists: pd.DataFrame) -> tuple[dict, dict]:
    """The list records' row labels by (source, record id) and by (source, case number), made
    once: filtering every record for each removal grew as removals x records (a 2M city's load)."""
    by_record, by_case = defaultdict(list), defaultdict(list)
    for i, source, record_id, case_no in zip(lists.index, lists["source"], lists["record_id"].astype(str),
                                             lists["case_no"]):
        by_record[(source, record_id)].append(i)
        by_case[(source, _case(case_no))].append(i)
    return by_record, by_case


def _candidates(removal: dict, lists: pd.DataFrame, keys: tuple[dict, dict], identifiers: pd.Series) -> list:
    """The row labels of the list records `removal` names."""
    by_record, by_case = keys
    if removal["target_record_id"]:
        rows = by_record.get((removal["target_source"], removal["target_record_id"]), [])
    else:
        rows = by_case.get((removal["target_source"], _case(removal["case_no"])), [])
    if removal["target_list"]:
        rows = [i for i in rows if lists.at[i, "list"] == removal["target_list"]]
    if removal["target_record_id"]:
        return rows
    return [i for i in rows if same_subject(removal["identifier"], identifiers.get(lists.at[i, "mention_id"]))]


def _what(removal: dict) -> str:
    named = (f"record id {removal['target_record_id']!r}" if removal["target_record_id"]
             else f"case {removal['case_no']!r} of subject {removal['identifier']!r}")
    listed = f" {removal['target_list']}" if removal["target_list"] else ""
    return f"no{listed} record of source {removal['target_source']!r} with {named}"


def apply_removals(frames: dict[str, pd.DataFrame], reports: list) -> dict[str, pd.DataFrame]:
    """Each removal ends the one list record it names (the earliest removal of a record holds).
    Returns the frames with `lists` updated and the unmatched or ambiguous removals appended to
    `rejects`; `reports` (the sources' SourceReports) count those as rejected."""
    removals = frames.get("removals")
    if removals is None or not len(removals):
        return frames
    lists = frames["lists"].copy()
    mentions = frames["mentions"]  # one column by mention id: set_index would copy every column
    identifiers = pd.Series(mentions["identifiers"].to_numpy(), index=mentions["mention_id"])
    rejects, by_source, keys = [], {r.source: r for r in reports}, _keys(lists)
    for removal in removals.to_dict("records"):
        found = _candidates(removal, lists, keys, identifiers)
        if len(found) == 1:
            i = found[0]
            if not _present(lists.at[i, "removed_on"]) or removal["removed_on"] < lists.at[i, "removed_on"]:
                lists.at[i, "removed_on"] = removal["removed_on"]
                lists.at[i, "removal_reason"] = removal["removal_reason"]
            continue
        reason = (f"removal matches {_what(removal)}" if not len(found) else
                  f"removal matches {len(found)} records ({', '.join(_uids(lists.loc[found]))}): a steward decides "
                  "which it ends (name the record by its record id, or the list)")
        rejects.append({"file": removal["file"], "line": removal["line"], "column": removal["column"],
                        "reason": reason, "source": removal["source"], "raw": removal["raw"]})
        report = by_source.get(removal["source"])
        if report is not None:
            report.accepted -= 1
            report.rejected += 1
    out = dict(frames, lists=lists)
    if rejects:
        out["rejects"] = pd.concat([frames["rejects"], pd.DataFrame(rejects, columns=frames["rejects"].columns)],
                                   ignore_index=True)
    return out


def _uids(found: pd.DataFrame) -> list[str]:
    return [f"{s}:{r}:{lst}" for s, r, lst in zip(found["source"], found["record_id"], found["list"])]


def _present(value) -> bool:
    return value is not None and value == value and value != ""  # NaN is unequal to itself
