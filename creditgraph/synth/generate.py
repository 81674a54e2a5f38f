"""Write the synthetic city: OUT/exports/*.csv, OUT/manifest.yaml and OUT/truth/.

Rows stream to disk as they are drawn; only the world (persons, firms, relations) is held in
memory, about 1 KB per firm and 0.3 KB per person.
"""
from __future__ import annotations

import csv
import json
from dataclasses import asdict, replace
from pathlib import Path

import yaml

from creditgraph.synth import world as worldmod
from creditgraph.synth.exports import EXPORTS, RECORD_ID, Export, Row
from creditgraph.synth.noise import Garbler
from creditgraph.synth.profile import DEFAULT_PROFILE, load_profile
from creditgraph.synth.rates import Noise, Shape

# Broken rows forced once each (source, row number, kind) so every reject path is exercised
# even in a small city; more appear at Noise.bad_row.
FORCED_BAD = {("shareholders", 3): "ragged", ("personnel", 2): "empty_name", ("court_dishonest", 2): "bad_date"}
BAD_DATES = ("{y}-02-30", "{y}/13/1", "{y}0231", "{y}年2月30日")


def generate(out_dir: Path, enterprises: int, persons: int, seed: int = 0, noise: float = 1.0,
             progress=None, shape: Shape | None = None, rates: Noise | None = None,
             profile: str = DEFAULT_PROFILE) -> dict:
    """Draw a city of `enterprises` firms and `persons` persons and write it under `out_dir`.

    Deterministic for (enterprises, persons, seed, noise, profile). The noise profile (profile.py)
    gives vocabularies, rates, column names and encodings; `shape` and `rates` replace its rates.
    `progress(stage)` is called after the world is drawn and after each export. Returns rows per
    export, mentions, entities, bad rows.
    """
    out_dir = Path(out_dir)
    prof = load_profile(profile)
    vocab = prof.vocab
    shape, rates = shape or prof.shape, (rates or prof.noise).scaled(noise)
    world = worldmod.build(vocab, shape, max(1, enterprises), max(2, persons), seed)
    _report(progress, "world")
    (out_dir / "exports").mkdir(parents=True, exist_ok=True)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    truth = Truth(out_dir / "truth", len(world.rels))
    counts: dict = {"rows": {}}
    applied: dict = {}
    try:
        for exp in map(prof.export, EXPORTS):
            g = Garbler(rates.for_registry() if exp.clean else rates, vocab, seed=hash_seed(seed, exp.source))
            counts["rows"][exp.source] = write_export(out_dir, exp, world, g, truth)
            applied[exp.source] = dict(sorted(g.counts.items()))
            _report(progress, exp.source)
    finally:
        truth.close_streams()
    truth.write_world(world)
    prof.write_manifest(out_dir / "manifest.yaml")
    _write_noise(out_dir / "truth" / "noise.yaml", rates, shape, applied)   # what noise was applied
    counts.update(profile=prof.name, mentions=truth.mentions, bad_rows=truth.bad_rows, entities=truth.entity_counts,
                  relations=truth.relation_count, cycles=len(world.cycles))
    return counts


def hash_seed(seed: int, source: str) -> str:
    # A string seed is hashed with SHA-512 by `random`: stable across runs and processes.
    return f"{seed}:{source}"


def _report(progress, stage: str) -> None:
    if progress:
        progress(stage)


# --- exports -----------------------------------------------------------------------------------

def write_export(out_dir: Path, exp: Export, world, g: Garbler, truth: "Truth") -> int:
    terminator = "\r\n" if exp.encoding == "gb18030" else "\n"   # GB18030 files come from Windows
    header = [RECORD_ID, *exp.columns]
    n = 0
    with open(out_dir / "exports" / exp.file, "w", encoding=exp.encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator=terminator)
        writer.writerow(header)
        for n, row in enumerate(exp.rows(world, g), 1):
            record_id = f"{exp.prefix}{n:08d}"
            values = [record_id, *row.values]
            if not exp.clean:
                values = _maybe_break(exp, header, values, n, g, truth)
            writer.writerow(values)
            truth.row(exp.source, record_id, row)
    return n


