"""Incremental ingest: apply a day's batches to a previous resolve output, re-resolving only what
they touch, with the answer a full resolve of the final data gives.

Why it can equal a full run: with the fitted model reused (not refitted on a batch), clustering
(linkage.cluster) only ever looks at the match edges (pairs scored at or above the match
threshold), the must-links and the cannot-links among records that such edges connect. Its result
therefore splits over the connected components of that graph: a component no changed record
reaches clusters as before. So an ingest
  1. applies the batches' rows (delta: op insert/update/delete by record id; snapshot: the source's
     rows replaced, diffed by record id) to the stored loader frames, keeping each row's place;
  2. per kind, takes the old components of every changed mention, of mentions sharing a hard
     identifier with one, and of every record a changed record now matches (scored against the
     records sharing its blocking keys, with blocks sized as in the full run);
  3. re-links that closed set with the same preparation, model, decisions and clustering, in the
     same relative order as the full run (ties in the greedy merge are broken by order), and gives
     the clusters ids by the same rule (linkage.resolve._entity_ids; suffixes of clusters sharing
     an identifier are renumbered over the whole output);
  4. rewrites the outputs atomically and writes `changes.json` (+ CSVs): new, retired, merged,
     split, renamed and changed entities, list records added, changed and removed.
Persons come after enterprises, as in resolve: a person whose firm's entity id changed has changed
context, so it counts as changed. What a full run would do differently is listed in
docs/incremental.md (the review queue's pairs across the re-linked set's border).

The state (loader frames, per-mention record, component and entity; record blocking keys; hard
identifiers; the fitted models; the decisions applied; the batches applied) is a pickle in
DIR/incremental_state.pkl, 0600 in the 0700 output directory that resolve wrote (a file beside the
outputs, not a folder: every entry of that directory is a 0600 file): only creditgraph reads it.
"""
from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from creditgraph.base.files import open_private, private_dir, write_private
from creditgraph.base.frames import keyed, sorted_unique
from creditgraph.linkage import resolve as R
from creditgraph.linkage import triage
from creditgraph.linkage.blocking import candidate_pairs
from creditgraph.linkage.compare import compare_pairs
from creditgraph.linkage.decisions import Decision
from creditgraph.linkage.engine import link
from creditgraph.linkage.model import MatchModel, probability_of
from creditgraph.linkage.prepare import enterprise_features, enterprise_records, person_features, person_records
from creditgraph.loaders.manifest import Manifest, ManifestError
from creditgraph.loaders.reader import LoadResult, mask_rejects, read_source
from creditgraph.loaders.removals import apply_removals

STATE_FILE = "incremental_state.pkl"
PENDING = ".ingest-pending"
MAX_BLOCK = 200  # engine.link's default: blocks larger than this are skipped, in both runs
KINDS = ("enterprise", "person")
OPS = {"insert": "insert", "update": "update", "delete": "delete", "i": "insert", "u": "update", "d": "delete",
       "新增": "insert", "修改": "update", "删除": "delete"}


@dataclass
class State:
    frames: dict[str, pd.DataFrame]   # loader frames with `src_pos`, `row_pos`: each row's place
    assign: pd.DataFrame              # mention_id, kind, rep, component, entity_id, base, score
    keys: pd.DataFrame                # key, rep: the blocking keys of every record (rep: its least mention)
    hard: pd.DataFrame                # key, mention_id: the hard identifiers of every mention
    models: dict[str, MatchModel]
    decisions: dict[tuple, str]       # pair -> verdict, as applied
    sources: list[str]
    batches: list[str] = field(default_factory=list)


# -- the state a full resolve leaves -----------------------------------------------------------

def save_state(out_dir: Path, frames: dict[str, pd.DataFrame], resolution, decisions: dict,
               sources: list[str]) -> None:
    """After a full resolve: what an ingest needs, from the resolve's per-kind results. `frames`
    are the loader's as read: list records before any removal export ended them (an ingest ends
    them again over the new rows)."""
    removals = frames.get("removals")  # rows of removal exports, kept as read: they end list records
    frames = _placed({k: frames[k] for k in ("mentions", "relations", "lists")}, sources)
    if removals is not None:
        frames["removals"] = removals
    parts = [_kind_state(res) for res in resolution.kinds.values() if len(res.mentions)]
    state = State(frames=frames,
                  assign=pd.concat([p[0] for p in parts], ignore_index=True),
                  keys=pd.concat([p[1] for p in parts], ignore_index=True),
                  hard=pd.concat([p[2] for p in parts], ignore_index=True),
                  models={k: res.link.model for k, res in resolution.kinds.items()},
                  decisions=_verdicts(decisions), sources=list(sources))
    _write_state(Path(out_dir) / STATE_FILE, state)


def _placed(frames: dict[str, pd.DataFrame], sources: list[str]) -> dict[str, pd.DataFrame]:
    """Each row's place: its source's position in the manifest, its record's position in the
    source (first seen). An update keeps the place, an insert goes after the source's rows:
    the order a full resolve of the final exports reads them in."""
    pos = {s: i for i, s in enumerate(sources)}
    m = frames["mentions"]
    rows = m[["source", "record_id"]].drop_duplicates()
    rows = rows.assign(src_pos=rows["source"].map(pos), row_pos=rows.groupby("source").cumcount())
    return {k: _with_place(f, rows) for k, f in frames.items()}


