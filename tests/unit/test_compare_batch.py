"""compare_pairs' batch forms give every pair the level the comparator itself gives."""
from __future__ import annotations

import random

import numpy as np
import pytest

from types import SimpleNamespace

from creditgraph.linkage.compare import BATCHES, COMPARATORS, compare_pairs
from creditgraph.linkage.model import MISSING
from creditgraph.linkage.names import normalize_person_name

rng = random.Random(11)
HAN = "黄燕艳王张李刘陈沈静营口鑫达科技"


def han(n: int) -> str:
    return "".join(rng.choice(HAN) for _ in range(n))


def digits(n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def typo(v: str) -> str:
    i = rng.randrange(len(v))
    return v[:i] + rng.choice("0123456789X") + v[i + 1:]


NUMBERS = ["21080219850312" + digits(4) for _ in range(6)] + [digits(18), digits(15)]


def identity_number() -> str:
    """A few numbers, each as it is, mistyped, or masked (the birth date hidden)."""
    v = rng.choice(NUMBERS)
    if rng.random() < 0.3:
        v = v[:6] + "********" + v[14:]
    return v


def date() -> str:
    return rng.choice(["1985-03-12", "1985-12-03", "1985-03-13", "1986-03-12", "19850312", "1985-3-12"])


def person_name() -> tuple:
    p = normalize_person_name(han(rng.choice([2, 3])))
    return p.clean, p.pinyin


VALUES = {
    "exact": lambda: rng.choice(["210802", "210803", "210804"]),
    "shared_person": lambda: rng.choice(["a", "b", "c"]),
    "jaro_levels": lambda: han(rng.choice([4, 6, 8])),
    "near": lambda: rng.choice(["MA0QD5F0X", "MA0QD5F1X", "MA0QD6A1", "12345678X"]),
    "date_levels": date,
    "enterprise_name": lambda: (han(rng.choice([2, 4])), rng.choice(["xin da", "xin de"]), rng.choice(["科技", "贸易"])),
    "person_name": person_name,
    "person_name_text": lambda: han(rng.choice([2, 3])),
    "person_id": identity_number,
    "context": lambda: f"{rng.choice(['E1', 'E2', 'E3'])}|{rng.choice(['LEGAL_REP_OF', 'EMPLOYED_BY'])}",
}

OPTIONS = {"jaro_levels": {"thresholds": [0.95, 0.8]}, "near": {"distance": 1},
           "enterprise_name": {"similar": 0.9, "weak": 0.75}, "person_name": {"similar": 0.85},
           "person_name_text": {"similar": 0.85}}


def records(make, n: int) -> list[tuple]:
    """Mostly one value, some none, some several (which the comparator itself takes)."""
    out = []
    for _ in range(n):
        k = rng.choices([0, 1, 2, 3], weights=[1, 12, 2, 1])[0]
        vals = [make() for _ in range(k)]
        if k and rng.random() < 0.2:
            vals[0] = typo(vals[0]) if isinstance(vals[0], str) and vals[0] else vals[0]
        out.append(tuple(dict.fromkeys(vals)))
    return out


@pytest.mark.parametrize("name", sorted(BATCHES))
def test_the_batch_form_gives_the_comparators_level_for_every_pair(name):
    values = records(VALUES[name], 300)
    left = np.array([rng.randrange(300) for _ in range(4000)])
    right = np.array([rng.randrange(300) for _ in range(4000)])
    options = OPTIONS.get(name, {})
    got = compare(name, values, left, right, options)
    fn = COMPARATORS[name]
    want = [fn(values[a], values[b], options) if values[a] and values[b] else MISSING
            for a, b in zip(left.tolist(), right.tolist())]
    assert got.tolist() == want
    assert len(set(want)) >= 3  # the data reaches several levels, not only exact and missing


def compare(comparator: str, values, left: np.ndarray, right: np.ndarray, options: dict) -> np.ndarray:
    model = SimpleNamespace(fields=[SimpleNamespace(name="f", compare=comparator, options=options)])
    return compare_pairs(model, {"f": values}, left, right)[:, 0]


def test_a_masked_number_against_itself_is_compatible_not_exact():
    masked = ("210802********1234",)
    assert compare("person_id", [masked, masked], np.array([0]), np.array([1]), {}).tolist() == [2]


def test_dates_of_two_formats_are_not_a_day_month_swap():
    got = compare("date_levels", [("1985-03-12",), ("19851203",), ("1985-12-03",)], np.array([0, 0]),
                  np.array([1, 2]), {})
    assert got.tolist() == [2, 1]


def test_values_of_sampled_records_by_index_compare_as_a_list_does():
    values = {7: ("黄燕",), 42: ("黄艳",), 3: ()}
    got = compare("person_name_text", values, np.array([7, 7]), np.array([42, 3]), {"similar": 0.85})
    assert got.tolist() == [1, MISSING]


def test_a_shared_value_is_found_whichever_side_holds_more_values_and_none_without_values():
    values = [("a", "b", "c"), ("c",), ("x", "y"), (), ("E1|LEGAL_REP_OF", "E2|EMPLOYED_BY"), ("E2|LEGAL_REP_OF",)]
    left, right = np.array([0, 1, 0, 2, 3, 4]), np.array([1, 0, 2, 0, 0, 5])
    got = compare("exact", values, left, right, {})
    assert got.tolist() == [0, 0, 1, 1, MISSING, 1]
    assert compare("context", values, np.array([4, 5]), np.array([5, 4]), {}).tolist() == [1, 1]
