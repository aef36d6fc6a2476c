"""Staff user administration through the API (admins only): accounts, their roles, whether
they are active, their passwords. A clinician's login is linked to their clinician record
from the record's side (PATCH /api/v1/clinicians/{id} with `user_id`); the accounts shown
here say which record each is linked to, and a linked login keeps the clinician role."""

from __future__ import annotations

from pydantic import BaseModel

from scheduling.directory import linked_clinician
from telehealth.kernel.api import ADMIN_ONLY, ApiRouter, Context
from telehealth.kernel.auth import service as auth
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.auth.schemas import (
    PasswordIn,
    PasswordOut,
    StaffUserIn,
    StaffUserOut,
    StaffUserPatch,
    UserQuery,
)
from telehealth.kernel.errors import InvalidInput
from telehealth.kernel.partial import sent
from telehealth.users.service import clinician_links

router = ApiRouter()


def _out(user: StaffUser, clinician_id: int | None) -> StaffUserOut:
    return StaffUserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        active=user.active,
        has_password=user.password_hash is not None,
        clinician_id=clinician_id,
        created_at=user.created_at,
    )


@router.operation(
    "GET",
    "/users",
    summary="List staff users",
    roles=ADMIN_ONLY,
    tag="users",
    query=UserQuery,
    response=list[StaffUserOut],
)
async def list_users(ctx: Context, query: UserQuery) -> list[StaffUserOut]:
    users = await auth.list_users(
        ctx.session, email=query.email, role=query.role.value if query.role else None
    )
    links = await clinician_links(ctx.session, [u.id for u in users])
    return [_out(u, links.get(u.id)) for u in users]


@router.operation(
    "POST",
    "/users",
    summary="Add a staff user",
    roles=ADMIN_ONLY,
    tag="users",
    body=StaffUserIn,
    response=StaffUserOut,
    status=201,
    errors=(409,),
)
async def create_user(ctx: Context, body: StaffUserIn) -> StaffUserOut:
    """A new clinician's login is then linked to their record with PATCH
    /api/v1/clinicians/{clinician_id} and `{"user_id": <this user's id>}`."""
    user = await auth.create_user(
        ctx.session,
        email=body.email,
        name=body.name,
        role=body.role.value,
        password=body.password,
        actor_user_id=ctx.user.id,
    )
    return _out(user, None)


@router.operation(
    "GET",
    "/users/{user_id}",
    summary="Read a staff user",
    roles=ADMIN_ONLY,
    tag="users",
    response=StaffUserOut,
    errors=(404,),
)
async def get_user(ctx: Context) -> StaffUserOut:
    user = await auth.get_user(ctx.session, ctx.path_int("user_id"))
    return _out(user, await linked_clinician(ctx.session, user.id))


@router.operation(
    "PATCH",
    "/users/{user_id}",
    summary="Change a staff user",
    roles=ADMIN_ONLY,
    tag="users",
    body=StaffUserPatch,
    response=StaffUserOut,
    errors=(404, 409),
)
async def update_user(ctx: Context, body: BaseModel) -> StaffUserOut:
    """Change a user's name or role, or deactivate them (`active: false`): their API tokens
    are revoked and their page sessions end at once. Reactivating does not bring tokens
    back. A login linked to a clinician record keeps the clinician role."""
    user = await auth.get_user(ctx.session, ctx.path_int("user_id"))
    changes = sent(body)
    for field in ("name", "role", "active"):
        if field in changes and changes[field] is None:
            raise InvalidInput.field(field, "must not be null")
    clinician_id = await linked_clinician(ctx.session, user.id)
    role = changes.get("role")
    await auth.update_user(
        ctx.session,
        user,
        name=changes.get("name"),
        role=role.value if role is not None else None,
        active=changes.get("active"),
        actor_user_id=ctx.user.id,
        linked_clinician_id=clinician_id,
    )
    return _out(user, clinician_id)


@router.operation(
    "POST",
    "/users/{user_id}/password",
    summary="Reset a staff user's password",
    roles=ADMIN_ONLY,
    tag="users",
    body=PasswordIn,
    response=PasswordOut,
    errors=(404,),
)
async def reset_password(ctx: Context, body: PasswordIn) -> PasswordOut:
    """Set the password given, or leave it out to have one generated: the answer shows a
    generated password this once, to pass to the user."""
    user = await auth.get_user(ctx.session, ctx.path_int("user_id"))
    generated = await auth.set_password(
        ctx.session, user, password=body.password, actor_user_id=ctx.user.id
    )
    return PasswordOut(user_id=user.id, password=generated)
