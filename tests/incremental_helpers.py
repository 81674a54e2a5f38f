"""A synthetic city resolved in full, three daily batches, and the comparisons an ingest must pass
(tests/unit/test_incremental.py, tests/integration/test_apply_changes.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import yaml

from creditgraph.base.settings import Settings, id_key
from creditgraph.linkage.decisions import DecisionLog
from creditgraph.linkage.incremental import _with_removals, ingest, load_state
from creditgraph.linkage.resolve import resolve
from creditgraph.loaders.manifest import Manifest, load_manifest
from creditgraph.loaders.reader import read_manifest
from creditgraph.pipeline import run_resolve
from creditgraph.synth.batches import make_batches
from creditgraph.synth.generate import generate

TEST_KEY = "incremental-test-key-0123456789abcdef"
KEYS = {"entities.csv": ["entity_id"], "relations.csv": ["from_id", "to_id", "type", "role"],
        "list_records.csv": ["record_uid"], "identity_vault.csv": ["entity_id", "id_number"],
        "review_queue.csv": ["pair_id"], "mentions.csv": ["mention_id"], "unlinked.csv": ["mention_id"]}


def city(root: Path, enterprises: int = 2000, persons: int = 3000, rows: int = 150) -> dict:
    """The city, its full resolve (DIR full/), the batches and the final exports."""
    settings = Settings(data=root / "data", id_key=TEST_KEY)
    generate(root / "city", enterprises=enterprises, persons=persons, seed=7)
    run_resolve(root / "city" / "manifest.yaml", root / "full", settings)
    batches = make_batches(root / "city", root / "batches", batches=3, rows=rows, snapshot=("tax",))
    return {"root": root, "settings": settings, "full": root / "full", "batches": batches,
            "final": root / "batches" / "final" / "manifest.yaml"}


def ingest_all(c: dict, into: Path, each=lambda n, changes: None) -> list[dict]:
    """Copy the full output to `into` and ingest every batch into it, in order."""
    shutil.rmtree(into, ignore_errors=True)
    shutil.copytree(c["full"], into)
    out = []
    for n, batch in enumerate(c["batches"], start=1):
        changes = ingest(batch, into, _decisions(c), id_key(c["settings"]))
        each(n, changes)
        out.append(changes)
    return out


def _decisions(c: dict) -> dict:
    return DecisionLog(c["settings"].decisions_path).latest()


def full_of_final(c: dict, into: Path):
    """One full resolve of the final exports, scored with the models the ingests reused."""
    frames = _with_removals(read_manifest(load_manifest(c["final"])).frames())  # as run_resolve reads them
    return resolve(frames, _decisions(c), id_key(c["settings"]), models=load_state(into).models)


def as_full(resolution) -> dict[str, pd.DataFrame]:
    return {"entities.csv": resolution.entities, "relations.csv": resolution.relations,
            "list_records.csv": resolution.lists, "identity_vault.csv": resolution.vault,
            "review_queue.csv": resolution.review, "mentions.csv": resolution.mentions,
            "unlinked.csv": resolution.unlinked}


def differences(out_dir: Path, full: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Per output file, the rows that one side has and the other has not (empty when equal)."""
    diffs = {}
    for name, keys in KEYS.items():
        mine = _text(pd.read_csv(out_dir / name, dtype=str, keep_default_na=False))
        theirs = _text(full[name])[mine.columns]
        merged = mine.merge(theirs, how="outer", indicator=True)
        diffs[name] = merged[merged["_merge"] != "both"].sort_values(keys)
    return diffs


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as the CSV holds them (a float score 1.0 reads back as '1.0')."""
    return frame.astype(object).where(frame.notna(), "").astype(str).replace("nan", "")


def batch_frames(batch: Path) -> tuple[dict, dict[str, pd.DataFrame]]:
    """A batch manifest (as YAML) and each source's rows, as text."""
    raw = yaml.safe_load(Path(batch).read_text(encoding="utf-8"))
    rows = {s["name"]: pd.read_csv(Path(batch).parent / s["file"], dtype=str, keep_default_na=False)
            for s in raw["sources"]}
    return raw, rows


