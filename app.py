"""The ASGI application: `create_app()` builds it; `app` at the bottom is what uvicorn serves."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from importlib.metadata import version
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from scheduling import placement, referrals
from scheduling.endpoints import router as scheduling_router
from telehealth.admin import clinician_pages as admin_clinicians
from telehealth.admin import service_pages as admin_services
from telehealth.admin import site_pages as admin_sites
from telehealth.admin import user_pages as admin_users
from telehealth.calendars import endpoints as calendar_endpoints
from telehealth.calendars.endpoints import router as calendar_router
from telehealth.clinicians import availability_pages
from telehealth.kernel import live
from telehealth.kernel.auth import cache as auth_cache
from telehealth.kernel.config import Settings
from telehealth.kernel.db import asyncpg_dsn, create_engine, make_sessionmaker
from telehealth.kernel.http import error_handlers
from telehealth.kernel.notified_cache import NotifiedCache
from telehealth.kernel.openapi import build_document
from telehealth.kernel.transactions import run_in_transaction
from telehealth.kernel.web import staff
from telehealth.kernel.web.templating import asset_mount
from telehealth.messaging import invitations, invite_file, outbox_pages
from telehealth.navigators import (
    appointment_pages,
    new_booking_pages,
    patient_pages,
    rebook_pages,
    referral_pages,
    worklist_pages,
)
from telehealth.patients import (
    booking_pages,
    change_pages,
    front_door,
    lookup_pages,
    manage_pages,
)
from telehealth.travel import export as travel_export
from telehealth.travel import pages as travel_pages
from telehealth.travel.endpoints import router as travel_router
from telehealth.travel.record_endpoints import router as travel_records_router
from telehealth.users import endpoints as staff_users
from telehealth.video import clinic_pages
from telehealth.video import pages as join_pages
from telehealth.video.endpoints import router as video_router

ROUTERS = [
    scheduling_router,
    video_router,
    calendar_router,
    travel_router,
    travel_records_router,
    staff_users.router,
]


async def health(request: Request) -> Response:
    async def ping(session: AsyncSession) -> None:
        await session.execute(text("SELECT 1"))

    try:
        await run_in_transaction(request, ping)
    except Exception as exc:  # any failure to reach the database means unhealthy
        return JSONResponse(
            {"status": "unavailable", "database": type(exc).__name__}, status_code=503
        )
    return JSONResponse({"status": "ok", "database": "reachable"})


async def openapi(request: Request) -> Response:
    return JSONResponse(request.app.state.openapi)


def create_app(
    settings: Settings | None = None,
    *,
    sessionmaker: async_sessionmaker[AsyncSession] | None = None,
) -> Starlette:
    """The app. Without a `sessionmaker` it builds its engine (and the live relay) in its
    lifespan; with one (the tests', a tool's) it uses that and connects nothing itself."""
    settings = settings or Settings.from_environment()
    referrals.when_closed(invitations.withdraw)  # a closed referral's invitation is not sent
    token_cache = auth_cache.TokenCache()
    clinic_days = placement.ClinicDays()
    # Each per-process cache by the channel its tables' triggers NOTIFY on.
    caches: dict[str, NotifiedCache[Any, Any]] = {
        auth_cache.CHANNEL: token_cache,
        placement.CLINIC_CHANNEL: clinic_days,
    }
    app = Starlette(
        routes=routes(),
        middleware=middleware(settings),
        exception_handlers=error_handlers(),
        lifespan=lifespan(settings, caches, owns_engine=sessionmaker is None),
    )
    app.state.settings = settings
    app.state.token_cache = token_cache
    app.state.clinic_days = clinic_days
    app.state.sessionmaker = sessionmaker
    app.state.openapi = build_document(
        [op for router in ROUTERS for op in router.operations],
        version=version("bay-telehealth"),
        public_paths=invite_file.OPENAPI_PATHS | calendar_endpoints.OPENAPI_PATHS,
    )
    return app


def routes() -> list[BaseRoute]:
    """Every route: the API's operations, then the pages of each feature."""
    return [
        Route("/health", health, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        *(route for router in ROUTERS for route in router.routes()),
        *front_door.routes(),
        *manage_pages.routes(),
        *lookup_pages.routes(),
        *join_pages.routes(),
        *invite_file.routes(),
        *calendar_endpoints.routes(),
        *staff.routes(),
        *clinic_pages.routes(),
        *outbox_pages.routes(),
        *referral_pages.routes(),
        *worklist_pages.routes(),
        *patient_pages.routes(),
        *appointment_pages.routes(),
        *new_booking_pages.routes(),
        *rebook_pages.routes(),
        *travel_pages.routes(),
        *travel_export.routes(),
        *admin_sites.routes(),
        *admin_services.routes(),
        *admin_clinicians.routes(),
        *admin_users.routes(),
        *availability_pages.routes(),
        *booking_pages.routes(),
        *change_pages.routes(),
        *asset_mount(),
    ]


def middleware(settings: Settings) -> list[Middleware]:
    """The staff pages' signed session cookie."""
    return [
        Middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie="telehealth_staff",
            same_site="lax",
            https_only=not settings.is_development,
            max_age=12 * 60 * 60,
        )
    ]


def lifespan(
    settings: Settings, caches: dict[str, NotifiedCache[Any, Any]], *, owns_engine: bool
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """The process's resources: its engine and, on PostgreSQL, the live-updates relay."""

    @asynccontextmanager
    async def run(app: Starlette) -> AsyncIterator[None]:
        if not owns_engine:
            yield
            return
        engine = create_engine(settings.database_url, **settings.engine_options)
        app.state.sessionmaker = make_sessionmaker(engine)
        relay = await _start_relay(settings, caches) if _is_postgres(engine) else None
        # Everything imported and built so far lives for the whole process: keep it out of the
        # garbage collector's full passes, which otherwise pause large slot searches.
        gc.freeze()
        try:
            yield
        finally:
            for cache in caches.values():
                cache.live_when(lambda: False)
            if relay is not None:
                await relay.stop()
            await engine.dispose()

    return run


def _is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


async def _start_relay(
    settings: Settings, caches: dict[str, NotifiedCache[Any, Any]]
) -> live.PostgresRelay:
    # Live updates from every process reach this one's waiting rooms and screens, and each
    # cache's invalidations the cache, which is used only while they can arrive.
    def invalidate_all() -> None:
        for cache in caches.values():
            cache.invalidate()

    relay = live.PostgresRelay(
        asyncpg_dsn(settings.database_url),
        also={channel: cache.invalidate for channel, cache in caches.items()},
        on_gap=invalidate_all,
    )
    await relay.start()
    for cache in caches.values():
        cache.live_when(lambda: relay.listening)
    return relay


try:
    app = create_app()
except ValueError as exc:  # a setting the operator must fix: one line, not a traceback
    raise SystemExit(f"telehealth: cannot start: {exc}") from None
