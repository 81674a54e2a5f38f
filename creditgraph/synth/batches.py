"""Daily batches for a synthetic city: what departments send the day after a full resolve.

`make_batches(city, out, batches=3, rows=300)` writes out/batch_N/ (a batch manifest, for
`creditgraph ingest`, and its delta files: column 操作 = insert | update | delete by record id;
with `snapshot=` some sources are sent whole instead) and out/final/ (the city's exports after
every batch, with its manifest, for the full resolve an ingest must equal). An update keeps its
row's place in the export and an insert goes at its end, as a department's export would.

Changes per batch: new rows for existing firms and persons (a copy of a row under a new record
id), new firms (a row renamed, its identifiers cleared), renames (a row given another row's
name and identifiers: its mention moves, so clusters split and merge), cleared identifiers and
deleted rows.
"""
from __future__ import annotations

import copy
import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from creditgraph.loaders.manifest import load_manifest
from creditgraph.loaders.reader import decode_lines, detect_encoding

OP = "操作"
KINDS = ("copy", "new_firm", "rename", "clear_ids", "delete")
SHARES = (0.3, 0.1, 0.25, 0.15, 0.2)


def make_batches(city: Path, out: Path, batches: int = 3, rows: int = 300, seed: int = 7,
                 snapshot: tuple[str, ...] = ()) -> list[Path]:
    city, out = Path(city), Path(out)
    manifest = load_manifest(city / "manifest.yaml")
    raw = yaml.safe_load((city / "manifest.yaml").read_text(encoding="utf-8"))
    rng = np.random.default_rng(seed)
    # sources of parties only: a removals export (records ended) names rows of another source
    exports = {s.name: _read(manifest.path_of(s)) for s in manifest.sources if s.parties}
    specs = {s.name: s for s in manifest.sources}
    paths = []
    for n in range(1, batches + 1):
        day = out / f"batch_{n}"
        deltas = {name: [] for name in exports}
        plans = {name: ({}, set(), []) for name in exports}  # per source: updates, deletes, inserts
        touched = set()  # a record changes once a batch (a delta names each record id once)
        for k in range(rows):
            name = rng.choice(sorted(exports))
            _change(rng, exports, specs[name], deltas[name], f"B{n}-{k:06d}", touched, plans[name])
        for name, (updates, deletes, inserts) in plans.items():  # applied at once: one copy per source
            frame = exports[name]
            for i, row in updates.items():
                frame.iloc[i] = row
            frame = frame.drop(index=frame.index[sorted(deletes)])
            exports[name] = pd.concat([frame, pd.DataFrame(inserts, columns=frame.columns)], ignore_index=True)
        paths.append(_write_batch(day, raw, exports, deltas, set(snapshot) if n == batches else set()))
    _write_final(out / "final", city, raw, exports)
    return paths


def _read(path: Path) -> pd.DataFrame:
    data = path.read_bytes()
    text = "".join(t for _, t, err in decode_lines(data, detect_encoding(data)) if not err)
    header, *rows = csv.reader(io.StringIO(text, newline=""))
    # a ragged row (rejected by the reader) is left out: written back whole, it would read
    return pd.DataFrame([r for r in rows if len(r) == len(header)],
                        columns=[c.strip().lstrip("\ufeff") for c in header], dtype=str)


def _main_columns(spec) -> tuple[str, list[str]]:
    fields = spec.parties[spec.main].fields
    ids = fields.get("identifiers") or []
    return fields["name"].column, [i.column for i in (ids if isinstance(ids, list) else [ids]) if i.column]


def _change(rng, exports: dict, spec, delta: list, new_id: str, touched: set, plan: tuple) -> None:
    """Plan one change of a row of the export as it was at the start of the batch."""
    frame = exports[spec.name]
    updates, deletes, inserts = plan
    kind = KINDS[rng.choice(len(KINDS), p=SHARES)]
    i = int(rng.integers(len(frame))) if len(frame) else 0
    if frame.empty or (spec.name, frame.iloc[i][spec.record_id]) in touched:
        return
    name_col, id_cols = _main_columns(spec)
    row = frame.iloc[i].copy()
    rid = row[spec.record_id]
    touched |= {(spec.name, rid), (spec.name, new_id)}
    if kind == "delete":
        deletes.add(i)
        delta.append({spec.record_id: rid, OP: "delete"})
        return
    if kind in ("copy", "new_firm"):
        row[spec.record_id] = new_id
        if kind == "new_firm":
            row[name_col] = _renamed(row[name_col], rng)
            row[id_cols] = ""
        inserts.append(row.tolist())
        delta.append({**row.to_dict(), OP: "insert"})
        return
    if kind == "rename":  # another row's main party: the mention moves to that entity
        other = frame.iloc[int(rng.integers(len(frame)))]
        row[[name_col, *id_cols]] = other[[name_col, *id_cols]]
    else:
        row[id_cols] = ""
    updates[i] = row
    delta.append({**row.to_dict(), OP: "update"})


def _renamed(name: str, rng) -> str:
    """A name no firm has: a trade name of two new characters in place of the first two after the city."""
    chars = "鑫垚淼焱犇骉羴赑譶"
    mark = name.find("市") + 1
    return name[:mark] + "".join(rng.choice(list(chars), 2)) + name[mark + 2:]


def _write_batch(day: Path, raw: dict, exports: dict, deltas: dict, whole: set) -> Path:
    (day / "exports").mkdir(parents=True, exist_ok=True)
    sources = []
    for source in raw["sources"]:
        name = source["name"]
        if name not in exports:
            continue
        entry = copy.deepcopy(source)
        entry["file"] = f"exports/{name}.csv"
        entry["encoding"] = "utf-8"
        if name in whole:
            exports[name].to_csv(day / entry["file"], index=False)
            entry["mode"] = "snapshot"
        elif deltas[name]:
            columns = [*exports[name].columns, OP]
            pd.DataFrame(deltas[name]).reindex(columns=columns).fillna("").to_csv(day / entry["file"], index=False)
            entry.update(mode="delta", op=OP)
        else:
            continue
        sources.append(entry)
    path = day / "manifest.yaml"
    path.write_text(yaml.safe_dump({"dataset": raw["dataset"], "sources": sources}, allow_unicode=True,
                                   sort_keys=False), encoding="utf-8")
    return path


def _write_final(final: Path, city: Path, raw: dict, exports: dict) -> None:
    (final / "exports").mkdir(parents=True, exist_ok=True)
    sources = []
    for source in raw["sources"]:
        entry = copy.deepcopy(source)
        if source["name"] in exports:
            entry["file"], entry["encoding"] = f"exports/{source['name']}.csv", "utf-8"
            exports[source["name"]].to_csv(final / entry["file"], index=False)
        else:  # unchanged: the city's own file
            entry["file"] = str((city / source["file"]).resolve())
        sources.append(entry)
    (final / "manifest.yaml").write_text(yaml.safe_dump({"dataset": raw["dataset"], "sources": sources},
                                                        allow_unicode=True, sort_keys=False), encoding="utf-8")
