"""The resolve on Apache Spark: the embedded engine's stages (linkage.resolve) run by Spark.

One pipeline, two executors. Every rule is the embedded engine's own code, called on pieces of
the data that are closed under it:
- per mention (features: `linkage.prepare`), on any batch of mentions;
- per connected component of the mentions' shared hard identifiers (records: `prepare`'s
  grouping), and per connected component of the pairs that can move the clustering or the queue
  (compare, score with the fitted model, `linkage.cluster`, scores, entity-id bases, the review
  queue: `engine.link_candidates`, `resolve.entity_bases`, `resolve._queue`). A partition holds
  whole components, in the global order (mentions by their position in the exports, records by
  their first mention), and is handed to that code at once: one call per partition instead of one
  per component, with the same result since nothing in those stages crosses a component.
  The components are those of the candidate pairs scored at or above the lower of the match and
  review thresholds (`_weighed`), of the conflicts and of the steward's decisions, not of every
  candidate pair: weak pairs chain most records into one component as a city grows (persons at
  500k mentions: 56,545 of 70,776 records; enterprises at 10M: 1,053,805 of 1,053,913), which
  one task would then cluster alone. A pair below both thresholds is never merged, never
  ambiguous, blocked or queued; the clustering reads such pairs only between two clusters it is
  about to merge (`cluster._well_supported`), which a stronger pair already puts in one component,
  where they are scored again with the rest.
Three stages are global and differ in form, not in rule:
- blocking counts each key's records over the whole data set (the cap of
  `blocking.candidate_pairs`) and pairs the records of a block by a self-join;
- the model fit (u from random record pairs, m from identifier-confirmed mention pairs) runs on
  the driver on the same samples the embedded engine draws (`engine.random_pairs`,
  `prepare.training_draw`): the records and mentions are numbered in Spark as the embedded engine
  numbers them, and only the sampled ones (at most 40,000 of each) are collected;
- the de-duplication of entity ids across clusters (`resolve._dedupe_ids`) is a window per id.
No stage collects all mentions or all pairs to the driver; what it does collect is said where.
"""
from __future__ import annotations

import importlib
import json
import os
import pickle
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from creditgraph.base.frames import sorted_unique
from creditgraph.linkage import engine
from creditgraph.linkage.blocking import Candidates
from creditgraph.linkage.compare import compare_pairs
from creditgraph.linkage.decisions import Decision
from creditgraph.linkage.engine import Records, link_candidates
from creditgraph.linkage.model import MatchModel, probability_of
from creditgraph.linkage.prepare import (enterprise_features, enterprise_fields, enterprise_records, person_features,
                                         person_fields, person_numbers, person_records, training_draw, training_of)
from creditgraph.linkage.resolve import (REVIEW_COLUMNS, KindResult, _constraints, _kept_apart, _queue, _scores,
                                         entity_bases)
from creditgraph.linkage.triage import UNLINKED_COLUMNS

try:  # the optional extra `spark` (pyproject), imported by name: the base install goes without it
    F = importlib.import_module("pyspark.sql.functions")
    T = importlib.import_module("pyspark.sql.types")
    _sql = importlib.import_module("pyspark.sql")
    DataFrame, SparkSession, Window = _sql.DataFrame, _sql.SparkSession, _sql.Window
except ImportError:  # available() says so to the CLI
    F = T = DataFrame = SparkSession = Window = None

class _Stages:
    """stage(name, df): df written as Parquet under `work` and read back (see resolve_kind)."""

    def __init__(self, spark, work: Path):
        self.spark, self.work = spark, Path(work)
        self.rounds: dict[str, int] = {}  # components(): rounds per graph, for the run report

    def __call__(self, name: str, df: "DataFrame") -> "DataFrame":
        path = str(self.work / name)
        df.write.mode("overwrite").parquet(path)
        return self.spark.read.parquet(path)


MAX_BLOCK = 200  # engine.link's default, which resolve uses
TRAINING_MIN = 100  # engine._fit fits m from training pairs only from this many on
KIND = {"enterprise": (enterprise_features, enterprise_records, enterprise_fields, {"identifier"}, "uscc"),
        "person": (person_features, person_records, person_fields, {"id", "birth_date", "context"}, "id18")}


def available() -> bool:
    return SparkSession is not None


