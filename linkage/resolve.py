"""Resolve loaded mentions into entities: enterprises first, then persons in their context.

Persons are resolved after enterprises because a person mention without an identity number is
only linkable through the firm it is attached to (the tax list's 法定代表人 name next to a
resolved enterprise): that relation is evidence in the person model's `context` field.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from creditgraph.base.frames import keyed, sorted_codes, sorted_unique
from creditgraph.base.privacy import id_hash, mask, scrub
from creditgraph.linkage.compare import DESCRIBERS
from creditgraph.linkage.decisions import Decision, Verdict, pair_key
from creditgraph.linkage.engine import LinkResult, Records, link
from creditgraph.linkage.model import MatchModel
from creditgraph.linkage.names import parse_enterprise_name, pinyin_key
from creditgraph.linkage.prepare import (enterprise_features, enterprise_fields, enterprise_records, person_features,
                                         person_fields, person_id_parts, person_numbers, person_records,
                                         row_person_numbers, training_pairs)
from creditgraph.linkage import triage
from creditgraph.linkage.review import is_pending
from creditgraph.linkage.sweep import QUEUE_ABOVE, QUEUE_ALWAYS, QUEUE_NEVER, scored_kind


@dataclass
class KindResult:
    mentions: pd.DataFrame          # the kind's mentions with record, cluster, entity_id, score
    features: pd.DataFrame
    records: Records
    link: LinkResult


@dataclass
class Resolution:
    mentions: pd.DataFrame          # every mention with entity_id and score
    entities: pd.DataFrame
    relations: pd.DataFrame
    lists: pd.DataFrame
    review: pd.DataFrame
    vault: pd.DataFrame
    share_issues: pd.DataFrame = field(default_factory=pd.DataFrame)  # shares past 100%: shares_over_100
    unlinked: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=triage.UNLINKED_COLUMNS))  # triage
    scored: dict = field(default_factory=dict)  # kind -> sweep.ScoredKind, for the evaluation report
    report: dict = field(default_factory=dict)
    kinds: dict = field(default_factory=dict)  # kind -> what the incremental state reads (_for_state); dropped after


MENTION_OUTPUT_COLUMNS = ["source", "record_id", "role", "entity_id", "score", "mention_id", "name"]  # mentions.csv
RELATION_OUTPUT_COLUMNS = ["from_id", "to_id", "type", "ratio", "role", "amount", "source", "record_id"]  # relations.csv


class StageTimer:
    """Seconds per named stage, for the run report; each stage also names itself to `step`."""

    def __init__(self, step):
        self.step, self.seconds = step, {}

    def __call__(self, name: str, fn, *args):
        self.step(name)
        started = time.perf_counter()
        result = fn(*args)
        self.seconds[name] = round(time.perf_counter() - started, 2)
        return result


def resolve(frames: dict[str, pd.DataFrame], decisions: dict[tuple, Decision], key: bytes,
            step=lambda name: None, models: dict[str, MatchModel] | None = None) -> Resolution:
    """`models` (kind -> fitted model) scores with those models as they are instead of fitting
    the model files' (an incremental ingest's equal full run: linkage.incremental)."""
    mentions, relations = frames["mentions"], frames["relations"]
    timed = StageTimer(step)
    models = models or {}
    ent = timed("enterprises", _resolve_kind, "enterprise", mentions, relations, decisions, None, key,
                models.get("enterprise"))
    firms = keyed(ent.mentions, "mention_id", "entity_id")
    per = timed("persons", _resolve_kind, "person", mentions, relations, decisions, firms, key, models.get("person"))
    _drop_name_caches()
    assigned = pd.concat([ent.mentions[MENTION_OUTPUT_COLUMNS], per.mentions[MENTION_OUTPUT_COLUMNS]])  # not every column
    entity_of = keyed(assigned, "mention_id", "entity_id")
    out = Resolution(
        mentions=assigned,
        entities=timed("entities", lambda: _concat([_entities(ent, key), _entities(per, key)])),
        relations=timed("relations", _relations, relations, entity_of),
        lists=_lists(frames["lists"], entity_of),
        review=pd.DataFrame(),
        vault=_vault(per),
    )
    kinds = {"enterprise": ent, "person": per}
    out.review, out.unlinked, codes = timed("review queue", _queue, kinds, decisions, relations)
    out.scored = {kind: scored_kind(res.link, res.mentions, codes[kind],
                                    triage.item_codes(res, codes[kind] != QUEUE_NEVER, out.unlinked))
                  for kind, res in kinds.items()}
    out.review = with_worth(out.review, out.mentions, out.relations, out.lists)
    out.unlinked = unlinked_in_order(out.unlinked)
    out.share_issues = timed("share sums", shares_over_100, out.relations, out.entities)
    out.kinds = {kind: _for_state(res) for kind, res in kinds.items()}
    out.report = {"timings_s": timed.seconds,
                  "enterprise": {**ent.link.stats, "model": ent.link.model.describe()},
                  "person": {**per.link.stats, "model": per.link.model.describe()}}
    return out


STATE_MENTION_COLUMNS = ["mention_id", "kind", "record", "entity_id", "score"]


def _for_state(res: KindResult) -> KindResult:
    """What linkage.incremental.save_state reads of a kind: its mentions' places, the records'
    representatives and keys, the scored pairs, clusters and model, the hard identifiers. The
    state is written at the run's peak of memory: the rest (the field values and levels of
    every record and pair, the other feature and mention columns) is let go before it."""
    if not len(res.mentions):
        return res
    records = replace(res.records, values={}, hard_ids=[])
    return KindResult(res.mentions[STATE_MENTION_COLUMNS], res.features[["hard"]], records,
                      replace(res.link, levels=None, inputs=None))


def _drop_name_caches() -> None:
    """Every name and number is parsed once both kinds are resolved: the parsers' caches (up to
    2^18 parsed firm names and persons' identifier cells, 2^20 pinyin keys) would only hold
    memory through the rest of the run and its peak."""
    parse_enterprise_name.cache_clear()
    pinyin_key.cache_clear()
    person_id_parts.cache_clear()


def _queue(kinds: dict[str, "KindResult"], decisions: dict,
           relations: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The review queue of both kinds as linkage.triage's items, the mentions it leaves
    unlinked, and per kind `queue_codes` (the queue at any threshold) without the pairs it settles."""
    codes = {kind: _unsettled(res, queue_codes(res, decisions, relations), decisions) for kind, res in kinds.items()}
    triaged = [triage.items(res, _review(res, codes[kind])) for kind, res in kinds.items()]
    return _concat([q for q, _ in triaged]), _concat([u for _, u in triaged]), codes


