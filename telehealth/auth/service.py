"""Staff users and API tokens. Services flush; the caller commits."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from telehealth.auth.cache import Principal, TokenCache
from telehealth.auth.models import ROLE_VALUES, ApiToken, StaffUser
from telehealth.auth.passwords import hash_password, verify_password
from telehealth.db import utcnow
from telehealth.errors import Conflict, InvalidInput, NotFound, Unauthenticated

TOKEN_PREFIX = "bth_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_user(
    session: AsyncSession, *, email: str, name: str, role: str, password: str | None
) -> StaffUser:
    if role not in ROLE_VALUES:
        raise InvalidInput.field("role", f"must be one of {', '.join(ROLE_VALUES)}")
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput.field("email", "is not an email address")
    try:
        password_hash = hash_password(password) if password else None
    except ValueError as exc:
        raise InvalidInput.field("password", str(exc)) from exc
    user = StaffUser(email=email, name=name.strip(), role=role, password_hash=password_hash)
    try:
        async with session.begin_nested():
            session.add(user)
    except IntegrityError as exc:
        raise Conflict(f"a user with email {email} already exists", code="email_taken") from exc
    return user


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
