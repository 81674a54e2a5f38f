"""How many names a second the name parsers take, caches bypassed (building blocks of the resolve).

    python benchmarks/name_parsing.py [--repeat 5] [--out benchmarks/results/name_parsing.json]

- enterprise names: `names.parse_enterprise_name` without its cache, on 1,944 distinct names
  (营口 + two trade characters + an industry + 贸易有限公司);
- person names: `names.normalize_person_name` on 1,000 distinct traditional names, the
  traditional-to-simplified table filled per character as the resolve fills it (first pass) and
  already filled (later passes).
Each is timed `--repeat` times; the median rate is reported, with the machine's load average.
These were timed unit tests (a floor of 20,000 names/s) until a loaded machine failed one at
18,940: a speed is a benchmark's figure, not a test's.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from city_vs_splink import commit, machine
from creditgraph.linkage import names

TRADES = "鑫达新欣华花盛昌隆泰恒通宏远海金源丰"
FIRMS = [f"营口{a}{b}{c}贸易有限公司" for a in TRADES for b in TRADES for c in "物流科技食品"]
PERSONS = [a + b + c for a in "王李張劉陳楊黃趙吳周" for b in "偉芳娜敏靜麗強磊軍洋" for c in "勇艷傑娟濤明超霞平剛"]


def rate(parse, items: list[str]) -> float:
    start = time.perf_counter()
    for item in items:
        parse(item)
    return len(items) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "name_parsing.json")
    args = parser.parse_args()
    first_person_pass = rate(names.normalize_person_name, PERSONS)  # fills the per-character table
    runs = {"enterprise_names_per_s": [rate(names.parse_enterprise_name.__wrapped__, FIRMS) for _ in range(args.repeat)],
            "person_names_per_s": [rate(names.normalize_person_name, PERSONS) for _ in range(args.repeat)]}
    doc = {"benchmark": "name_parsing", "commit": commit(), "machine": machine(), "load_average": os.getloadavg(),
           "first_person_pass_per_s": round(first_person_pass),
           "median": {k: round(statistics.median(v)) for k, v in runs.items()},
           "runs": {k: [round(x) for x in v] for k, v in runs.items()}}
    args.out.write_text(json.dumps(doc, indent=1))
    print(json.dumps(doc["median"]), "load", doc["load_average"])


if __name__ == "__main__":
    main()