def _unsettled(res: "KindResult", codes: np.ndarray, decisions: dict) -> np.ndarray:
    return np.where(triage.settled(res, codes != QUEUE_NEVER, decisions), QUEUE_NEVER, codes).astype(codes.dtype)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    non_empty = [f for f in frames if len(f)]
    return pd.concat(non_empty, ignore_index=True) if non_empty else frames[0]


# -- one kind ---------------------------------------------------------------------------------

def _resolve_kind(kind, mentions, relations, decisions, enterprise_of, key, fitted=None) -> KindResult:
    m = mentions.take(np.flatnonzero(mentions["kind"].to_numpy() == kind))
    m.index = pd.RangeIndex(len(m))  # take made the copy: reset_index would make another
    if kind == "enterprise":
        f = enterprise_features(m, _legal_rep_names(m, mentions, relations), _row_persons(m, mentions, relations))
    else:
        f = person_features(m, _contexts(m, relations, enterprise_of))
    apart = _kept_apart(decisions, m["mention_id"])
    if kind == "enterprise":
        records, record_of = enterprise_records(m, f, apart)
        training = training_pairs(f, record_of, enterprise_fields, {"identifier"})
    else:  # id and birth date make the training pairs; context there is not as in candidates
        records, record_of = person_records(m, f, apart)
        training = training_pairs(f, record_of, person_fields, {"id", "birth_date", "context"})
    must, cannot = _constraints(decisions, m["mention_id"], record_of)
    result = link(fitted or MatchModel.load(kind), records, cannot=cannot, must=must, training=training,
                  fit=fitted is None)
    m["record"], m["cluster"] = record_of, result.labels[record_of]  # in place: assign copies every column
    m["score"] = _scores(m, f, result)
    m["entity_id"] = _entity_ids(kind, m, f, key)
    return KindResult(m, f, records, result)


def _kept_apart(decisions: dict, mention_ids: pd.Series) -> list[tuple[int, int]]:
    """Mention index pairs a steward said differ: never one record, whatever identifier they
    share; the cannot-link between their records (_constraints) keeps them apart after."""
    position = {mid: i for i, mid in enumerate(mention_ids)}
    return [(position[a], position[b]) for (a, b), d in decisions.items()
            if d.verdict == Verdict.DIFFERENT and a in position and b in position]


