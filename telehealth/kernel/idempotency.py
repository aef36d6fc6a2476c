"""Idempotency-Key support: a retried POST returns the first response instead of acting twice.

The key row is inserted in the same transaction as the work it guards. A concurrent retry with
the same key blocks on the primary key until the first commits, then finds the stored response.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.kernel.db import Base, UTCDateTime, utcnow
from telehealth.kernel.errors import InvalidInput

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200


class IdempotencyRecord(Base):
    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH), primary_key=True)
    endpoint: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def request_fingerprint(endpoint: str, body: Any) -> str:
    canonical = json.dumps([endpoint, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput.field(HEADER, f"must be 1 to {MAX_KEY_LENGTH} characters")
    return key


async def find(
    session: AsyncSession, *, user_id: int, key: str, endpoint: str, fingerprint: str
) -> IdempotencyRecord | None:
    """The stored result for this key, or None. The same key with a different request is an
    error: silently returning the other request's result would hide a client bug."""
    found = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )
    if found is not None and (found.endpoint != endpoint or found.request_hash != fingerprint):
        raise InvalidInput.field(
            HEADER,
            "this key was already used for a different request",
            code="idempotency_key_reused",
        )
    return found


def claim(
    session: AsyncSession, *, user_id: int, key: str, endpoint: str, fingerprint: str
) -> IdempotencyRecord:
    """Reserve the key in the caller's transaction; the caller fills in the response."""
    record = IdempotencyRecord(
        user_id=user_id,
        key=key,
        endpoint=endpoint,
        request_hash=fingerprint,
        status_code=0,
        response={},
    )
    session.add(record)
    return record
