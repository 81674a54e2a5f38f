"""A token bucket per API key: `burst` requests at once, then `per_minute` on average."""
from __future__ import annotations

import threading
import time


class TokenBuckets:
    def __init__(self, burst: int, per_minute: float, clock=time.monotonic):
        self.burst, self.per_second, self.clock = max(1, burst), per_minute / 60.0, clock
        self._state: dict[str, tuple[float, float]] = {}  # key -> (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """Spend a token of `key`: 0.0 when there was one, else the seconds until there is."""
        with self._lock:
            now = self.clock()
            tokens, then = self._state.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.per_second)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1.0 - tokens) / self.per_second if self.per_second > 0 else float("inf")