def _legal_rep_names(m: pd.DataFrame, mentions: pd.DataFrame, relations: pd.DataFrame) -> pd.Series:
    reps = relations[relations["type"] == "LEGAL_REP_OF"]
    name_of = keyed(mentions, "mention_id", "name")
    rep_name = pd.Series(reps["from_mention"].map(name_of).to_numpy(), index=reps["to_mention"].to_numpy())
    rep_name = rep_name[~rep_name.index.duplicated()]
    return m["mention_id"].map(rep_name)


def _row_persons(m: pd.DataFrame, mentions: pd.DataFrame, relations: pd.DataFrame) -> pd.Series:
    """Per firm mention, the identity numbers of the persons its own row names: the shareholder,
    the executive or the insured employee that a name-only mention's row carries ties it to the
    one firm of that name whose other rows name the same person (prepare.row_person_numbers)."""
    persons = mentions[mentions["kind"] == "person"]
    number_of = pd.Series(person_numbers(persons["identifiers"]).to_numpy(), index=persons["mention_id"].to_numpy())
    return row_person_numbers(m["mention_id"], relations, number_of[number_of != ""])


def _contexts(m: pd.DataFrame, relations: pd.DataFrame, enterprise_of: pd.Series) -> pd.Series:
    """Per person mention, the resolved firms it is tied to in its own row: 'entity|RELATION'."""
    ctx = defaultdict(set)
    firm = enterprise_of.to_dict()
    for a, b, kind in zip(relations["from_mention"], relations["to_mention"], relations["type"]):
        if b in firm:
            ctx[a].add(f"{firm[b]}|{kind}")
        if a in firm:
            ctx[b].add(f"{firm[a]}|{kind}")
    return m["mention_id"].map(lambda mid: tuple(sorted(ctx.get(mid, ()))))


def _constraints(decisions, mention_ids: pd.Series, record_of: np.ndarray):
    """Steward decisions as must-links and cannot-links between this kind's records."""
    index = dict(zip(mention_ids, record_of))
    must, cannot = [], set()
    for (a, b), d in decisions.items():
        if a in index and b in index and index[a] != index[b]:
            pair = (min(index[a], index[b]), max(index[a], index[b]))
            if d.verdict == Verdict.SAME:
                must.append(pair)
            elif d.verdict == Verdict.DIFFERENT:
                cannot.add(pair)
    return must, cannot


def _scores(m: pd.DataFrame, f: pd.DataFrame, result: LinkResult) -> np.ndarray:
    """1.0 for a mention placed by its identifier or alone; else the best edge that placed it."""
    pairs = result.pairs[result.pairs["status"] == "match"]
    best = pd.concat([pairs[["left", "prob"]].rename(columns={"left": "r"}),
                      pairs[["right", "prob"]].rename(columns={"right": "r"})]).groupby("r")["prob"].max()
    score = m["record"].map(best).fillna(1.0).to_numpy()
    has_hard = f["hard"].map(bool).to_numpy()
    return np.where(has_hard, 1.0, np.round(score, 4))


# -- stable entity ids ------------------------------------------------------------------------

def _entity_ids(kind: str, m: pd.DataFrame, f: pd.DataFrame, key: bytes) -> pd.Series:
    """Ids from the cluster's strongest identifier, else from its least mention id.

    The same input gives the same ids, and a new source only changes the ids of the clusters it
    joins (and only when it brings a stronger identifier or a smaller mention id to them).
    """
    return m["cluster"].map(_dedupe_ids(*entity_bases(kind, m, f, key)))


def entity_bases(kind: str, m: pd.DataFrame, f: pd.DataFrame, key: bytes) -> tuple[dict, dict]:
    """Per cluster, its id before `_dedupe_ids` and its least mention id: both depend on the
    cluster's mentions only (linkage.spark computes them per component, dedupes globally).
    The id comes from the cluster's commonest primary identifier (a tie: the one its first
    mention in row order carries), else its least organisation code, else its least mention."""
    cluster = m["cluster"].to_numpy(dtype=np.int64)
    first = _least_per_cluster(cluster, m["mention_id"].to_numpy(dtype=object))
    strongest = _commonest_per_cluster(cluster, (f["uscc"] if kind == "enterprise" else f["id18"]).to_numpy(dtype=object))
    orgs = _least_org_per_cluster(cluster, f["hard"])
    by_cluster = {}
    for cluster_id, mid in first.items():
        value = strongest.get(cluster_id)
        if kind == "person" and value:
            by_cluster[cluster_id] = "P-" + id_hash(value, key)[:16]
        elif value:
            by_cluster[cluster_id] = "E-" + value
        elif cluster_id in orgs:
            by_cluster[cluster_id] = "E-O" + orgs[cluster_id]
        else:
            by_cluster[cluster_id] = kind[0].upper() + "-" + hashlib.sha1(mid.encode()).hexdigest()[:12]
    return by_cluster, first


