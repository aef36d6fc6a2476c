"""Migrations build the schema from empty, carry the overlap rules, and match the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from telehealth.kernel import migrations
from telehealth.kernel.db import create_engine
from telehealth.schema import metadata
from tests.builders import make_clinic, make_patient


async def test_upgrade_from_empty_then_down_and_up_again(fresh_database: str) -> None:
    engine = create_engine(fresh_database)
    async with engine.begin() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {"appointments", "clinician_sessions", "staff_users", "api_tokens"} <= tables
        await migrations.downgrade_connection(conn, "base")
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert tables <= {"alembic_version"}
        await migrations.upgrade_connection(conn)
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert "appointments" in tables
    await engine.dispose()


async def test_models_match_the_migrated_schema(connection) -> None:  # type: ignore[no-untyped-def]
    def diff(sync_conn):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(sync_conn, opts={"compare_type": False})
        return compare_metadata(context, metadata)

    assert await connection.run_sync(diff) == []


@pytest.mark.parametrize("column", ["clinician_id", "patient_id"])
async def test_the_database_itself_refuses_overlaps(session, column: str) -> None:  # type: ignore[no-untyped-def]
    """Raw SQL, bypassing every check in the code: the constraint or trigger still says no."""
    clinic = await make_clinic(session)
    first, second = await make_patient(session), await make_patient(session)
    start = datetime(2030, 1, 8, 9, tzinfo=UTC)
    insert = text(
        "INSERT INTO appointments (reference, uid, service_id, clinician_id, patient_id, mode,"
        " starts_at, ends_at, busy_until, status, sequence, created_at, updated_at) VALUES"
        " (:ref, :uid, :service, :clinician, :patient, 'video_home', :start, :end, :end,"
        " 'booked', 0, :start, :start)"
    )

    def params(ref: str, clinician: int, patient: int, minutes: int) -> dict[str, object]:
        begins = start + timedelta(minutes=minutes)
        is_sqlite = session.bind.dialect.name == "sqlite"

        def fmt(d: datetime) -> object:
            return d.replace(tzinfo=None).isoformat(sep=" ") if is_sqlite else d

        return {
            "ref": ref,
            "uid": ref,
            "service": clinic.service.id,
            "clinician": clinician,
            "patient": patient,
            "start": fmt(begins),
            "end": fmt(begins + timedelta(minutes=20)),
        }

    await session.execute(insert, params("AAAA0001", clinic.clinician.id, first.id, 0))
    other_clinician = (await make_clinic(session)).clinician.id
    clash = (
        params("AAAA0002", clinic.clinician.id, second.id, 10)
        if column == "clinician_id"
        else params("AAAA0002", other_clinician, first.id, 10)
    )
    with pytest.raises(IntegrityError, match=f"ex_appointments_{column.removesuffix('_id')}_busy"):
        async with session.begin_nested():
            await session.execute(insert, clash)
    # Back to back is fine: the intervals are half-open.
    await session.execute(insert, params("AAAA0003", clinic.clinician.id, second.id, 20))


async def test_directions_and_phones_come_and_go_without_losing_sites(fresh_database: str) -> None:
    """0010 down and up again: the columns go and come back, and the sites and their video
    rooms stay (a table copy on SQLite would have cascaded to the rooms)."""
    from alembic.script import ScriptDirectory

    before = ScriptDirectory.from_config(migrations.alembic_config()).get_revision("0010")
    assert before is not None
    engine = create_engine(fresh_database)
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO organisations (id, name, created_at) VALUES (1, 'T', '2026-01-01')")
        )
        await conn.execute(
            text(
                "INSERT INTO sites (id, organisation_id, kind, name, address, postcode, active,"
                " directions, phone) VALUES (1, 1, 'community_hub', 'Hub', '', 'LA4 5RJ', true,"
                " 'Side door', '0113 496 0000')"
            )
        )
        await conn.execute(
            text("INSERT INTO video_rooms (site_id, name, active) VALUES (1, 'Room 1', true)")
        )
        await migrations.downgrade_connection(conn, str(before.down_revision))
        columns = await conn.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("sites")}
        )
        assert not {"directions", "phone"} & columns
        service_columns = await conn.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("services")}
        )
        assert "phone" not in service_columns
        assert (await conn.execute(text("SELECT count(*) FROM video_rooms"))).scalar() == 1
        await migrations.upgrade_connection(conn)
        row = (await conn.execute(text("SELECT name, directions, phone FROM sites"))).one()
        assert tuple(row) == ("Hub", None, None)
        assert (await conn.execute(text("SELECT count(*) FROM video_rooms"))).scalar() == 1
    await engine.dispose()


async def test_token_last_used_at_goes_and_comes_back(fresh_database: str) -> None:
    """0011 down and up again: the never-written column returns empty, and goes again."""

    def token_columns(sync_conn):  # type: ignore[no-untyped-def]
        return {col["name"] for col in inspect(sync_conn).get_columns("api_tokens")}

    engine = create_engine(fresh_database)
    async with engine.begin() as conn:
        assert "last_used_at" not in await conn.run_sync(token_columns)
        await migrations.downgrade_connection(conn, "0010")
        assert "last_used_at" in await conn.run_sync(token_columns)
        await migrations.upgrade_connection(conn)
        assert "last_used_at" not in await conn.run_sync(token_columns)
    await engine.dispose()
