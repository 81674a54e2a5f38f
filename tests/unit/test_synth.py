"""The synthetic city: deterministic, every party of every row in the truth, encodings as the
departments write them, valid registry identifiers, planted guarantee cycles, visible noise."""
from __future__ import annotations

import codecs
import csv
import io
from collections import defaultdict
from pathlib import Path

import opencc
import pytest

from creditgraph.synth import generate
from creditgraph.synth.exports import EXPORTS, RECORD_ID
from creditgraph.linkage.identifiers import classify
from creditgraph.loaders.manifest import load_manifest

ENTERPRISES, PERSONS = 400, 600
ENCODINGS = {e.source: e.encoding for e in EXPORTS}


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("city")
    generate(out, ENTERPRISES, PERSONS, seed=7)
    return out


def read_export(city: Path, source: str) -> list[dict]:
    exp = next(e for e in EXPORTS if e.source == source)
    text = (city / "exports" / exp.file).read_bytes().decode(exp.encoding)
    rows = list(csv.reader(io.StringIO(text)))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def read_truth(city: Path, name: str) -> list[dict]:
    with open(city / "truth" / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_same_seed_same_bytes_other_seed_other_city(city, tmp_path):
    again, other = tmp_path / "again", tmp_path / "other"
    generate(again, ENTERPRISES, PERSONS, seed=7)
    generate(other, ENTERPRISES, PERSONS, seed=8)
    files = sorted(p.relative_to(city) for p in city.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for f in files:
        assert (city / f).read_bytes() == (again / f).read_bytes(), f
    assert (city / "exports/registry.csv").read_bytes() != (other / "exports/registry.csv").read_bytes()


def _expected_roles(source, row: dict) -> set[str]:
    """Parties the manifest finds in a row: `when` holds and, if optional, a name is present."""
    roles = set()
    for role, party in source.parties.items():
        if party.when and not party.when.holds(row.get(party.when.column, "").strip()):
            continue
        if party.optional and not row.get(party.fields["name"].column, "").strip():
            continue
        roles.add(role)
    return roles


def test_every_party_of_every_row_has_a_truth_mention(city):
    manifest = load_manifest(city / "manifest.yaml")
    truth = defaultdict(set)
    for m in read_truth(city, "mentions.csv"):
        truth[(m["source"], m["record_id"])].add(m["role"])
    bad = {(b["source"], b["record_id"]) for b in read_truth(city, "bad_rows.csv")}
    seen = set()
    for source in manifest.sources:
        rows = read_export(city, source.name)
        assert rows, source.name
        assert len({r[RECORD_ID] for r in rows}) == len(rows), f"{source.name}: record ids repeat"
        if source.kind == "removals":  # a removal names a record, no party
            continue
        for row in rows:
            key = (source.name, row[RECORD_ID])
            seen.add(key)
            assert truth[key], key
            if key not in bad:  # a broken row may have lost the column that decides a party
                assert truth[key] == _expected_roles(source, row), key
    assert set(truth) == seen  # and no truth mention without its row


def test_encodings_as_departments_write_them(city):
    tax = (city / "exports/tax.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        tax.decode("utf-8")
    assert "纳税人识别号" in tax.decode("gb18030")
    assert (city / "exports/registry.csv").read_bytes().startswith(codecs.BOM_UTF8)


def test_manifest_columns_exist_in_every_export(city):
    manifest = load_manifest(city / "manifest.yaml")
    for source in manifest.sources:
        header = set(read_export(city, source.name)[0])
        assert source.columns() <= header, source.name
        assert (city / source.file).exists()


def test_registry_identifiers_pass_their_checksums(city):
    rows = read_export(city, "registry")
    checked = 0
    for row in rows:
        for column, kind, types in (("统一社会信用代码", "enterprise", {"uscc"}), ("注册号", "enterprise", {"reg_no"}),
                                    ("法定代表人证件号码", "person", {"id18"})):
            if row[column]:
                ident = classify(row[column], kind)
                assert ident.valid and ident.type in types, (row[RECORD_ID], column, row[column])
                checked += 1
    assert checked > 2 * len(rows)
    for e in read_truth(city, "entities.csv"):
        ident = classify(e["identifier"], e["kind"])
        assert ident.valid and ident.type == ("uscc" if e["kind"] == "enterprise" else "id18"), e


def test_uscc_of_other_registrars_exercise_the_digit_trap(city):
    firsts = {e["identifier"][0] for e in read_truth(city, "entities.csv") if e["kind"] == "enterprise"}
    assert "9" in firsts and firsts - {"9"}


def _has_cycle(edges: dict[str, set[str]], cycle: list[str]) -> bool:
    return all(b in edges[a] for a, b in zip(cycle, cycle[1:] + cycle[:1]))


def test_planted_guarantee_cycles_are_in_the_truth(city):
    edges = defaultdict(set)
    for r in read_truth(city, "relations.csv"):
        if r["type"] == "GUARANTEES" and r["from_id"].startswith("E"):
            edges[r["from_id"]].add(r["to_id"])
    cycles = defaultdict(list)
    for c in read_truth(city, "guarantee_cycles.csv"):
        cycles[c["cycle"]].append(c["entity_id"])
    assert cycles
    for cycle in cycles.values():
        assert 2 <= len(cycle) <= 5 and _has_cycle(edges, cycle), cycle


def test_shareholdings_sum_to_at_most_one_and_chain(city):
    totals, holders = defaultdict(float), defaultdict(list)
    for r in read_truth(city, "relations.csv"):
        if r["type"] == "SHAREHOLDER_OF":
            totals[r["to_id"]] += float(r["ratio"])
            holders[r["to_id"]].append(r["from_id"])
    assert max(totals.values()) <= 1.0 + 1e-9
    # multi-level: some enterprise shareholder has shareholders of its own
    assert any(h in holders for hs in holders.values() for h in hs if h.startswith("E"))


def test_noise_occurs(city):
    t2s = opencc.OpenCC("t2s")
    names = [r["企业名称"] for r in read_export(city, "shareholders")]
    names += [r["纳税人名称"] for r in read_export(city, "tax")]
    assert sum(t2s.convert(n) != n for n in names) >= 3, "traditional characters"
    assert any(" " in n for n in names), "inserted spaces"
    ids = [r["身份证号"] for r in read_export(city, "social_insured")]
    assert sum(len(i) == 15 for i in ids) >= 3, "legacy 15-digit identity numbers"
    court = read_export(city, "court_dishonest")
    masked = [r["证件号码"] for r in court if r["被执行人类型"] == "自然人"]
    assert any(masked) and all("*" in m for m in masked if m), "masked person numbers"
    assert any("-" in r["证件号码"] for r in court if r["被执行人类型"] == "法人或其他组织"), "org codes 12345678-9"
    taxnos = [r["纳税人识别号"] for r in read_export(city, "tax")]
    assert any(len(t) == 15 for t in taxnos), "old 15-character tax numbers"
    dates = [r["签订日期"] for r in read_export(city, "guarantees")]
    assert any("年" in d for d in dates) and any("/" in d for d in dates) and any(d.isdigit() for d in dates)


def test_broken_rows_of_each_kind_are_recorded(city):
    kinds = {b["kind"] for b in read_truth(city, "bad_rows.csv")}
    assert {"ragged", "empty_name", "bad_date"} <= kinds


def test_noise_zero_keeps_the_registered_names(tmp_path):
    generate(tmp_path, 150, 200, seed=3, noise=0.0)
    names = {e["entity_id"]: e["name"] for e in read_truth(tmp_path, "entities.csv")}
    subject = {m["record_id"]: m["entity_id"] for m in read_truth(tmp_path, "mentions.csv")
               if m["source"] == "shareholders" and m["role"] == "subject"}
    bad = {b["record_id"] for b in read_truth(tmp_path, "bad_rows.csv")}
    for row in read_export(tmp_path, "shareholders"):
        if row[RECORD_ID] not in bad:
            assert row["企业名称"] == names[subject[row[RECORD_ID]]]


def test_loader_reads_exactly_the_truth_mentions(city):
    from creditgraph.loaders.reader import read_manifest
    from creditgraph.loaders.removals import apply_removals
    result = read_manifest(load_manifest(city / "manifest.yaml"))
    frames = apply_removals(result.frames(), result.reports)   # a removal of a broken row matches nothing
    got = set(zip(frames["mentions"]["source"], frames["mentions"]["record_id"], frames["mentions"]["role"]))
    bad = {(b["source"], b["record_id"]) for b in read_truth(city, "bad_rows.csv")}
    want = {(m["source"], m["record_id"], m["role"]) for m in read_truth(city, "mentions.csv")
            if (m["source"], m["record_id"]) not in bad}
    assert got == want
    assert len(frames["rejects"]) == len(bad)


def test_two_reader_processes_read_what_one_process_reads(city, monkeypatch):
    """Above PARALLEL_BYTES the exports are read in two worker processes; the frames and
    reports come back in manifest order, equal to a read in this process."""
    from pandas.testing import assert_frame_equal
    from creditgraph.loaders import reader
    manifest = load_manifest(city / "manifest.yaml")
    monkeypatch.setattr(reader, "PARALLEL_BYTES", 1 << 62)
    alone = reader.read_manifest(manifest)
    monkeypatch.setattr(reader, "PARALLEL_BYTES", 0)
    pooled = reader.read_manifest(manifest)
    assert [r.source for r in pooled.reports] == [s.name for s in manifest.sources]
    assert [vars(r) for r in pooled.reports] == [vars(r) for r in alone.reports]
    pooled_frames = pooled.frames()
    for kind, frame in alone.frames().items():
        assert_frame_equal(pooled_frames[kind], frame)
