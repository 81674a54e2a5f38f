"""Comparators: two records' values for one field -> a comparison level index.

Records hold each field as a tuple of values (a cluster of mentions carries every variant it was
seen with); a comparator returns the best level over the value pairs, or MISSING. A new
comparison is one function added to COMPARATORS (recordlinkage's BaseCompareFeature idea, without
its if/elif chain). String similarity is rapidfuzz: about 8x recordlinkage's Compare.string on
these names (shared/measured.md), with the same Jaro-Winkler scores.
"""
from __future__ import annotations

import numpy as np
from rapidfuzz.distance import Hamming, JaroWinkler

from creditgraph.linkage.model import MISSING
from creditgraph.linkage.names import person_pinyin


def _share(a: tuple, b: tuple) -> bool:
    if len(a) == 1 and len(b) == 1:  # the common case, without building sets
        return a[0] == b[0]
    return not set(a).isdisjoint(b)


def exact(a: tuple, b: tuple, options: dict) -> int:
    """agree / disagree."""
    return 0 if _share(a, b) else 1


def jaro_levels(a: tuple, b: tuple, options: dict) -> int:
    """exact / one level per Jaro-Winkler threshold in options['thresholds'] / different."""
    if _share(a, b):
        return 0
    best = max(JaroWinkler.normalized_similarity(x, y) for x in a for y in b)
    for level, threshold in enumerate(options.get("thresholds", [0.9]), 1):
        if best >= threshold:
            return level
    return len(options.get("thresholds", [0.9])) + 1


def near(a: tuple, b: tuple, options: dict) -> int:
    """exact / within options['distance'] substitutions (typo, same length) / different."""
    if _share(a, b):
        return 0
    limit = options.get("distance", 1)
    close = any(len(x) == len(y) and Hamming.distance(x, y) <= limit for x in a for y in b)
    return 1 if close else 2


def date_levels(a: tuple, b: tuple, options: dict) -> int:
    """exact / one digit off or day and month swapped / different (ISO or compact dates)."""
    if _share(a, b):
        return 0
    for x in a:
        for y in b:
            if len(x) == len(y) and (Hamming.distance(x, y) <= 1 or _day_month_swapped(x, y)):
                return 1
    return 2


def _day_month_swapped(x: str, y: str) -> bool:
    dx, dy = x.replace("-", ""), y.replace("-", "")
    return len(dx) == 8 and dx[:4] == dy[:4] and dx[4:6] == dy[6:8] and dx[6:8] == dy[4:6]


def enterprise_name(a: tuple, b: tuple, options: dict) -> int:
    """Values are (core, trade_pinyin, industry): exact core / same trade sound and industry /
    similar core (Jaro-Winkler >= options['similar']) / weakly similar / different.

    The trade name is what tells firms apart (shared/domain.md), so a different industry word
    never reaches the 'pinyin' level even when the trade names sound alike.
    """
    if {x[0] for x in a} & {y[0] for y in b}:
        return 0
    if {x[1:] for x in a} & {y[1:] for y in b}:
        return 1
    best = max(JaroWinkler.normalized_similarity(x[0], y[0]) for x in a for y in b)
    if best >= options.get("similar", 0.9):
        return 2
    return 3 if best >= options.get("weak", 0.75) else 4


def person_name(a: tuple, b: tuple, options: dict) -> int:
    """Values are (clean name, toneless pinyin): exact / homophone / similar / different."""
    if {x[0] for x in a} & {y[0] for y in b}:
        return 0
    if {x[1] for x in a} & {y[1] for y in b}:
        return 1
    best = max(JaroWinkler.normalized_similarity(x[0], y[0]) for x in a for y in b)
    return 2 if best >= options.get("similar", 0.85) else 3


def person_name_text(a: tuple, b: tuple, options: dict) -> int:
    """Values are clean person names (an enterprise row's legal representative): exact /
    homophone or variant character (黄燕, 黄艳) / similar / different, as person_name."""
    return person_name(tuple((x, person_pinyin(x)) for x in a), tuple((y, person_pinyin(y)) for y in b), options)