def session(master: str = "local[*]", shuffle_partitions: int = 8, driver_memory: str = "4g") -> "SparkSession":
    """A Spark session for the resolve; on a cluster (spark-submit), the one it already has.
    The Python workers run this interpreter, which has creditgraph installed. The driver's heap
    (in local mode, the executor's too): 2 GB lost a result piece of the 2M city's outputs on
    their way to the driver (BENCHMARKS.md, Spark at scale), 4 GB holds it."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    return (SparkSession.builder.master(master).appName("creditgraph-resolve")
            .config("spark.driver.memory", driver_memory)
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .config("spark.sql.execution.arrow.maxRecordsPerBatch", "20000")
            .config("spark.sql.maxPlanStringLength", "100000")
            .getOrCreate())


def stop(spark: "SparkSession") -> None:
    """Stop the session and the JVM this process started for it (session.stop() leaves the JVM,
    and its heap, until the Python process exits: a test suite would carry it to the end)."""
    context = type(spark.sparkContext)
    gateway = context._gateway
    spark.stop()
    proc = getattr(gateway, "proc", None)
    if proc is not None:  # the gateway server exits when its stdin closes
        gateway.shutdown()
        proc.stdin.close()
        proc.wait(60)
        context._gateway = context._jvm = None


@dataclass
class KindOutput:
    mentions: "DataFrame"  # pos, mention_id, cluster, score, entity_id
    features: "DataFrame"  # pos, mention_id, hard, feat (the pickled row of prepare's features)
    stats: dict = field(default_factory=dict)
    queue: pd.DataFrame = field(default_factory=pd.DataFrame)  # resolve._queue's items (collected: few)
    unlinked: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=UNLINKED_COLUMNS))


def resolve_kind(spark: "SparkSession", kind: str, mentions: "DataFrame", relations: "DataFrame",
                 decisions: dict[tuple, Decision], key: bytes, work: Path, firms: "DataFrame | None" = None,
                 model: MatchModel | None = None) -> KindOutput:
    """One kind as resolve._resolve_kind does it. `mentions` carries `pos` (the position in the
    loaded exports, which orders everything as the embedded frames are ordered) and `relations`
    `rpos`; `firms` (mention_id, entity_id) the resolved enterprises, for persons' contexts. Each
    stage's result is written to `work` (Parquet, on storage all executors see) and read back:
    a stage starts from its input's files, not from a query plan that grows stage by stage."""
    stage = _Stages(spark, work / kind)
    m = mentions.where(F.col("kind") == kind)
    if kind == "enterprise":
        extra = _legal_rep_names(m, mentions, relations).join(_row_persons(mentions, relations), "mention_id", "left")
    else:
        extra = _contexts(m, relations, firms)
    features = stage("features", _features(kind, extra))
    records = stage("records", _records(spark, kind, features, decisions, stage))
    cands, skipped = _candidates(records)
    cands = stage("candidates", cands)
    fitted, em = _fit(spark, kind, model or MatchModel.load(kind), records, features, stage)
    weighed = stage("weighed", _weighed(fitted, records, cands))
    comps = components(_edges(spark, records, weighed, decisions), records.select(F.col("rec").alias("id")),
                       stage, "pair-components")
    related = _related(relations, records)
    linked = stage("linked", _link(kind, fitted, records, cands, comps, related, decisions, key))
    placed = linked.where(F.col("item").isNull())
    out = stage("mentions", placed.join(_deduped(placed), "cluster")
                .select("pos", "mention_id", "cluster", "score", "entity_id"))
    queue, unlinked = _items(linked, out, m)
    stats = {"records": records.count(), "pairs": _scored(spark, records, cands).distinct().count(), "em": em,
             "skipped_blocks": skipped["count"], "component_rounds": dict(stage.rounds),
             "largest_skipped": skipped["largest"], "model": fitted.describe()}
    return KindOutput(out, features, stats, queue, unlinked)


# -- per mention ------------------------------------------------------------------------------

def _legal_rep_names(m: "DataFrame", mentions: "DataFrame", relations: "DataFrame") -> "DataFrame":
    """resolve._legal_rep_names: per firm mention, the name of its first LEGAL_REP_OF relation's
    person (first in the exports' order, as the embedded engine keeps the first duplicate)."""
    reps = (relations.where(F.col("type") == "LEGAL_REP_OF")
            .join(mentions.select(F.col("mention_id").alias("from_mention"), F.col("name").alias("rep")),
                  "from_mention", "left"))
    first = Window.partitionBy("to_mention").orderBy("rpos")
    reps = (reps.withColumn("n", F.row_number().over(first)).where("n = 1")
            .select(F.col("to_mention").alias("mention_id"), F.col("rep").alias("extra")))
    return m.join(reps, "mention_id", "left")


NUMBERS = T.StructType([T.StructField("mention_id", T.StringType()),
                        T.StructField("number", T.StringType())]) if SparkSession else None


def _row_persons(mentions: "DataFrame", relations: "DataFrame") -> "DataFrame":
    """resolve._row_persons: per mention, the sorted identity numbers (`persons`) of the persons
    its row ties it to, each number as prepare.person_numbers reads it."""
    def run(batches):
        for b in batches:
            yield pd.DataFrame({"mention_id": b["mention_id"], "number": person_numbers(b["identifiers"]).to_numpy()})
    numbers = (mentions.where(F.col("kind") == "person").select("mention_id", "identifiers")
               .mapInPandas(run, NUMBERS).where(F.col("number") != ""))
    ends = relations.select("from_mention", "to_mention")
    tied = (ends.join(numbers.withColumnRenamed("mention_id", "from_mention"), "from_mention")
            .select(F.col("to_mention").alias("mention_id"), "number")
            .unionByName(ends.join(numbers.withColumnRenamed("mention_id", "to_mention"), "to_mention")
                         .select(F.col("from_mention").alias("mention_id"), "number")))
    return tied.groupBy("mention_id").agg(F.array_sort(F.collect_set("number")).alias("persons"))