def _least_per_cluster(cluster: np.ndarray, values: np.ndarray) -> dict:
    """Per cluster label, its least value (by column: a comparison per mention in a Python loop
    was most of the 7 s the stable ids took at 2M mentions)."""
    code, uniques = sorted_codes(values)
    labels, at = np.unique(cluster, return_inverse=True)
    least = np.full(len(labels), len(uniques), dtype=np.int64)
    np.minimum.at(least, at, code)
    return dict(zip(labels.tolist(), uniques[least].tolist()))


def _commonest_per_cluster(cluster: np.ndarray, values: np.ndarray) -> dict:
    """Per cluster label with a non-empty value, its most frequent one; a tie goes to the one
    seen first in row order (as Counter.most_common gives it)."""
    rows = np.flatnonzero(np.fromiter((bool(v) for v in values), dtype=bool, count=len(values)))
    code, uniques = pd.factorize(values[rows])
    n = max(len(uniques), 1)
    pair, first_row, count = np.unique(cluster[rows] * n + code, return_index=True, return_counts=True)
    label = pair // n
    order = np.lexsort((first_row, -count, label))
    best = order[np.r_[True, label[order][1:] != label[order][:-1]]] if len(order) else order
    return dict(zip(label[best].tolist(), uniques[pair[best] % n].tolist()))


def _least_org_per_cluster(cluster: np.ndarray, hard) -> dict:
    """Per cluster label, the least organisation code its mentions' hard identifiers carry."""
    least: dict = {}
    for label, keys in zip(cluster.tolist(), hard):
        for k in keys:
            if k.startswith("org:") and (label not in least or k[4:] < least[label]):
                least[label] = k[4:]
    return least


def _dedupe_ids(by_cluster: dict, first: dict) -> dict:
    """Two clusters with the same identifier (a conflict kept apart) get -2, -3... by least mention."""
    seen = Counter()
    out = {}
    for cluster in sorted(by_cluster, key=first.get):
        base = by_cluster[cluster]
        seen[base] += 1
        out[cluster] = base if seen[base] == 1 else f"{base}-{seen[base]}"
    return out


# -- outputs ----------------------------------------------------------------------------------

ENTITY_COLUMNS = ["entity_id", "kind", "name", "identifier", "identifier_type", "id_hash", "aliases", "n_aliases",
                  "n_sources", "departments", "records", "addresses", "phones", "birth_date", "attrs"]


def _entities(res: KindResult, key: bytes) -> pd.DataFrame:
    """One row per entity, from vectorised per-entity aggregates of the kind's mentions."""
    m, f = res.mentions, res.features
    if m.empty:  # a manifest without parties of this kind
        return pd.DataFrame(columns=ENTITY_COLUMNS)
    kind = m["kind"].iloc[0]
    by = ByEntity(m["entity_id"])
    out = pd.DataFrame(index=pd.Index(by.ids, name="entity_id"))
    record = m["source"] + ":" + m["record_id"].astype(str)
    for values, target in ((m["name"], "aliases"), (m["department"], "departments"), (record, "records"),
                           (m["address"], "addresses"), (m["phone"], "phones")):
        out[target] = by.joined(values)
    out["n_aliases"] = by.nunique(m["name"])
    out["n_sources"] = by.nunique(m["source"])
    out["attrs"] = _merged_attrs(pd.DataFrame({"entity_id": m["entity_id"], "attrs": m["attrs"]}))
    if kind == "enterprise":
        _enterprise_columns(out, by, f)
    else:
        _person_columns(out, by, f, key)
    out["kind"] = kind
    out = out.fillna("").reset_index()
    return out[ENTITY_COLUMNS]


