"""Reading the exports for the Spark engine, and writing its outputs.

Reading, as a first step, runs the existing loaders (loaders.reader) one Spark task per source
file: the same parsing, rejects and counts. Each task writes its mentions and relations as
Parquet under a staging directory, which must be on storage every executor and the driver see
(the output directory on a cluster's shared file system; any local path under local[*]), and
returns its report, list records, rejects and removals, which the driver collects: rows of the
lists and of the rejects, a small share of the mentions, as the embedded engine holds them.
"""
from __future__ import annotations

import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from creditgraph.loaders.manifest import Manifest
from creditgraph.loaders.reader import COLUMNS, _read_one
from creditgraph.loaders.removals import apply_removals

from creditgraph.linkage.resolve import (ENTITY_COLUMNS, MENTION_OUTPUT_COLUMNS, RELATION_OUTPUT_COLUMNS,
                                         SHARES_TOLERANCE, StageTimer, in_worth_order, shares_over_100,
                                         unlinked_in_order)
from creditgraph.linkage.spark import DataFrame, F, SparkSession, T  # None without the extra `spark`


NUMERIC = {"line": "int64", "ratio": "float64", "amount": "float64"}
STAGED = ("mentions", "relations")  # the large tables; the others come back to the driver
POSITION = {"mentions": "pos", "relations": "rpos"}  # (source number << 32) + row: the embedded order


@dataclass
class Loaded:
    mentions: "DataFrame"
    relations: "DataFrame"
    frames: dict[str, pd.DataFrame]  # lists (removals applied), rejects, removals
    reports: list


def load(spark: "SparkSession", manifest: Manifest, staging: Path) -> Loaded:
    """Every source of the manifest read by its own task, in manifest order."""
    staging = Path(staging).resolve()
    items = [(i, source, manifest.path_of(source)) for i, source in enumerate(manifest.sources)]
    done = spark.sparkContext.parallelize(items, max(len(items), 1)).map(lambda it: _read_staged(*it, staging)).collect()
    reports = [report for report, _ in done]
    small = {k: _concat([frames[k] for _, frames in done], k) for k in COLUMNS if k not in STAGED}
    mentions, relations = (spark.read.parquet(str(staging / k)) for k in STAGED)
    named = spark.createDataFrame(pd.DataFrame({"mention_id": small["lists"]["mention_id"].unique()}).astype(str),
                                  "mention_id string")
    listed = mentions.join(named, "mention_id").select("mention_id", "identifiers").toPandas()  # list mentions only
    frames = apply_removals({**small, "mentions": listed}, reports)
    return Loaded(mentions, relations, {k: frames[k] for k in small}, reports)


def _read_staged(i: int, source, path, staging: Path):
    report, frames = _read_one(path, source)
    for k in STAGED:
        frame = frames[k].assign(**{POSITION[k]: (i << 32) + pd.RangeIndex(len(frames[k]))})
        out = staging / k
        out.mkdir(parents=True, exist_ok=True)
        pq.write_table(_arrow(frame, [*COLUMNS[k], POSITION[k]]), out / f"part-{i:05d}.parquet")
    return report, {k: v for k, v in frames.items() if k not in STAGED}


