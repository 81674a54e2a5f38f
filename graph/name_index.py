"""The embedded store's name index: ``search_name`` looks names up here instead of scoring
every entity.

What a search finds (the memory store's side of cypher/entities.cypher ``search_name``), for
a query q normalised like every name (graph.store.normalise_name):

* an entity one of whose names (canonical or alias, normalised) contains q: score
  1 + len(q)/len(name) for its shortest such name, above any other kind of match;
* else an entity sharing search tokens with q: the share of q's tokens its best name holds.
  Tokens are those of Lucene's CJK analyzer, which the Neo4j side uses: overlapping bigrams of
  CJK runs (a lone CJK character stands for itself) and runs of letters or digits;
* else, for a query without Han characters, an entity with a name whose rapidfuzz partial
  ratio to q is 80 or more: that ratio / 100.

Rows by score (rounded to 6 places) descending, then entity_id; at most ``limit``.

The index (built when a graph is loaded, pickled with it) numbers the distinct normalised
names of every entity by (length, entity) and keeps three posting maps, key -> the sorted
numbers of the names holding it:

* ``pairs``: every two adjacent characters. A name containing q holds all of q's pairs, and
  a CJK pair is a search token too;
* ``chars``: every character. A name containing a one-character q holds it, and a partial
  ratio above 0 needs a shared character;
* ``words``: the other search tokens (letter or digit runs, lone CJK characters).

Only names holding one of q's keys are looked at. Shortest names score highest among
substring matches, so those are read in name order and the read stops once ``limit``
entities are found and the score drops.
"""
from __future__ import annotations

import re
from array import array
from collections import defaultdict
from typing import Iterable

import numpy as np
from rapidfuzz import fuzz, process

from creditgraph.base.frames import sorted_unique
from creditgraph.graph.store import normalise_name

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(f"[{CJK}]+|[^\\W_{CJK}]+")  # script boundaries split words, as in Lucene
_CJK_PAIR = re.compile(f"[{CJK}]{{2}}")
_HAN = re.compile(r"[\u4e00-\u9fff]")
EMPTY = np.zeros(0, dtype=np.int32)
CHUNK = 4096        # candidate names intersected and checked at a time
FUZZY_CUTOFF = 80   # rapidfuzz partial ratio, for queries without Han characters


def tokens(text: str) -> set[str]:
    """Search tokens like Lucene's CJK analyzer: CJK runs -> overlapping bigrams (a lone
    CJK character -> itself), runs of letters or digits -> words."""
    out: set[str] = set()
    for run in _TOKEN.findall(text):
        if len(run) > 1 and _CJK_PAIR.match(run):
            out |= {run[i:i + 2] for i in range(len(run) - 1)}
        else:
            out.add(run)
    return out