def _enterprise_columns(out: pd.DataFrame, by: "ByEntity", f: pd.DataFrame) -> None:
    """Canonical name: the commonest spelling among mentions carrying the USCC, else overall."""
    out["name"] = by.top(f["clean"].where(f["uscc"] != "", "")).fillna(by.top(f["clean"]))
    uscc = by.top(f["uscc"])
    org = by.least(pd.Series([min((h[4:] for h in hs if h.startswith("org:")), default="") for hs in f["hard"]]))
    identifier = uscc.combine_first(org)  # USCC, else org code
    out["identifier"] = [v if isinstance(v, str) else "" for v in identifier]  # fillna("") warns on objects
    out["identifier_type"] = np.where(uscc.notna(), "uscc", np.where(org.notna(), "org_code", ""))
    out["id_hash"] = ""
    out["birth_date"] = ""


def _person_columns(out: pd.DataFrame, by: "ByEntity", f: pd.DataFrame, key: bytes) -> None:
    out["name"] = by.top(f["clean"])
    id18 = by.top(f["id18"])
    masked = by.top(f["id_values"].map(lambda vs: next((v for v in vs if "*" in v), "")))
    has_id = id18.notna()
    out["identifier"] = [mask(v) if isinstance(v, str) else (mask(w) if isinstance(w, str) else "")
                         for v, w in zip(id18, masked)]  # a public-list mask shows its year: re-mask
    out["identifier_type"] = np.where(has_id, "id18", np.where(masked.notna(), "id_masked", ""))
    out["id_hash"] = [id_hash(v, key) if isinstance(v, str) else "" for v in id18]
    out["birth_date"] = by.top(f["birth_date"])


