"""Recently verified API tokens, kept per process so that most requests skip the token look-up.

Safe only while every change that could revoke a token reaches this process: on PostgreSQL,
triggers on `api_tokens` and `staff_users` NOTIFY at commit (migration 0008) and the app's
listener calls `invalidate`; the app turns the cache on only while that listener is
connected (`live_when`), and a lost connection invalidates everything, as notifications sent
while it was away are gone. SQLite has no notifications, and there the cache stays off.

A revocation takes effect in this process when its notification arrives, milliseconds after
it commits: the same as a request that had been verified a moment before it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

# What the triggers of migration 0008 NOTIFY on.
CHANNEL = "telehealth_auth"
# A backstop, not the mechanism: a revocation normally arrives as a notification.
TTL_SECONDS = 60.0
MAX_ENTRIES = 10_000


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: what handlers may know of a staff user, safe to keep between requests
    (unlike an ORM entity, which belongs to one session)."""

    id: int
    email: str
    name: str
    role: str


class TokenCache:
    def __init__(
        self,
        *,
        ttl: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._generation = 0
        self._live: Callable[[], bool] = lambda: False

    def live_when(self, live: Callable[[], bool]) -> None:
        """Use the cache only while `live()` says invalidations are being received."""
        self._live = live
        self.invalidate()

    @property
    def generation(self) -> int:
        """Read before looking a token up in the database; hand it back to `put`."""
        return self._generation

    def get(self, token_hash: str) -> Principal | None:
        if not self._live():
            return None
        found = self._entries.get(token_hash)
        if found is None:
            return None
        principal, expires = found
        if self._clock() >= expires:
            del self._entries[token_hash]
            return None
        self._entries.move_to_end(token_hash)
        return principal

    def put(self, token_hash: str, principal: Principal, generation: int) -> None:
        """Keep a token verified by a look-up that began at `generation`. If anything was
        invalidated since, that look-up may have read what was then revoked: not kept."""
        if generation != self._generation or not self._live():
            return
        self._entries[token_hash] = (principal, self._clock() + self._ttl)
        self._entries.move_to_end(token_hash)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def invalidate(self) -> None:
        self._generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
