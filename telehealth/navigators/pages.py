"""What every navigator page shares: rendering (a 422 titled "Error: ..." when there are
errors), reading a posted form (CSRF checked, NUL refused), and finding patients (only those
the navigator may see, the search audited)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from scheduling import patients
from scheduling.access import Access
from scheduling.models import Patient
from scheduling.schemas import PatientQuery
from telehealth.kernel.auth.models import Role, StaffUser
from telehealth.kernel.inputs import refuse_nul
from telehealth.kernel.web.staff import check_csrf, page_context, signed_in
from telehealth.kernel.web.templating import templates
from telehealth.navigators import referral_form as rf


def render(
    request: Request,
    user: StaffUser,
    template: str,
    title: str,
    *,
    errors: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """A navigator page; with errors, a 422 titled "Error: ..." with the summary's links."""
    errors = errors or {}
    return templates.TemplateResponse(
        request,
        f"navigators/{template}",
        page_context(
            request,
            user,
            title=("Error: " if errors else "") + title,
            errors=errors,
            error_list=[{"text": text, "href": f"#{target}"} for target, text in errors.items()],
            **extra,
        ),
        status_code=422 if errors else 200,
    )


async def form_of(request: Request) -> dict[str, str]:
    form = await check_csrf(request)
    refuse_nul(form)
    return form


async def find_patients(
    session: AsyncSession, user: StaffUser, search: rf.Search, *, limit: int
) -> list[Patient]:
    """The patients matching a valid search that this navigator may see; the search audited
    with the ids it found."""
    access = Access(session, user)
    query = PatientQuery(
        nhs_number=search.nhs_number,
        family_name=search.family_name,
        date_of_birth=search.date_of_birth,
        limit=limit,
    )
    found = await patients.search_patients(session, query, among=await access.patients_where())
    await access.audit("patient.search", "patient", None, {"ids": [p.id for p in found]})
    return found


async def patient_search(
    request: Request,
    session: AsyncSession,
    roles: Sequence[Role],
    *,
    template: str,
    title: str,
    limit: int,
    found_title: str | None = None,
    **found_extra: Any,
) -> Response:
    """A posted patient search on `template`: its errors, else the matches (titled
    `found_title` where the page then asks something else of them)."""
    form = await form_of(request)
    user = await signed_in(request, session, roles)
    search = rf.read_search(form)
    if search.errors:
        return render(request, user, template, title, errors=search.errors, form=form)
    found = await find_patients(session, user, search, limit=limit)
    return render(
        request, user, template, found_title or title, form=form, found=found, **found_extra
    )
