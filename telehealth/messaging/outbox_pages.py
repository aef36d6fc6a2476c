"""The staff outbox page: what was sent, what is waiting, and what failed (with a retry)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from notifications.models import OutboxMessage, OutboxStatus
from scheduling.access import scope_of
from scheduling.models import Appointment
from telehealth.kernel import audit
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.config import Settings
from telehealth.kernel.db import sessionmaker_of, utcnow
from telehealth.kernel.errors import NotFound
from telehealth.kernel.inputs import path_id, refuse_nul
from telehealth.kernel.web.staff import check_csrf, page_context, roles_for, signed_in
from telehealth.kernel.web.templating import templates

ROLES = roles_for("/staff/outbox")
PAGE = 100


async def _visible(session: AsyncSession, user: StaffUser) -> ColumnElement[bool]:
    """Messages about appointments this member of staff may see (`scheduling.access`)."""
    scope = await scope_of(session, user)
    if scope.everyone:
        return true()
    return OutboxMessage.appointment_id.in_(select(Appointment.id).where(scope.appointments()))


async def outbox_page(request: Request) -> Response:
    refuse_nul(dict(request.query_params))
    status = request.query_params.get("status") or None
    errors: dict[str, str] = {}
    if status not in (None, *OutboxStatus):
        # A status nobody offers (a hand-edited link) is named, not quietly shown as "all".
        errors["status"] = "Choose a status from the list: " + _listed(
            [s.value for s in OutboxStatus]
        )
        status = None
    page = _page_number(request.query_params.get("page"), errors)
    settings: Settings = request.app.state.settings
    async with sessionmaker_of(request)() as session, session.begin():
        user = await signed_in(request, session, ROLES)
        theirs = await _visible(session, user)
        statement = (
            select(OutboxMessage)
            .where(theirs)
            .order_by(OutboxMessage.id.desc())
            .limit(PAGE)
            .offset((page - 1) * PAGE)
        )
        if status:
            statement = statement.where(OutboxMessage.status == status)
        messages = list(await session.scalars(statement))
        counts = dict(
            (
                await session.execute(
                    select(OutboxMessage.status, func.count())
                    .where(theirs)
                    .group_by(OutboxMessage.status)
                )
            ).all()
        )
        await audit.record(
            session,
            actor_user_id=user.id,
            action="outbox.view",
            entity_type="outbox",
            entity_id=None,
            detail={"status": status, "page": page},
        )
    total = counts.get(status, 0) if status else sum(counts.values())
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
            page=page,
            first=(page - 1) * PAGE + 1,
            last=(page - 1) * PAGE + len(messages),
            total=total,
            more=page * PAGE < total,
            errors=errors,
            folder=None if settings.smtp_host else settings.outbox_dir,
        ),
        status_code=422 if errors else 200,
    )


def _page_number(raw: str | None, errors: dict[str, str]) -> int:
    """Which hundred messages to show (newest first): a page past the end is simply empty."""
    if not raw:
        return 1
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= 100_000:
        return int(raw)
    errors["page"] = "Page must be a whole number from 1 to 100000"
    return 1


def _listed(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1]


async def message_page(request: Request) -> Response:
    async with sessionmaker_of(request)() as session, session.begin():
        user = await signed_in(request, session, ROLES)
        message = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.id == path_id(request, "id"), await _visible(session, user)
            )
        )
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
    refuse_nul(await check_csrf(request))
    async with sessionmaker_of(request)() as session, session.begin():
        user = await signed_in(request, session, ROLES)
        message_id = path_id(request, "id")
        visible = await session.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.id == message_id, await _visible(session, user)
            )
        )
        if visible is None:
            raise NotFound("no such message")
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == OutboxStatus.FAILED.value,
            )
            .values(status=OutboxStatus.PENDING.value, attempts=0, next_attempt_at=utcnow())
        )
    return RedirectResponse("/staff/outbox?status=failed", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/staff/outbox", outbox_page, methods=["GET"]),
        # `{id}`, not `{id:int}`: path_id gives a number out of range the same 422 as the API.
        Route("/staff/outbox/{id}", message_page, methods=["GET"]),
        Route("/staff/outbox/{id}/retry", retry, methods=["POST"]),
    ]
