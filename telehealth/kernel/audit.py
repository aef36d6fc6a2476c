"""The audit trail: every read and change of patient data is recorded through `record`.

One table, written in the same transaction as the change it describes, so an audited change
and its audit row commit or roll back together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Insert, Integer, Select, String, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from telehealth.kernel.db import Base, UTCDateTime, table_of, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


_TABLE = table_of(AuditEvent)
_INSERT = insert(_TABLE)
COLUMNS = ("at", "actor_user_id", "action", "entity_type", "entity_id", "detail")


def insert_from(rows: Select[Any]) -> Insert:
    """An INSERT of audit rows selected by `rows` (its columns in the order of `COLUMNS`): a
    change and its audit row can then go to the database in one statement, the change in a
    data-modifying CTE (PostgreSQL) that `rows` selects from."""
    return _INSERT.from_select(COLUMNS, rows)


async def record(
    session: AsyncSession,
    *,
    actor_user_id: int | None,
    action: str,
    entity_type: str,
    entity_id: int | None,
    detail: dict[str, Any] | None = None,
) -> None:
    # A plain INSERT rather than an entity for the unit of work: nothing reads the row back in
    # the request, and every patient-data request pays for this.
    await session.execute(
        _INSERT,
        {
            "at": utcnow(),
            "actor_user_id": actor_user_id,
            "action": action,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "detail": detail or {},
        },
    )