def _contexts(m: "DataFrame", relations: "DataFrame", firms: "DataFrame") -> "DataFrame":
    """resolve._contexts: per person mention, 'entity|RELATION' for every resolved firm its own
    row ties it to, as a sorted array."""
    firm_to = relations.join(firms.select(F.col("mention_id").alias("to_mention"), "entity_id"), "to_mention")
    firm_from = relations.join(firms.select(F.col("mention_id").alias("from_mention"), "entity_id"), "from_mention")
    ctx = (firm_to.select(F.col("from_mention").alias("mention_id"), "entity_id", "type")
           .unionByName(firm_from.select(F.col("to_mention").alias("mention_id"), "entity_id", "type"))
           .select("mention_id", F.concat_ws("|", "entity_id", "type").alias("c"))
           .groupBy("mention_id").agg(F.array_sort(F.collect_set("c")).alias("extra")))
    return m.join(ctx, "mention_id", "left")


FEATURES = T.StructType([T.StructField("pos", T.LongType()), T.StructField("mention_id", T.StringType()),
                         T.StructField("hard", T.ArrayType(T.StringType())),
                         T.StructField("feat", T.BinaryType())]) if SparkSession else None


def _features(kind: str, m: "DataFrame") -> "DataFrame":
    """prepare's features, batch by batch: every one is a function of its own mention. The row
    travels pickled (tuples and sets that the records stage hands back to prepare as they are)."""
    make = KIND[kind][0]

    def run(batches):
        for b in batches:
            b = b.reset_index(drop=True)
            if kind == "enterprise":
                f = make(b, b["extra"], b["persons"].map(_as_tuple))
            else:
                f = make(b, b["extra"].map(_as_tuple))
            yield pd.DataFrame({"pos": b["pos"], "mention_id": b["mention_id"], "hard": f["hard"].map(sorted),
                                "feat": [pickle.dumps(r, protocol=5) for r in f.to_dict("records")]})
    return m.mapInPandas(run, FEATURES)


def _as_tuple(values) -> tuple:
    """An array column's value (None when the join found nothing) as prepare's tuple."""
    return () if values is None else tuple(values)


# -- records: mentions joined by hard identifiers ---------------------------------------------

RECORDS = T.StructType([
    T.StructField("rec", T.LongType()),                    # the position of its first mention
    T.StructField("keys", T.ArrayType(T.StringType())),    # blocking keys
    T.StructField("hard_ids", T.ArrayType(T.StringType())),
    T.StructField("rep", T.StringType()),
    T.StructField("values", T.BinaryType()),               # {field: tuple}, pickled
    T.StructField("conflicts", T.BinaryType()),            # [(other rec, key)], this one the smaller
    T.StructField("members", T.BinaryType()),              # [(pos, mention_id, identifier, hard)]
    T.StructField("member_pos", T.ArrayType(T.LongType())),
    T.StructField("n_hard", T.IntegerType()),              # members with a hard identifier
]) if SparkSession else None


def _records(spark, kind: str, features: "DataFrame", decisions: dict, stage) -> "DataFrame":
    """prepare.enterprise_records / person_records per connected component of shared hard
    identifiers (their grouping never crosses one), in mention order within each partition."""
    keyed = features.select("pos", F.explode("hard").alias("k"))
    star = keyed.join(keyed.groupBy("k").agg(F.min("pos").alias("root")), "k").where("pos != root")
    comps = components(star.select(F.col("pos").alias("src"), F.col("root").alias("dst")),
                       features.select(F.col("pos").alias("id")), stage, "hard-components")
    parts = features.join(comps.withColumnRenamed("id", "pos"), "pos")
    parts = parts.repartition("comp").sortWithinPartitions("pos")
    _, make, fields, _, ident = KIND[kind]
    steward = spark.sparkContext.broadcast(decisions)

    def run(batches):
        b = _whole(batches, "pos")
        if b is None:
            return
        f = pd.DataFrame([pickle.loads(x) for x in b["feat"]])
        m = b[["mention_id"]]
        records, record_of = make(m, f, _kept_apart(_among(steward.value, m["mention_id"]), m["mention_id"]))
        pos = b["pos"].to_numpy()
        first = np.full(len(records), np.iinfo(np.int64).max)
        np.minimum.at(first, record_of, pos)
        yield _record_rows(records, record_of, first, m, f, pos, fields(f).keys(), ident)
    return parts.mapInPandas(run, RECORDS)


