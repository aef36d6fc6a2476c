"""Recently verified API tokens, kept per process so that most requests skip the token look-up.

Kept right as every `NotifiedCache` is (telehealth.kernel.notified_cache): triggers on
`api_tokens` and `staff_users` NOTIFY at commit (migration 0008) and the app's listener calls
`invalidate`; on SQLite the cache stays off.

A revocation takes effect in this process when its notification arrives, milliseconds after
it commits: the same as a request that had been verified a moment before it.
"""

from __future__ import annotations

from dataclasses import dataclass

from telehealth.kernel.notified_cache import NotifiedCache

# What the triggers of migration 0008 NOTIFY on.
CHANNEL = "telehealth_auth"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: what handlers may know of a staff user, safe to keep between requests
    (unlike an ORM entity, which belongs to one session)."""

    id: int
    email: str
    name: str
    role: str


class TokenCache(NotifiedCache[str, Principal]):
    """Verified tokens by their hash (see the module's docstring)."""
