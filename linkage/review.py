"""The review queue as stewards see it: the resolve output's pairs minus those already decided.

The terminal (`creditgraph review`) and the web page (api/) both go through here, so a decision
taken in either lands in the same DecisionLog and holds at the next resolve.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from creditgraph.settings import Settings
from linkage.decisions import Decision, DecisionLog, Verdict, pair_key


def queue(resolved_dir: Path) -> pd.DataFrame:
    path = Path(resolved_dir) / "review_queue.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no review queue; run `creditgraph resolve` first")
    return pd.read_csv(path, dtype={"pair_id": str}, keep_default_na=False)


def pending(resolved_dir: Path, settings: Settings) -> pd.DataFrame:
    """Pairs with no decision yet, or whose latest decision is `unsure`."""
    q = queue(resolved_dir)
    decided = {p for p, d in DecisionLog(settings.decisions_path).latest().items() if d.verdict != Verdict.UNSURE}
    keep = [pair_key(a, b) not in decided for a, b in zip(q["left_mention"], q["right_mention"])]
    return q[keep].sort_values(["score", "pair_id"], ascending=[False, True])


def find_pair(resolved_dir: Path, pair_id: str) -> dict:
    q = queue(resolved_dir)
    hit = q[q["pair_id"] == pair_id]
    if hit.empty:
        raise KeyError(f"no pair {pair_id!r} in {resolved_dir}/review_queue.csv")
    return hit.iloc[0].to_dict()


def decide(resolved_dir: Path, pair_id: str, verdict: str, who: str, note: str, settings: Settings) -> Decision:
    row = find_pair(resolved_dir, pair_id)
    decision = Decision(row["left_mention"], row["right_mention"], Verdict(verdict), who, note, float(row["score"]))
    DecisionLog(settings.decisions_path).append(decision)
    return decision
