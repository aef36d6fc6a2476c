"""The staff outbox page: what was sent, what is waiting, and what failed (with a retry)."""

from __future__ import annotations

from sqlalchemy import func, select, update
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from notifications.models import OutboxMessage, OutboxStatus
from telehealth import audit
from telehealth.config import Settings
from telehealth.db import sessionmaker_of, utcnow
from telehealth.errors import NotFound
from telehealth.web.staff import check_csrf, page_context, roles_for, signed_in
from telehealth.web.templating import templates

ROLES = roles_for("/staff/outbox")
PAGE = 100


async def outbox_page(request: Request) -> Response:
    status = request.query_params.get("status") or None
    errors: dict[str, str] = {}
    if status not in (None, *OutboxStatus):
        # A status nobody offers (a hand-edited link) is named, not quietly shown as "all".
        errors["status"] = "Choose a status from the list: " + _listed(
            [s.value for s in OutboxStatus]
        )
        status = None
    settings: Settings = request.app.state.settings
    async with sessionmaker_of(request)() as session, session.begin():
        user = await signed_in(request, session, ROLES)
        statement = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(PAGE)
        if status:
            statement = statement.where(OutboxMessage.status == status)
        messages = list(await session.scalars(statement))
        counts = dict(
            (
                await session.execute(
                    select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                )
            ).all()
        )
        await audit.record(
            session,
            actor_user_id=user.id,
            action="outbox.view",
            entity_type="outbox",
            entity_id=None,
            detail={"status": status},
        )
    return templates.TemplateResponse(
        request,
        "staff/outbox.html",
        page_context(
            request,
            user,
            title="Error: Messages" if errors else "Messages",
            messages=messages,
            counts=counts,
            status=status,
            statuses=[s.value for s in OutboxStatus],
            errors=errors,
            folder=None if settings.smtp_host else settings.outbox_dir,
        ),
        status_code=422 if errors else 200,
    )


def _listed(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1]


async def message_page(request: Request) -> Response:
    async with sessionmaker_of(request)() as session, session.begin():
        user = await signed_in(request, session, ROLES)
        message = await session.get(OutboxMessage, int(request.path_params["id"]))
        if message is None:
            raise NotFound("no such message")
        await audit.record(
            session,
            actor_user_id=user.id,
            action="outbox.read",
            entity_type="outbox_message",
            entity_id=message.id,
        )
    return templates.TemplateResponse(
        request,
        "staff/outbox_message.html",
        page_context(request, user, title=message.subject or "SMS", message=message),
    )


async def retry(request: Request) -> Response:
    await check_csrf(request)
    async with sessionmaker_of(request)() as session, session.begin():
        await signed_in(request, session, ROLES)
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == int(request.path_params["id"]),
                OutboxMessage.status == OutboxStatus.FAILED.value,
            )
            .values(status=OutboxStatus.PENDING.value, attempts=0, next_attempt_at=utcnow())
        )
    return RedirectResponse("/staff/outbox?status=failed", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/staff/outbox", outbox_page, methods=["GET"]),
        Route("/staff/outbox/{id:int}", message_page, methods=["GET"]),
        Route("/staff/outbox/{id:int}/retry", retry, methods=["POST"]),
    ]
