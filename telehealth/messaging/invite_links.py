"""The signed link to a patient's calendar invite (`/invite/{token}.ics`), which every message
carries; `invite_file` serves it. Signed, not stored: the token is the appointment id, so the
link always serves the appointment as it is now (moved, or cancelled), whichever message it
came in."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

from telehealth.kernel.config import Settings

INVITE_SALT = "telehealth.invite"


def invite_token(settings: Settings, appointment_id: int) -> str:
    return URLSafeSerializer(settings.secret_key, salt=INVITE_SALT).dumps(appointment_id)


def read_invite_token(settings: Settings, token: str) -> int | None:
    try:
        value = URLSafeSerializer(settings.secret_key, salt=INVITE_SALT).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def invite_url(settings: Settings, appointment_id: int) -> str:
    return f"{settings.public_base_url}/invite/{invite_token(settings, appointment_id)}.ics"
