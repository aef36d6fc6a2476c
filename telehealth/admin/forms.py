"""What every admin page shares: the posted form read (CSRF checked, NUL refused) with the admin
posting it, the row a page is about, the fields a form actually changes, a refusal from the
directory's services (`InvalidInput`, `Conflict`, pydantic's `ValidationError`) as the form's
field errors, and the page rendered (titled "Error: ..." when there are errors).

The services name the fields as the API does; each form says how its own fields are labelled
(and, where they differ, how the service's names map back), so one refusal reads the same on
every admin page: "Postcode is not a valid UK postcode", linking to the postcode box."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import pydantic
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from scheduling import directory
from telehealth.kernel import audit
from telehealth.kernel.auth.models import Role, StaffUser
from telehealth.kernel.errors import Conflict, InvalidInput, NotFound
from telehealth.kernel.inputs import path_id, refuse_nul
from telehealth.kernel.validation import plain_fields
from telehealth.kernel.web.staff import check_csrf, page_context, signed_in
from telehealth.kernel.web.templating import templates

Refusal = InvalidInput | Conflict | pydantic.ValidationError
Row = TypeVar("Row")
# Pydantic's messages name their subject generically ("Input should be ...", "String should
# have ..."): the field's label takes its place ("Video rooms should be ...").
_GENERIC_SUBJECT = re.compile(r"^(?:Input|String|Value|List) (?=should )")


async def posted(
    request: Request, session: AsyncSession, roles: Sequence[Role]
) -> tuple[FormData, StaffUser]:
    """The posted form and who posted it: CSRF checked first, and a NUL in any value refused
    (PostgreSQL cannot store one: it would be a 500, not the 422 naming the field)."""
    await check_csrf(request)
    user = await signed_in(request, session, roles)
    form = await request.form()
    for name, value in form.multi_items():
        refuse_nul(str(value), name=name)
    return form, user


def texts(form: FormData, names: Iterable[str]) -> dict[str, str]:
    """The form's text fields as typed, without the spaces around them."""
    return {name: str(form.get(name, "")).strip() for name in names}


async def row_at(request: Request, session: AsyncSession, model: type[Row], name: str) -> Row:
    """The row whose id is the path's `name` ("site_id"), or a 404."""
    row_id = path_id(request, name)
    row = await session.get(model, row_id)
    if row is None:
        raise NotFound(f"no {model.__name__.lower()} with id {row_id}")
    return row


def changed(row: object, wanted: Mapping[str, Any]) -> dict[str, Any]:
    """The wanted values that differ from the row's: an unchanged form changes (and audits)
    nothing. Lists compare as lists (a JSON column may hand back another sequence)."""

    def now(name: str) -> Any:
        value = getattr(row, name)
        return list(value) if isinstance(wanted[name], list) else value

    return {name: value for name, value in wanted.items() if now(name) != value}


async def audited(
    session: AsyncSession,
    user: StaffUser,
    action: str,
    entity: tuple[str, int],
    detail: dict[str, Any],
) -> None:
    """Audit what the admin did to `entity` (its type and id): the services audit changes
    themselves, creations and rooms are audited by the pages."""
    entity_type, entity_id = entity
    await audit.record(
        session,
        actor_user_id=user.id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        detail=detail,
    )


def choices(rows: Iterable[Any], chosen: str) -> list[dict[str, Any]]:
    """Rows with an id and a name (organisations, sites) as a select's items, `chosen` (an id
    as typed) selected."""
    return [{"value": str(r.id), "text": r.name, "selected": str(r.id) == chosen} for r in rows]


async def organisation_choices(session: AsyncSession, chosen: str) -> list[dict[str, Any]]:
    """Every organisation as a select's items, for a new site, service or clinician."""
    return choices(await directory.list_organisations(session), chosen)


def status_of(refusal: Refusal) -> int:
    return 409 if isinstance(refusal, Conflict) else 422


def field_errors(
    refusal: Refusal,
    labels: Mapping[str, str],
    *,
    fallback: str,
    rename: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The refusal as the form's errors, each under the form field it blames (the service's
    name, or `rename`'s for it) and starting with that field's label. A field the form does
    not ask, or a refusal naming none (a duplicate name), is shown at `fallback`."""
    if isinstance(refusal, pydantic.ValidationError):
        # Labelled by the service's field names: the form's own, and those `rename` maps.
        named = {**labels, **{k: labels[v] for k, v in (rename or {}).items() if v in labels}}
        fields, summary = plain_fields(refusal, named), ""
    else:
        fields, summary = refusal.fields, refusal.message
    found: dict[str, str] = {}
    for name, message in fields.items():
        target = (rename or {}).get(name, name)
        if target not in labels:
            target = fallback
        label, message = labels[target], _GENERIC_SUBJECT.sub("", message)
        own = message.lower().startswith((name, label.lower(), "enter ", "select "))
        said = message if own else f"{label} {message}"
        found.setdefault(target, _sentence(said))
    return found or {fallback: _sentence(summary or "Check the values entered")}


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def render(
    request: Request,
    user: StaffUser,
    template: str,
    heading: str,
    *,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
    **extra: Any,
) -> Response:
    """An admin page (`templates/admin/<template>`): titled "Error: <heading>" when there are
    errors, which the template's error summary lists in the order given."""
    errors = dict(errors or {})
    return templates.TemplateResponse(
        request,
        f"admin/{template}",
        page_context(
            request,
            user,
            title=f"Error: {heading}" if errors else heading,
            heading=heading,
            errors=errors,
            **extra,
        ),
        status_code=status,
    )


Endpoint = Callable[[Request], Awaitable[Response]]


def directory_routes(
    path: str,
    listing: Endpoint,
    *,
    new: tuple[Endpoint, Endpoint],
    one: tuple[str, Endpoint, Endpoint],
) -> list[Route]:
    """The routes every admin page set has: the list, a new one (its form, then posted) and
    one of them (the path's id name; shown, then changed). "new" comes before "{id}", which
    would take it for an id."""
    (new_form, create), (id_name, page, change) = new, one
    return [
        Route(path, listing, methods=["GET"]),
        Route(f"{path}/new", new_form, methods=["GET"]),
        Route(f"{path}/new", create, methods=["POST"]),
        Route(f"{path}/{{{id_name}}}", page, methods=["GET"]),
        Route(f"{path}/{{{id_name}}}", change, methods=["POST"]),
    ]