def _record_rows(records: Records, record_of, first, m, f, pos, names, ident) -> pd.DataFrame:
    conflicts = [[] for _ in range(len(records))]
    for a, b, k in records.conflicts:
        conflicts[a].append((int(first[b]), k))
    members = [[] for _ in range(len(records))]
    for r, p, mid, i, h in zip(record_of.tolist(), pos.tolist(), m["mention_id"], f[ident], f["hard"]):
        members[r].append((p, mid, i, h))
    return pd.DataFrame({
        "rec": first, "keys": records.keys, "hard_ids": [sorted(h) for h in records.hard_ids], "rep": records.rep,
        "values": [pickle.dumps({n: records.values[n][r] for n in names}, protocol=5) for r in range(len(records))],
        "conflicts": [pickle.dumps(c, protocol=5) for c in conflicts],
        "members": [pickle.dumps(x, protocol=5) for x in members],
        "member_pos": [[p for p, *_ in x] for x in members],
        "n_hard": np.array([sum(bool(h) for *_, h in x) for x in members], dtype=np.int32)})


def _whole(batches, order: str) -> pd.DataFrame | None:
    """A partition's batches as one frame in `order` (the stages below need whole components)."""
    parts = list(batches)
    if not parts:
        return None
    return pd.concat(parts, ignore_index=True).sort_values(order, kind="stable").reset_index(drop=True)


def _among(decisions: dict, mention_ids: pd.Series) -> dict:
    """The decisions between two of these mentions (a partition's)."""
    ids = set(mention_ids)
    return {k: d for k, d in decisions.items() if k[0] in ids and k[1] in ids}


# -- blocking ---------------------------------------------------------------------------------

def _candidates(records: "DataFrame", max_block: int = MAX_BLOCK) -> tuple["DataFrame", dict]:
    """blocking.candidate_pairs as joins: a key's block is the records that emit it; blocks of
    one record and blocks over `max_block` records make no pairs, and the latter are reported
    (their count and the five largest: collected, a handful of numbers)."""
    keyed = records.select("rec", F.explode("keys").alias("key"))
    sizes = keyed.groupBy("key").agg(F.count("*").alias("n")).persist()
    over = sizes.where(F.col("n") > max_block)
    skipped = {"count": over.count(),
               "largest": [(r["key"], r["n"]) for r in over.orderBy(F.desc("n"), "key").limit(5).collect()]}
    kept = keyed.join(sizes.where(F.col("n").between(2, max_block)).select("key"), "key")
    pairs = (kept.alias("a").join(kept.alias("b"), "key").where(F.col("a.rec") < F.col("b.rec"))
             .select(F.col("a.rec").alias("left"), F.col("b.rec").alias("right")).distinct())
    return pairs, skipped


# -- connected components ---------------------------------------------------------------------

def components(edges: "DataFrame", nodes: "DataFrame", stage, name: str, max_rounds: int = 100) -> "DataFrame":
    """(id, comp): the least id of each node's connected component over `edges` (src, dst), by
    alternating large-star and small-star rounds as joins (Kiveris et al., "Connected Components
    in MapReduce and Beyond", 2014: the algorithm of GraphFrames' connectedComponents, whose jar
    a cluster need not have). A round costs a few joins over the edges alone, and the rounds
    grow as log^2 of the component size at worst, where min-label propagation needed one round
    per step of the longest chain (46 at 10M). It ends when the edges are stars, each leaf under
    the least id of its component; a node in no edge is a component of its own."""
    ee = edges.where("src != dst").select(F.least("src", "dst").alias("src"), F.greatest("src", "dst").alias("dst"))
    ee = stage(f"{name}-edges", ee.distinct())  # src < dst
    for round_ in range(max_rounds):
        if _stars(ee):
            stage.rounds[name] = round_
            labels = ee.select(F.col("dst").alias("id"), F.col("src").alias("comp"))
            return (nodes.select("id").distinct().join(labels, "id", "left")
                    .select("id", F.coalesce("comp", "id").alias("comp")))
        ee = stage(f"{name}-{round_ + 1}", _small_star(_large_star(ee)))
    raise RuntimeError(f"connected components did not settle in {max_rounds} rounds")


def _large_star(ee: "DataFrame") -> "DataFrame":
    """Each node's larger neighbours hang from the least id of its neighbourhood, itself included
    (src < dst in, src > dst out)."""
    both = ee.unionByName(ee.select(F.col("dst").alias("src"), F.col("src").alias("dst")))
    least = both.groupBy("src").agg(F.min("dst").alias("m")).select("src", F.least("src", "m").alias("m"))
    return ee.join(least, "src").select(F.col("dst").alias("src"), F.col("m").alias("dst")).distinct()