class ByEntity:
    """A kind's mentions grouped by entity id once: each figure per entity (its commonest value,
    its distinct values, their count) reuses the codes: factorizing and sorting a million entity
    ids again for each of a dozen figures was most of the stage's profile at 2M mentions. Every
    figure is a Series on the sorted entity ids, NaN where an entity has no value."""

    def __init__(self, entity_ids: pd.Series):
        self.code, self.ids = sorted_codes(entity_ids.to_numpy(dtype=object))

    def top(self, values: pd.Series) -> pd.Series:
        """Its most frequent non-empty value; ties go to the smaller value."""
        group, values = self._present(values)
        group, (pair, count), uniques = _group_value_codes(group, values)
        order = np.lexsort((pair, -count, group))  # per entity: most frequent, then smallest value
        first = order[np.r_[True, group[order][1:] != group[order][:-1]]] if len(order) else order
        return self._spread(group[first], uniques[pair[first] % max(len(uniques), 1)])

    def joined(self, values: pd.Series) -> pd.Series:
        """Its distinct non-empty values sorted and joined with '|'."""
        group, values = self._present(values)
        text = np.array([v if isinstance(v, str) else str(v) for v in values.tolist()], dtype=object)
        return self._spread(sorted_unique(group), _distinct_joined(group, text))

    def least(self, values: pd.Series) -> pd.Series:
        """Its smallest non-empty value."""
        group, values = self._present(values)
        code, uniques = sorted_codes(values)
        least = np.full(len(self.ids), len(uniques), dtype=np.int64)
        np.minimum.at(least, group, code)
        has = np.flatnonzero(least < len(uniques))
        return self._spread(has, uniques[least[has]])

    def nunique(self, values: pd.Series) -> np.ndarray:
        """How many distinct values it has, "" counted, missing ones not (groupby's nunique)."""
        keep = values.notna().to_numpy()
        code, uniques = sorted_codes(values.to_numpy(dtype=object)[keep])
        pairs = sorted_unique(self.code[keep] * max(len(uniques), 1) + code)
        return np.bincount(pairs // max(len(uniques), 1), minlength=len(self.ids))

    def _present(self, values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        keep = (values.notna() & (values != "")).to_numpy()
        return self.code[keep], values.to_numpy(dtype=object)[keep]

    def _spread(self, groups: np.ndarray, values) -> pd.Series:
        out = np.full(len(self.ids), np.nan, dtype=object)
        out[groups] = values
        return pd.Series(out, index=pd.Index(self.ids, name="entity_id"), dtype=object)


def _merged_attrs(df: pd.DataFrame) -> pd.Series:
    """Attributes of an entity's mentions (capital, founding date...), first seen wins."""
    d = df.loc[df["attrs"].notna() & (df["attrs"] != ""), ["entity_id", "attrs"]].drop_duplicates()
    merged = defaultdict(dict)
    for eid, text in sorted(zip(d["entity_id"], d["attrs"])):
        for k, v in json.loads(text).items():
            merged[eid].setdefault(k, v)
    return pd.Series({eid: json.dumps(a, ensure_ascii=False) for eid, a in merged.items()}, dtype=object)


def _relations(relations: pd.DataFrame, entity_of: pd.Series) -> pd.DataFrame:
    """Mention-level relations as entity-level ones, one per (from, to, type, role), in key order:
    the first present ratio and amount, the distinct sources and record ids joined with '|'.
    Grouped by column, not with a dict of sets per relation (most of the run's peak at 2M)."""
    r = pd.DataFrame({"from_id": relations["from_mention"].map(entity_of).to_numpy(),
                      "to_id": relations["to_mention"].map(entity_of).to_numpy(),
                      "type": relations["type"].to_numpy(), "role": relations["role"].fillna("").to_numpy(),
                      "ratio": relations["ratio"].to_numpy(), "amount": relations["amount"].to_numpy(),
                      "source": relations["source"].to_numpy(),
                      "record_id": relations["record_id"].astype(str).to_numpy()})
    r = r[r["from_id"] != r["to_id"]]
    keys = ["from_id", "to_id", "type", "role"]
    groups = r.groupby(keys, sort=True)
    out = groups[["ratio", "amount"]].first()  # the first present value in row order
    group_of_row = groups.ngroup().to_numpy()  # in out's (sorted) order; -1 where a key is missing
    for col in ("source", "record_id"):
        out[col] = _distinct_joined(group_of_row, r[col].to_numpy())
    rows = list(out.reset_index().itertuples(index=False, name=None))
    out = pd.DataFrame(rows, columns=["from_id", "to_id", "type", "role", "ratio", "amount", "source", "record_id"])
    return out[RELATION_OUTPUT_COLUMNS]


def _distinct_joined(group_of_row: np.ndarray, values: np.ndarray) -> list[str]:
    """Per group (0, 1, ...; -1 rows are left out), its distinct values sorted and joined with '|'.
    The values are sorted once as distinct strings (factorize), the rows as integer codes: a
    groupby agg with a Python function built a Series per group, and sorting rows of strings
    compares strings row by row."""
    keep = group_of_row >= 0
    group, (pair, _), uniques = _group_value_codes(group_of_row[keep], values[keep])
    if not len(pair):
        return []
    v = uniques[pair % len(uniques)].tolist()
    bounds = np.r_[np.flatnonzero(np.r_[True, group[1:] != group[:-1]]), len(v)]
    return ["|".join(v[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]


def _group_value_codes(group_of_row: np.ndarray, values) -> tuple[np.ndarray, tuple, np.ndarray]:
    """The distinct (group, value) pairs of the rows as codes group * n + value code, sorted by
    group then value, with their counts; their groups; the sorted distinct values (n of them)."""
    value_code, uniques = sorted_codes(values)
    pair, count = np.unique(group_of_row.astype(np.int64) * max(len(uniques), 1) + value_code, return_counts=True)
    return pair // max(len(uniques), 1), (pair, count), uniques


SHARES_TOLERANCE = 1.005  # recorded shares may sum a rounding past 100%, not more
SHARE_ISSUE_COLUMNS = ["entity_id", "name", "shares_percent", "shareholders", "shareholder_ids", "sources"]


def shares_over_100(relations: pd.DataFrame, entities: pd.DataFrame) -> pd.DataFrame:
    """Firms whose shareholders' recorded ratios (entity-level, one per shareholder) sum past
    100%: a stale or wrong filing, or two shareholders who are one. Flagged, not corrected."""
    held = relations[relations["type"] == "SHAREHOLDER_OF"]
    held = held.assign(ratio=pd.to_numeric(held["ratio"], errors="coerce")).dropna(subset=["ratio"])
    totals = held.groupby("to_id")["ratio"].sum()
    held = held[held["to_id"].isin(totals.index[totals > SHARES_TOLERANCE])]
    if held.empty:
        return pd.DataFrame(columns=SHARE_ISSUE_COLUMNS)
    over = held.groupby("to_id").agg(total=("ratio", "sum"), shareholders=("from_id", "size"),
                                     shareholder_ids=("from_id", lambda s: "|".join(sorted(s))),
                                     sources=("source", lambda s: "|".join(sorted(set("|".join(s).split("|"))))))
    over = over.reset_index().rename(columns={"to_id": "entity_id"})
    over["shares_percent"] = (over["total"] * 100).round(2)
    over["name"] = over["entity_id"].map(entities.set_index("entity_id")["name"])
    return over.sort_values(["shares_percent", "entity_id"], ascending=[False, True])[SHARE_ISSUE_COLUMNS]


def _present(value) -> bool:
    return value is not None and value == value  # NaN is the one value unequal to itself


def _lists(lists: pd.DataFrame, entity_of: pd.Series) -> pd.DataFrame:
    out = lists.assign(entity_id=lists["mention_id"].map(entity_of),
                       record_uid=lists["source"] + ":" + lists["record_id"].astype(str) + ":" + lists["list"])
    return out.reindex(columns=LIST_RECORD_COLUMNS)  # frames read before records had periods lack them


# list_records.csv (docs/architecture.md): the record, its department and its period
LIST_RECORD_COLUMNS = ["record_uid", "entity_id", "list", "grade", "authority", "case_no", "date", "source",
                       "record_id", "department", "effective_from", "effective_to", "removed_on", "removal_reason"]


def queue_codes(res: KindResult, decisions: dict, relations: pd.DataFrame) -> np.ndarray:
    """Per scored pair, whether it waits for a steward: QUEUE_ALWAYS (ambiguous ones, and
    conflicts: strong evidence against different identifiers), QUEUE_ABOVE (at or above the
    review threshold, whatever it is: the pair was not merged and identifiers do not already tell
    its two clusters apart) or QUEUE_NEVER; never a pair a steward has settled, nor two clusters
    that one export row relates to each other (a branch and the parent its row names): the row
    already says they are two parties."""
    pairs, labels = res.link.pairs, res.link.labels
    left, right = pairs["left"].to_numpy(), pairs["right"].to_numpy()
    ends = labels[left], labels[right]
    in_one_row = np.isin(_cluster_pair_codes(*ends, len(labels)), _row_related(res.mentions, relations, len(labels)))
    status = pairs["status"].to_numpy()
    always = ~in_one_row & np.isin(status, ["ambiguous", "conflict"])
    above = ~in_one_row & np.isin(status, ["uncertain", "no_match"]) & (ends[0] != ends[1])
    above &= ~_told_apart(triage.cluster_ids(labels, res.records.hard_ids), *ends)
    codes = np.where(always, QUEUE_ALWAYS, np.where(above, QUEUE_ABOVE, QUEUE_NEVER)).astype(np.int8)
    if decisions:
        rep = res.records.rep
        for k in np.flatnonzero(codes).tolist():
            if not is_pending(decisions.get(pair_key(rep[left[k]], rep[right[k]]))):
                codes[k] = QUEUE_NEVER
    return codes


def _told_apart(ids_of: dict[int, set], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per cluster pair, whether both clusters carry hard identifiers and share none. Most carry
    one at most: those compare as integer codes, looked up per cluster label (an array, not a
    dict lookup per pair: millions of pairs at 2M); clusters of several take the sets."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    size = max(int(a.max(initial=-1)), int(b.max(initial=-1)), max(ids_of, default=-1)) + 1
    codes: dict = {}
    one = np.full(size, -1, dtype=np.int64)  # per cluster: its one identifier's code; -1: none, or several
    identified = np.zeros(size, dtype=bool)
    for c, ids in ids_of.items():
        identified[c] = True
        if len(ids) == 1:
            one[c] = codes.setdefault(next(iter(ids)), len(codes))
    code_a, code_b = one[a], one[b]
    out = (code_a >= 0) & (code_b >= 0) & (code_a != code_b)
    for k in np.flatnonzero(((code_a < 0) & identified[a]) | ((code_b < 0) & identified[b])).tolist():
        x, y = ids_of.get(int(a[k])), ids_of.get(int(b[k]))
        out[k] = bool(x) and bool(y) and x.isdisjoint(y)
    return out


def _cluster_pair_codes(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """An unordered pair of cluster labels (below n) as one integer."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    return np.minimum(a, b) * n + np.maximum(a, b)


def _review(res: KindResult, codes: np.ndarray) -> pd.DataFrame:
    """The pairs waiting for a steward (`queue_codes`) at the model's review threshold, with
    their field-by-field evidence."""
    pairs, levels = res.link.pairs, res.link.levels
    todo = (codes == QUEUE_ALWAYS) | ((codes == QUEUE_ABOVE) & (pairs["status"] == "uncertain").to_numpy())
    rows = []
    m = res.mentions
    entity_of_record = m.groupby("record")["entity_id"].first()
    describe = {f.name: DESCRIBERS.get(f.compare) for f in res.link.model.fields}
    shared = {(a, b): key for a, b, key in res.records.conflicts}
    for k in np.flatnonzero(todo):
        a, b = int(pairs["left"].iat[k]), int(pairs["right"].iat[k])
        left, right = res.records.rep[a], res.records.rep[b]
        evidence = res.link.model.evidence(levels[k])
        for name, ev in evidence.items():
            left_values, right_values = res.records.values[name][a], res.records.values[name][b]
            if describe[name]:  # identity numbers, birth dates: where they differ, not the values
                ev["compare"] = describe[name](left_values, right_values)
            else:
                ev["left"] = " / ".join(map(_show, left_values))
                ev["right"] = " / ".join(map(_show, right_values))
        if (a, b) in shared:  # kept apart by their primary identifiers though they share this one
            kind, _, value = shared[a, b].partition(":")
            evidence["shared_identifier"] = {"left": f"{kind} {_show(value)}", "right": f"{kind} {_show(value)}",
                                             "level": "shared, primary identifiers differ", "weight": 0.0}
        rows.append({"pair_id": hashlib.sha1(f"{left}|{right}".encode()).hexdigest()[:12],
                     "kind": m["kind"].iloc[0], "left_mention": left, "right_mention": right,
                     "left_entity": entity_of_record[a], "right_entity": entity_of_record[b],
                     "score": round(float(pairs["prob"].iat[k]), 4),
                     "reason": pairs["status"].iat[k],
                     "evidence": json.dumps(evidence, ensure_ascii=False)})
    return pd.DataFrame(rows, columns=REVIEW_COLUMNS)


REVIEW_COLUMNS = ["pair_id", "kind", "left_mention", "right_mention", "left_entity", "right_entity", "score", "reason",
                  "evidence"]


def with_worth(review: pd.DataFrame, mentions: pd.DataFrame, relations: pd.DataFrame,
               lists: pd.DataFrame) -> pd.DataFrame:
    """`worth`: what a decision on the pair settles, the mentions, relations and list records of
    its two entities together (`held_by`); the queue is read most worth first
    (linkage.review.review_order), so the first decisions settle the most."""
    return in_worth_order(review, held_by(mentions["entity_id"], relations, lists))


def held_by(entity_ids: pd.Series, relations: pd.DataFrame, lists: pd.DataFrame) -> pd.Series:
    """Per entity id, how many mentions, relation ends and list records it holds."""
    return pd.concat([entity_ids, relations["from_id"], relations["to_id"], lists["entity_id"]]).value_counts()


def in_worth_order(review: pd.DataFrame, held: pd.Series) -> pd.DataFrame:
    """The queue with its `worth` (`held` of its two entities), as both engines write it: most
    worth first, then by score, then by pair id."""
    worth = (held.reindex(review["left_entity"]).fillna(0).to_numpy()
             + held.reindex(review["right_entity"]).fillna(0).to_numpy())
    ranked = review.assign(worth=worth.astype(int), _score=pd.to_numeric(review["score"], errors="coerce"))
    return (ranked.sort_values(["worth", "_score", "pair_id"], ascending=[False, False, True], kind="stable")
            .drop(columns="_score").reset_index(drop=True))


def unlinked_in_order(unlinked: pd.DataFrame) -> pd.DataFrame:
    """unlinked.csv as both engines write it: by kind, then mention id."""
    return unlinked.sort_values(["kind", "mention_id"], kind="stable").reset_index(drop=True)


def _row_related(m: pd.DataFrame, relations: pd.DataFrame, n: int) -> np.ndarray:
    """Cluster pairs holding two mentions that one row relates to each other (_cluster_pair_codes)."""
    cluster_of = keyed(m, "mention_id", "cluster")
    a, b = relations["from_mention"].map(cluster_of), relations["to_mention"].map(cluster_of)
    both = (a.notna() & b.notna()).to_numpy()
    return sorted_unique(_cluster_pair_codes(a[both].astype(np.int64).to_numpy(), b[both].astype(np.int64).to_numpy(), n))


def _show(value) -> str:
    """A value as a steward reads it; an identity number in any other field is masked."""
    return scrub(value[0] if isinstance(value, tuple) else str(value))


def _vault(res: KindResult) -> pd.DataFrame:
    m, f = res.mentions, res.features
    pairs = pd.DataFrame({"entity_id": m["entity_id"], "id_number": f["id18"]})
    return pairs[pairs["id_number"] != ""].drop_duplicates().sort_values(["entity_id", "id_number"])