def _maybe_break(exp: Export, header: list, values: list, n: int, g: Garbler, truth: "Truth") -> list:
    kind = FORCED_BAD.get((exp.source, n))
    if kind is None and g.rng.random() < g.r.bad_row:
        kind = g.rng.choice(["ragged", "empty_name", "bad_date"] if exp.date_col else ["ragged", "empty_name"])
    if kind == "ragged":
        values = values[:-1]
        what = f"ragged row: {len(values)} fields for {len(header)} columns"
    elif kind == "empty_name":
        values[header.index(exp.name_col)] = ""
        what = f"empty name in {exp.name_col}"
    elif kind == "bad_date" and exp.date_col:
        bad = g.rng.choice(BAD_DATES).format(y=g.rng.randint(2015, 2023))
        values[header.index(exp.date_col)] = bad
        what = f"impossible date {bad} in {exp.date_col}"
    else:
        return values
    truth.bad(exp.file, exp.source, values[0], kind, what)
    return values


# --- truth -------------------------------------------------------------------------------------

class Truth:
    """Streams mentions and bad rows; remembers which entities, relations and list records the
    exports showed, so the truth holds exactly what a perfect resolver could find."""

    def __init__(self, path: Path, n_rels: int):
        self.path = path
        self._mf = open(path / "mentions.csv", "w", encoding="utf-8", newline="")
        self._m = csv.writer(self._mf, lineterminator="\n")
        self._m.writerow(["source", "record_id", "role", "entity_id"])
        self._bf = open(path / "bad_rows.csv", "w", encoding="utf-8", newline="")
        self._b = csv.writer(self._bf, lineterminator="\n")
        self._b.writerow(["file", "source", "record_id", "kind", "problem"])
        self.seen_entities: set[str] = set()
        self.broken: set[tuple[str, str]] = set()  # (source, record_id) of the rows broken on purpose
        self.seen_rels = bytearray(n_rels)
        self.lists: set[tuple] = set()
        self.mentions = self.bad_rows = self.relation_count = 0
        self.entity_counts: dict = {}

    def row(self, source: str, record_id: str, row: Row) -> None:
        for role, eid in row.parties:
            self._m.writerow((source, record_id, role, eid))
            self.seen_entities.add(eid)
        self.mentions += len(row.parties)
        for rel in row.rels:
            self.seen_rels[rel] = 1
        self.lists.update(row.lists)
        if row.ends in self.broken:  # the record a removal names was broken: the removal matches nothing
            file = next(e.file for e in EXPORTS if e.source == source)
            self.bad(file, source, record_id, "unmatched_removal", f"ends {':'.join(row.ends)}, a broken row")

    def bad(self, file: str, source: str, record_id: str, kind: str, what: str) -> None:
        self._b.writerow((f"exports/{file}", source, record_id, kind, what))
        self.broken.add((source, record_id))
        self.bad_rows += 1

    def close_streams(self) -> None:
        self._mf.close()
        self._bf.close()

    def write_world(self, world) -> None:
        self._entities(world)
        self._relations(world)
        self._lists()
        with open(self.path / "guarantee_cycles.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["cycle", "position", "entity_id"])
            for c, cycle in enumerate(world.cycles, 1):
                w.writerows((c, i, world.firms[f].eid) for i, f in enumerate(cycle))

    def _entities(self, world) -> None:
        counts = {"enterprise": 0, "person": 0}
        with open(self.path / "entities.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["entity_id", "kind", "name", "identifier"])
            for f in world.firms:
                if f.eid in self.seen_entities:
                    w.writerow((f.eid, "enterprise", f.name, f.uscc))
                    counts["enterprise"] += 1
            for p in world.persons:
                if p.pid in self.seen_entities:
                    w.writerow((p.pid, "person", p.name, p.id18))
                    counts["person"] += 1
        self.entity_counts = counts

    def _relations(self, world) -> None:
        with open(self.path / "relations.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["from_id", "to_id", "type", "ratio", "role", "amount"])
            for i, rel in enumerate(world.rels):
                if self.seen_rels[i]:
                    w.writerow(["" if v is None else v for v in rel])
                    self.relation_count += 1

    def _lists(self) -> None:
        with open(self.path / "lists.csv", "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(["entity_id", "list", "grade"])
            w.writerows(sorted(self.lists))


def _write_noise(path: Path, rates: Noise, shape: Shape, counts: dict) -> None:
    doc = {"rates": rates.as_dict(), "registry_rates": replace(rates).for_registry().as_dict(),
           "shape": json.loads(json.dumps(asdict(shape))),   # tuples -> lists for safe_dump
           "applied": counts}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8")