def _with_place(frame: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """frame.merge(rows, on=["source", "record_id"], how="left"), as that gives it, without the
    merge's copy of every column of the frame (this runs at the resolve's peak of memory): the
    frame's own columns are shared, the two place columns looked up and added."""
    at = _positions(rows, frame)
    out = frame.copy(deep=False)
    out.index = pd.RangeIndex(len(out))
    found = at >= 0
    for column in ("src_pos", "row_pos"):
        values = rows[column].to_numpy()
        if found.all():
            out[column] = values[at]
        else:  # as the merge: a row without a place is NaN, and the column float
            out[column] = np.full(len(at), np.nan)
            out.loc[found, column] = values[at[found]]
    return out


def _positions(rows: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """Per row of frame, the position in rows (unique by source and record id) of its source and
    record id, -1 if none. By hash lookups of integer codes: a MultiIndex of the two columns
    sorts each level first (5 s of the state's 24 at 2M mentions, in three calls)."""
    src, src_values = pd.factorize(rows["source"], use_na_sentinel=False)
    rec, rec_values = pd.factorize(rows["record_id"], use_na_sentinel=False)
    n = len(rec_values)
    frame_src = pd.Index(src_values).get_indexer(frame["source"])
    frame_rec = pd.Index(rec_values).get_indexer(frame["record_id"])
    frame_key = np.where((frame_src >= 0) & (frame_rec >= 0), frame_src.astype(np.int64) * n + frame_rec, -1)
    return pd.Index(src.astype(np.int64) * n + rec).get_indexer(frame_key)


def _kind_state(res) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    m, records = res.mentions, res.records
    reps = np.asarray(records.rep, dtype=object)
    comp = _components(len(records), res.link)
    comp_rep = reps[_least_per_label(comp)]
    assign = pd.DataFrame({"mention_id": m["mention_id"].to_numpy(), "kind": m["kind"].to_numpy(),
                           "rep": reps[m["record"].to_numpy()], "component": comp_rep[m["record"].to_numpy()],
                           "entity_id": m["entity_id"].to_numpy(), "score": m["score"].to_numpy()})
    assign["base"] = _base(assign["entity_id"])
    return assign, _record_keys(records), _mention_hard(m, res.features)


def _components(n: int, result) -> np.ndarray:
    """Per record, its component over the match edges (any pair scored at or above the match
    threshold, taken or refused) and the clusters (which hold the must-links)."""
    pairs = result.pairs
    strong = pairs["prob"].to_numpy() >= result.model.match_threshold
    left = np.r_[pairs["left"].to_numpy()[strong], np.arange(n)]
    right = np.r_[pairs["right"].to_numpy()[strong], result.labels]
    graph = coo_matrix((np.ones(len(left), np.int8), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _least_per_label(labels: np.ndarray) -> np.ndarray:
    """Per record, the least record index of its label (records are numbered in mention order)."""
    least = np.full(labels.max() + 1 if len(labels) else 0, len(labels))
    np.minimum.at(least, labels, np.arange(len(labels)))
    return least[labels]


def _record_keys(records) -> pd.DataFrame:
    sizes = [len(k) for k in records.keys]
    return pd.DataFrame({"key": [k for ks in records.keys for k in ks],
                         "rep": np.repeat(np.asarray(records.rep, dtype=object), sizes)})


def _mention_hard(m: pd.DataFrame, f: pd.DataFrame) -> pd.DataFrame:
    sizes = [len(h) for h in f["hard"]]
    return pd.DataFrame({"key": [k for h in f["hard"] for k in sorted(h)],
                         "mention_id": np.repeat(m["mention_id"].to_numpy(), sizes)})


SUFFIXED_ID = re.compile(r"^([A-Z]-[^-]+)-\d+$")


def _base(ids: pd.Series) -> pd.Series:
    """An entity id without the -2, -3 that tells apart clusters sharing an identifier. Only an
    id with two hyphens can carry one: the others are kept without a regex call (pandas'
    `str.replace` called it on each of 2M ids: 9 s of the state's 40 in a profiled 2M resolve)."""
    return pd.Series([i if i.count("-") < 2 else SUFFIXED_ID.sub(r"\1", i) for i in ids.tolist()],
                     index=ids.index, dtype=object)


def _verdicts(decisions: dict) -> dict:
    return {pair: d.verdict.value for pair, d in decisions.items()}


STATE_TABLES = ("assign", "keys", "hard")  # State's frames beside `frames`


def _frame(arrays: list, columns: list, index: pd.Index) -> pd.DataFrame:
    """A frame of its column arrays (each keeps its dtype), in order, on its index."""
    df = pd.DataFrame(dict(enumerate(arrays)), index=index)
    df.columns = pd.Index(columns) if columns else df.columns
    return df


def _write_state(path: Path, state: State) -> None:
    """The state's frame-less rest, then every frame column by column, each its own pickle: one
    pickle of a whole frame keeps a memo entry for every string it writes (about 0.7 GB more at
    the run's peak for 2M rows of 8 text columns), one per column only that column's."""
    tables = {**{f"frames.{k}": v for k, v in state.frames.items()}, **{k: getattr(state, k) for k in STATE_TABLES}}
    rest = replace(state, frames=dict.fromkeys(state.frames), **dict.fromkeys(STATE_TABLES))
    with write_private(path, "wb") as f:
        layout = [(name, list(df.columns), df.index) for name, df in tables.items()]
        pickle.dump((rest, layout), f, protocol=pickle.HIGHEST_PROTOCOL)
        for df in tables.values():
            for j in range(df.shape[1]):
                pickle.dump(df.iloc[:, j].array, f, protocol=pickle.HIGHEST_PROTOCOL)


def load_state(out_dir: Path) -> State:
    path = Path(out_dir) / STATE_FILE
    if not path.exists():
        raise FileNotFoundError(f"{out_dir}: no incremental state ({STATE_FILE}); "
                                "run `creditgraph resolve` into it first")
    with path.open("rb") as f:
        rest, layout = pickle.load(f)
        tables = {name: _frame([pickle.load(f) for _ in columns], columns, index) for name, columns, index in layout}
    frames = {k[len("frames."):]: v for k, v in tables.items() if k.startswith("frames.")}
    return replace(rest, frames=frames, **{k: tables[k] for k in STATE_TABLES})


# -- the day's batches -------------------------------------------------------------------------

@dataclass
class Batch:
    frames: dict[str, pd.DataFrame]   # the rows read (inserts, updates; a snapshot's every row)
    rejects: pd.DataFrame
    modes: dict[str, tuple[str, str | None]]   # source -> (delta | snapshot, op column)
    ops: dict[str, dict[str, str]]    # delta source -> record id -> insert | update | delete
    batch_id: str
    reports: list


def read_batch(manifest_path: Path) -> Batch:
    """A batch manifest is a manifest whose sources name sources of the full run, each with
    `mode: snapshot` (the source's rows, all of them) or `mode: delta` and `op: <column>`
    (insert, update or delete per record id; a delete row needs its record id only). A source
    is a CSV, an XLSX sheet or a database table or query, read once by the loader's read_source:
    the rows, the ops and the batch's digest come from that one reading."""
    path = Path(manifest_path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    modes = {}
    for source in raw.get("sources") or []:
        mode, op = source.pop("mode", "snapshot"), source.pop("op", None)
        if mode not in ("snapshot", "delta") or (mode == "delta") != bool(op):
            raise ManifestError(f"{path}: source {source.get('name')!r}: `mode: delta` needs `op: <column>`, "
                                "`mode: snapshot` takes none")
        modes[source["name"]] = (mode, op)
    try:
        manifest = Manifest(**raw, base_dir=path.parent)
    except ValueError as e:
        raise ManifestError(f"{path}: invalid batch manifest: {e}") from e
    load, digest, taps = LoadResult(), hashlib.sha256(path.read_bytes()), {}
    for s in manifest.sources:
        taps[s.name] = tap = _Tap(s, modes[s.name][1], digest)
        report = read_source(manifest.path_of(s), s, load, tap)
        load.reports.append(report)
        load.flush()
        if report.error and not (modes[s.name][0] == "delta" and tap.header is not None and not tap.rows):
            raise ManifestError(f"{path}: {report.error}")  # a snapshot read wrong would delete the source's rows
    frames = load.frames()
    ops = {name: tap.ops for name, tap in taps.items() if modes[name][0] == "delta"}
    deleted = {(s, rid) for s, by_id in ops.items() for rid, op in by_id.items() if op == "delete"}
    lines = {(name, line) for name, tap in taps.items() for line in tap.delete_lines}
    rejects = frames["rejects"]
    if lines and len(rejects):  # a delete row names a record id only: its empty name is not a reject
        rejects = rejects[[(s, int(n)) not in lines for s, n in zip(rejects["source"], rejects["line"])]]
    kept = {k: _without(frames[k], deleted) for k in FRAMES if k in frames}
    return Batch(kept, rejects, modes, ops, digest.hexdigest()[:16], load.reports)


class _Tap:
    """Sees a batch source's rows as the reader reads them: a delta's op per record id (and the
    lines of its deletes), and every row into the batch's digest."""

    def __init__(self, source, op_column: str | None, digest):
        self.source, self.op_column, self.digest = source, op_column, digest
        self.header, self.rows, self.ops, self.delete_lines = None, 0, {}, set()

    def __call__(self, header: list[str], rows):
        self.header = header
        self.digest.update(json.dumps([self.source.name, header], ensure_ascii=False).encode())
        if self.op_column is None:
            return self._seen(rows, None, None)
        if self.op_column not in header or self.source.record_id not in header:
            raise ManifestError(f"source {self.source.name!r}: a delta needs columns {self.source.record_id!r} "
                                f"and {self.op_column!r}; it has {header}")
        return self._seen(rows, header.index(self.source.record_id), header.index(self.op_column))

    def _seen(self, rows, rid_at: int | None, op_at: int | None):
        for line, values, raw in rows:
            self.rows += 1
            self.digest.update(raw.encode() + b"\n")
            if op_at is not None and len(values) > max(rid_at, op_at):
                self._op(line, values[rid_at].strip(), values[op_at])
            yield line, values, raw

    def _op(self, line: int, record_id: str, value: str) -> None:
        op = OPS.get((value or "").strip().lower())
        if op is None:
            raise ManifestError(f"source {self.source.name!r}: record {record_id!r} (line {line}): "
                                f"op {value!r} is none of insert, update, delete")
        self.ops[record_id] = op
        if op == "delete" and record_id:  # without its id, a delete row is the reject the reader makes of it
            self.delete_lines.add(line)


def _without(frame: pd.DataFrame, rows: set) -> pd.DataFrame:
    if not rows or frame.empty:
        return frame
    return frame[~_row_keys(frame).isin(_joined(rows))]


def _row_keys(frame: pd.DataFrame) -> pd.Series:
    """source and record id as one string per row: a vectorised membership test over millions."""
    return frame["source"].astype(str) + "\x1f" + frame["record_id"].astype(str)


def _joined(rows: set) -> set:
    return {f"{s}\x1f{r}" for s, r in rows}


FRAMES = ("mentions", "relations", "lists", "removals")
# What a row holds, per frame: its parties and relations are what linking reads; its list records are not.
CONTENT = {"mentions": ["mention_id", "kind", "name", "identifiers", "birth_date", "address", "phone", "email",
                        "attrs", "role"],
           "relations": ["from_mention", "to_mention", "type", "ratio", "role", "amount"],
           "lists": ["mention_id", "list", "grade", "authority", "case_no", "date", "effective_from",
                     "effective_to", "removed_on", "removal_reason"]}


def apply_batch(state: State, batch: Batch) -> tuple[dict[str, pd.DataFrame], dict]:
    """The loader frames after the batch, each row in its place, and the rows it changed:
    {"inserted"|"updated"|"deleted": set of (source, record_id)}; "lists_only": the updated rows
    whose parties and relations are as they were (only their list records differ, or nothing):
    replaced, not linked again."""
    old = state.frames
    changed = {"inserted": set(), "updated": set(), "deleted": set(), "lists_only": set()}
    read = _rows(batch.frames)
    mine_of, had_of = _by_source(read), _by_source(_rows(old))
    removal_rows = _rows({"removals": batch.frames.get("removals")}) | _rows({"removals": old.get("removals")})
    # every source's rows in both, compared at once: each comparison keys the whole stored frames
    parties, lists = _differing(old, batch.frames, set().union(
        *(mine_of.get(s, set()) & had_of.get(s, set()) for s in batch.modes)))
    for source, (mode, _) in batch.modes.items():
        mine, before = mine_of.get(source, set()), had_of.get(source, set())
        if mode == "delta":
            gone = {(source, rid) for rid, op in batch.ops[source].items() if op == "delete"} & before
        else:
            gone = before - mine
        if mode == "snapshot":  # a row as it was is left alone; a removal has no parties to compare: replaced
            mine = ((parties | lists) & mine) | (mine - before) | (mine & before & removal_rows)
        changed["deleted"] |= gone
        changed["inserted"] |= mine - before
        changed["updated"] |= mine & before
        changed["lists_only"] |= (mine & before) - parties
    replace = changed["deleted"] | changed["updated"] | changed["inserted"]
    place = _places(state, old["mentions"], changed, batch.frames["mentions"])
    new = {}
    for k in FRAMES:
        if old.get(k) is None and batch.frames.get(k) is None:
            continue
        fresh = _without(batch.frames[k], read - replace)  # a snapshot's unchanged rows stay as they were
        if k == "removals":
            new[k] = pd.concat([_without(old[k], replace), fresh], ignore_index=True) if k in old else fresh
            continue
        fresh = fresh.merge(place, on=["source", "record_id"], how="left")
        frame = pd.concat([_without(old[k], replace), fresh], ignore_index=True)
        new[k] = frame.sort_values(["src_pos", "row_pos"], kind="stable", ignore_index=True)
    return new, changed


def _rows(frames: dict) -> set:
    """(source, record_id) of every row of the frames' mentions and removals."""
    out = set()
    for k in ("mentions", "removals"):
        f = frames.get(k)
        if f is not None and len(f):
            out |= set(zip(f["source"], f["record_id"].astype(str)))
    return out


def _by_source(rows: set) -> dict[str, set]:
    out = defaultdict(set)
    for row in rows:
        out[row[0]].add(row)
    return out


def _with_removals(frames: dict) -> dict:
    """The list records (as read) ended by the removal exports, as the full run ends them."""
    if frames.get("removals") is None:
        return frames
    ended = apply_removals({**frames, "rejects": pd.DataFrame(columns=["file", "line", "column", "reason",
                                                                        "source", "raw"])}, [])
    return {**frames, "lists": ended["lists"]}


def _differing(old: dict, fresh: dict, rows: set) -> tuple[set, set]:
    """Of these rows (in both), those whose parties or relations differ from the stored ones, and
    those whose list records do (a term set, a grade changed)."""
    wanted = _joined(rows)

    def content(frames, k) -> pd.Series:  # per row key, the text of its rows in the frame
        frame = frames.get(k)
        keys = _row_keys(frame) if frame is not None and len(frame) else pd.Series(dtype=object)
        mine = keys.isin(wanted).to_numpy()
        if not mine.any():  # (agg over no rows gives a frame, not a series)
            return pd.Series(dtype=object)
        cells = frame.loc[mine, CONTENT[k]].astype(object)
        text = cells.where(cells.notna(), "").astype(str).agg("\x1f".join, axis=1)  # None and NaN alike
        return text.groupby(keys[mine].to_numpy()).agg("\x1e".join)

    def differ(k) -> set:
        a, b = content(old, k), content(fresh, k)
        both = a.index.intersection(b.index)
        keys = set(both[a[both].to_numpy() != b[both].to_numpy()]) | set(a.index.symmetric_difference(b.index))
        return {tuple(key.split("\x1f", 1)) for key in keys}
    return differ("mentions") | differ("relations"), differ("lists")


def _places(state: State, old: pd.DataFrame, changed: dict, fresh: pd.DataFrame) -> pd.DataFrame:
    """src_pos and row_pos of every row the batch writes: an updated row keeps its place."""
    kept = old[["source", "record_id", "src_pos", "row_pos"]].drop_duplicates(["source", "record_id"])
    rows = fresh[["source", "record_id"]].drop_duplicates()
    rows = rows.merge(kept, on=["source", "record_id"], how="left")
    sources = list(state.sources)
    for s in rows["source"].unique():
        if s not in sources:
            sources.append(s)  # a source the full run did not have: after the others
    state.sources = sources
    rows["src_pos"] = rows["source"].map({s: i for i, s in enumerate(sources)})
    last = old.groupby("source")["row_pos"].max()
    new = rows["row_pos"].isna()
    rows.loc[new, "row_pos"] = (rows.loc[new, "source"].map(last).fillna(-1)
                                + rows[new].groupby("source").cumcount() + 1)
    rows["row_pos"] = rows["row_pos"].astype(np.int64)
    return rows


# -- re-linking what a batch touches -----------------------------------------------------------

@dataclass
class Relinked:
    """One kind's re-linked set: its result as resolve has it, and the state rows it replaces."""
    res: R.KindResult
    ids: set                          # mention ids re-linked (deleted ones included)
    renamed: dict                     # entity id -> new id, of clusters outside the set (suffixes)
    assign: pd.DataFrame
    keys: pd.DataFrame
    hard: pd.DataFrame


class _Kind:
    """A kind's mentions in the new data and its stored state, with the lookups ingest needs."""

    def __init__(self, kind: str, state: State, frames: dict, decisions: dict, enterprise_of: pd.Series | None):
        self.kind, self.state, self.frames, self.decisions = kind, state, frames, decisions
        self.enterprise_of = enterprise_of
        mentions = frames["mentions"]
        self.m = mentions[mentions["kind"] == kind].reset_index(drop=True)
        self.old = state.assign[state.assign["kind"] == kind]
        self.keys = state.keys[state.keys["rep"].isin(self.old["rep"])]  # reps are mention ids: one kind each
        self.hard = state.hard[state.hard["mention_id"].isin(self.old["mention_id"])]
        self.model = state.models[kind]
        self._features = None  # by mention id: a mention's features depend on its own row and ties only

    def prepare(self, ids: set):
        """Features and records of these mentions, as resolve._resolve_kind makes them."""
        m = self.m[self.m["mention_id"].isin(ids)].reset_index(drop=True)
        f = self.features(m)
        apart = R._kept_apart(self.decisions, m["mention_id"])
        make = enterprise_records if self.kind == "enterprise" else person_records
        records, record_of = make(m, f, apart)
        return m, f, records, record_of

    def features(self, m: pd.DataFrame) -> pd.DataFrame:
        """Each mention's features made once per ingest: the re-linked set grows in rounds and
        every round prepares it again."""
        new = m if self._features is None else m[~m["mention_id"].isin(self._features.index)]
        if len(new) or self._features is None:
            made = self._make_features(new.reset_index(drop=True)).set_axis(new["mention_id"].to_numpy())
            self._features = made if self._features is None else pd.concat([self._features, made])
        return self._features.loc[m["mention_id"].to_numpy()].reset_index(drop=True)

    def _make_features(self, m: pd.DataFrame) -> pd.DataFrame:
        rel = self.frames["relations"]
        mine = rel[rel["from_mention"].isin(m["mention_id"]) | rel["to_mention"].isin(m["mention_id"])]
        if self.kind == "enterprise":
            reps = mine[(mine["type"] == "LEGAL_REP_OF") & mine["to_mention"].isin(m["mention_id"])]
            named = self.frames["mentions"]
            named = named[named["mention_id"].isin(mine["from_mention"]) | named["mention_id"].isin(mine["to_mention"])]
            f = enterprise_features(m, R._legal_rep_names(m, named, reps), R._row_persons(m, named, mine))
        else:
            firms = self.enterprise_of[self.enterprise_of.index.isin(mine["from_mention"])
                                       | self.enterprise_of.index.isin(mine["to_mention"])]
            f = person_features(m, R._contexts(m, mine, firms))
        return f

    def components_of(self, mention_ids) -> set:
        return set(self.old.loc[self.old["mention_id"].isin(mention_ids), "component"])

    def members(self, components: set) -> set:
        return set(self.old.loc[self.old["component"].isin(components), "mention_id"])


def relink_kind(kind: str, state: State, frames: dict, dirty: set, decisions: dict,
                enterprise_of: pd.Series | None, key: bytes) -> Relinked:
    k = _Kind(kind, state, frames, decisions, enterprise_of)
    new_dirty = set(k.m["mention_id"][k.m["mention_id"].isin(dirty)])
    comps = k.components_of(dirty)
    if new_dirty:  # mentions sharing a hard identifier with a changed one may become one record with it
        f = k.features(k.m[k.m["mention_id"].isin(new_dirty)].reset_index(drop=True))
        hard = {h for hs in f["hard"] for h in hs}
        comps |= k.components_of(k.hard.loc[k.hard["key"].isin(hard), "mention_id"])
    ids = k.members(comps) | new_dirty
    if not ids:  # a day that changed no party of this kind (list records only): nothing to link
        return Relinked(R.KindResult(k.m.iloc[:0], None, None, None), set(), {}, k.old.iloc[:0],
                        k.keys.iloc[:0], k.hard.iloc[:0])
    scanned = None  # what the last partner scan saw: the changed records and the oversized blocks
    while True:
        m, f, records, record_of = k.prepare(ids)
        old_reps = set(k.old.loc[k.old["mention_id"].isin(ids), "rep"])
        oversize, crossing = _block_sizes(k.keys, old_reps, records)
        grown = k.components_of(k.old.loc[k.old["rep"].isin(
            k.keys.loc[k.keys["key"].isin(crossing), "rep"]), "mention_id"]) - k.components_of(ids)
        seen = _scan_input(m, record_of, new_dirty, oversize)
        if seen != scanned:
            grown |= _matched_partners(k, ids, new_dirty, m, records, record_of, old_reps, oversize)
            scanned = seen
        if not grown:
            break
        ids |= k.members(grown)
    return _relinked(k, ids, m, f, records, record_of, oversize, key)


def _scan_input(m: pd.DataFrame, record_of: np.ndarray, new_dirty: set, oversize: set) -> tuple:
    """What _matched_partners' answer depends on: the mentions of each record holding a changed
    mention (their values follow from them: features are made once per ingest) and the blocks
    left out. When a round sees the same as the last, its scan is skipped: the set only grew, so
    its partners are the last scan's minus those taken in, the pairs a subset of the last ones,
    none of them at the threshold (every partner in such a pair was taken in)."""
    changed = m["mention_id"].isin(new_dirty).to_numpy()
    inside = np.isin(record_of, sorted_unique(record_of[changed]))
    groups = pd.Series(m["mention_id"].to_numpy()[inside]).groupby(record_of[inside]).agg(frozenset)
    return frozenset(groups), frozenset(oversize)


def _block_sizes(keys: pd.DataFrame, old_reps: set, records) -> tuple[set, set]:
    """Blocks as the full run would size them: (keys over MAX_BLOCK records, keys that crossed it)."""
    fresh = _record_keys(records).drop_duplicates()
    mine = keys[keys["rep"].isin(old_reps)]
    wanted = set(fresh["key"]) | set(mine["key"])
    before = keys.loc[keys["key"].isin(wanted), "key"].value_counts()
    after = before.sub(mine["key"].value_counts(), fill_value=0).add(fresh["key"].value_counts(), fill_value=0)
    before = before.reindex(after.index, fill_value=0)
    oversize = set(after.index[after > MAX_BLOCK])
    crossing = set(after.index[(before > MAX_BLOCK) != (after > MAX_BLOCK)])
    return oversize, crossing


def _matched_partners(k: _Kind, ids: set, new_dirty: set, m, records, record_of, old_reps, oversize) -> set:
    """Components outside the set holding a record that a changed record now matches."""
    changed = set(record_of[m["mention_id"].isin(new_dirty).to_numpy()].tolist())
    wanted = {key for r in changed for key in records.keys[r]} - oversize
    rows = k.keys[k.keys["key"].isin(wanted) & ~k.keys["rep"].isin(old_reps)]
    partners = set(k.old.loc[k.old["rep"].isin(set(rows["rep"])), "mention_id"]) & set(k.m["mention_id"])
    if not partners:
        return set()
    # the changed records' mentions and the partners make the same records as ids | partners do
    # (a partner sharing a hard identifier with a mention of the set would be in its component)
    # at a fraction of the preparing
    inside_m = set(m["mention_id"][np.isin(record_of, list(changed))])
    um, _, urecords, urecord_of = k.prepare(inside_m | partners)
    inside = set(urecord_of[um["mention_id"].isin(new_dirty).to_numpy()].tolist())
    outside = np.zeros(len(urecords), bool)
    outside[urecord_of[um["mention_id"].isin(partners).to_numpy()]] = True
    keys = [[x for x in ks if x not in oversize] for ks in urecords.keys]
    cands = candidate_pairs(keys, max_block=MAX_BLOCK)
    left, right = cands.left, cands.right
    cross = (np.isin(left, list(inside)) & outside[right]) | (np.isin(right, list(inside)) & outside[left])
    left, right = left[cross], right[cross]
    if not len(left):
        return set()
    prob = probability_of(k.model.log_odds(compare_pairs(k.model, urecords.values, left, right)))
    strong = prob >= k.model.match_threshold
    hit = set(left[strong].tolist()) | set(right[strong].tolist())
    hit_mentions = um["mention_id"][np.isin(urecord_of, list(hit)) & um["mention_id"].isin(partners).to_numpy()]
    return k.components_of(hit_mentions)


def _relinked(k: _Kind, ids: set, m, f, records, record_of, oversize: set, key: bytes) -> Relinked:
    """Link the closed set as resolve would, then its ids by resolve's rule over the whole output."""
    from dataclasses import replace
    must, cannot = R._constraints(k.decisions, m["mention_id"], record_of)
    blocked = replace(records, keys=[[x for x in ks if x not in oversize] for ks in records.keys])
    result = link(k.model, blocked, cannot=cannot, must=must, max_block=MAX_BLOCK, fit=False)
    m = m.assign(record=record_of, cluster=result.labels[record_of])
    m["score"] = R._scores(m, f, result)
    m["entity_id"], renamed = _global_ids(k, ids, m, f, key)
    comp = _components(len(records), result)
    reps = np.asarray(records.rep, dtype=object)
    assign = pd.DataFrame({"mention_id": m["mention_id"], "kind": k.kind, "rep": reps[record_of],
                           "component": reps[_least_per_label(comp)][record_of],
                           "entity_id": m["entity_id"], "score": m["score"]})
    assign["base"] = _base(assign["entity_id"])
    return Relinked(R.KindResult(m, f, records, result), ids, renamed, assign,
                    _record_keys(records), _mention_hard(m, f))


def _global_ids(k: _Kind, ids: set, m, f, key: bytes) -> tuple[pd.Series, dict]:
    """resolve._entity_ids over the set, then the -2, -3 suffixes over every cluster sharing a base
    id, inside and outside the set, as a full run numbers them (by least mention id)."""
    local = R._entity_ids(k.kind, m, f, key)
    base = _base(local)
    by_cluster, first = {}, {}
    for cluster, b, mid in zip(m["cluster"], base, m["mention_id"]):
        by_cluster[("in", cluster)] = b
        first[("in", cluster)] = min(mid, first.get(("in", cluster), mid))
    out = k.old[~k.old["mention_id"].isin(ids) & k.old["base"].isin(set(base))]
    for eid, group in out.groupby("entity_id"):
        by_cluster[("out", eid)] = group["base"].iat[0]
        first[("out", eid)] = group["mention_id"].min()
    final = R._dedupe_ids(by_cluster, first)
    renamed = {c[1]: v for c, v in final.items() if c[0] == "out" and c[1] != v}
    return m["cluster"].map(lambda c: final[("in", c)]), renamed


# -- ingest ------------------------------------------------------------------------------------

def ingest(manifest_path: Path, out_dir: Path, decisions: dict[tuple, Decision], key: bytes,
           step=lambda name: None) -> dict:
    """Apply one batch manifest to the resolve output in out_dir; returns changes.json's content.
    A batch already applied (same manifest and files) changes nothing; an ingest cut short is
    finished (its files were all written) or forgotten (they were not) before this one starts."""
    out_dir = Path(out_dir)
    recover(out_dir)
    timed, started = R.StageTimer(step), time.perf_counter()
    timings = timed.seconds
    state = timed("state", load_state, out_dir)
    batch = timed("read batch", read_batch, manifest_path)
    if batch.batch_id in state.batches:
        return {"batch": batch.batch_id, "already_applied": True}
    old_frames = state.frames
    frames, rows = timed("apply rows", apply_batch, state, batch)
    dirty = _dirty(old_frames, frames, rows, state.decisions, decisions)
    ent = timed("enterprises", relink_kind, "enterprise", state, frames, dirty, decisions, None, key)
    assign = _assigned(state.assign, frames["mentions"], [ent])
    enterprise_of = keyed(assign.loc[assign["kind"] == "enterprise"], "mention_id", "entity_id")
    dirty |= _moved_firms(state.assign, assign, old_frames, frames)
    per = timed("persons", relink_kind, "person", state, frames, dirty, decisions, enterprise_of, key)
    assign = _assigned(state.assign, frames["mentions"], [ent, per])
    ended = {**frames, "lists": _with_removals(frames)["lists"]}  # the state keeps the lists as read
    outputs, changes = timed("outputs", _outputs, out_dir, state, ended, assign, [ent, per], decisions, key)
    changes.update(batch=batch.batch_id, at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                   sources=[vars(r) for r in batch.reports],  # rows read = accepted + rejected, per source
                   rows={k: len(v) for k, v in rows.items()},
                   relinked={"enterprise": len(ent.ids), "person": len(per.ids)})
    new_state = State(frames=frames, assign=assign,
                      keys=_replaced(state.keys, "rep", set(state.assign.loc[
                          state.assign["mention_id"].isin(ent.ids | per.ids), "rep"]), [ent.keys, per.keys]),
                      hard=_replaced(state.hard, "mention_id", ent.ids | per.ids, [ent.hard, per.hard]),
                      models=state.models, decisions=_verdicts(decisions), sources=state.sources,
                      batches=[*state.batches, batch.batch_id])
    rejects = batch.rejects
    timings["total"] = round(time.perf_counter() - started, 2)
    changes["timings_s"] = timings
    timed("write", _commit, out_dir, outputs, changes, new_state, rejects)
    changes["timings_s"] = {**timings, "total": round(time.perf_counter() - started, 2)}
    return changes


def _dirty(old: dict, new: dict, rows: dict, applied: dict, decisions: dict) -> set:
    """Mention ids of the rows the batch changed (old and new versions), and of the pairs whose
    steward decision is new or changed since the last run."""
    touched = _joined(rows["inserted"] | (rows["updated"] - rows["lists_only"]) | rows["deleted"])
    ids = set()
    for frame in (old["mentions"], new["mentions"]):
        ids |= set(frame.loc[_row_keys(frame).isin(touched).to_numpy(), "mention_id"])
    now = _verdicts(decisions)
    for pair in set(now) | set(applied):
        if now.get(pair) != applied.get(pair):
            ids |= set(pair)
    return ids


def _moved_firms(old_assign: pd.DataFrame, assign: pd.DataFrame, old: dict, new: dict) -> set:
    """Persons whose row ties them to a firm whose entity id changed: their context changed."""
    before = keyed(old_assign.loc[old_assign["kind"] == "enterprise"], "mention_id", "entity_id")
    after = keyed(assign.loc[assign["kind"] == "enterprise"], "mention_id", "entity_id")
    both = before.index.union(after.index)
    moved = set(both[before.reindex(both).fillna("").to_numpy() != after.reindex(both).fillna("").to_numpy()])
    ids = set()
    for rel in (old["relations"], new["relations"]):
        ids |= set(rel.loc[rel["to_mention"].isin(moved), "from_mention"])
        ids |= set(rel.loc[rel["from_mention"].isin(moved), "to_mention"])
    return ids


def _assigned(old: pd.DataFrame, mentions: pd.DataFrame, done: list[Relinked]) -> pd.DataFrame:
    """Per mention of the new data, in its order: the re-linked rows, else the stored ones (with
    renamed ids applied)."""
    fresh = pd.concat([r.assign for r in done], ignore_index=True).set_index("mention_id")
    kept = old.set_index("mention_id")
    kept = kept[~kept.index.isin(fresh.index)]
    renamed = {a: b for r in done for a, b in r.renamed.items()}
    if renamed:
        moved = kept["entity_id"].isin(renamed.keys())
        kept.loc[moved, "entity_id"] = kept.loc[moved, "entity_id"].map(renamed)
    both = pd.concat([kept, fresh])
    ordered = mentions[["mention_id", "kind"]].sort_values("kind", kind="stable", key=lambda k: k != "enterprise")
    return both.reindex(ordered["mention_id"]).reset_index()


def _replaced(frame: pd.DataFrame, column: str, gone: set, fresh: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat([frame[~frame[column].isin(gone)], *fresh], ignore_index=True)


# -- outputs and what changed ------------------------------------------------------------------

def _outputs(out_dir: Path, state: State, frames: dict, assign: pd.DataFrame, done: list[Relinked],
             decisions: dict, key: bytes) -> tuple[dict[str, pd.DataFrame], dict]:
    """The resolve outputs after the batch: rows of the re-linked and renamed entities made as
    resolve makes them, the others kept; and what changed."""
    read = lambda name: pd.read_csv(out_dir / name, dtype=str, keep_default_na=False)
    old_entities, old_relations, old_lists = read("entities.csv"), read("relations.csv"), read("list_records.csv")
    ids = set().union(*(r.ids for r in done))
    renamed = {a: b for r in done for a, b in r.renamed.items()}
    was = set(state.assign.loc[state.assign["mention_id"].isin(ids), "entity_id"]) | set(renamed)
    now = set(assign.loc[assign["mention_id"].isin(ids), "entity_id"]) | set(renamed.values())
    entity_of = keyed(assign, "mention_id", "entity_id")
    mentions = frames["mentions"].set_index("mention_id").loc[assign["mention_id"]].reset_index()
    out = {"mentions.csv": assign.assign(source=mentions["source"].to_numpy(),
                                         record_id=mentions["record_id"].to_numpy(),
                                         role=mentions["role"].to_numpy(), name=mentions["name"].to_numpy())[
        R.MENTION_OUTPUT_COLUMNS]}
    out["entities.csv"] = _entities(old_entities, was, done, renamed, key)
    out["relations.csv"] = _relations(old_relations, frames["relations"], entity_of, was | now)
    out["list_records.csv"] = R._lists(frames["lists"], entity_of)
    out["review_queue.csv"], out["unlinked.csv"] = _review(out_dir, done, decisions, frames["relations"], ids,
                                                           entity_of, renamed, out)
    out["share_issues.csv"] = R.shares_over_100(out["relations.csv"], out["entities.csv"])
    out["identity_vault.csv"] = _vault(out_dir, was, done, renamed)
    changes = _changes(state.assign, assign, ids, renamed, old_lists, out["list_records.csv"])
    records = changes["records"]
    # a record written again on its own (its owner rewritten unchanged): one the batch ended,
    # removed or changed on an entity that it left alone, so the graph has its new period
    changes["graph"] = {"upsert": sorted(now - changes["entities"]["retired_ids"]),
                        "delete": sorted(changes["entities"]["retired_ids"]),
                        "records": sorted(uid for k in RECORD_WRITES for uid in records[k]),
                        "records_deleted": records["deleted"]}
    changes["entities"]["retired_ids"] = sorted(changes["entities"]["retired_ids"])
    return out, changes


def _entities(old: pd.DataFrame, was: set, done: list[Relinked], renamed: dict, key: bytes) -> pd.DataFrame:
    fresh = [R._entities(r.res, key) for r in done if len(r.res.mentions)]
    moved = old[old["entity_id"].isin(renamed.keys())].assign(
        entity_id=lambda d: d["entity_id"].map(renamed))
    kept = old[~old["entity_id"].isin(was)]
    frame = pd.concat([kept, moved, *[f.astype(str) for f in fresh]], ignore_index=True)
    frame = frame.assign(_k=frame["kind"] != "enterprise").sort_values(["_k", "entity_id"], kind="stable")
    return frame.drop(columns="_k").reset_index(drop=True)[R.ENTITY_COLUMNS]


def _relations(old: pd.DataFrame, mention_relations: pd.DataFrame, entity_of: pd.Series, touched: set) -> pd.DataFrame:
    """Entity-level relations: those of touched entities made again from their mention-level ones."""
    kept = old[~old["from_id"].isin(touched) & ~old["to_id"].isin(touched)]
    ends = (mention_relations["from_mention"].map(entity_of).isin(touched)
            | mention_relations["to_mention"].map(entity_of).isin(touched))
    fresh = R._relations(mention_relations[ends], entity_of)
    for col in ("ratio", "amount"):  # as read back from the CSV the kept rows came from
        fresh[col] = _csv_numbers(fresh[col])
    frame = pd.concat([kept, fresh.astype(str)], ignore_index=True)
    return frame.sort_values(["from_id", "to_id", "type", "role"], kind="stable", ignore_index=True)


def _csv_numbers(values: pd.Series) -> pd.Series:
    """Each value as a CSV of it alone holds it ("" if absent); the floats in one to_csv (one
    per value took a fifth of an ingest), which formats a float64 column value by value."""
    present = values.map(R._present).to_numpy(bool)
    floats = present & values.map(lambda v: isinstance(v, float)).to_numpy(bool)
    out = np.full(len(values), "", dtype=object)
    if floats.any():
        text = pd.DataFrame({"v": values[floats].astype(np.float64).to_numpy()}).to_csv(index=False, header=False)
        out[floats] = text.splitlines()
    other = present & ~floats
    out[other] = [_csv_number(v) for v in values[other]]
    return pd.Series(out, index=values.index, dtype=object)


def _csv_number(value) -> str:
    return pd.DataFrame({"v": [value]}).to_csv(index=False, header=False).strip()


def _review(out_dir: Path, done: list[Relinked], decisions: dict, relations: pd.DataFrame, ids: set,
            entity_of: pd.Series, renamed: dict, out: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The stored queue and unlinked mentions without those of the re-linked set, plus that set's
    (resolve's own queue function on it)."""
    kinds = {r.res.mentions["kind"].iat[0]: r.res for r in done if len(r.res.mentions)}
    fresh, gone = R._queue(kinds, decisions, relations)[:2] if kinds else (pd.DataFrame(), pd.DataFrame())
    old = pd.read_csv(out_dir / "review_queue.csv", dtype=str, keep_default_na=False)
    old = old[~old["left_mention"].isin(ids) & ~old["right_mention"].isin(ids)]
    old = old.assign(left_entity=old["left_mention"].map(entity_of), right_entity=old["right_mention"].map(entity_of))
    queue = pd.concat([old.drop(columns=["worth"], errors="ignore"), fresh.astype(str)], ignore_index=True)
    queue = R.with_worth(queue, out["mentions.csv"], out["relations.csv"], out["list_records.csv"])
    return queue, _unlinked(out_dir, gone, ids, renamed)


def _unlinked(out_dir: Path, fresh: pd.DataFrame, ids: set, renamed: dict) -> pd.DataFrame:
    """unlinked.csv: the stored rows of mentions outside the re-linked set (their candidates'
    ids renamed as the batch renamed them), and the set's own."""
    path = out_dir / "unlinked.csv"
    old = pd.read_csv(path, dtype=str, keep_default_na=False) if path.exists() else pd.DataFrame(
        columns=triage.UNLINKED_COLUMNS)
    old = old[~old["mention_id"].isin(ids)]
    old = old.assign(candidate_entities=["|".join(sorted(renamed.get(e, e) for e in text.split("|")))
                                         for text in old["candidate_entities"]])
    return R.unlinked_in_order(pd.concat([old, fresh.astype(str)], ignore_index=True))


def _vault(out_dir: Path, was: set, done: list[Relinked], renamed: dict) -> pd.DataFrame:
    old = pd.read_csv(out_dir / "identity_vault.csv", dtype=str, keep_default_na=False)
    moved = old[old["entity_id"].isin(renamed.keys())].assign(entity_id=lambda d: d["entity_id"].map(renamed))
    fresh = [R._vault(r.res) for r in done if len(r.res.mentions) and r.res.mentions["kind"].iat[0] == "person"]
    frame = pd.concat([old[~old["entity_id"].isin(was)], moved, *fresh], ignore_index=True)
    return frame.sort_values(["entity_id", "id_number"], ignore_index=True)


def _changes(old: pd.DataFrame, new: pd.DataFrame, ids: set, renamed: dict, old_lists: pd.DataFrame,
             lists: pd.DataFrame) -> dict:
    """Where each touched mention went: new, retired, merged, split, renamed, changed entities."""
    before = keyed(old, "mention_id", "entity_id")
    after = keyed(new, "mention_id", "entity_id")
    touched = set(before.index[before.isin(renamed.keys())]) | ids
    flows = pd.DataFrame({"mention_id": sorted(touched)})
    flows["old"] = flows["mention_id"].map(before)
    flows["new"] = flows["mention_id"].map(after)
    all_old, all_new = set(before), set(after)
    into, out_of = defaultdict(set), defaultdict(set)
    for o, n in zip(flows["old"], flows["new"]):
        if isinstance(o, str) and isinstance(n, str):
            into[n].add(o)
            out_of[o].add(n)
    retired = {o for o in flows["old"].dropna() if o not in all_new}
    created = {n for n in flows["new"].dropna() if n not in all_old}
    # a merge retires an entity into another; a split makes a new one out of an old one: a mention
    # that only moves between two entities that stay (a renamed row) is neither, it is `moved`
    merged = [{"into": n, "from": sorted(olds)} for n, olds in sorted(into.items())
              if len(olds) > 1 and olds & retired - {n}]
    split = [{"from": o, "into": sorted(news)} for o, news in sorted(out_of.items())
             if len(news) > 1 and news & created]
    renames = [{"from": o, "to": next(iter(news))} for o, news in sorted(out_of.items())
               if o in retired and len(news) == 1 and len(into[next(iter(news))]) == 1]
    changed = sorted({n for n in flows["new"].dropna() if n in all_old}
                     - {m["into"] for m in merged})
    entities = {"new": sorted(created - {r["to"] for r in renames} - {m["into"] for m in merged}
                              - {n for s in split for n in s["into"]}),
                "retired": [{"entity_id": o, "mentions_went_to": sorted(out_of.get(o, ()))} for o in sorted(retired)],
                "merged": merged, "split": split, "renamed": renames, "changed": changed,
                "retired_ids": retired}
    both = flows["old"].notna() & flows["new"].notna()
    mentions = {"added": int(flows["old"].isna().sum()), "removed": int(flows["new"].isna().sum()),
                "moved": int((both & (flows["old"] != flows["new"])).sum())}
    return {"mentions": mentions, "entities": entities,
            "records": _record_changes(old_lists, lists)}


RECORD_WRITES = ("added", "ended", "removed", "changed")  # the kinds of record change that stay in the graph


def _record_changes(old: pd.DataFrame, new: pd.DataFrame) -> dict:
    """List records `added`; `ended` (its term now ends, or ends earlier: effective_to set or moved
    earlier); `removed` (a removal now ends it, or ends it earlier: removed_on set or moved
    earlier), both still in the record's history; `deleted` (gone from the output: its row was
    deleted, or no longer makes that record); `changed` (anything else: another entity, another
    field, an end cleared or put later). A record both ended and removed is `removed`."""
    text = new.astype(object).where(new.notna(), "").astype(str)  # as the CSV will hold it (None is empty)
    a, b = old.set_index("record_uid"), text.set_index("record_uid")
    both = a.index.intersection(b.index)
    cols = [c for c in a.columns if c in b.columns]
    was, now = a.loc[both, cols].astype(str), b.loc[both, cols]
    differs = (was != now).any(axis=1).to_numpy()
    removed = _earlier(was["removed_on"], now["removed_on"])
    ended = _earlier(was["effective_to"], now["effective_to"]) & ~removed
    return {"added": sorted(b.index.difference(a.index)), "ended": sorted(both[ended]),
            "removed": sorted(both[removed]), "deleted": sorted(a.index.difference(b.index)),
            "changed": sorted(both[differs & ~ended & ~removed])}


def _earlier(was: pd.Series, now: pd.Series) -> np.ndarray:
    """An end date (ISO text, empty for none) set where there was none, or moved earlier."""
    was, now = was.to_numpy(str), now.to_numpy(str)
    return (now != "") & ((was == "") | (now < was))


# -- writing: all or nothing -------------------------------------------------------------------

CHANGE_CSVS = {"changes_entities.csv": ["change", "entity_id", "other_ids"],
               "changes_records.csv": ["change", "record_uid"]}


def _commit(out_dir: Path, outputs: dict[str, pd.DataFrame], changes: dict, state: State,
            rejects: pd.DataFrame) -> None:
    """Every file is written under DIR/.ingest-pending, then a COMMIT list, then each is renamed
    into place: a crash before COMMIT leaves the old output whole (the rerun starts over), one
    after it is finished by the rerun (recover), so a rerun never applies a batch twice."""
    pending = out_dir / PENDING
    shutil.rmtree(pending, ignore_errors=True)
    private_dir(pending)
    for name, frame in outputs.items():
        with open_private(pending / name, "w", encoding="utf-8", newline="") as f:
            frame.to_csv(f, index=False)
    _append_rejects(out_dir, pending, rejects)
    with open_private(pending / "changes.json", "w", encoding="utf-8") as f:
        f.write(json.dumps(changes, ensure_ascii=False, indent=1, default=str))
    for name, frame in _change_tables(changes).items():
        with open_private(pending / name, "w", encoding="utf-8", newline="") as f:
            frame.to_csv(f, index=False)
    _write_state(pending / STATE_FILE, state)
    names = sorted(p.name for p in pending.iterdir())
    with open_private(pending / "COMMIT", "w", encoding="utf-8") as f:
        f.write(json.dumps(names))
    recover(out_dir)


def recover(out_dir: Path) -> None:
    """Finish an ingest whose files were all written (COMMIT present), or forget one that was not."""
    pending = Path(out_dir) / PENDING
    if not pending.exists():
        return
    commit = pending / "COMMIT"
    if commit.exists():
        for name in json.loads(commit.read_text(encoding="utf-8")):
            if (pending / name).exists():
                os.replace(pending / name, out_dir / name)
    shutil.rmtree(pending, ignore_errors=True)


def _append_rejects(out_dir: Path, pending: Path, rejects: pd.DataFrame) -> None:
    shown, clear = mask_rejects(rejects)
    for name, new in (("rejects.csv", shown), ("rejects_vault.csv", clear)):
        path = out_dir / name
        old = pd.read_csv(path, dtype=str, keep_default_na=False) if path.exists() else new.iloc[:0]
        with open_private(pending / name, "w", encoding="utf-8", newline="") as f:
            pd.concat([old, new.astype(str)], ignore_index=True).to_csv(f, index=False)


def _change_tables(changes: dict) -> dict[str, pd.DataFrame]:
    e, r = changes["entities"], changes["records"]
    rows = [("new", i, "") for i in e["new"]]
    rows += [("retired", x["entity_id"], "|".join(x["mentions_went_to"])) for x in e["retired"]]
    rows += [("merged", x["into"], "|".join(x["from"])) for x in e["merged"]]
    rows += [("split", x["from"], "|".join(x["into"])) for x in e["split"]]
    rows += [("renamed", x["to"], x["from"]) for x in e["renamed"]]
    rows += [("changed", i, "") for i in e["changed"]]
    records = [(kind, uid) for kind in (*RECORD_WRITES, "deleted") for uid in r[kind]]
    return {"changes_entities.csv": pd.DataFrame(rows, columns=CHANGE_CSVS["changes_entities.csv"]),
            "changes_records.csv": pd.DataFrame(records, columns=CHANGE_CSVS["changes_records.csv"])}
