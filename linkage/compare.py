"""Comparators: two records' values for one field -> a comparison level index.

Records hold each field as a tuple of values (a cluster of mentions carries every variant it was
seen with); a comparator returns the best level over the value pairs, or MISSING. A new
comparison is one function added to COMPARATORS (recordlinkage's BaseCompareFeature idea, without
its if/elif chain), and optionally its batch form to BATCHES: compare_pairs gives most pairs (two
single-valued records) to the batch form, which must give the comparator's level for every pair
(tests/unit/test_compare_batch.py checks each on random values). String similarity is rapidfuzz:
about 8x recordlinkage's Compare.string on these names (shared/measured.md), with the same
Jaro-Winkler scores; its process.cpdist scores aligned pairs in one call.
"""
from __future__ import annotations

import operator

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Hamming, JaroWinkler

from creditgraph.base.frames import sorted_unique
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
    """Comparison levels, shape (n_pairs, n_fields); records[field][i] is record i's tuple (a
    list, or a dict of the sampled records by record index)."""
    out = np.full((len(left), len(model.fields)), MISSING, dtype=np.int64)
    ids, where = np.unique(np.r_[left, right].astype(np.int64), return_inverse=True)
    pairs = where[:len(left)], where[len(left):]  # positions in ids
    for j, f in enumerate(model.fields):
        values = records[f.name]
        out[:, j] = _compare_field(f.compare, [values[i] for i in ids.tolist()], *pairs, f.options)
    return out


def _compare_field(name: str, values: list[tuple], left: np.ndarray, right: np.ndarray, options: dict) -> np.ndarray:
    """One field's levels of the pairs (left[k], right[k]) of `values`. Pairs of two single-valued
    records (nearly all) go through the comparator's batch form: equality as integer codes per
    record, string distances in one call of rapidfuzz's process.cpdist (aligned pairs, in C++),
    no Python call per pair. The rest go through the comparator itself. Both give the same level
    for the same values (tests/unit/test_compare_batch.py)."""
    size = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    batch = BATCHES.get(name)
    single = (size[left] == 1) & (size[right] == 1) & (batch is not None)
    col = np.full(len(left), MISSING, dtype=np.int64)
    idx = np.flatnonzero(single)
    if len(idx):
        first = [v[0] if len(v) == 1 else None for v in values]
        col[idx] = batch(first, left[idx], right[idx], options)
    rest = np.flatnonzero((size[left] > 0) & (size[right] > 0) & ~single)
    if name in SET_BATCHES:
        col[rest] = SET_BATCHES[name](values, left[rest], right[rest])
    else:
        fn = COMPARATORS[name]
        col[rest] = [fn(values[a], values[b], options) for a, b in zip(left[rest].tolist(), right[rest].tolist())]
    return col


# -- batch forms: per record its one value (None if not one), pairs by position -> levels ------

def _codes(items: list) -> np.ndarray:
    """Equal items, equal integer codes."""
    seen: dict = {}
    return np.fromiter((seen.setdefault(x, len(seen)) for x in items), dtype=np.int64, count=len(items))