def _arrow(frame: pd.DataFrame, columns: list[str]) -> "pa.Table":
    """One schema for every source's part: text as strings (empty cells null), numbers as numbers."""
    arrays, fields = [], []
    for c in columns:
        kind = "int64" if c in POSITION.values() else NUMERIC.get(c)
        if kind:
            arrays.append(pa.array(pd.to_numeric(frame[c], errors="coerce").to_numpy(kind if kind == "float64" else None),
                                   type=pa.int64() if kind == "int64" else pa.float64()))
        else:
            arrays.append(pa.array([None if v is None or v != v else str(v) for v in frame[c]], type=pa.string()))
        fields.append(pa.field(c, arrays[-1].type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _concat(parts: list[pd.DataFrame], k: str) -> pd.DataFrame:
    filled = [p for p in parts if len(p)]
    return pd.concat(filled, ignore_index=True) if filled else pd.DataFrame(columns=COLUMNS[k])


# -- the job and its outputs ------------------------------------------------------------------

NOT_PRODUCED = {  # outputs of the embedded engine that the Spark engine does not write yet
    "scored_pairs.npz": "`creditgraph evaluate`'s threshold charts need the embedded engine's scored pairs",
    "incremental_state.pkl": "`creditgraph ingest` continues an embedded run only",
}


def run(manifest_path: Path, out_dir: Path, decisions: dict, key: bytes, step=lambda name: None,
        master: str = "local[*]", parquet: bool = False, shuffle_partitions: int = 8,
        driver_memory: str = "4g") -> dict:
    """The resolve job on Spark: outputs as pipeline.write_outputs writes them (the CSV files
    streamed through the driver one partition at a time, never held whole), Parquet beside them
    with `parquet` (written by the executors), and a run report."""
    import time

    from creditgraph.base.files import private_dir
    from creditgraph.linkage import spark as engine_spark
    from creditgraph.loaders.manifest import load_manifest
    started = time.perf_counter()
    spark = engine_spark.session(master, shuffle_partitions, driver_memory)
    private_dir(out_dir)
    timed = StageTimer(step)
    timings = timed.seconds
    manifest = load_manifest(manifest_path)
    loaded = timed("loading exports", load, spark, manifest, out_dir / "_staging")
    kinds = timed("linking", engine_spark.resolve, spark, loaded.mentions, loaded.relations, decisions, key,
                  out_dir / "_staging" / "work")
    counts = timed("writing outputs", write, spark, out_dir, loaded, kinds, key, parquet)
    shutil.rmtree(out_dir / "_staging")  # the exports' rows and each stage's: person data, and large
    timings["total"] = round(time.perf_counter() - started, 2)
    return _report(loaded, kinds, counts, decisions, timings, master)


def write(spark, out_dir: Path, loaded: Loaded, kinds: dict, key: bytes, parquet: bool) -> dict:
    from creditgraph.linkage.resolve import _lists
    from creditgraph.loaders.reader import mask_rejects
    rank = {kind: i for i, kind in enumerate(kinds)}  # enterprises first, as resolve concatenates them
    assigned = None
    for kind, out in kinds.items():
        part = out.mentions.select("pos", "entity_id", "score", F.lit(rank[kind]).alias("kind_rank"))
        assigned = part if assigned is None else assigned.unionByName(part)
    m = loaded.mentions.join(assigned, "pos").persist()
    counts = {"mentions": _stream(m.orderBy("kind_rank", "pos"), out_dir / "mentions.csv",
                                  MENTION_OUTPUT_COLUMNS)}
    entities = _entities(m, kinds, key).persist()
    by_kind = {r["kind"]: r["n"] for r in entities.groupBy("kind").agg(F.count("*").alias("n")).collect()}
    _stream(entities.orderBy(F.col("kind") != "enterprise", "entity_id"), out_dir / "entities.csv", ENTITY_COLUMNS)
    relations = _relations(loaded.relations, m).persist()
    counts["relations"] = _stream(relations.orderBy("from_id", "to_id", "type", "role"), out_dir / "relations.csv",
                                  RELATION_OUTPUT_COLUMNS)
    named = spark.createDataFrame(loaded.frames["lists"][["mention_id"]].drop_duplicates().astype(str), "mention_id string")
    entity_of = m.join(named, "mention_id").select("mention_id", "entity_id").toPandas()  # list mentions only
    lists = _lists(loaded.frames["lists"], entity_of.set_index("mention_id")["entity_id"])
    _write_csv(lists, out_dir / "list_records.csv")
    counts["list_records"] = len(lists)
    _stream(_vault(m, kinds["person"].features), out_dir / "identity_vault.csv", ["entity_id", "id_number"])
    shown, clear = mask_rejects(loaded.frames["rejects"])
    _write_csv(shown, out_dir / "rejects.csv")
    _write_csv(clear, out_dir / "rejects_vault.csv")
    review = _review_queue(spark, kinds, m, relations, lists)
    unlinked = unlinked_in_order(pd.concat([out.unlinked for out in kinds.values()], ignore_index=True))
    share_issues = _shares_over_100(spark, relations, entities)
    for frame, name in ((review, "review_queue.csv"), (unlinked, "unlinked.csv"), (share_issues, "share_issues.csv")):
        _write_csv(frame, out_dir / name)
    if parquet:  # written by the executors, one part per partition
        for name, frame in (("mentions", m.select(*MENTION_OUTPUT_COLUMNS)), ("entities", entities),
                            ("relations", relations)):
            frame.write.mode("overwrite").parquet(str(out_dir / "parquet" / name))
    counts["entities"] = by_kind
    counts.update(review=review, unlinked=unlinked, share_issues=share_issues)
    return counts


def _review_queue(spark, kinds: dict, m: "DataFrame", relations: "DataFrame", lists: pd.DataFrame) -> pd.DataFrame:
    """Both kinds' items (linkage.spark: found per component, collected: few) with their worth,
    counted in Spark for the entities they name only."""
    queue = pd.concat([out.queue for out in kinds.values()], ignore_index=True)
    named = sorted(set(queue["left_entity"]) | set(queue["right_entity"]))
    if not named:
        return in_worth_order(queue, pd.Series(dtype="int64"))
    want = F.broadcast(spark.createDataFrame([(e,) for e in named], "entity_id string"))
    ends = (m.select("entity_id").unionByName(relations.select(F.col("from_id").alias("entity_id")))
            .unionByName(relations.select(F.col("to_id").alias("entity_id"))))
    held = ends.join(want, "entity_id").groupBy("entity_id").count().toPandas().set_index("entity_id")["count"]
    return in_worth_order(queue, held.add(lists["entity_id"].value_counts(), fill_value=0))


def _shares_over_100(spark, relations: "DataFrame", entities: "DataFrame") -> pd.DataFrame:
    """resolve.shares_over_100 on the shareholdings of the firms whose shares sum past 100%
    (found in Spark; those firms' rows collected: few)."""
    held = (relations.where(F.col("type") == "SHAREHOLDER_OF")
            .withColumn("share", F.col("ratio").cast("double")).where(F.col("share").isNotNull()))
    over = held.groupBy("to_id").agg(F.sum("share").alias("total")).where(F.col("total") > SHARES_TOLERANCE)
    rows = held.join(over.select("to_id"), "to_id").select(*RELATION_OUTPUT_COLUMNS).toPandas()
    names = entities.join(over.select(F.col("to_id").alias("entity_id")), "entity_id").select("entity_id", "name")
    return shares_over_100(rows, names.toPandas())


def _stream(df: "DataFrame", path: Path, columns: list[str]) -> int:
    """Rows of a sorted DataFrame into one CSV file. The executors format each Arrow batch as CSV
    text with pandas' to_csv (as the embedded engine writes its files); the driver appends the
    pieces in partition order, a partition at a time, never the whole file. (Rows fetched one by
    one as Python objects and formatted on the driver cost a single core most of the writing.)"""
    from creditgraph.base.files import write_private

    def as_csv(batches):
        for b in batches:
            yield pd.DataFrame({"rows": [len(b)], "text": [b.to_csv(index=False, header=False)]})
    n = 0
    with write_private(path, encoding="utf-8", newline="") as f:
        f.write(pd.DataFrame(columns=columns).to_csv(index=False))
        for piece in df.select(*columns).mapInPandas(as_csv, "rows long, text string").toLocalIterator():
            f.write(piece["text"])
            n += piece["rows"]
    return n


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    from creditgraph.base.files import write_private
    with write_private(path, encoding="utf-8", newline="") as f:
        frame.to_csv(f, index=False)


def _entities(m: "DataFrame", kinds: dict, key: bytes) -> "DataFrame":
    """resolve._entities on partitions that hold whole entities: every figure of an entity comes
    from its own mentions."""
    from creditgraph.linkage.resolve import KindResult, _entities as entity_rows
    feats = None
    for out in kinds.values():
        feats = out.features.select("pos", "feat") if feats is None else feats.unionByName(out.features.select("pos", "feat"))
    cols = ["kind", "name", "source", "department", "record_id", "address", "phone", "attrs", "entity_id"]
    rows = m.select("pos", *cols).join(feats, "pos").repartition("entity_id")
    schema = T.StructType([T.StructField(c, T.LongType() if c.startswith("n_") else T.StringType())
                           for c in ENTITY_COLUMNS])

    def run(batches):
        b = _whole_frame(batches)
        if b is None:
            return
        for _, part in b.groupby("kind", sort=True):
            part = part.sort_values("pos").reset_index(drop=True)
            f = pd.DataFrame([pickle.loads(x) for x in part["feat"]])
            out = entity_rows(KindResult(part[cols], f, None, None), key)
            yield out.astype({"n_aliases": "int64", "n_sources": "int64"})
    return rows.mapInPandas(run, schema)


def _relations(relations: "DataFrame", m: "DataFrame") -> "DataFrame":
    """resolve._relations on partitions that hold whole (from, to) entity pairs, each in the
    exports' order (the first ratio and amount seen win, as in the embedded engine)."""
    from creditgraph.linkage.resolve import _relations as entity_relations
    from creditgraph.loaders.reader import RELATION_COLUMNS
    ids = m.select("mention_id", "entity_id")
    r = (relations.join(ids.select(F.col("mention_id").alias("from_mention"), F.col("entity_id").alias("from_id")),
                        "from_mention", "left")
         .join(ids.select(F.col("mention_id").alias("to_mention"), F.col("entity_id").alias("to_id")), "to_mention", "left")
         .repartition("from_id", "to_id").sortWithinPartitions("rpos"))
    schema = T.StructType([T.StructField(c, T.DoubleType() if c in ("ratio", "amount") else T.StringType())
                           for c in RELATION_OUTPUT_COLUMNS])

    def run(batches):
        b = _whole_frame(batches)
        if b is None:
            return
        b = b.sort_values("rpos", kind="stable").reset_index(drop=True)
        of = pd.concat([pd.Series(b["from_id"].to_numpy(), index=b["from_mention"]),
                        pd.Series(b["to_id"].to_numpy(), index=b["to_mention"])])
        yield entity_relations(b[RELATION_COLUMNS], of[~of.index.duplicated()])
    return r.mapInPandas(run, schema)


def _vault(m: "DataFrame", features: "DataFrame") -> "DataFrame":
    """resolve._vault: each person entity's identity numbers in clear."""
    def run(batches):
        for b in batches:
            id18 = [pickle.loads(x)["id18"] for x in b["feat"]]
            yield pd.DataFrame({"entity_id": b["entity_id"], "id_number": id18})
    rows = m.select("pos", "entity_id").join(features.select("pos", "feat"), "pos")
    return (rows.mapInPandas(run, "entity_id string, id_number string").where(F.col("id_number") != "")
            .distinct().orderBy("entity_id", "id_number"))


def _whole_frame(batches) -> pd.DataFrame | None:
    parts = list(batches)
    return pd.concat(parts, ignore_index=True) if parts else None


def _report(loaded: Loaded, kinds: dict, counts: dict, decisions: dict, timings: dict, master: str) -> dict:
    """pipeline._report's figures, and what this engine does not produce yet."""
    from creditgraph.pipeline import review_workload, share_issues
    sources = [vars(r) for r in loaded.reports]
    read, accepted, rejected = (sum(r[k] for r in sources) for k in ("rows_read", "accepted", "rejected"))
    return {
        "engine": "spark", "master": master,
        "rows": {"read": read, "accepted": accepted, "rejected": rejected, "adds_up": read == accepted + rejected},
        "failed_sources": {r["source"]: r["error"] for r in sources if r["error"]},
        "sources": sources,
        "mentions": counts["mentions"],
        "entities": counts["entities"],
        "relations": counts["relations"],
        "list_records": counts["list_records"],
        "review_queue": counts["review"]["reason"].value_counts().to_dict() if len(counts["review"]) else {},
        "review_workload": review_workload(counts["review"], counts["unlinked"], counts["mentions"]),
        "shares_over_100": share_issues(counts["share_issues"]),
        "not_produced": NOT_PRODUCED,
        "decisions_applied": len(decisions),
        "timings_s": timings,
        "mentions_per_s": round(counts["mentions"] / timings["total"]) if timings["total"] else None,
        "linkage": {kind: out.stats for kind, out in kinds.items()},
    }
