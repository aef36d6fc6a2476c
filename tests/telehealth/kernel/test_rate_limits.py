"""Rate limits count attempts in the database, so every app process shares one allowance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from telehealth.kernel import rate_limits
from telehealth.kernel.rate_limits import RateLimitHit

NOW = datetime(2027, 3, 2, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


async def test_the_limit_shuts_after_its_attempts_and_opens_when_the_window_passes(session) -> None:  # type: ignore[no-untyped-def]
    results = [
        await rate_limits.allow(session, "lookup", "1.2.3.4", limit=3, window=WINDOW, now=NOW)
        for _ in range(4)
    ]
    assert results == [True, True, True, False]
    # Another key has its own allowance.
    assert await rate_limits.allow(session, "lookup", "5.6.7.8", limit=3, window=WINDOW, now=NOW)
    later = NOW + WINDOW + timedelta(seconds=1)
    assert await rate_limits.allow(session, "lookup", "1.2.3.4", limit=3, window=WINDOW, now=later)


async def test_keys_are_stored_hashed_and_old_attempts_are_cleared(session) -> None:  # type: ignore[no-untyped-def]
    for minutes in (0, 1, 2):
        await rate_limits.allow(
            session,
            "lookup",
            "AB3C4D6E",
            limit=9,
            window=WINDOW,
            now=NOW + timedelta(minutes=minutes),
        )
    keys = set(await session.scalars(select(RateLimitHit.key)))
    assert keys == {rate_limits.hashed("AB3C4D6E")}
    await rate_limits.allow(
        session, "lookup", "AB3C4D6E", limit=9, window=WINDOW, now=NOW + timedelta(hours=1)
    )
    assert await session.scalar(select(func.count()).select_from(RateLimitHit)) == 1