def _objects(items: list) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _jaro_winkler(strings: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Jaro-Winkler similarity per pair, as float64 like the scalar call (cpdist's default
    float32 could round a score onto a threshold)."""
    if not len(left):
        return np.empty(0)
    return process.cpdist(strings[left].tolist(), strings[right].tolist(), scorer=JaroWinkler.normalized_similarity,
                          dtype=np.float64)


def _within(strings: np.ndarray, left: np.ndarray, right: np.ndarray, limit: int) -> np.ndarray:
    """Per pair, whether the two strings have the same length and at most `limit` characters differ."""
    lengths = np.fromiter((len(x) if x is not None else -1 for x in strings), dtype=np.int64, count=len(strings))
    out = lengths[left] == lengths[right]
    idx = np.flatnonzero(out)
    if len(idx):
        out[idx] = process.cpdist(strings[left[idx]].tolist(), strings[right[idx]].tolist(),
                                  scorer=Hamming.distance) <= limit
    return out


def _by_threshold(similarity: np.ndarray, thresholds, first: int) -> np.ndarray:
    """Level first + k for the first threshold k the similarity reaches, else past the last."""
    out = np.full(len(similarity), first + len(thresholds), dtype=np.int64)
    for k, threshold in reversed(list(enumerate(thresholds))):
        out[similarity >= threshold] = first + k
    return out


def _exact_batch(first: list, left: np.ndarray, right: np.ndarray, options: dict) -> np.ndarray:
    codes = _codes(first)
    return np.where(codes[left] == codes[right], 0, 1)


def _jaro_levels_batch(first: list, left: np.ndarray, right: np.ndarray, options: dict) -> np.ndarray:
    codes = _codes(first)
    out = np.zeros(len(left), dtype=np.int64)
    d = np.flatnonzero(codes[left] != codes[right])
    out[d] = _by_threshold(_jaro_winkler(_objects(first), left[d], right[d]), options.get("thresholds", [0.9]), 1)
    return out


def _near_batch(first: list, left: np.ndarray, right: np.ndarray, options: dict) -> np.ndarray:
    codes = _codes(first)
    out = np.zeros(len(left), dtype=np.int64)
    d = np.flatnonzero(codes[left] != codes[right])
    out[d] = np.where(_within(_objects(first), left[d], right[d], options.get("distance", 1)), 1, 2)
    return out


def _date_levels_batch(first: list, left: np.ndarray, right: np.ndarray, options: dict) -> np.ndarray:
    codes = _codes(first)
    out = np.zeros(len(left), dtype=np.int64)
    d = np.flatnonzero(codes[left] != codes[right])
    l, r = left[d], right[d]
    close = _within(_objects(first), l, r, 1)  # same length, one digit off
    lengths = np.fromiter((len(x) if x is not None else -1 for x in first), dtype=np.int64, count=len(first))
    swapped_as, head = _swap_codes(first)
    swapped = (lengths[l] == lengths[r]) & (swapped_as[l] == head[r])
    out[d] = np.where(close | swapped, 1, 2)
    return out


def _swap_codes(dates: list) -> tuple[np.ndarray, np.ndarray]:
    """_day_month_swapped(x, y) as codes: x's eight digits with day and month swapped equal
    y's first eight digits (-1 and -2 where a date has no such form: never equal)."""
    seen: dict = {}
    swapped, head = np.full(len(dates), -1, dtype=np.int64), np.full(len(dates), -2, dtype=np.int64)
    for i, x in enumerate(dates):
        if x is None:
            continue
        digits = x.replace("-", "")
        if len(digits) == 8:
            swapped[i] = seen.setdefault(digits[:4] + digits[6:8] + digits[4:6], len(seen))
        if len(digits) >= 8:
            head[i] = seen.setdefault(digits[:8], len(seen))
    return swapped, head


def _name_levels(names: list, sounds: list, left: np.ndarray, right: np.ndarray, thresholds) -> np.ndarray:
    """exact name / same sound / one level per similarity threshold / different."""
    name_codes, sound_codes = _codes(names), _codes(sounds)
    out = np.zeros(len(left), dtype=np.int64)
    d = np.flatnonzero(name_codes[left] != name_codes[right])
    same_sound = sound_codes[left[d]] == sound_codes[right[d]]
    out[d[same_sound]] = 1
    rest = d[~same_sound]
    out[rest] = _by_threshold(_jaro_winkler(_objects(names), left[rest], right[rest]), thresholds, 2)
    return out


def _part(first: list, k) -> list:
    return [v[k] if v is not None else None for v in first]


def _enterprise_name_batch(first: list, left: np.ndarray, right: np.ndarray, options: dict) -> np.ndarray:
    return _name_levels(_part(first, 0), _part(first, slice(1, None)), left, right,
                        [options.get("similar", 0.9), options.get("weak", 0.75)])


def _person_name_batch(first: list, left: np.ndarray, right: np.ndarray, options: dict) -> np.ndarray:
    return _name_levels(_part(first, 0), _part(first, 1), left, right, [options.get("similar", 0.85)])


def _person_name_text_batch(first: list, left: np.ndarray, right: np.ndarray, options: dict) -> np.ndarray:
    sounds = [person_pinyin(x) if x is not None else None for x in first]
    return _name_levels(first, sounds, left, right, [options.get("similar", 0.85)])


def _person_id_batch(first: list, left: np.ndarray, right: np.ndarray, options: dict) -> np.ndarray:
    """A masked number is never exact, not even against itself: those pairs take person_id."""
    codes = _codes(first)
    starred = np.fromiter((x is not None and "*" in x for x in first), dtype=bool, count=len(first))
    masked = starred[left] | starred[right]
    out = np.zeros(len(left), dtype=np.int64)
    m = np.flatnonzero(masked)
    out[m] = [person_id((first[a],), (first[b],), options) for a, b in zip(left[m].tolist(), right[m].tolist())]
    plain = np.flatnonzero(~masked & (codes[left] != codes[right]))
    long = np.fromiter((x is not None and len(x) == 18 for x in first), dtype=bool, count=len(first))
    typo = long[left[plain]] & long[right[plain]] & _within(_objects(_bodies(first)), left[plain], right[plain], 1)
    out[plain] = np.where(typo, 1, 3)
    return out


def _bodies(numbers: list) -> list:
    """The 17 digits before the check character: a typo there also changes the check."""
    return [x[:17] if x is not None else None for x in numbers]


def _context_batch(first: list, left: np.ndarray, right: np.ndarray, options: dict) -> np.ndarray:
    codes, firms = _codes(first), _codes([x.split("|")[0] if x is not None else None for x in first])
    return np.where(codes[left] == codes[right], 0, np.where(firms[left] == firms[right], 1, 2))


# -- the same for pairs of records with several values: one set per record, not per pair ------

def _shared_sets(values: list[tuple], left: np.ndarray, right: np.ndarray) -> list[int]:
    """exact and shared_person: agree when any value is shared."""
    sets = _per_record(values, left, right, frozenset)
    return [0 if not sets[a].isdisjoint(sets[b]) else 1 for a, b in zip(left.tolist(), right.tolist())]


def _context_sets(values: list[tuple], left: np.ndarray, right: np.ndarray) -> list[int]:
    sets = _per_record(values, left, right, frozenset)
    firms = _per_record(values, left, right, lambda v: frozenset(x.split("|")[0] for x in v))
    return [0 if not sets[a].isdisjoint(sets[b]) else 1 if not firms[a].isdisjoint(firms[b]) else 2
            for a, b in zip(left.tolist(), right.tolist())]


def _per_record(values: list[tuple], left: np.ndarray, right: np.ndarray, fn) -> dict:
    return {i: fn(values[i]) for i in sorted_unique(np.r_[left, right]).tolist()}


SET_BATCHES = {"exact": _shared_sets, "shared_person": _shared_sets, "context": _context_sets}

BATCHES = {
    "exact": _exact_batch, "shared_person": _exact_batch, "jaro_levels": _jaro_levels_batch, "near": _near_batch,
    "date_levels": _date_levels_batch, "enterprise_name": _enterprise_name_batch,
    "person_name": _person_name_batch, "person_name_text": _person_name_text_batch,
    "person_id": _person_id_batch, "context": _context_batch,
}