def _small_star(ee: "DataFrame") -> "DataFrame":
    """Each node and its smaller neighbours hang from the least of them (src > dst in, src < dst out)."""
    least = ee.groupBy("src").agg(F.min("dst").alias("m"))
    smaller = ee.join(least, "src").select(F.col("m").alias("src"), "dst").where("src != dst")
    return smaller.unionByName(least.select(F.col("m").alias("src"), F.col("src").alias("dst"))).distinct()


def _stars(ee: "DataFrame") -> bool:
    """Whether the edges (src < dst) are stars: every dst under one src, and no src a dst."""
    edges, leaves = ee.select(F.count("*"), F.countDistinct("dst")).first()
    return edges == leaves and ee.select("src").join(ee.select(F.col("dst").alias("src")), "src").isEmpty()


def _weighed(model: MatchModel, records: "DataFrame", cands: "DataFrame") -> "DataFrame":
    """(left, right): the candidate pairs whose probability under the fitted model reaches the
    lower of the match and review thresholds, scored on the executors as engine.link_candidates
    scores them (`compare_pairs`, then `probability_of` the log odds)."""
    floor = min(model.match_threshold, model.review_threshold)
    values = records.select("rec", "values")
    pairs = (cands.select("left", "right")
             .join(values.select(F.col("rec").alias("left"), F.col("values").alias("lv")), "left")
             .join(values.select(F.col("rec").alias("right"), F.col("values").alias("rv")), "right"))

    def run(batches):
        for b in batches:
            n = len(b)
            if not n:
                continue
            rows = [pickle.loads(v) for v in b["lv"]] + [pickle.loads(v) for v in b["rv"]]
            both = {name: [r[name] for r in rows] for name in (rows[0] if rows else {})}
            levels = compare_pairs(model, both, np.arange(n), np.arange(n, 2 * n))
            keep = probability_of(model.log_odds(levels)) >= floor
            yield b.loc[keep, ["left", "right"]]
    return pairs.mapInPandas(run, "left long, right long")


def _edges(spark, records: "DataFrame", pairs: "DataFrame", decisions: dict) -> "DataFrame":
    """What links records in one clustering: the pairs that can move it (`_weighed`), the
    conflicts prepare found (scored for review) and the steward's decisions (must-links and
    cannot-links)."""
    edges = _scored(spark, records, pairs).select(F.col("left").alias("src"), F.col("right").alias("dst"))
    if decisions:
        named = spark.createDataFrame([(a, b) for a, b in decisions], "a string, b string")
        mentions = _mention_ids(records)
        pairs = (named.join(mentions.select(F.col("mention_id").alias("a"), F.col("rec").alias("src")), "a")
                 .join(mentions.select(F.col("mention_id").alias("b"), F.col("rec").alias("dst")), "b"))
        edges = edges.unionByName(pairs.select("src", "dst"))
    return edges


def _scored(spark, records: "DataFrame", cands: "DataFrame") -> "DataFrame":
    """(left, right): the pairs engine.link_candidates scores, the candidate pairs and the
    conflicts prepare found (two records sharing a secondary identifier, kept apart by their
    primary ones), which blocking need not have paired; a pair may come twice."""
    conflict = records.select("rec", "conflicts").rdd.flatMap(
        lambda r: [(r["rec"], other) for other, _ in pickle.loads(r["conflicts"])])
    if conflict.isEmpty():
        return cands.select("left", "right")
    return cands.select("left", "right").unionByName(spark.createDataFrame(conflict, "left long, right long"))


def _mention_ids(records: "DataFrame") -> "DataFrame":
    """(mention_id, pos, rec) of every mention of the records."""
    schema = "mention_id string, pos long, rec long"
    return records.select("rec", "members").rdd.flatMap(
        lambda r: [(mid, p, r["rec"]) for p, mid, *_ in pickle.loads(r["members"])]).toDF(schema)


# -- the model fit, on the driver, on the embedded engine's samples ---------------------------

class _Sampled:
    """Records as engine._fit reads them: their number, and the values of the sampled ones by
    global index (compare_pairs indexes values[field][i])."""
    groups = None

    def __init__(self, size: int, values: dict):
        self.size, self.values = size, values

    def __len__(self) -> int:
        return self.size


