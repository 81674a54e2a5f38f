"""Noise profiles of the synthetic city (issue 10, generalisation): the default profile writes the
same bytes as before profiles existed; the held-out profiles are other cities (vocabulary, columns,
encodings) that still resolve with every row accounted for; the person ceiling's B-cubed."""
from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from creditgraph.base.settings import get_settings
from creditgraph.cli import app
from creditgraph.synth import generate
from creditgraph.synth.profile import load_profile, profiles

from benchmark_scripts import load_benchmark

# sha256 over (relative path, bytes) of every file of generate(OUT, 300, 400, seed=11), taken at
# commit 42e885e before profiles existed. If a change to the generator alters the default city on
# purpose, print city_digest(...) of the new output and put it here, saying so in the commit.
# Changed on purpose by issue 11: listings carry their dates, two removal exports.
DEFAULT_CITY_SHA256 = "718e4ed51d42e09f8d387747a0ae4be804fbf89f8fbb699fc761bb07b13a9c60"
runner = CliRunner()


def city_digest(out: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(out.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(out)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def test_default_profile_writes_the_same_city_as_before_profiles(tmp_path):
    generate(tmp_path / "a", 300, 400, seed=11)
    generate(tmp_path / "b", 300, 400, seed=11, profile="yingkou")
    got = city_digest(tmp_path / "a")
    assert got == DEFAULT_CITY_SHA256, (f"the default city changed; if the generator was changed on purpose, "
                                        f"set DEFAULT_CITY_SHA256 = {got!r}")
    assert city_digest(tmp_path / "b") == got


def test_profiles_are_data_and_the_second_is_held_out():
    assert {"yingkou", "held_out", "held_out_2"} <= set(profiles())
    assert load_profile("held_out").held_out and not load_profile("yingkou").held_out
    assert load_profile("held_out_2").held_out
    with pytest.raises(ValueError, match="unknown noise profile"):
        load_profile("nosuch")


def test_synth_refuses_an_unknown_profile_naming_the_known_ones(tmp_path):
    result = runner.invoke(app, ["synth", str(tmp_path / "city"), "--profile", "nosuch"])
    assert result.exit_code == 2
    assert "held_out" in result.output and "yingkou" in result.output
    assert not (tmp_path / "city").exists()


def _held_out_city(tmp_path_factory, profile: str) -> Path:
    out = tmp_path_factory.mktemp(profile)
    result = runner.invoke(app, ["synth", str(out), "--enterprises", "250", "--persons", "350", "--seed", "5",
                                 "--profile", profile, "--json"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def held_out(tmp_path_factory) -> Path:
    return _held_out_city(tmp_path_factory, "held_out")


@pytest.fixture(scope="module")
def held_out_2(tmp_path_factory) -> Path:
    return _held_out_city(tmp_path_factory, "held_out_2")


def _column(path: Path, encoding: str, column: str) -> list[str]:
    with open(path, encoding=encoding, newline="") as fh:
        return [row[column] for row in csv.DictReader(fh)]


def test_held_out_city_has_its_own_vocabulary_columns_and_encodings(held_out, tmp_path):
    generate(tmp_path, 250, 350, seed=5)
    names = set(_column(held_out / "exports/registry.csv", "gb18030", "市场主体名称"))
    default_names = set(_column(tmp_path / "exports/registry.csv", "utf-8-sig", "企业名称"))
    assert any("绵阳" in n for n in names) and not any("营口" in n for n in names)
    assert not names & default_names
    ours, theirs = load_profile("held_out").vocab, load_profile("yingkou").vocab
    assert set(ours.trade_chars) != set(theirs.trade_chars) and set(ours.industries) != set(theirs.industries)
    # The manifest written with the city names the renamed columns, so the loader finds them.
    manifest = (held_out / "manifest.yaml").read_text(encoding="utf-8")
    assert "市场主体名称" in manifest and "出资比例" in manifest and "持股比例" not in manifest
    truth = pd.read_csv(held_out / "truth/entities.csv", dtype=str)
    assert truth.loc[truth["kind"] == "person", "identifier"].str[:2].value_counts().index[0] == "51"


def test_held_out_2_city_has_its_own_vocabulary_columns_and_encodings(held_out_2, held_out):
    # 洛阳市 in Henan: neither the default city's nor the first held-out city's names or columns.
    names = set(_column(held_out_2 / "exports/registry.csv", "utf-8", "单位名称"))
    assert any("洛阳" in n for n in names) and not any("营口" in n or "绵阳" in n for n in names)
    assert not names & set(_column(held_out / "exports/registry.csv", "gb18030", "市场主体名称"))
    ours = load_profile("held_out_2").vocab
    for other in ("yingkou", "held_out"):
        theirs = load_profile(other).vocab
        assert set(ours.trade_chars) != set(theirs.trade_chars) and set(ours.industries) != set(theirs.industries)
    manifest = (held_out_2 / "manifest.yaml").read_text(encoding="utf-8")
    assert "单位名称" in manifest and "投资比例" in manifest and "持股比例" not in manifest
    assert len(_column(held_out_2 / "exports/shareholders.csv", "gb18030", "投资人名称")) > 0
    truth = pd.read_csv(held_out_2 / "truth/entities.csv", dtype=str)
    assert truth.loc[truth["kind"] == "person", "identifier"].str[:2].value_counts().index[0] == "41"


@pytest.mark.parametrize("city", ["held_out", "held_out_2"])
def test_held_out_city_resolves_with_every_row_accounted_for(city, request, tmp_path, monkeypatch):
    held_out = request.getfixturevalue(city)
    monkeypatch.setenv("CREDITGRAPH_DATA", str(tmp_path / "data"))
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["resolve", "--manifest", str(held_out / "manifest.yaml"),
                                     "--out", str(tmp_path / "out"), "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "out/run_report.json").read_text(encoding="utf-8"))
    assert report["rows"]["adds_up"] and not report["failed_sources"]
    for source in report["sources"]:
        assert source["rows_read"] == source["accepted"] + source["rejected"], source
    assert report["rows"]["accepted"] > 0
    bad = pd.read_csv(held_out / "truth/bad_rows.csv", dtype=str)
    assert len(bad) > 0  # else the rejects check below holds of two empty sets
    rejects = pd.read_csv(tmp_path / "out/rejects.csv", dtype=str)
    rejected_ids = rejects["raw"].str.split(",").str[0]   # the record id leads every raw line
    assert set(zip(rejects["source"], rejected_ids)) == set(zip(bad["source"], bad["record_id"]))
    truth = pd.read_csv(held_out / "truth/mentions.csv", dtype=str)
    of_bad_rows = truth.set_index(["source", "record_id"]).index.isin(list(zip(bad["source"], bad["record_id"])))
    assert report["mentions"] == (~of_bad_rows).sum()


@pytest.fixture(scope="module")
def ceiling_module():
    return load_benchmark("person_ceiling")


def test_person_ceiling_bcubed_on_a_hand_made_example(ceiling_module):
    # Person A has 3 mentions, one unlinkable; B has 2, one unlinkable; C has 1.
    truth = pd.Series(["A", "A", "A", "B", "B", "C"])
    linkable = pd.Series([True, True, False, True, False, True])
    got = ceiling_module.oracle_ceiling(truth, linkable)
    # The oracle: {a1, a2}, {a3}, {b1}, {b2}, {c}. B-cubed recall per mention: a1, a2 2/3,
    # a3 1/3, b1 and b2 1/2, c 1: (2/3 + 2/3 + 1/3 + 1/2 + 1/2 + 1) / 6 = 11/18.
    assert got["bcubed_recall_ceiling"] == round(11 / 18, 5)
    # Pairwise: 1 of the 4 true pairs (3 of A, 1 of B) kept.
    assert got["recall_ceiling"] == 0.25
    assert got["unlinkable"] == 2 and got["person_mentions"] == 6
