"""The review queue as stewards see it: the resolve output's pairs minus those already decided.

The terminal (`creditgraph review`) and the web page (api/) both go through here, so a decision
taken in either lands in the same DecisionLog and holds at the next resolve.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from creditgraph.base.privacy import mask
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
    """Pairs not looked at first, then pairs marked unsure, then decided ones; each by what a
    decision settles (`worth`, written by resolve; an older output has none), then by score."""
    def rank(a: str, b: str) -> int:
        d = latest.get(pair_key(a, b))
        return 0 if d is None else 1 if d.verdict == Verdict.UNSURE else 2
    ranked = q.assign(_rank=[rank(a, b) for a, b in zip(q["left_mention"], q["right_mention"])],
                      _worth=pd.to_numeric(q["worth"], errors="coerce").fillna(0) if "worth" in q else 0)
    return (ranked.sort_values(["_rank", "_worth", "score", "pair_id"], ascending=[True, False, False, True])
            .drop(columns=["_rank", "_worth"]))


def pending(resolved_dir: Path, settings: Settings) -> pd.DataFrame:
    """The pairs waiting for a steward (`is_pending`), in `review_order`."""
    q = queue(resolved_dir)
    latest = DecisionLog(settings.decisions_path).latest()
    keep = [is_pending(latest.get(pair_key(a, b))) for a, b in zip(q["left_mention"], q["right_mention"])]
    return review_order(q.loc[pd.Series(keep, index=q.index, dtype=bool)], latest)  # an empty list would pick columns


def pair_row(q: pd.DataFrame, pair_id: str) -> dict | None:
    """The queue's row of `pair_id`, or None."""
    hit = q[q["pair_id"] == pair_id]
    return None if hit.empty else hit.iloc[0].to_dict()


def find_pair(resolved_dir: Path, pair_id: str) -> dict:
    row = pair_row(queue(resolved_dir), pair_id)
    if row is None:
        raise KeyError(f"no pair {pair_id!r} in {resolved_dir}/review_queue.csv")
    return row


def with_parties(resolved_dir: Path, rows: list[dict]) -> list[dict]:
    """Queue rows with `left` and `right`: who each mention is, as the web page shows it (the
    name its row wrote, its source row, the entity it resolved to and that entity's identifier,
    masked for persons: never an identity number in clear)."""
    resolved_dir = Path(resolved_dir)
    wanted = {r[f"{side}_mention"] for r in rows for side in ("left", "right")}
    mentions = pd.read_csv(resolved_dir / "mentions.csv", dtype=str, keep_default_na=False,
                           usecols=["mention_id", "source", "record_id", "role", "entity_id", "name"])
    mentions = mentions[mentions["mention_id"].isin(wanted)].set_index("mention_id")
    entities = pd.read_csv(resolved_dir / "entities.csv", dtype=str, keep_default_na=False,
                           usecols=["entity_id", "kind", "name", "identifier", "identifier_type"])
    entities = entities.set_index("entity_id")
    return [{**r, **{side: _party(r[f"{side}_mention"], r.get(f"{side}_entity"), mentions, entities)
                     for side in ("left", "right")}} for r in rows]


def entity_names(resolved_dir: Path) -> dict[str, str]:
    """Entity id -> canonical name, to spell out the firms evidence names by id."""
    e = pd.read_csv(Path(resolved_dir) / "entities.csv", dtype=str, keep_default_na=False,
                    usecols=["entity_id", "name"])
    return dict(zip(e["entity_id"], e["name"]))


def _party(mention_id: str, entity_id: str | None, mentions: pd.DataFrame, entities: pd.DataFrame) -> dict:
    p = {"mention_id": mention_id}
    if mention_id in mentions.index:
        m = mentions.loc[mention_id]
        p.update(source=m["source"], record_id=m["record_id"], role=m["role"], name=m["name"])
        entity_id = entity_id or m["entity_id"]
    if entity_id and entity_id in entities.index:
        e = entities.loc[entity_id]
        ident = e["identifier"]
        p.update(entity_id=entity_id, entity_name=e["name"], identifier_type=e["identifier_type"],
                 identifier=mask(ident) if e["kind"] == "person" and ident else ident)
        p.setdefault("name", e["name"])
    return p


def record(row: dict, verdict: str, who: str, note: str, settings: Settings) -> Decision:
    """Append a steward's decision on the queue row `row` to the decision log."""
    decision = Decision(row["left_mention"], row["right_mention"], Verdict(verdict), who, note, float(row["score"]))
    DecisionLog(settings.decisions_path).append(decision)
    return decision


def decide(resolved_dir: Path, pair_id: str, verdict: str, who: str, note: str, settings: Settings) -> Decision:
    return record(find_pair(resolved_dir, pair_id), verdict, who, note, settings)