def _fit(spark, kind: str, model: MatchModel, records: "DataFrame", features: "DataFrame",
         stage) -> tuple[MatchModel, dict]:
    """engine._fit on the samples the embedded engine draws: the random record pairs by record
    number (records ordered by first mention, as prepare numbers them) and the training pairs by
    position among identified mentions ordered by record, then mention. Only sampled rows come
    to the driver. A fit that needs all candidate pairs (EM when too few identifier-confirmed
    pairs; a prior fitted on them) is the embedded engine's alone: refused here, not approximated."""
    if model.prior_from != "fixed":
        raise NotImplementedError(f"model {model.name}: prior_from {model.prior_from} fits on all candidate pairs; "
                                  "the Spark engine fits a fixed-prior model only (run --engine embedded)")
    model = model.copy()
    size = records.count()
    numbered = stage("numbered", _numbered(spark, records.select("rec", "values"), "rec"))
    values = {}
    if size >= 2:
        left, right = engine.random_pairs(size, 0)
        wanted = sorted_unique(np.r_[left, right]).tolist()
        values = _values_of(spark, numbered, wanted)
    training = _training(spark, kind, records, features, stage)
    if len(training.left) < TRAINING_MIN:
        raise NotImplementedError(f"{kind}: only {len(training.left)} identifier-confirmed pairs: the model would be "
                                  "fitted by EM over all candidate pairs, which only the embedded engine does")
    em = engine._fit(model, _Sampled(size, values), None, training, 0)
    return model, em


def _numbered(spark, df: "DataFrame", *order: str) -> "DataFrame":
    """df with `idx`, its 0-based rank by `order` (unique), without one partition holding all."""
    rdd = df.orderBy(*order).rdd.zipWithIndex().map(lambda ri: (*ri[0], ri[1]))
    return spark.createDataFrame(rdd, T.StructType([*df.schema.fields, T.StructField("idx", T.LongType())]))


def _values_of(spark, numbered: "DataFrame", wanted: list[int]) -> dict:
    """{field: {record number: tuple}} of the wanted records (the sample: collected)."""
    want = spark.createDataFrame([(i,) for i in wanted], "idx long")
    values: dict[str, dict] = {}
    for row in numbered.join(F.broadcast(want), "idx").select("idx", "values").toLocalIterator():
        for name, v in pickle.loads(row["values"]).items():
            values.setdefault(name, {})[row["idx"]] = v
    return values


def _training(spark, kind: str, records: "DataFrame", features: "DataFrame", stage):
    """prepare.training_pairs: mentions with a hard identifier in records of two or more such,
    ordered by record then mention; the chosen and their partners' features collected."""
    _, _, fields, defining, _ = KIND[kind]
    hard = features.where(F.size("hard") > 0).select("pos")
    multi = records.where(F.col("n_hard") >= 2).select("rec", F.explode("member_pos").alias("pos"))
    listed = _numbered(spark, multi.join(hard, "pos").select("rec", "pos"), "rec", "pos")
    by_rec = Window.partitionBy("rec")
    listed = stage("training", listed.withColumn("start", F.min("idx").over(by_rec))
                   .withColumn("size", F.count("*").over(by_rec)))
    total = listed.count()

    def rows_of(positions: np.ndarray) -> pd.DataFrame:
        want = spark.createDataFrame([(int(i),) for i in sorted_unique(positions)], "idx long")
        got = listed.join(F.broadcast(want), "idx").select("idx", "start", "size", "pos").toPandas()
        return got.set_index("idx").loc[positions]

    chosen_rows = {}

    def group_of(chosen):
        chosen_rows["rows"] = rows_of(chosen)
        return chosen_rows["rows"]["start"].to_numpy(), chosen_rows["rows"]["size"].to_numpy()

    chosen, partner = training_draw(total, group_of)
    left = chosen_rows["rows"]["pos"].to_numpy() if total else np.empty(0, np.int64)
    right = rows_of(partner)["pos"].to_numpy() if total else np.empty(0, np.int64)
    mentions = sorted_unique(np.r_[left, right]).astype(np.int64)
    want = spark.createDataFrame([(int(p),) for p in mentions], "pos long")
    feats = features.join(F.broadcast(want), "pos").select("pos", "feat").toPandas().sort_values("pos")
    sub = pd.DataFrame([pickle.loads(x) for x in feats["feat"]])
    return training_of(sub, mentions, left.astype(np.int64), right.astype(np.int64), fields, defining)


# -- linking per component --------------------------------------------------------------------

# A row of `_link`'s output is a mention's place (item null) or one of its partition's review items
# (only `item`: the queue row or unlinked.csv row as JSON, its entity ids still the clusters').
LINKED = T.StructType([T.StructField("pos", T.LongType()), T.StructField("mention_id", T.StringType()),
                       T.StructField("cluster", T.LongType()), T.StructField("score", T.DoubleType()),
                       T.StructField("base", T.StringType()), T.StructField("first", T.StringType()),
                       T.StructField("item", T.StringType())]
                      ) if SparkSession else None
QUEUE, UNLINKED = "queue", "unlinked"  # an item's `_what`
QUEUE_COLUMNS = [*REVIEW_COLUMNS, "candidates"]  # triage.items adds the candidates


def _related(relations: "DataFrame", records: "DataFrame") -> "DataFrame":
    """(rec, related): the (from, to) mention pairs of the export rows that relate a mention of
    the record to another mention of this kind (a branch and the parent its row names), for
    resolve.queue_codes, which never queues such a pair."""
    ids = _mention_ids(records)
    pairs = (relations.select("from_mention", "to_mention")
             .join(ids.select(F.col("mention_id").alias("from_mention"), "rec"), "from_mention")
             .join(ids.select(F.col("mention_id").alias("to_mention")), "to_mention"))
    return pairs.groupBy("rec").agg(F.collect_list(F.array("from_mention", "to_mention")).alias("related"))


