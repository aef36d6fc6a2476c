"""Staff users' request and response shapes for the admin API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from telehealth.kernel.auth.models import Role
from telehealth.kernel.auth.passwords import MIN_PASSWORD_LENGTH
from telehealth.kernel.partial import partial_of


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StaffUserIn(_Strict):
    """A staff account. Without a password it can use API tokens only (issued with the
    `telehealth tokens create` command); give it one later with the password operation."""

    email: Annotated[str, Field(min_length=3, max_length=254)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    role: Role
    password: (
        Annotated[str, Field(description=f"At least {MIN_PASSWORD_LENGTH} characters")] | None
    ) = None


StaffUserPatch = partial_of(
    StaffUserIn,
    name="StaffUserPatch",
    exclude=("email", "password"),
    extra={"active": bool},
    doc="A staff user's name, role or whether they are active; those left out stay as they "
    "are. `active: false` revokes their API tokens and signs them out of the pages.",
)


class StaffUserOut(BaseModel):
    id: int
    email: str
    name: str
    role: Role
    active: bool
    has_password: bool
    clinician_id: int | None = Field(description="The clinician record this login is linked to")
    created_at: datetime


class UserQuery(_Strict):
    email: Annotated[str, Field(max_length=254)] | None = None
    role: Role | None = None


class PasswordIn(_Strict):
    password: (
        Annotated[
            str,
            Field(
                description=f"The new password (at least {MIN_PASSWORD_LENGTH} characters); "
                "leave it out for a generated one"
            ),
        ]
        | None
    ) = None


class PasswordOut(BaseModel):
    user_id: int
    password: str | None = Field(
        description="The generated password, shown only this once (null when one was given)"
    )
