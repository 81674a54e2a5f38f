"""Writing a sorted Spark DataFrame as one CSV file: rows formatted on the driver against CSV text
formatted by the executors (`linkage.spark_io._stream`), the Spark engine's output stage.

    python benchmarks/spark_csv_write.py [--rows 2000000] [--repeat 3] [--master local[2]]

A frame shaped like mentions.csv (source, record id, role, entity id, score, mention id, a
Chinese name; made in Spark from `range`, so nothing is collected to build it) is sorted over 8
shuffle partitions and written by each way in turn (rows, text, rows, text...):
- `rows`: the engine's way until session 9: `toLocalIterator` hands the driver every row as a
  Python object; the driver makes pandas frames of 100,000 rows and formats them with to_csv;
- `text`: `_stream`: each Arrow batch is formatted by an executor's Python worker with the same
  to_csv, and the driver appends the text pieces in partition order.
Reported: median wall per way, their ratio, whether both files are byte-identical, the load average.
"""
from __future__ import annotations

import argparse
import filecmp
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from city_vs_splink import commit, machine
from creditgraph.linkage import spark as engine_spark
from creditgraph.linkage.resolve import MENTION_OUTPUT_COLUMNS
from creditgraph.linkage.spark import F
from creditgraph.linkage.spark_io import _stream


def rows_through_driver(df, path: Path, columns: list[str], chunk: int = 100_000) -> int:
    """The former `_stream`, kept here as the baseline."""
    rows, n, first = [], 0, True
    with open(path, "w", encoding="utf-8", newline="") as f:
        for row in df.select(*columns).toLocalIterator():
            rows.append(tuple(row))
            if len(rows) >= chunk:
                pd.DataFrame(rows, columns=columns).to_csv(f, index=False, header=first)
                n, rows, first = n + len(rows), [], False
        if rows or first:
            pd.DataFrame(rows, columns=columns).to_csv(f, index=False, header=first)
        return n + len(rows)


WAYS = {"rows": rows_through_driver, "text": _stream}


def mentions_like(spark, n: int):
    i = F.col("id")
    return spark.range(n).select(
        F.concat(F.lit("registry_"), (i % 12).cast("string")).alias("source"),
        (i * 7919 % n).cast("string").alias("record_id"),
        F.when(i % 3 == 0, F.lit("subject")).otherwise(F.lit("shareholder")).alias("role"),
        F.concat(F.lit("E-"), F.sha2(((i * 31) % (n // 3 + 1)).cast("string"), 256).substr(1, 16)).alias("entity_id"),
        F.when(i % 5 == 0, F.lit(None)).otherwise((i % 1000) / 1000.0 + 0.0001).alias("score"),
        F.concat(F.lit("m"), i.cast("string")).alias("mention_id"),
        F.concat(F.lit("营口"), F.substring(F.lit("鑫达新欣华花盛昌隆泰恒通宏远海金源丰"), (i % 18 + 1).cast("int"), 2),
                 F.lit("贸易有限公司")).alias("name"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "spark_csv_write.json")
    args = parser.parse_args()
    spark = engine_spark.session(args.master, 8, "4g")
    df = mentions_like(spark, args.rows).orderBy("entity_id", "mention_id").persist()
    df.count()
    runs = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeat):
            for way, write in WAYS.items():
                start = time.perf_counter()
                n = write(df, Path(tmp) / f"{way}.csv", MENTION_OUTPUT_COLUMNS)
                runs[way].append(round(time.perf_counter() - start, 2))
                print(way, r, runs[way][-1], "s", n, "rows, load", os.getloadavg(), flush=True)
        same = filecmp.cmp(Path(tmp) / "rows.csv", Path(tmp) / "text.csv", shallow=False)
    median = {way: statistics.median(v) for way, v in runs.items()}
    doc = {"benchmark": "spark_csv_write", "commit": commit(), "machine": machine(), "master": args.master,
           "rows": args.rows, "runs_s": runs, "median_s": median, "ratio_text_to_rows": round(median["text"] / median["rows"], 3),
           "byte_identical": same, "load_average_at_end": os.getloadavg()}
    args.out.write_text(json.dumps(doc, indent=1))
    print(json.dumps({k: doc[k] for k in ("median_s", "ratio_text_to_rows", "byte_identical")}))
    engine_spark.stop(spark)


if __name__ == "__main__":
    main()
