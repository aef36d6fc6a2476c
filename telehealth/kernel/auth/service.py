"""Staff users and API tokens. Services flush; the caller commits."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from telehealth.kernel import audit
from telehealth.kernel.auth.cache import Principal, TokenCache
from telehealth.kernel.auth.models import ROLE_VALUES, ApiToken, Role, StaffUser
from telehealth.kernel.auth.passwords import hash_password, verify_password
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import Conflict, InvalidInput, NotFound, Unauthenticated

TOKEN_PREFIX = "bth_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _role(role: str) -> str:
    if role not in ROLE_VALUES:
        raise InvalidInput.field("role", f"must be one of {', '.join(ROLE_VALUES)}")
    return role


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput.field("name", "must be 1 to 200 characters")
    return name


def _password_hash(password: str) -> str:
    try:
        return hash_password(password)
    except ValueError as exc:
        raise InvalidInput.field("password", str(exc)) from exc


async def create_user(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    role: str,
    password: str | None,
    actor_user_id: int | None = None,
) -> StaffUser:
    role = _role(role)
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput.field("email", "is not an email address")
    password_hash = _password_hash(password) if password else None
    user = StaffUser(email=email, name=_name(name), role=role, password_hash=password_hash)
    try:
        async with session.begin_nested():
            session.add(user)
    except IntegrityError as exc:
        raise Conflict(f"a user with email {email} already exists", code="email_taken") from exc
    await audit.record(
        session,
        actor_user_id=actor_user_id,
        action="user.create",
        entity_type="staff_user",
        entity_id=user.id,
        detail={"email": email, "role": role},
    )
    return user


async def get_user(session: AsyncSession, user_id: int) -> StaffUser:
    user = await session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    return user


async def list_users(
    session: AsyncSession, *, email: str | None = None, role: str | None = None
) -> list[StaffUser]:
    statement = select(StaffUser).order_by(StaffUser.name, StaffUser.id)
    if email:
        statement = statement.where(StaffUser.email == email.strip().lower())
    if role:
        statement = statement.where(StaffUser.role == role)
    return list(await session.scalars(statement))


class LoginLinked(Conflict):
    code = "login_linked"


async def update_user(
    session: AsyncSession,
    user: StaffUser,
    *,
    name: str | None = None,
    role: str | None = None,
    active: bool | None = None,
    actor_user_id: int | None,
    linked_clinician_id: int | None = None,
) -> dict[str, dict[str, object]]:
    """Change a user's name, role or whether they are active (checked as on create), and
    audit it; returns what changed, before and after. Deactivating revokes their API tokens
    and ends their page sessions, which reload the user on every request; the token cache
    hears of both from the database (migration 0008). `linked_clinician_id`: the clinician
    record this login is linked to, which only a clinician's login may be."""
    after: dict[str, object] = {}
    if name is not None:
        after["name"] = _name(name)
    if role is not None:
        after["role"] = _role(role)
    if active is not None:
        after["active"] = active
    changes = {
        field: {"before": getattr(user, field), "after": value}
        for field, value in after.items()
        if getattr(user, field) != value
    }
    if not changes:
        return changes
    _refuse_lockout_or_unlinking(
        user, changes, actor_user_id=actor_user_id, linked_clinician_id=linked_clinician_id
    )
    for field, change in changes.items():
        setattr(user, field, change["after"])
    await session.flush()
    if changes.get("active", {}).get("after") is False:
        await revoke_tokens(session, user=user)
    await audit.record(
        session,
        actor_user_id=actor_user_id,
        action="user.update",
        entity_type="staff_user",
        entity_id=user.id,
        detail={"changes": changes},
    )
    return changes


def _refuse_lockout_or_unlinking(
    user: StaffUser,
    changes: dict[str, dict[str, object]],
    *,
    actor_user_id: int | None,
    linked_clinician_id: int | None,
) -> None:
    if actor_user_id == user.id and ("role" in changes or "active" in changes):
        # An admin locking themselves out leaves nobody to undo it.
        raise Conflict(
            "you cannot change your own role or deactivate yourself: ask another admin",
            code="own_account",
        )
    role = changes.get("role", {}).get("after")
    if role is not None and linked_clinician_id is not None and role != Role.CLINICIAN:
        raise LoginLinked(
            f"user {user.id} is linked to clinician {linked_clinician_id}, which only a "
            f"clinician's login may be: unlink it first (PATCH /api/v1/clinicians/"
            f"{linked_clinician_id} with user_id null)"
        )


async def set_password(
    session: AsyncSession, user: StaffUser, *, password: str | None, actor_user_id: int | None
) -> str | None:
    """Set the user's password (checked as on create), or a generated one when none is given,
    which is returned: the one chance to see it. Audited without either."""
    generated = None if password else secrets.token_urlsafe(12)
    user.password_hash = _password_hash(password or generated or "")
    await session.flush()
    await audit.record(
        session,
        actor_user_id=actor_user_id,
        action="user.password_reset",
        entity_type="staff_user",
        entity_id=user.id,
        detail={"generated": generated is not None},
    )
    return generated


async def user_by_email(session: AsyncSession, email: str) -> StaffUser:
    user = await session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no user with email {email}")
    return user


async def authenticate_password(session: AsyncSession, *, email: str, password: str) -> StaffUser:
    user = await session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None or not user.active or not verify_password(user.password_hash, password):
        raise Unauthenticated("email or password is wrong")
    return user


async def create_token(session: AsyncSession, *, user: StaffUser, name: str = "") -> str:
    """A new bearer token; only its hash is stored, so this is the one chance to see it."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(user_id=user.id, token_hash=hash_token(token), prefix=token[:12], name=name)
    )
    await session.flush()
    return token


# Built once: every API request that misses the cache runs it.
_PRINCIPAL_BY_TOKEN = (
    select(StaffUser.id, StaffUser.email, StaffUser.name, StaffUser.role)
    .join(ApiToken, ApiToken.user_id == StaffUser.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        StaffUser.active.is_(True),
    )
)


async def authenticate_token(
    session: AsyncSession, token: str, cache: TokenCache | None = None
) -> Principal:
    token_hash = hash_token(token)
    if cache is not None:
        found = cache.get(token_hash)
        if found is not None:
            return found
        generation = cache.generation
    row = (await session.execute(_PRINCIPAL_BY_TOKEN, {"token_hash": token_hash})).first()
    if row is None:
        raise Unauthenticated("the bearer token is unknown or revoked")
    principal = Principal(row.id, row.email, row.name, row.role)
    if cache is not None:
        cache.put(token_hash, principal, generation)
    return principal


async def revoke_tokens(
    session: AsyncSession, *, user: StaffUser, prefix: str | None = None
) -> int:
    statement = update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    if prefix:
        statement = statement.where(ApiToken.prefix == prefix)
    result = await session.execute(statement.values(revoked_at=utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]
