"""pandas idioms the stages share where the obvious one copies a whole frame."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def keyed(frame: pd.DataFrame, key: str, column: str) -> pd.Series:
    """frame[column] indexed by frame[key], as `frame.set_index(key)[column]` gives it, without
    the copy of every column that set_index makes first (pandas 2 copies the frame and merges its
    blocks: 3.4 s of a 500k-mention resolve's profile went to six such calls)."""
    return pd.Series(frame[column].array, index=pd.Index(frame[key].array, name=key), name=column, copy=False)


def sorted_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of values (none missing) in the order of their sorted distinct values, and those.
    Strings are sorted by Arrow (UTF-8 byte order is code point order, Python's order for str):
    Python's `sorted` of a million distinct strings, then a dict of their ranks, took 2-3 s a call
    at 2M mentions, Arrow under 1 s; pandas' factorize(sort=True) is slower than either. What
    Arrow cannot take as strings is sorted by Python."""
    codes, uniques = pd.factorize(values)
    try:
        order = pc.array_sort_indices(pa.array(uniques, type=pa.string())).to_numpy()
    except (pa.ArrowException, UnicodeEncodeError):  # not all str, or a lone surrogate
        order = np.array(sorted(range(len(uniques)), key=uniques.__getitem__), dtype=np.int64)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    out = np.empty(len(order), dtype=object)
    out[:] = uniques[order]
    return rank[codes], out


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique(values) for integer arrays, by sorting. NumPy 2.3 and later find the distinct
    values of a plain np.unique through a hash table, which with millions of distinct values is
    an order of magnitude slower than the sort it replaced (NumPy 2.4.6 here, 8M int64 of 4M
    distinct values: 9.3 s against 0.8 s; 8.9 s of a 2M resolve's persons stage)."""
    ordered = np.sort(np.asarray(values).ravel())
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered
