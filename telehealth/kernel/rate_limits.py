"""Rate limits that hold across every app process: each attempt is a row, counted over a
sliding window in the database (one PostgreSQL serves every process; a counter in memory
would give each process its own allowance).

Keys are hashed before they are stored: a limit keyed on a booking reference or a client's
address keeps neither in the table.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Index, String, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.kernel.db import Base, UTCDateTime, utcnow


class RateLimitHit(Base):
    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_bucket_key_at", "bucket", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # What is limited ("lookup"), and whose attempts (a SHA-256 of the client or the input).
    bucket: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def hashed(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def allow(
    session: AsyncSession,
    bucket: str,
    key: str,
    *,
    limit: int,
    window: timedelta,
    now: datetime | None = None,
) -> bool:
    """Record an attempt and say whether it is within `limit` attempts in `window` (this one
    included). Refused attempts are recorded too: hammering keeps the limit shut. Older rows
    for the key are deleted as it goes, so the table holds one window per key."""
    now = now or utcnow()
    digest = hashed(key)
    since = now - window
    await session.execute(
        delete(RateLimitHit).where(
            RateLimitHit.bucket == bucket, RateLimitHit.key == digest, RateLimitHit.at < since
        )
    )
    await session.execute(insert(RateLimitHit).values(bucket=bucket, key=digest, at=now))
    count = await session.scalar(
        select(func.count()).where(
            RateLimitHit.bucket == bucket, RateLimitHit.key == digest, RateLimitHit.at >= since
        )
    )
    return (count or 0) <= limit
