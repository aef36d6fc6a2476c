"""A per-process cache kept right by database notifications: what a request looked up a
moment ago, kept until a change to what it was read from is announced.

Safe only while every such change reaches this process: on PostgreSQL, statement triggers
NOTIFY at commit and the app's live relay (`telehealth.kernel.live.PostgresRelay`) calls
`invalidate`; the app turns a cache on only while that listener is connected (`live_when`),
and a lost connection invalidates everything, as notifications sent while it was away are
gone. SQLite has no notifications, and there a cache stays off. A change takes effect in a
process when its notification arrives, milliseconds after it commits: the same as a request
that had read the old value a moment before it committed.

Users: the API token cache (`telehealth.kernel.auth.cache`) and the clinic days booking
checks a start against (`scheduling.clinic_days`).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# A backstop, not the mechanism: a change normally arrives as a notification.
TTL_SECONDS = 60.0
MAX_ENTRIES = 10_000


class NotifiedCache(Generic[K, V]):
    def __init__(
        self,
        *,
        ttl: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()
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
        """Read before looking a value up in the database; hand it back to `put`."""
        return self._generation

    def get(self, key: K) -> V | None:
        if not self._live():
            return None
        found = self._entries.get(key)
        if found is None:
            return None
        value, expires = found
        if self._clock() >= expires:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V, generation: int) -> None:
        """Keep a value read by a look-up that began at `generation`. If anything was
        invalidated since, that look-up may have read what has since changed: not kept."""
        if generation != self._generation or not self._live():
            return
        self._entries[key] = (value, self._clock() + self._ttl)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def invalidate(self) -> None:
        self._generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
