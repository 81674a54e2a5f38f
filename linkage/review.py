"""The review queue as stewards see it: the resolve output's items minus those already decided.

An item is a pair of mentions, or a mention with its `candidates` (a name-only mention that fits
several firms: linkage.triage): a steward chooses one candidate (a `same` with it) or none (a
`different` with every one). The terminal (`creditgraph review`) and the web page (api/) both go
through here, so a decision taken in either lands in the same DecisionLog and holds at the next
resolve.
"""
from __future__ import annotations

import json
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


def candidates(row: dict) -> list[dict]:
    """An item's candidates (entity_id, mention, left_mention, score, reason, evidence), best
    first; none for a pair (or an output written before items had candidates)."""
    text = row.get("candidates") or ""
    return json.loads(text) if text else []


def _pairs(row: dict) -> list[tuple[str, str]]:
    """The mention pairs a decision on the item is recorded against."""
    cands = candidates(row)
    if not cands:
        return [(row["left_mention"], row["right_mention"])]
    return [(c.get("left_mention") or row["left_mention"], c["mention"]) for c in cands]


NOT_LOOKED_AT, UNSURE, DECIDED = 0, 1, 2


def state(row: dict, latest: dict[tuple[str, str], Decision]) -> int:
    """DECIDED once a `same` names one of its pairs or a `different` every one (a pair: its
    latest decision is same or different); UNSURE when some decision is there; else NOT_LOOKED_AT."""
    verdicts = [d.verdict if (d := latest.get(pair_key(a, b))) else None for a, b in _pairs(row)]
    if Verdict.SAME in verdicts or all(v == Verdict.DIFFERENT for v in verdicts):
        return DECIDED
    return NOT_LOOKED_AT if all(v is None for v in verdicts) else UNSURE


def verdict_of(row: dict, latest: dict[tuple[str, str], Decision]) -> str | None:
    """The item's standing decision as one word: same, different, unsure or None."""
    verdicts = [d.verdict for a, b in _pairs(row) if (d := latest.get(pair_key(a, b)))]
    if Verdict.SAME in verdicts:
        return Verdict.SAME.value
    return Verdict.DIFFERENT.value if state(row, latest) == DECIDED else (
        Verdict.UNSURE.value if verdicts else None)


def review_order(q: pd.DataFrame, latest: dict[tuple[str, str], Decision]) -> pd.DataFrame:
    """Items not looked at first, then items marked unsure, then decided ones; each by what a
    decision settles (`worth`, written by resolve; an older output has none), then by score."""
    ranked = q.assign(_rank=[state(r, latest) for r in q.to_dict("records")],
                      _worth=pd.to_numeric(q["worth"], errors="coerce").fillna(0) if "worth" in q else 0)
    return (ranked.sort_values(["_rank", "_worth", "score", "pair_id"], ascending=[True, False, False, True])
            .drop(columns=["_rank", "_worth"]))


def pending(resolved_dir: Path, settings: Settings) -> pd.DataFrame:
    """The items waiting for a steward (not DECIDED), in `review_order`."""
    q = queue(resolved_dir)
    latest = DecisionLog(settings.decisions_path).latest()
    keep = [state(r, latest) != DECIDED for r in q.to_dict("records")]
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
    masked for persons: never an identity number in clear); an item with candidates gets
    `choices`, each candidate with its `party`."""
    resolved_dir = Path(resolved_dir)
    wanted = {r[f"{side}_mention"] for r in rows for side in ("left", "right")}
    wanted |= {c["mention"] for r in rows for c in candidates(r)}
    mentions = pd.read_csv(resolved_dir / "mentions.csv", dtype=str, keep_default_na=False,
                           usecols=["mention_id", "source", "record_id", "role", "entity_id", "name"])
    mentions = mentions[mentions["mention_id"].isin(wanted)].set_index("mention_id")
    entities = pd.read_csv(resolved_dir / "entities.csv", dtype=str, keep_default_na=False,
                           usecols=["entity_id", "kind", "name", "identifier", "identifier_type"])
    entities = entities.set_index("entity_id")
    return [{**r, **{side: _party(r[f"{side}_mention"], r.get(f"{side}_entity"), mentions, entities)
                     for side in ("left", "right")},
             "choices": [{**c, "party": _party(c["mention"], c["entity_id"], mentions, entities)}
                         for c in candidates(r)]} for r in rows]


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


class NeedsCandidate(ValueError):
    """A `same` on an item with candidates that does not say which one, or names none of them."""


def decisions_for(row: dict, verdict: str, who: str, note: str = "", candidate: str | None = None) -> list[Decision]:
    """The decisions a steward's verdict on the queue row `row` stands for. A pair: one. An item
    with candidates: `same` with the `candidate` chosen (its entity id, mention or number from 1),
    `different` (none of them) with every candidate, `unsure` on its best pair."""
    verdict = Verdict(verdict)
    cands = candidates(row)
    if not cands:
        if candidate:
            raise NeedsCandidate(f"{row['pair_id']} is a pair: it has no candidates to choose from")
        return [Decision(row["left_mention"], row["right_mention"], verdict, who, note, float(row["score"]))]
    chosen = cands if verdict == Verdict.DIFFERENT else [cands[0]] if verdict == Verdict.UNSURE else \
        [_chosen(row, cands, candidate)]
    return [Decision(c.get("left_mention") or row["left_mention"], c["mention"], verdict, who, note, float(c["score"]))
            for c in chosen]


def _chosen(row: dict, cands: list[dict], candidate: str | None) -> dict:
    for i, c in enumerate(cands, 1):
        if candidate in (c["entity_id"], c["mention"], str(i)):
            return c
    named = ", ".join(f"{i} {c['entity_id']}" for i, c in enumerate(cands, 1))
    raise NeedsCandidate(f"{row['pair_id']} has candidates ({named}): `same` needs one of them"
                         + (f", not {candidate!r}" if candidate else ""))


def record(row: dict, verdict: str, who: str, note: str, settings: Settings,
           candidate: str | None = None) -> list[Decision]:
    """Append a steward's decision on the queue row `row` to the decision log (`decisions_for`)."""
    decisions = decisions_for(row, verdict, who, note, candidate)
    log = DecisionLog(settings.decisions_path)
    for d in decisions:
        log.append(d)
    return decisions


def decide(resolved_dir: Path, pair_id: str, verdict: str, who: str, note: str, settings: Settings,
           candidate: str | None = None) -> list[Decision]:
    return record(find_pair(resolved_dir, pair_id), verdict, who, note, settings, candidate)
