"""Whose availability a page shows, and whether the signed-in user may change it: a clinician
their own (the clinician record their login is linked to), an admin anyone's (chosen with
`?clinician_id=`); a navigator may look, to rebook, but not change it (as in the API)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from scheduling.models import Clinician
from telehealth.kernel.auth.models import Role, StaffUser
from telehealth.kernel.errors import Forbidden, InvalidInput, NotFound
from telehealth.kernel.inputs import check_id

PATH = "/staff/availability"


@dataclass(frozen=True, slots=True)
class Whose:
    clinician: Clinician
    may_change: bool
    # What each link and form carries so the page stays on this clinician ("" for one's own).
    query: str
    field: str

    def url(self, path: str = "", **params: str) -> str:
        query = "&".join([*(f"{k}={v}" for k, v in params.items()), *filter(None, [self.query])])
        return f"{PATH}{path}" + (f"?{query}" if query else "")


async def whose(
    request: Request, session: AsyncSession, user: StaffUser, form: dict[str, str] | None = None
) -> Whose | None:
    """The clinician the page is about; None when an admin or navigator has not chosen one."""
    if user.role == Role.CLINICIAN:
        own = await session.scalar(select(Clinician).where(Clinician.user_id == user.id))
        if own is None:
            raise Forbidden(
                "your account is not linked to a clinician record: ask an admin to link it"
            )
        return Whose(own, may_change=True, query="", field="")
    text = (form or {}).get("clinician_id") or request.query_params.get("clinician_id", "")
    if not text:
        return None
    try:
        clinician_id = check_id(int(text))
    except ValueError:
        raise InvalidInput.field("clinician_id", f"{text!r} is not a clinician's id") from None
    found = await session.get(Clinician, clinician_id)
    if found is None:  # a valid id that names nothing, as everywhere else
        raise NotFound(f"no clinician with id {clinician_id}")
    return Whose(
        found,
        may_change=user.role == Role.ADMIN,
        query=f"clinician_id={found.id}",
        field=str(found.id),
    )


def require_change(who: Whose | None) -> Whose:
    if who is None:
        raise InvalidInput.field("clinician_id", "choose a clinician")
    if not who.may_change:
        raise Forbidden("only the clinician or an admin can change their availability")
    return who
