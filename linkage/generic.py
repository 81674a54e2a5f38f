"""Linkage of plain records whose fields a model file names: the engine without the city.

For data that is not a credit export (the Febrl benchmarks, any person list), a model YAML adds
to the usual fields a `source` per field (a mention column or an attribute from the manifest),
`blocking` (lists of fields that must all be equal), and `mode: dedupe | link`. Each mention is a
record; there are no hard identifiers, so m comes from EM and u from random pairs.
"""
from __future__ import annotations

import json
import unicodedata

import numpy as np
import pandas as pd
import yaml

from creditgraph.linkage.engine import LinkResult, Records, link
from creditgraph.linkage.model import MatchModel


def load_spec(model: str) -> dict:
    path = MatchModel.path_of(model)
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def field_values(mentions: pd.DataFrame, source: str) -> list[str]:
    """A mention column, or an attribute stored in the mentions' `attrs` JSON."""
    if source in mentions.columns:
        values = mentions[source]
    else:
        values = mentions["attrs"].map(lambda a: json.loads(a).get(source) if isinstance(a, str) and a else None)
    return [_clean(v) for v in values]


def _clean(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip().lower()


def generic_records(mentions: pd.DataFrame, spec: dict, mode: str | None = None) -> Records:
    columns = {f["name"]: field_values(mentions, f.get("source", f["name"])) for f in spec["fields"]}
    values = {name: [(v,) if v else () for v in col] for name, col in columns.items()}
    keys = [[] for _ in range(len(mentions))]
    for rule in spec["blocking"]:
        parts = [columns[name] for name in rule]
        label = "+".join(rule)
        for i, combo in enumerate(zip(*parts)):
            if all(combo):
                keys[i].append(f"{label}:{'|'.join(combo)}")
    groups = pd.factorize(mentions["source"])[0] if (mode or spec.get("mode")) == "link" else None
    return Records(values, keys, [frozenset()] * len(mentions), mentions["mention_id"].tolist(), groups)


def link_generic(mentions: pd.DataFrame, model: str, mode: str | None = None) -> tuple[pd.DataFrame, LinkResult]:
    """Entity per mention (its least mention id in the cluster) and the link result."""
    spec = load_spec(model)
    records = generic_records(mentions, spec, mode)
    result = link(MatchModel.load(model), records, max_block=spec.get("max_block", 200),
                  one_to_one=records.groups is not None and spec.get("one_to_one", False))
    first = pd.Series(records.rep).groupby(result.labels).transform("min")
    out = mentions[["source", "record_id", "role", "mention_id", "name"]].assign(
        entity_id=first.to_numpy(), kind="record")
    return out, result
