"""What of the pairs the linkage left undecided a steward must see (issue 10: a queue stewards can read).

- A conflict the identifiers settle asks nothing: the two clusters carry primary identifiers that
  differ outright (the pair's identifiers compare `different`, or one typo apart while the names
  disagree). Still asked: identifiers that disagree with each other (a secondary one shared, or
  one record carrying the other's number beside its own, against different primary ones), and a
  mention whose identifier a steward's `different` already contradicts.
- A decision settles its two clusters, whichever of their pairs it named.
- An entity without identifiers (a name-only mention on its own) whose pairs reach several
  identified entities is one item, `candidates` listing them: a steward chooses one, or none. When it
  carries nothing but its name and the clustering found it ambiguous between them, no steward
  could choose either: it is left unlinked, with a reason (unlinked.csv), and not queued.
- Two entities are one item: their best-scoring pair.
"""
from __future__ import annotations

import hashlib
import json
from collections import defaultdict

import numpy as np
import pandas as pd

from creditgraph.linkage.decisions import Verdict

IDENTIFIER_FIELD = {"enterprise": "identifier", "person": "id"}  # the model field comparing identifiers
NEAR = "typo"                     # its level for two values one typo apart
NAME_FIELDS = {"name", "division", "form", "branch"}  # what a name alone gives (its parsed parts)
NAME_ONLY = "name_matches_several"  # unlinked.csv's reason: a bare name that fits several entities
UNLINKED_COLUMNS = ["mention_id", "kind", "source", "name", "reason", "candidates", "candidate_entities"]


def settled(res, waiting: np.ndarray, decisions: dict) -> np.ndarray:
    """Per scored pair (of those `waiting` for a steward), whether it is no question after all:
    its two records are in one cluster already, its two clusters were decided on by a steward,
    or different primary identifiers tell them apart (unless the identifiers are in question)."""
    pairs, labels = res.link.pairs, res.link.labels
    left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()
    ids = cluster_ids(labels, res.records.hard_ids)
    decided, disputed = _decided(res, decisions)
    shared = {(a, b) for a, b, _ in res.records.conflicts}
    agree, near, names_differ = _levels(res)
    out = np.zeros(len(pairs), bool)
    for k in np.flatnonzero(waiting):
        a, b = int(left[k]), int(right[k])
        la, lb = int(labels[a]), int(labels[b])
        out[k] = la == lb or (min(la, lb), max(la, lb)) in decided or (
            bool(ids.get(la)) and bool(ids.get(lb)) and not ids[la] & ids[lb] and (a, b) not in shared
            and a not in disputed and b not in disputed and not (agree[k] and not (near[k] and names_differ[k])))
    return out


def cluster_ids(labels: np.ndarray, hard_ids: list) -> dict[int, set]:
    """Per cluster label, the hard identifiers its records carry (a label without any: empty)."""
    out = defaultdict(set)
    for label, h in zip(labels.tolist(), hard_ids):
        if h:
            out[label] |= h
    return out


def _decided(res, decisions: dict) -> tuple[set, set]:
    """Cluster pairs a steward decided on (same or different), and the records of a `different`
    between two records sharing an identifier: their identifiers are in question, so they
    settle nothing."""
    m = res.mentions
    m = m[m["mention_id"].isin({mid for pair in decisions for mid in pair})]  # not a dict of every mention
    cluster = dict(zip(m["mention_id"], m["cluster"]))
    record = dict(zip(m["mention_id"], m["record"]))
    hard = res.records.hard_ids
    decided, disputed = set(), set()
    for (a, b), d in decisions.items():
        if d.verdict == Verdict.UNSURE or a not in cluster or b not in cluster:
            continue
        ca, cb = int(cluster[a]), int(cluster[b])
        decided.add((min(ca, cb), max(ca, cb)))
        ra, rb = int(record[a]), int(record[b])
        if d.verdict == Verdict.DIFFERENT and hard[ra] & hard[rb]:
            disputed |= {ra, rb}
    return decided, disputed


