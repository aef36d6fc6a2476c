"""The staff outbox page: what was sent, what is waiting, and what failed (with a retry)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from notifications.models import OutboxStatus
from telehealth.kernel import audit
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.config import Settings
from telehealth.kernel.errors import NotFound
from telehealth.kernel.inputs import path_id, refuse_nul
from telehealth.kernel.transactions import run_in_transaction, transactional
from telehealth.kernel.web.staff import check_csrf, page_context, roles_for, signed_in
from telehealth.kernel.web.templating import templates
from telehealth.messaging import outbox_view
from telehealth.messaging.outbox_view import PAGE

ROLES = roles_for("/staff/outbox")


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

    async def read(session: AsyncSession) -> tuple[StaffUser, outbox_view.Listing]:
        user = await signed_in(request, session, ROLES)
        found = await outbox_view.listing(session, user, status=status, page=page)
        await audit.record(
            session,
            actor_user_id=user.id,
            action="outbox.view",
            entity_type="outbox",
            entity_id=None,
            detail={"status": status, "page": page},
        )
        return user, found

    user, found = await run_in_transaction(request, read)
    messages, counts = found.messages, found.counts
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


@transactional
async def message_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    message = await outbox_view.visible_message(session, user, path_id(request, "id"))
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

    async def send_again(session: AsyncSession) -> None:
        user = await signed_in(request, session, ROLES)
        if not await outbox_view.retry_failed(session, user, path_id(request, "id")):
            raise NotFound("no such message")

    await run_in_transaction(request, send_again)
    return RedirectResponse("/staff/outbox?status=failed", status_code=303)


def routes() -> list[Route]:
    return [
        Route("/staff/outbox", outbox_page, methods=["GET"]),
        # `{id}`, not `{id:int}`: path_id gives a number out of range the same 422 as the API.
        Route("/staff/outbox/{id}", message_page, methods=["GET"]),
        Route("/staff/outbox/{id}/retry", retry, methods=["POST"]),
    ]
