"""The best person recall any linker can reach on a synthetic city without merging on a name alone.

A person mention counts as linkable when it carries an identity number (in any form), or when
another mention of the same true person is tied to the same true firm (the context a careful
linker can use). Unlinkable mentions are left alone; pairwise and B-cubed recall of that oracle are
the ceilings.

    python benchmarks/person_ceiling.py CITY_DIR      # a `creditgraph synth` output
"""
from __future__ import annotations

import argparse
from collections import defaultdict
from pathlib import Path

import pandas as pd

from creditgraph.linkage.evaluate import bcubed, pairwise
from creditgraph.loaders.manifest import load_manifest
from creditgraph.loaders.reader import read_manifest


def ceiling(city: Path) -> dict:
    frames = read_manifest(load_manifest(city / "manifest.yaml")).frames()
    truth = pd.read_csv(city / "truth" / "mentions.csv", dtype=str)
    true_of = dict(zip(truth["source"] + ":" + truth["record_id"] + ":" + truth["role"], truth["entity_id"]))
    persons = frames["mentions"][frames["mentions"]["kind"] == "person"]
    ties = defaultdict(set)
    for a, b in zip(frames["relations"]["from_mention"], frames["relations"]["to_mention"]):
        ties[a].add(true_of.get(b))
        ties[b].add(true_of.get(a))
    by_person_firm = defaultdict(list)
    for mid in persons["mention_id"]:
        for firm in ties.get(mid, ()):
            by_person_firm[(true_of[mid], firm)].append(mid)
    linkable = set(persons.loc[persons["identifiers"].fillna("") != "", "mention_id"])
    linkable |= {mid for mids in by_person_firm.values() if len(mids) > 1 for mid in mids}
    return oracle_ceiling(persons["mention_id"].map(true_of), persons["mention_id"].isin(linkable))


def oracle_ceiling(truth_ids: pd.Series, linkable: pd.Series) -> dict:
    """Recall of the oracle that puts every linkable mention with its true entity and leaves each
    other mention alone: pairwise and B-cubed. Its precision is 1 by construction."""
    truth_ids, linkable = truth_ids.reset_index(drop=True), linkable.reset_index(drop=True)
    alone = "alone:" + pd.Series(range(len(truth_ids)), dtype=str)
    oracle = truth_ids.where(linkable, alone)
    return {"person_mentions": len(truth_ids), "unlinkable": int((~linkable).sum()),
            "recall_ceiling": pairwise(oracle, truth_ids)["recall"],
            "bcubed_recall_ceiling": bcubed(oracle, truth_ids)["bcubed_recall"]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("city", type=Path)
    print(ceiling(parser.parse_args().city))
