"""The review queue as stewards see it: the resolve output's pairs minus those already decided.

The terminal (`creditgraph review`) and the web page (api/) both go through here, so a decision
taken in either lands in the same DecisionLog and holds at the next resolve.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from creditgraph.base.settings import Settings
from creditgraph.linkage.decisions import Decision, DecisionLog, Verdict, pair_key


def queue(resolved_dir: Path) -> pd.DataFrame:
    path = Path(resolved_dir) / "review_queue.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no review queue; run `creditgraph resolve` first")
    return pd.read_csv(path, dtype={"pair_id": str}, keep_default_na=False)


def is_pending(decision: Decision | None) -> bool:
    """A pair waits for a steward until its latest decision is `same` or `different`;
    `unsure` leaves it in the queue, behind the pairs nobody has looked at yet."""
    return decision is None or decision.verdict == Verdict.UNSURE


def review_order(q: pd.DataFrame, latest: dict[tuple[str, str], Decision]) -> pd.DataFrame:
    """Pairs not looked at first, then pairs marked unsure, then decided ones; each by score."""
    def rank(a: str, b: str) -> int:
        d = latest.get(pair_key(a, b))
        return 0 if d is None else 1 if d.verdict == Verdict.UNSURE else 2
    ranked = q.assign(_rank=[rank(a, b) for a, b in zip(q["left_mention"], q["right_mention"])])
    return ranked.sort_values(["_rank", "score", "pair_id"], ascending=[True, False, True]).drop(columns="_rank")


def pending(resolved_dir: Path, settings: Settings) -> pd.DataFrame:
    """The pairs waiting for a steward (`is_pending`), in `review_order`."""
    q = queue(resolved_dir)
    latest = DecisionLog(settings.decisions_path).latest()
    keep = [is_pending(latest.get(pair_key(a, b))) for a, b in zip(q["left_mention"], q["right_mention"])]
    return review_order(q[keep], latest)


def pair_row(q: pd.DataFrame, pair_id: str) -> dict | None:
    """The queue's row of `pair_id`, or None."""
    hit = q[q["pair_id"] == pair_id]
    return None if hit.empty else hit.iloc[0].to_dict()


def find_pair(resolved_dir: Path, pair_id: str) -> dict:
    row = pair_row(queue(resolved_dir), pair_id)
    if row is None:
        raise KeyError(f"no pair {pair_id!r} in {resolved_dir}/review_queue.csv")
    return row


def record(row: dict, verdict: str, who: str, note: str, settings: Settings) -> Decision:
    """Append a steward's decision on the queue row `row` to the decision log."""
    decision = Decision(row["left_mention"], row["right_mention"], Verdict(verdict), who, note, float(row["score"]))
    DecisionLog(settings.decisions_path).append(decision)
    return decision


def decide(resolved_dir: Path, pair_id: str, verdict: str, who: str, note: str, settings: Settings) -> Decision:
    return record(find_pair(resolved_dir, pair_id), verdict, who, note, settings)
