"""Steward decisions: an append-only JSON-lines log, the latest line per pair wins.

Modelled on nomenklatura's judgements: a decision names two mentions by their stable ids
(`source:record_id:role`), so it survives every rerun; `same` becomes a must-link and
`different` a cannot-link in clustering, `unsure` keeps the pair in review.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path


class Verdict(str, Enum):
    SAME = "same"
    DIFFERENT = "different"
    UNSURE = "unsure"


@dataclass(frozen=True)
class Decision:
    left: str
    right: str
    verdict: Verdict
    who: str
    note: str = ""
    score: float | None = None
    when: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def pair(self) -> tuple[str, str]:
        return pair_key(self.left, self.right)


def pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


class DecisionLog:
    def __init__(self, path: Path):
        self.path = Path(path)

    def append(self, decision: Decision) -> None:
        if not decision.who:
            raise ValueError("a decision needs the steward who made it")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({**asdict(decision), "verdict": decision.verdict.value}, ensure_ascii=False)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())

    def all(self) -> list[Decision]:
        if not self.path.exists():
            return []
        out = []
        with open(self.path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    out.append(Decision(**{**row, "verdict": Verdict(row["verdict"])}))
                except (ValueError, TypeError, KeyError) as e:
                    raise ValueError(f"{self.path}:{n}: unreadable decision ({e})") from e
        return out

    def latest(self) -> dict[tuple[str, str], Decision]:
        return {d.pair: d for d in self.all()}
