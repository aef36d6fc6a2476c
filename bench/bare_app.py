"""The floor for booking: a bare Starlette app whose one POST endpoint does a single INSERT
into the same `appointments` table (same constraints), on an engine built the way the app
builds its own. Served by uvicorn for the booking benchmark:

    DATABASE_URL=postgresql+asyncpg://... python -m uvicorn bench.bare_app:app --workers 2
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from telehealth.kernel.db import create_engine, utcnow
from telehealth.kernel.identifiers import new_reference

INSERT = text(
    "INSERT INTO appointments (reference, uid, service_id, clinician_id, patient_id, mode, "
    "starts_at, ends_at, busy_until, status, sequence, created_at, updated_at, video_room) "
    "VALUES (:reference, :uid, :service_id, :clinician_id, :patient_id, 'video_home', "
    ":starts_at, :ends_at, :ends_at, 'booked', 0, :now, :now, :video_room) RETURNING id"
)


async def book(request: Request) -> Response:
    engine: AsyncEngine = request.app.state.engine
    body = await request.json()
    start = datetime.fromisoformat(body["start"])
    now = utcnow()
    values = {
        "reference": new_reference(),
        "uid": f"{uuid.uuid4()}@bare.bench",
        "service_id": body["service_id"],
        "clinician_id": body["clinician_id"],
        "patient_id": body["patient_id"],
        "starts_at": start,
        "ends_at": start + timedelta(minutes=body["minutes"]),
        "now": now,
        "video_room": "bare-" + uuid.uuid4().hex,
    }
    async with engine.begin() as connection:
        appointment_id = await connection.scalar(INSERT, values)
    return JSONResponse({"id": appointment_id, "reference": values["reference"]}, status_code=201)


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    app.state.engine = create_engine(os.environ["DATABASE_URL"])
    yield
    await app.state.engine.dispose()


app = Starlette(
    routes=[Route("/appointments", book, methods=["POST"]), Route("/health", health)],
    lifespan=lifespan,
)
