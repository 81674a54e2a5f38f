"""base.frames.keyed gives what set_index(key)[column] gives, for every dtype the stages key by."""
import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_series_equal

from creditgraph.base.frames import keyed


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
