"""In-process sliding-window rate limit, per client id or IP address; and the API keys recently found
unknown, so that a key guessed again and again costs no database lookup.

Per process: with N uvicorn workers a client may get up to N times the limit. Good enough to stop a
runaway script; a shared limit (Redis, the proxy) belongs to deployment, not to this module.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """Allow at most `limit` hits per `window` seconds for each key."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._last_sweep = clock()

    def hit(self, key: str) -> float | None:
        """Record a hit; return None if allowed, else the seconds until the next hit would be."""
        if self.limit <= 0:
            return None
        now = self.clock()
        with self._lock:
            self._sweep(now)
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return hits[0] + self.window - now
            hits.append(now)
            return None

    def retry_after(self, wait: float) -> int:
        return max(1, math.ceil(wait))

    def _sweep(self, now: float) -> None:
        # Forget idle keys now and then, so one-off IP addresses do not accumulate.
        if now - self._last_sweep < self.window:
            return
        self._last_sweep = now
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - self.window]:
            del self._hits[key]


class UnknownKeys:
    """API keys looked up and not found (or revoked), remembered for `ttl` seconds, at most `size` of
    them (the oldest forgotten first); only their SHA-256 is kept. Keys are random, so one that was
    unknown a minute ago is not about to become a client's."""

    def __init__(self, ttl: float = 60.0, size: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.size = size
        self.clock = clock
        self._until: OrderedDict[bytes, float] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key: str) -> bool:
        digest = hashlib.sha256(key.encode()).digest()
        with self._lock:
            until = self._until.get(digest)
            if until is None:
                return False
            if until <= self.clock():
                del self._until[digest]
                return False
            return True

    def add(self, key: str) -> None:
        digest = hashlib.sha256(key.encode()).digest()
        with self._lock:
            self._until[digest] = self.clock() + self.ttl
            self._until.move_to_end(digest)
            while len(self._until) > self.size:
                self._until.popitem(last=False)
