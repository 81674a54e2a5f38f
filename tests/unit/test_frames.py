"""base.frames.keyed gives what set_index(key)[column] gives, for every dtype the stages key by;
sorted_codes orders values as Python sorts them."""
import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_series_equal

from creditgraph.base.frames import keyed, sorted_codes, sorted_unique


@pytest.fixture
def frame():
    f = pd.DataFrame({"mention_id": ["m3", "m1", "m2"], "entity_id": ["E1", None, "E2"],
                      "cluster": np.array([4, 0, 7], dtype=np.int64), "score": [0.5, np.nan, 1.0]},
                     index=[10, 11, 12])
    f["kind"] = pd.Categorical(["person", "enterprise", "person"])
    return f


@pytest.mark.parametrize("column", ["entity_id", "cluster", "score", "kind"])
def test_keyed_equals_set_index(frame, column):
    assert_series_equal(keyed(frame, "mention_id", column), frame.set_index("mention_id")[column])


def test_keyed_of_a_filtered_frame_maps_like_set_index(frame):
    part = frame[frame["kind"] == "person"]
    ids = pd.Series(["m2", "m1", "m3"])
    assert_series_equal(ids.map(keyed(part, "mention_id", "entity_id")),
                        ids.map(part.set_index("mention_id")["entity_id"]))


def _python_sorted_codes(values: np.ndarray) -> tuple[list, list]:
    ordered = sorted(set(values.tolist()))
    rank = {v: i for i, v in enumerate(ordered)}
    return [rank[v] for v in values.tolist()], ordered


@pytest.mark.parametrize("alphabet", ["ab:|-09", "营口鑫达沈沉靜静", "aé𠀋\U0001f600z"])
def test_sorted_codes_order_values_as_python_sorts_them(alphabet):
    """Arrow's string order against Python's (CJK, astral characters), on 50 random arrays each."""
    rng = np.random.default_rng(5)
    for _ in range(50):
        words = ["".join(rng.choice(list(alphabet), int(rng.integers(0, 5)))) for _ in range(int(rng.integers(1, 40)))]
        values = np.array(words, dtype=object)
        codes, uniques = sorted_codes(values)
        assert (codes.tolist(), uniques.tolist()) == _python_sorted_codes(values)


def test_sorted_codes_of_what_arrow_cannot_take_as_text_are_sorted_by_python():
    codes, uniques = sorted_codes(np.array(["b", "a\udcff", "a"], dtype=object))  # a lone surrogate
    assert uniques.tolist() == ["a", "a\udcff", "b"] and codes.tolist() == [2, 1, 0]


def test_sorted_codes_of_numbers_sort_as_numbers():
    codes, uniques = sorted_codes(np.array([10, 9, 100, 9], dtype=object))
    assert uniques.tolist() == [9, 10, 100] and codes.tolist() == [1, 0, 2, 0]


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8])
def test_sorted_unique_equals_numpy_unique(dtype):
    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 17, 5000):
        values = rng.integers(0, max(n // 3, 1) + 1, n).astype(dtype)
        got = sorted_unique(values)
        assert got.dtype == values.dtype and np.array_equal(got, np.unique(values))
    assert sorted_unique(np.array([[3, 1], [3, 2]])).tolist() == [1, 2, 3]  # flattened, as np.unique