def _levels(res) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per scored pair: identifiers that agree in part (any level but `different`, when both
    have one: one carries the other's number too, or one typo apart, or a compatible mask);
    identifiers one typo apart; names that disagree."""
    fields = [f.name for f in res.link.model.fields]
    kind = res.mentions["kind"].iloc[0] if len(res.mentions) else ""
    n = len(res.link.pairs)
    agree, near, differ = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
    ident = IDENTIFIER_FIELD.get(kind)
    if ident in fields:
        f, level = res.link.model.fields[fields.index(ident)], res.link.levels[:, fields.index(ident)]
        agree = (level >= 0) & (level < len(f.levels) - 1)  # MISSING is negative
        near = level == f.levels.index(NEAR)
    if "name" in fields:
        f = res.link.model.fields[fields.index("name")]
        differ = res.link.levels[:, fields.index("name")] == len(f.levels) - 1
    return agree, near, differ



def item_codes(res, waiting: np.ndarray, unlinked: pd.DataFrame) -> np.ndarray:
    """Per scored pair, the queue item it would be part of, as `items` groups pairs whatever the
    review threshold (for the evaluation report's queue sweep): a lone entity's pairs to
    identified ones are one item (its candidates), any other pair is its two entities' item;
    -1 for a pair not `waiting` or of a mention left unlinked."""
    labels, n = res.link.labels, len(res.link.labels)
    identified = set(cluster_ids(labels, res.records.hard_ids))
    record_of = dict(zip(res.mentions["mention_id"], res.mentions["record"]))
    gone = {int(labels[record_of[mid]]) for mid in unlinked["mention_id"] if mid in record_of}
    la = labels[res.link.pairs["left"].to_numpy()].astype(np.int64)
    lb = labels[res.link.pairs["right"].to_numpy()].astype(np.int64)
    lone_a = ~np.isin(la, list(identified))
    lone_b = ~np.isin(lb, list(identified))
    pair = np.minimum(la, lb) * n + np.maximum(la, lb) + n  # past every label: no clash with a lone one
    code = np.where(lone_a & ~lone_b, la, np.where(lone_b & ~lone_a, lb, pair))
    out = np.isin(la, list(gone)) | np.isin(lb, list(gone)) | ~waiting
    return np.where(out, -1, code)

# -- queue items ------------------------------------------------------------------------------

def items(res, rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The queue's pair rows (resolve._review) as items, and the mentions left unlinked.

    A row whose one side is a cluster without identifiers and the other an identified one is
    turned to have the lone side left; a lone mention's rows reaching two or more entities become
    one item with `candidates` (JSON: entity_id, mention, left_mention, score, reason, evidence;
    best first).
    Every other item is a pair, one per two entities, `candidates` empty."""
    rows = rows.assign(candidates="")
    if rows.empty:
        return rows, pd.DataFrame(columns=UNLINKED_COLUMNS)
    record_of = {rep: i for i, rep in enumerate(res.records.rep)}
    identified = set(cluster_ids(res.link.labels, res.records.hard_ids))
    label = lambda mention: int(res.link.labels[record_of[mention]])
    lone_right = [label(r) not in identified and label(l) in identified
                  for l, r in zip(rows["left_mention"], rows["right_mention"])]
    rows = pd.concat([rows[~np.array(lone_right)], _turned(rows[np.array(lone_right)])], ignore_index=True)
    rows = rows.sort_values(["score", "pair_id"], ascending=[False, True])
    lone = np.array([label(l) not in identified and label(r) in identified
                     for l, r in zip(rows["left_mention"], rows["right_mention"])], bool)
    ends = [tuple(sorted(e)) for e in zip(rows["left_entity"], rows["right_entity"])]
    out, unlinked = [rows[~lone & ~pd.Series(ends, index=rows.index).duplicated().to_numpy()]], []
    m = res.mentions
    members = dict(tuple(m[m["entity_id"].isin(set(rows.loc[lone, "left_entity"]))].groupby("entity_id")))
    for entity, group in rows[lone].groupby("left_entity", sort=False):
        tied = group.loc[group["reason"] == "ambiguous", "right_entity"].nunique()  # the clustering's tie
        group = group.drop_duplicates("right_entity")
        if len(group) == 1:
            out.append(group)
        elif tied >= 2 and _name_alone(res, members[entity]):
            unlinked.extend(_unlinked(members[entity], group))
        else:
            out.append(_choice(group))
    queue = pd.concat(out, ignore_index=True)
    if not unlinked:
        return queue, pd.DataFrame(columns=UNLINKED_COLUMNS)
    gone = pd.DataFrame(unlinked, columns=UNLINKED_COLUMNS)
    bare = set(gone["mention_id"])  # nor is a pair of such a name with another name a question
    return queue[~(queue["left_mention"].isin(bare) | queue["right_mention"].isin(bare))], gone


def _turned(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows with their two sides swapped, evidence values too."""
    swap = {"left_mention": "right_mention", "right_mention": "left_mention",
            "left_entity": "right_entity", "right_entity": "left_entity"}
    out = rows.rename(columns=swap)
    out["evidence"] = [_swapped(e) for e in rows["evidence"]]
    return out[rows.columns]


def _swapped(evidence: str) -> str:
    ev = json.loads(evidence)
    for v in ev.values():
        if "left" in v or "right" in v:
            v["left"], v["right"] = v.get("right", ""), v.get("left", "")
    return json.dumps(ev, ensure_ascii=False)


def _name_alone(res, members: pd.DataFrame) -> bool:
    """The entity's records carry nothing but a name: every field but the name's parts is empty,
    or only corroborates (the persons its row names: tied between its candidates, none of them
    shares one, so a steward would have the names alone to go on)."""
    quiet = NAME_FIELDS | {f.name for f in res.link.model.fields if f.corroborates_only}
    return not any(values[r] for name, values in res.records.values.items() if name not in quiet
                   for r in set(members["record"].tolist()))


def _choice(group: pd.DataFrame) -> pd.DataFrame:
    """One item for a lone entity and its candidate entities (best first): it reads as its best
    pair, every candidate in `candidates` with the pair that reached it (left_mention, mention)."""
    best = group.iloc[[0]].copy()
    best["pair_id"] = hashlib.sha1(f"{min(group['left_mention'])}|candidates".encode()).hexdigest()[:12]
    best["reason"] = "ambiguous"
    best["candidates"] = json.dumps([
        {"entity_id": e, "mention": r, "left_mention": lm, "score": float(s), "reason": why,
         "evidence": json.loads(ev)}
        for e, r, lm, s, why, ev in zip(group["right_entity"], group["right_mention"], group["left_mention"],
                                        group["score"], group["reason"], group["evidence"])], ensure_ascii=False)
    return best


def _unlinked(m: pd.DataFrame, group: pd.DataFrame) -> list[tuple]:
    """The rows of unlinked.csv of a lone entity's mentions (plain tuples: one frame is made of
    all of them, not one per entity)."""
    candidates = "|".join(sorted(group["right_entity"]))
    return [(mid, kind, source, name, NAME_ONLY, len(group), candidates)
            for mid, kind, source, name in zip(m["mention_id"], m["kind"], m["source"], m["name"])]