def person_id(a: tuple, b: tuple, options: dict) -> int:
    """exact / one substitution (a mistyped number) / a masked number compatible / different.

    Masked values keep `*`; they can only corroborate (level masked_compatible), never be exact.
    """
    plain_a = {x for x in a if "*" not in x}
    plain_b = {y for y in b if "*" not in y}
    if plain_a & plain_b:
        return 0
    # One mistyped digit: compare the 17-digit bodies (a typo there also changes the check).
    if any(len(x) == len(y) == 18 and Hamming.distance(x[:17], y[:17]) <= 1 for x in plain_a for y in plain_b):
        return 1
    if any(_masked_ok(x, y) for x in a for y in b if "*" in x or "*" in y):
        return 2
    return 3


def _masked_ok(x: str, y: str) -> bool:
    """Equal wherever both show a character: a mask against a number, or two masks (a court list
    names one person in several cases with the same masked number)."""
    return len(x) == len(y) and all(p == q or p == "*" or q == "*" for p, q in zip(x, y))


def shared_person(a: tuple, b: tuple, options: dict) -> int:
    """Values are identity numbers of the persons a firm's rows name: one in common / none."""
    return 0 if _share(a, b) else 1


def context(a: tuple, b: tuple, options: dict) -> int:
    """Values are 'entity_id|relation' strings: the same role at the same firm / the same firm /
    different firms. Relational evidence for records that lack identifiers."""
    if _share(a, b):
        return 0
    if {x.split("|")[0] for x in a} & {y.split("|")[0] for y in b}:
        return 1
    return 2


# -- what a steward sees of identity numbers and birth dates -----------------------------------
# Not the values: where they differ. One differing character at a known position tells nothing
# about any digit (of two valid numbers, one body digit cannot differ alone: the check would);
# a birth date is the most revealing part of a number, so dates are only same or differ.
_PARTS = ((6, "area code"), (14, "birth date"), (17, "sequence"), (18, "check character"))


def describe_ids(a: tuple, b: tuple) -> str:
    """same / one character differs: position k (part) / agrees with a masked number / different."""
    if not a or not b:
        return "missing on one side"
    plain_a, plain_b = {x for x in a if "*" not in x}, {y for y in b if "*" not in y}
    if plain_a & plain_b:
        return "same"
    for x in plain_a:
        for y in plain_b:
            if len(x) == len(y) and Hamming.distance(x, y) == 1:
                k = next(i for i, (p, q) in enumerate(zip(x, y)) if p != q) + 1
                return f"one character differs: position {k} ({next(n for end, n in _PARTS if k <= end)})"
    if any(_masked_ok(x, y) for x in a for y in b if ("*" in x) != ("*" in y)):
        return "agrees with a masked number where it shows digits"
    if set(a) & set(b):
        return "same masked number"
    return "masked numbers agree where both show digits" if any(_masked_ok(x, y) for x in a for y in b) else "different"


def describe_shared_person(a: tuple, b: tuple) -> str:
    """a person in common / none in common: never the numbers."""
    if not a or not b:
        return "missing on one side"
    return "a person in common" if _share(a, b) else "no person in common"


def describe_dates(a: tuple, b: tuple) -> str:
    """same / differ."""
    if not a or not b:
        return "missing on one side"
    return "same" if _share(a, b) else "differ"


# comparator -> how a steward sees its field: the comparison only, never the two values
DESCRIBERS = {"person_id": describe_ids, "date_levels": describe_dates, "shared_person": describe_shared_person}

COMPARATORS = {
    "exact": exact, "jaro_levels": jaro_levels, "near": near, "date_levels": date_levels,
    "enterprise_name": enterprise_name, "person_name": person_name, "person_name_text": person_name_text,
    "person_id": person_id, "shared_person": shared_person,
    "context": context,
}


def compare_pairs(model, records: dict[str, list[tuple]], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Comparison levels, shape (n_pairs, n_fields); records[field][i] is record i's tuple."""
    out = np.full((len(left), len(model.fields)), MISSING, dtype=np.int64)
    lefts, rights = left.tolist(), right.tolist()
    for j, f in enumerate(model.fields):
        fn, values, options = COMPARATORS[f.compare], records[f.name], f.options
        col = out[:, j]
        for k, (i1, i2) in enumerate(zip(lefts, rights)):
            a, b = values[i1], values[i2]
            if a and b:
                col[k] = fn(a, b, options)
    return out
