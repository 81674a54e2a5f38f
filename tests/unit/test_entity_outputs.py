"""Entity-level outputs from mentions: one relation per (from, to, type, role); per entity its
commonest value and its distinct values."""
from __future__ import annotations

import numpy as np
import pandas as pd

from creditgraph.linkage.resolve import RELATION_OUTPUT_COLUMNS, ByEntity, _relations


def mention_relations(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["from_mention", "to_mention", "type", "role", "ratio", "amount",
                                       "source", "record_id"])


ENTITY_OF = pd.Series({"p1": "P", "p1b": "P", "f1": "F", "f1b": "F", "g1": "G"})


def test_one_relation_per_key_with_its_distinct_sources_and_records_sorted():
    out = _relations(mention_relations([
        ("p1", "f1", "SHAREHOLDER_OF", None, np.nan, 5.0, "tax", 7),
        ("p1b", "f1b", "SHAREHOLDER_OF", None, 0.3, np.nan, "registry", 12),
        ("p1", "f1b", "SHAREHOLDER_OF", None, 0.4, np.nan, "registry", 12),
        ("p1", "g1", "LEGAL_REP_OF", "法定代表人", np.nan, np.nan, "registry", 3),
    ]), ENTITY_OF)
    assert list(out.columns) == RELATION_OUTPUT_COLUMNS
    assert out[["from_id", "to_id", "type"]].values.tolist() == [["P", "F", "SHAREHOLDER_OF"],
                                                                 ["P", "G", "LEGAL_REP_OF"]]
    share = out.iloc[0]
    assert (share["ratio"], share["amount"]) == (0.3, 5.0)  # the first present value of each
    assert share["source"] == "registry|tax"
    assert share["record_id"] == "12|7"  # distinct, in string order
    assert out.iloc[1]["role"] == "法定代表人"


def test_a_relation_of_an_entity_to_itself_or_to_no_entity_is_dropped():
    out = _relations(mention_relations([
        ("p1", "p1b", "SPOUSE_OF", None, np.nan, np.nan, "civil", 1),
        ("p1", "nobody", "SHAREHOLDER_OF", None, 0.5, np.nan, "registry", 2),
        ("p1", "f1", "SHAREHOLDER_OF", None, 0.5, np.nan, "registry", 3),
    ]), ENTITY_OF)
    assert out[["from_id", "to_id", "record_id"]].values.tolist() == [["P", "F", "3"]]


def test_no_relations_give_an_empty_frame_with_the_output_columns():
    out = _relations(mention_relations([("p1", "p1b", "SPOUSE_OF", None, np.nan, np.nan, "civil", 1)]), ENTITY_OF)
    assert out.empty and list(out.columns) == RELATION_OUTPUT_COLUMNS


MENTIONS = pd.DataFrame({"entity_id": ["E2", "E1", "E1", "E1", "E2", "E2", "E3", "E1"],
                         "name": ["乙", "b", "a", "b", "甲", "乙", "", "a"]})
BY = ByEntity(MENTIONS["entity_id"])


def test_an_entitys_top_value_is_its_commonest_and_a_tie_goes_to_the_smaller():
    top = BY.top(MENTIONS["name"])
    assert top.dropna().to_dict() == {"E1": "a", "E2": "乙"}  # E1: a and b twice each; E3 has no value
    assert list(top.index) == ["E1", "E2", "E3"]


def test_an_entitys_values_are_its_distinct_ones_sorted_and_joined():
    assert BY.joined(MENTIONS["name"]).dropna().to_dict() == {"E1": "a|b", "E2": "乙|甲"}


def _random_mentions(rng: np.random.Generator, n: int) -> pd.DataFrame:
    values = np.array(["", "a", "b", "ab", "甲", "乙", None, "7"], dtype=object)
    return pd.DataFrame({"entity_id": [f"E{i}" for i in rng.integers(0, n // 3 + 1, n)],
                         "value": values[rng.integers(0, len(values), n)]})


def test_per_entity_figures_equal_pandas_groupby_on_random_mentions():
    """The codes-once figures against a plain groupby of the same frame, on 100 random frames."""
    rng = np.random.default_rng(3)
    for _ in range(100):
        df = _random_mentions(rng, int(rng.integers(1, 60)))
        by = ByEntity(df["entity_id"])
        present = df[df["value"].notna() & (df["value"] != "")]
        groups = present.groupby("entity_id")["value"]
        top = groups.agg(lambda v: sorted(v.value_counts().items(), key=lambda kv: (-kv[1], kv[0]))[0][0])
        ids = sorted(df["entity_id"].unique())
        assert list(by.ids) == ids
        assert by.top(df["value"]).dropna().to_dict() == top.to_dict()
        assert by.joined(df["value"]).dropna().to_dict() == groups.agg(lambda v: "|".join(sorted(set(v)))).to_dict()
        assert by.least(df["value"]).dropna().to_dict() == groups.min().to_dict()
        assert by.nunique(df["value"]).tolist() == df.groupby("entity_id")["value"].nunique().reindex(ids).tolist()