def _link(kind: str, model: MatchModel, records: "DataFrame", cands: "DataFrame", comps: "DataFrame",
          related: "DataFrame", decisions: dict, key: bytes) -> "DataFrame":
    """engine.link_candidates, resolve._scores, resolve.entity_bases and the review queue
    (resolve._queue) on whole components: each record with its candidate partners, partitioned
    by component, in record order; pairs in global (left, right) order, so ties in the
    clustering's descending-score merge fall as in the embedded run. Every pair that can be merged
    or queued and every steward decision lies within one component, so the queue's items do too
    (a row relation across components is dropped: it only keeps a pair out of the queue)."""
    within = (cands.join(comps.select(F.col("id").alias("left"), F.col("comp").alias("lc")), "left")
              .join(comps.select(F.col("id").alias("right"), F.col("comp").alias("rc")), "right")
              .where(F.col("lc") == F.col("rc")))  # a pair across components is below both thresholds
    partners = within.groupBy("left").agg(F.collect_list("right").alias("partners")).withColumnRenamed("left", "rec")
    rows = (records.join(comps.withColumnRenamed("id", "rec"), "rec").join(partners, "rec", "left")
            .join(related, "rec", "left")
            .select("rec", "comp", "hard_ids", "rep", "values", "conflicts", "members", "partners", "related")
            .repartition("comp").sortWithinPartitions("rec"))
    ident = KIND[kind][4]
    spark = records.sparkSession
    steward = spark.sparkContext.broadcast(decisions)

    def run(batches):
        b = _whole(batches, "rec")
        if b is None:
            return
        recs, m, f, cands_local, conflicts = _local(b, ident)
        local = Records({n: list(v) for n, v in _fields(b).items()}, [[] for _ in range(len(b))],
                        [frozenset(h) for h in b["hard_ids"]], list(b["rep"]), conflicts=conflicts)
        among = _among(steward.value, m["mention_id"])
        must, cannot = _constraints(among, m["mention_id"], m["record"].to_numpy())
        result = link_candidates(model, local, cands_local, cannot=cannot, must=must, fit=False)
        m["cluster"] = result.labels[m["record"].to_numpy()]
        score = _scores(m, f, result)
        bases, first = entity_bases(kind, m, f, key)
        yield pd.DataFrame({"pos": m["pos"], "mention_id": m["mention_id"], "cluster": recs[m["cluster"].to_numpy()],
                            "score": score, "base": m["cluster"].map(bases), "first": m["cluster"].map(first),
                            "item": [None] * len(m)})
        items = _partition_items(kind, m, f, local, result, recs, among, b["related"])
        if items:
            none = [None] * len(items)
            yield pd.DataFrame({"pos": pd.array(none, dtype="Int64"), "mention_id": none,
                                "cluster": pd.array(none, dtype="Int64"), "score": np.full(len(items), np.nan),
                                "base": none, "first": none, "item": items})
    return rows.mapInPandas(run, LINKED)


def _partition_items(kind: str, m: pd.DataFrame, f: pd.DataFrame, records: Records, result, recs: np.ndarray,
                     decisions: dict, related: pd.Series) -> list[str]:
    """resolve._queue on a partition's components, each item as JSON. The entity ids are not
    known yet (they are deduplicated across partitions after): items name the clusters' global
    numbers, which `_items` turns into entity ids; unlinked.csv's source and name come there too."""
    pairs = [tuple(p) for ps in related if ps is not None for p in ps]
    relations = pd.DataFrame(pairs or None, columns=["from_mention", "to_mention"])
    m = m.assign(kind=kind, entity_id=recs[m["cluster"].to_numpy()].astype(str), source="", name="")
    queue, unlinked, _ = _queue({kind: KindResult(m, f, records, result)}, decisions, relations)
    return ([json.dumps({"_what": QUEUE, **row}, ensure_ascii=False) for row in queue.to_dict("records")]
            + [json.dumps({"_what": UNLINKED, **row}, ensure_ascii=False) for row in unlinked.to_dict("records")])