def with_bad_insert(batch: Path, out: Path) -> Path:
    """A copy of a CSV batch whose first delta source has one more insert, with an empty name:
    a row the reader rejects."""
    raw, rows = batch_frames(batch)
    source = next(s for s in raw["sources"] if s.get("mode") == "delta")
    plain = {k: v for k, v in source.items() if k not in ("mode", "op")}  # as a manifest's source
    spec = Manifest(dataset=raw["dataset"], sources=[plain], base_dir=Path(batch).parent).sources[0]
    frame = rows[source["name"]]
    bad = frame[frame[source["op"]] == "insert"].iloc[0].copy()
    bad[[spec.record_id, spec.parties[spec.main].fields["name"].column]] = ["BAD-INSERT-1", ""]
    rows[source["name"]] = pd.concat([frame, bad.to_frame().T], ignore_index=True)
    return write_batch(raw, rows, out, "csv", lambda name, frame, path: frame.to_csv(path, index=False))


def as_xlsx(batch: Path, out: Path) -> Path:
    """The batch with every source an XLSX sheet of text cells, as a spreadsheet export holds it."""
    from openpyxl import Workbook

    def write(name, frame, path):
        book = Workbook(write_only=True)
        sheet = book.create_sheet(name)
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([v if v else None for v in row])
        book.save(path)
    raw, rows = batch_frames(batch)
    return write_batch(raw, rows, out, "xlsx", write)


