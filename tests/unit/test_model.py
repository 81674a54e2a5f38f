"""One honest match model: the caller's model is never changed by a run, a prior the model file
fixes stays fixed, and the weights are what the module says they are."""
from __future__ import annotations

import numpy as np
import pandas as pd

import creditgraph.linkage.model as model_module
from creditgraph.linkage.engine import link
from creditgraph.linkage.generic import generic_records, load_spec
from creditgraph.linkage.model import MatchModel


def planted_levels(model: MatchModel, n: int = 2000, share: float = 0.3, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    is_match = rng.random(n) < share
    worst = np.array([len(f.levels) - 1 for f in model.fields])
    levels = np.where(is_match[:, None], 0, worst)
    return np.where(rng.random(levels.shape) < 0.1, 0, levels)


def test_a_fixed_prior_stays_fixed_through_em():
    model = MatchModel.load("enterprise")
    assert model.prior_from == "fixed"
    before, m_before = model.prior, [f.m.copy() for f in model.fields]
    model.fit_em(planted_levels(model), fix_u=True)
    assert model.prior == before
    assert any(not np.allclose(f.m, m) for f, m in zip(model.fields, m_before)), "m was fitted"


def test_a_fitted_prior_moves():
    model = MatchModel.load("febrl")
    model.prior_from = "em"
    before = model.prior
    model.fit_em(planted_levels(model), fix_u=True)
    assert model.prior != before


def snapshot(model: MatchModel) -> tuple:
    return model.prior, [(f.m.tolist(), f.u.tolist()) for f in model.fields]


def febrl_like(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    given = rng.choice(["john", "mary", "wei", "anna", "li", "omar"], n)
    surname = rng.choice(["smith", "zhang", "brown", "nguyen", "khan"], n)
    rows = [{"given_name": g, "surname": s, "date_of_birth": f"19{rng.integers(40, 99)}0{rng.integers(1, 9)}1{i % 9}",
             "postcode": str(rng.integers(2000, 2100))} for i, (g, s) in enumerate(zip(given, surname))]
    mentions = pd.DataFrame({"mention_id": [f"s:{i}:subject" for i in range(n)], "source": "s",
                             "attrs": [pd.Series(r).to_json() for r in rows]})
    return pd.concat([mentions, mentions.iloc[:60].assign(mention_id=[f"s:d{i}:subject" for i in range(60)])],
                     ignore_index=True)


def test_link_leaves_the_callers_model_alone_and_returns_the_fitted_one():
    model = MatchModel.load("febrl")
    records = generic_records(febrl_like(), load_spec("febrl"), "dedupe")
    before = snapshot(model)
    result = link(model, records)
    assert snapshot(model) == before, "the model passed in is unchanged"
    assert result.model is not model and snapshot(result.model) != before, "the result holds the fitted model"


def test_weights_are_log2_m_over_u_capped_to_never_rise_as_the_module_says():
    model = MatchModel.load("enterprise")
    name = model.fields[0]
    name.m, name.u = np.array([0.5, 0.3, 0.1, 0.05, 0.05]), np.array([0.01, 0.001, 0.1, 0.1, 0.789])
    raw = np.log2(name.m / name.u)
    assert raw[1] > raw[0] and name.weights()[1] == raw[0], "the pinyin level is capped at the exact one"
    assert np.array_equal(name.weights()[[0, 2, 3, 4]], raw[[0, 2, 3, 4]])
    assert "never rising" in " ".join(model_module.__doc__.split())