def _items(linked: "DataFrame", assigned: "DataFrame", m: "DataFrame") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The kind's queue items and unlinked mentions (few: collected) with their clusters' entity
    ids (`assigned`: the mentions with cluster and entity id), and the unlinked mentions' source
    and name."""
    rows = [json.loads(r["item"]) for r in linked.where(F.col("item").isNotNull()).select("item").toLocalIterator()]
    what = [r.pop("_what") for r in rows]
    queue = pd.DataFrame([r for r, w in zip(rows, what) if w == QUEUE], columns=QUEUE_COLUMNS)
    unlinked = pd.DataFrame([r for r, w in zip(rows, what) if w == UNLINKED], columns=UNLINKED_COLUMNS)
    named = [*queue["left_entity"], *queue["right_entity"],
             *(c["entity_id"] for text in queue["candidates"] if text for c in json.loads(text)),
             *(e for text in unlinked["candidate_entities"] for e in text.split("|"))]
    entity_of = _entity_ids_of(assigned, {int(c) for c in named})
    queue["left_entity"], queue["right_entity"] = queue["left_entity"].map(entity_of), queue["right_entity"].map(entity_of)
    queue["candidates"] = [_renamed(text, entity_of) for text in queue["candidates"]]
    unlinked["candidate_entities"] = ["|".join(sorted(entity_of[e] for e in text.split("|")))
                                      for text in unlinked["candidate_entities"]]
    if len(unlinked):
        want = assigned.sparkSession.createDataFrame(unlinked[["mention_id"]], "mention_id string")
        seen = m.join(F.broadcast(want), "mention_id").select("mention_id", "source", "name").toPandas()
        seen = seen.set_index("mention_id")
        unlinked["source"], unlinked["name"] = (unlinked["mention_id"].map(seen[c]) for c in ("source", "name"))
    return queue, unlinked


def _entity_ids_of(assigned: "DataFrame", clusters: set[int]) -> dict[str, str]:
    """{str(cluster): entity id} of these clusters."""
    if not clusters:
        return {}
    want = assigned.sparkSession.createDataFrame([(c,) for c in sorted(clusters)], "cluster long")
    got = assigned.join(F.broadcast(want), "cluster").select("cluster", "entity_id").distinct().toPandas()
    return {str(c): e for c, e in zip(got["cluster"], got["entity_id"])}


def _renamed(candidates: str, entity_of: dict[str, str]) -> str:
    """An item's `candidates` JSON (triage._choice) with entity ids for cluster numbers."""
    if not candidates:
        return candidates
    listed = json.loads(candidates)
    for c in listed:
        c["entity_id"] = entity_of[c["entity_id"]]
    return json.dumps(listed, ensure_ascii=False)


def _local(b: pd.DataFrame, ident: str):
    """A partition's records numbered 0.. in global order: its mentions (in mention order) with
    their local record, their identifier and hard ids, the candidate pairs in (left, right)
    order and the conflicts."""
    recs = b["rec"].to_numpy()
    index = {r: i for i, r in enumerate(recs.tolist())}
    members = [(p, mid, i, h, r) for r, blob in enumerate(b["members"]) for p, mid, i, h in pickle.loads(blob)]
    members.sort()
    m = pd.DataFrame({"pos": [x[0] for x in members], "mention_id": [x[1] for x in members],
                      "record": np.array([x[4] for x in members], dtype=np.int64)})
    f = pd.DataFrame({ident: [x[2] for x in members], "hard": [x[3] for x in members]})
    left, right = [], []
    for r, ps in enumerate(b["partners"]):
        if ps is not None:
            for p in ps:
                left.append(r)
                right.append(index[p])
    left, right = np.array(left, dtype=np.int64), np.array(right, dtype=np.int64)
    order = np.lexsort((right, left))
    conflicts = sorted((r, index[o], k) for r, blob in enumerate(b["conflicts"]) for o, k in pickle.loads(blob))
    return recs, m, f, Candidates(left[order], right[order], {}), conflicts


def _fields(b: pd.DataFrame) -> dict[str, list]:
    rows = [pickle.loads(v) for v in b["values"]]
    return {n: [r[n] for r in rows] for n in (rows[0] if rows else {})}


def _deduped(linked: "DataFrame") -> "DataFrame":
    """resolve._dedupe_ids: clusters of one base id get -2, -3... in the order of their least
    mention id; a window per base id instead of one sorted pass."""
    clusters = linked.select("cluster", "base", "first").distinct()
    n = F.row_number().over(Window.partitionBy("base").orderBy("first"))
    return clusters.withColumn("n", n).select(
        "cluster", F.when(F.col("n") == 1, F.col("base")).otherwise(F.concat_ws("-", "base", F.col("n").cast("string")))
        .alias("entity_id"))


def resolve(spark: "SparkSession", mentions: "DataFrame", relations: "DataFrame", decisions: dict, key: bytes,
            work: Path, models: dict | None = None) -> dict[str, KindOutput]:
    """Both kinds as resolve.resolve: enterprises, then persons in the context of the firms."""
    models = models or {}
    ent = resolve_kind(spark, "enterprise", mentions, relations, decisions, key, work, model=models.get("enterprise"))
    firms = ent.mentions.select("mention_id", "entity_id")
    per = resolve_kind(spark, "person", mentions, relations, decisions, key, work, firms, models.get("person"))
    return {"enterprise": ent, "person": per}
