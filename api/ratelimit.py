"""Token buckets, one per key (an API key, a client address): `burst` units at once, refilled
at `per_minute` / 60 a second. A take may cost more than one unit (the audit trail counts bytes).
At most `max_keys` buckets are kept, the longest quiet one forgotten first: an attacker has many
addresses, and a forgotten bucket only starts full again."""
from __future__ import annotations

import threading
import time


class TokenBuckets:
    def __init__(self, burst: float, per_minute: float, max_keys: int = 10_000, clock=time.monotonic):
        self.burst, self.per_second, self.max_keys, self.clock = max(1.0, burst), per_minute / 60.0, max_keys, clock
        self._state: dict[str, tuple[float, float]] = {}  # key -> (tokens, when counted), quietest first
        self._lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0) -> float:
        """Spend `cost` of `key`'s tokens: 0.0 when it had them, else the seconds until it has."""
        with self._lock:
            now = self.clock()
            tokens, then = self._state.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.per_second)
            while len(self._state) >= self.max_keys:
                del self._state[next(iter(self._state))]
            if tokens >= cost:
                self._state[key] = (tokens - cost, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (cost - tokens) / self.per_second if self.per_second > 0 else float("inf")
