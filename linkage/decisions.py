"""Steward decisions: an append-only JSON-lines log, the latest line per pair wins.

Modelled on nomenklatura's judgements: a decision names two mentions by their stable ids
(`source:record_id:role`), so it survives every rerun; `same` becomes a must-link and
`different` a cannot-link in clustering, `unsure` keeps the pair in review.

The log is 0600 in a 0700 directory. A line that does not read (torn by a full disk or a
power loss) is set aside with a warning naming file and line: the queue and resolve go on
without it, and the next append starts on a line of its own.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path

from creditgraph.base.files import open_private

log = logging.getLogger("creditgraph.decisions")


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
        line = json.dumps({**asdict(decision), "verdict": decision.verdict.value}, ensure_ascii=False)
        with open_private(self.path, "ab") as f:
            fcntl.flock(f, fcntl.LOCK_EX)  # the check for a torn end and the append are one step
            f.write((b"\n" if self._torn() else b"") + line.encode("utf-8") + b"\n")
            f.flush()
            os.fsync(f.fileno())

    def _torn(self) -> bool:
        """The log ends mid-line (a write cut short)."""
        with open(self.path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            return size > 0 and os.pread(f.fileno(), 1, size - 1) != b"\n"

    def all(self) -> list[Decision]:
        if not self.path.exists():
            return []
        out = []
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                    out.append(Decision(**{**row, "verdict": Verdict(row["verdict"])}))
                except (ValueError, TypeError, KeyError) as e:
                    log.warning("%s:%d: unreadable decision set aside (%s): %.80s", self.path, n, e, line.strip())
        return out

    def latest(self) -> dict[tuple[str, str], Decision]:
        return {d.pair: d for d in self.all()}