def write_batch(raw: dict, rows: dict[str, pd.DataFrame], out: Path, fmt: str, write) -> Path:
    """The batch's manifest with each source in `fmt`, its rows written by write(name, frame, path)."""
    (out / "exports").mkdir(parents=True, exist_ok=True)
    sources = []
    for source in raw["sources"]:
        entry = {**source, "file": f"exports/{source['name']}.{fmt}"}
        if fmt != "csv":
            entry = {k: v for k, v in entry.items() if k not in ("encoding", "delimiter")} | {"format": fmt}
        write(source["name"], rows[source["name"]], out / entry["file"])
        sources.append(entry)
    path = out / "manifest.yaml"
    path.write_text(yaml.safe_dump({**raw, "sources": sources}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def ingested(c: dict, batches: list[Path], into: Path) -> list[dict]:
    """The full output copied to `into`, then these batches ingested into it."""
    shutil.rmtree(into, ignore_errors=True)
    shutil.copytree(c["full"], into)
    return [ingest(b, into, _decisions(c), id_key(c["settings"])) for b in batches]


def same_outputs(a: Path, b: Path) -> dict[str, int]:
    """Per output file, the rows one ingest's output has and the other's has not."""
    full = {name: pd.read_csv(b / name, dtype=str, keep_default_na=False) for name in KEYS}
    return {name: len(d) for name, d in differences(a, full).items()}


def ending_batch(c: dict, out: Path, terms: int = 4) -> dict:
    """A day on which the court ends listings: `terms` open records given an end (截止日期), one
    record's end brought forward, one record removed by a removal export (移出); nothing else.
    Returns the batch manifest, the final exports' manifest and the uids each way, with dates."""
    from creditgraph.synth.batches import OP, _read
    lists = pd.read_csv(c["full"] / "list_records.csv", dtype=str, keep_default_na=False)
    court = lists[(lists["source"] == "court_dishonest") & (lists["effective_from"] != "")
                  & (lists["removed_on"] == "")]
    raw = yaml.safe_load((c["root"] / "city" / "manifest.yaml").read_text(encoding="utf-8"))
    specs = {s["name"]: s for s in raw["sources"]}
    city_dir = c["root"] / "city"
    rows = _read(city_dir / specs["court_dishonest"]["file"])
    removals = _read(city_dir / specs["court_removals"]["file"])
    unique_case = rows["案号"].map(rows["案号"].value_counts()) == 1
    usable = set(rows.loc[unique_case & (rows["证件号码"] != ""), "记录号"])
    court = court[court["record_id"].isin(usable)]
    opened = court[court["effective_to"] == ""].iloc[:terms + 1]
    closed = court[court["effective_to"] > court["effective_from"]].iloc[:1]
    day = lambda d, n=1: (pd.Timestamp(d) + pd.Timedelta(days=n)).date().isoformat()
    ends = {r.record_id: day(r.effective_from) for r in opened.iloc[:terms].itertuples()}
    ends |= {r.record_id: r.effective_from for r in closed.itertuples()}  # earlier than its end
    target = opened.iloc[terms]
    removed_on = day(target["effective_from"], 2)
    final = rows.copy()
    at = final["记录号"].isin(ends)
    final.loc[at, "截止日期"] = final.loc[at, "记录号"].map(ends)
    source_row = rows.set_index("记录号").loc[target["record_id"]]
    removal = {"记录号": "YC-END-1", "案号": source_row["案号"], "被执行人名称": source_row["被执行人名称"],
               "证件号码": source_row["证件号码"], "移出日期": removed_on, "移出原因": "履行完毕"}
    final_removals = pd.concat([removals, pd.DataFrame([removal])], ignore_index=True)
    deltas = {"court_dishonest": final[at].assign(**{OP: "update"}),
              "court_removals": pd.DataFrame([removal]).assign(**{OP: "insert"})}
    batch_raw = {"dataset": raw["dataset"], "sources": [
        {**specs[name], "mode": "delta", "op": OP} for name in deltas]}
    batch = write_batch(batch_raw, deltas, out / "batch", "csv", lambda n, f, p: f.to_csv(p, index=False))
    manifest = final_exports(c, out / "final", {"court_dishonest": final, "court_removals": final_removals})
    uid = lambda rid: f"court_dishonest:{rid}:dishonest_debtor"
    return {"batch": batch, "final": manifest, "ended": {uid(r): d for r, d in ends.items()},
            "removed": {uid(target["record_id"]): removed_on},
            "owners": lists.set_index("record_uid")["entity_id"].to_dict()}


def final_exports(c: dict, out: Path, finals: dict[str, pd.DataFrame]) -> Path:
    """The city's manifest with these sources' rows replaced by `finals` (the exports after a
    batch, for the full resolve it must equal)."""
    raw = yaml.safe_load((c["root"] / "city" / "manifest.yaml").read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    sources = []
    for s in raw["sources"]:
        if s["name"] in finals:
            path = out / f"{s['name']}.csv"
            finals[s["name"]].to_csv(path, index=False)
            sources.append({**s, "file": str(path), "encoding": "utf-8"})
        else:
            sources.append({**s, "file": str((c["root"] / "city" / s["file"]).resolve())})
    manifest = out / "manifest.yaml"
    manifest.write_text(yaml.safe_dump({**raw, "sources": sources}, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
    return manifest


def source_rows(c: dict, source: str) -> tuple[dict, pd.DataFrame]:
    """A source of the city: its manifest entry and its rows, as text."""
    from creditgraph.synth.batches import _read
    raw = yaml.safe_load((c["root"] / "city" / "manifest.yaml").read_text(encoding="utf-8"))
    spec = next(s for s in raw["sources"] if s["name"] == source)
    return spec, _read(c["root"] / "city" / spec["file"])


def source_batch(c: dict, out: Path, source: str, deleted: list[str], inserted: pd.DataFrame) -> dict:
    """A delta batch of one source: rows deleted by record id, rows inserted; and the final exports."""
    from creditgraph.synth.batches import OP
    raw = yaml.safe_load((c["root"] / "city" / "manifest.yaml").read_text(encoding="utf-8"))
    spec, rows = source_rows(c, source)
    gone = rows[rows[spec["record_id"]].isin(deleted)][[spec["record_id"]]].assign(**{OP: "delete"})
    delta = pd.concat([gone, inserted.assign(**{OP: "insert"})], ignore_index=True)
    batch_raw = {"dataset": raw["dataset"], "sources": [{**spec, "mode": "delta", "op": OP}]}
    batch = write_batch(batch_raw, {source: delta}, out / "batch", "csv", lambda n, f, p: f.to_csv(p, index=False))
    final = pd.concat([rows[~rows[spec["record_id"]].isin(deleted)], inserted], ignore_index=True)
    return {"batch": batch, "final": final_exports(c, out / "final", {source: final})}
