"""The navigators' worklist: open referrals waiting on someone (overdue or nearly, an
invitation not taken up, a patient who could not book online), most urgent first, each with
why, and the way to record a new referral."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduling import referrals
from telehealth.kernel.transactions import transactional
from telehealth.kernel.web.staff import page_context, roles_for, signed_in
from telehealth.kernel.web.templating import templates
from telehealth.navigators.referral_form import PRIORITIES

ROLES = roles_for("/staff/worklist")


@transactional
async def worklist_page(request: Request, session: AsyncSession) -> Response:
    user = await signed_in(request, session, ROLES)
    entries = await referrals.worklist(session, viewer=user)
    return templates.TemplateResponse(
        request,
        "navigators/worklist.html",
        page_context(request, user, title="Worklist", entries=entries, priorities=PRIORITIES),
    )


def routes() -> list[Route]:
    return [Route("/staff/worklist", worklist_page, methods=["GET"])]