def _intersect(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values of sorted a that sorted b holds (cost grows with len(a), not len(b))."""
    if not len(a) or not len(b):
        return EMPTY
    pos = np.minimum(np.searchsorted(b, a), len(b) - 1)
    return a[b[pos] == a]


class NameIndex:
    VERSION = 1  # of the pickled form: a pickle holding another is rebuilt when opened

    def __init__(self, entities: Iterable[tuple[str, str | None, str | None, Iterable[str]]]):
        """entities: (entity_id, kind, name, all its names, canonical and aliases)."""
        self.rows = sorted((eid, kind, name, sorted({n for n in map(normalise_name, names) if n}))
                           for eid, kind, name, names in entities)
        numbered = sorted((len(n), e, n) for e, row in enumerate(self.rows) for n in row[3])
        self.names = [n for _, _, n in numbered]
        self.owner = np.array([e for _, e, _ in numbered], dtype=np.int32)
        pairs: dict[str, array] = defaultdict(lambda: array("i"))
        chars: dict[str, array] = defaultdict(lambda: array("i"))
        words: dict[str, array] = defaultdict(lambda: array("i"))
        for i, n in enumerate(self.names):  # i ascending: each posting list comes out sorted
            for key in {n[j:j + 2] for j in range(len(n) - 1)}:
                pairs[key].append(i)
            for key in set(n):
                chars[key].append(i)
            for key in tokens(n):
                if not _CJK_PAIR.fullmatch(key):
                    words[key].append(i)
        self.pairs, self.chars, self.words = ({k: np.array(v, dtype=np.int32) for k, v in m.items()}
                                              for m in (pairs, chars, words))
        self.rows = [row[:3] for row in self.rows]
        self.version = self.VERSION

    @classmethod
    def of_graph(cls, graph, labels: Iterable[str]) -> "NameIndex":
        labels = set(labels)
        return cls((n, p.get("kind"), p.get("name"), [p.get("name") or "", *p.get("aliases", [])])
                   for n, d in graph.nodes(data=True) if d["label"] in labels
                   for p in (d["props"],))

    # ------------------------------------------------------------------ search
    def search(self, q: str, limit: int) -> list[dict]:
        """Rows {entity_id, kind, name, score} (see the module doc)."""
        q = normalise_name(q)
        if not q:
            return []
        hits: dict[int, float] = {}
        self._substrings(q, limit, hits)
        if len(hits) < limit:  # every other match scores 1 or less, below any substring match
            self._partials(q, limit - len(hits), hits)
        ranked = sorted((-round(s, 6), e) for e, s in hits.items())[:limit]
        return [{"entity_id": self.rows[e][0], "kind": self.rows[e][1], "name": self.rows[e][2],
                 "score": -s} for s, e in ranked]

    def _substrings(self, q: str, limit: int, hits: dict[int, float]) -> None:
        """Entities with a name containing q, best (shortest name) first, until `limit` are found
        and the score drops."""
        keys = {q} if len(q) == 1 else {q[j:j + 2] for j in range(len(q) - 1)}
        source = self.chars if len(q) == 1 else self.pairs
        first, *rest = sorted((source.get(k, EMPTY) for k in keys), key=len)
        cut = None  # (length, rounded score) of the limit-th entity found
        for start in range(0, len(first), CHUNK):
            cand = first[start:start + CHUNK]
            for other in rest:
                cand = _intersect(cand, other)
            for i, e in zip(cand.tolist(), self.owner[cand].tolist()):
                n = self.names[i]
                score = 1.0 + len(q) / len(n)
                # past the cut: a lower score, or a tie whose entity id sorts after the cut's
                if cut and (len(n) == cut[0] or round(score, 6) < cut[1]):
                    return
                if q in n and e not in hits:
                    hits[e] = score
                    if len(hits) == limit:
                        cut = (len(n), round(score, 6))

    def _partials(self, q: str, need: int, hits: dict[int, float]) -> None:
        """The best `need` entities (and ties) not in hits by token share, or partial ratio."""
        grams = tokens(q)
        held = [self.pairs.get(t, EMPTY) if _CJK_PAIR.fullmatch(t) else self.words.get(t, EMPTY)
                for t in grams]
        count = np.bincount(np.concatenate(held), minlength=len(self.names))
        idx = self._most_shared(count, need, hits)
        scores = count[idx] / len(grams)
        if not _HAN.search(q):
            sharing = sorted_unique(np.concatenate([self.chars.get(c, EMPTY) for c in set(q)]))
            sharing = sharing[count[sharing] == 0]
            found = process.extract(q, [self.names[i] for i in sharing.tolist()],
                                    scorer=fuzz.partial_ratio, score_cutoff=FUZZY_CUTOFF, limit=None)
            idx = np.concatenate([idx, sharing[[k for _, _, k in found]].astype(idx.dtype)])
            scores = np.concatenate([scores, [r / 100.0 for _, r, _ in found]])
        ents = self.owner[idx]
        cut = None  # (score, rounded score) of the need-th entity found
        for k in np.lexsort((ents, -scores)).tolist():  # best score first: an entity's first is its best
            e, score = int(ents[k]), float(scores[k])
            if e in hits:
                continue
            if cut and (score == cut[0] or round(score, 6) < cut[1]):  # as in _substrings
                return
            hits[e] = score
            need -= 1
            if need == 0:
                cut = (score, round(score, 6))

    def _most_shared(self, count: np.ndarray, need: int, hits: dict[int, float]) -> np.ndarray:
        """The names holding the most of q's tokens: down to the highest level of `count` that
        still gives `need` entities not in hits (a name below it cannot make the result)."""
        for level in range(int(count.max(initial=0)), 0, -1):
            idx = np.flatnonzero(count >= level)
            if len(np.setdiff1d(self.owner[idx], np.fromiter(hits, np.int32, len(hits)))) >= need:
                return idx
        return np.flatnonzero(count)
