"""The synthetic city dates its listings as real exports do (issue 11): publication dates, terms
by list, and removals and repairs in exports of their own, which the loaders apply."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from creditgraph.loaders.manifest import load_manifest
from creditgraph.loaders.reader import read_manifest
from creditgraph.loaders.removals import apply_removals, term_end
from creditgraph.synth.generate import generate


def _lists(city: Path, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    generate(city, 600, 900, seed=seed)
    result = read_manifest(load_manifest(city / "manifest.yaml"))
    frames = apply_removals(result.frames(), result.reports)
    return frames["lists"], frames["rejects"], city


@pytest.fixture(scope="module")
def lists(tmp_path_factory) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    return _lists(tmp_path_factory.mktemp("city"), seed=5)


def test_every_dated_listing_has_its_start_and_the_list_s_term(lists):
    records, _, _ = lists
    dated = records[records["list"].isin(["dishonest_debtor", "tax_grade", "tax_grade_a", "major_tax_violation",
                                          "customs_advanced", "customs_dishonest"])]
    assert len(dated) and dated["effective_from"].notna().all()
    tax = records[records["list"] == "tax_grade"].iloc[0]
    assert tax["effective_to"] == term_end(tax["effective_from"], "1y")          # a grade holds a year
    major = records[records["list"] == "major_tax_violation"]
    assert len(major)
    assert (major["effective_to"] == major["effective_from"].map(lambda d: term_end(d, "3y"))).all()
    court = records[records["list"] == "dishonest_debtor"]
    assert court["effective_to"].notna().any() and court["effective_to"].isna().any()  # a term, or until performed


def test_removals_and_repairs_end_some_listings(lists):
    records, _, _ = lists
    court = records[records["list"] == "dishonest_debtor"]
    assert set(court["removal_reason"].dropna()) <= {"performed", "revoked"} and court["removed_on"].notna().any()
    major = records[records["list"] == "major_tax_violation"]
    assert (major["removal_reason"].dropna() == "repaired").any()
    removed = records[records["removed_on"].notna()]
    assert (removed["removed_on"] > removed["effective_from"]).all()


def test_a_removal_of_a_broken_listing_is_rejected_as_the_truth_says(tmp_path):
    _, rejects, city = _lists(tmp_path, seed=2)  # seed 5's city has no such removal; seed 2's has one
    bad = pd.read_csv(city / "truth/bad_rows.csv", dtype=str)
    expected = set(bad.loc[bad["kind"] == "unmatched_removal", "record_id"])
    assert expected  # else the check below compares two empty sets
    removal_rejects = rejects[rejects["source"].isin(["court_removals", "credit_repair"])]
    assert set(removal_rejects["raw"].str.split(",").str[0]) == expected
    assert removal_rejects["reason"].str.startswith("removal matches no").all()
