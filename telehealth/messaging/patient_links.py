"""The patient's personal links, which messages carry and the patient pages read: signed, not
stored, each for one thing and with an expiry written into it.

    /book/{token}    the booking link in a referral's invitation: this referral only (its
                     patient and service); once the referral is booked it leads to "manage"
                     (the referral row says so, not the token, so a used link cannot book again)
    /manage/{token}  "Manage your appointment" in every message about an appointment, and the
                     fresh link the lost-link lookup sends

A token is [id, expiry day] signed with the app's secret and a salt of its own, so a booking
token is never taken for a manage token (or a join or invite token) and a link cannot be
stretched past its expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from telehealth.kernel.config import Settings

BOOKING_SALT = "telehealth.booking-link"
MANAGE_SALT = "telehealth.manage-link"
# An invitation stays usable for four weeks; the navigator's worklist shows invitations not
# taken up well before then.
BOOKING_LINK_DAYS = 28
# A manage link outlives the appointment it was sent for (a patient looks back at it); the
# lost-link lookup sends a fresh one.
MANAGE_LINK_DAYS = 180

_EPOCH = date(2000, 1, 1)


@dataclass(frozen=True, slots=True)
class LinkClaim:
    id: int
    expires_on: date

    def expired(self, today: date) -> bool:
        return today > self.expires_on


def _dumps(settings: Settings, salt: str, id_: int, expires_on: date) -> str:
    return URLSafeSerializer(settings.secret_key, salt=salt).dumps(
        [id_, (expires_on - _EPOCH).days]
    )


def _loads(settings: Settings, salt: str, token: str) -> LinkClaim | None:
    """The claim, or None for anything tampered, truncated or of another kind."""
    try:
        value = URLSafeSerializer(settings.secret_key, salt=salt).loads(token)
    except BadSignature:
        return None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return None
    try:
        expires_on = _EPOCH + timedelta(days=value[1])
    except OverflowError:
        return None
    return LinkClaim(id=value[0], expires_on=expires_on)


def booking_expiry(issued_on: date, see_by: date | None = None) -> date:
    """The last day a booking link works: BOOKING_LINK_DAYS after it is sent, and never
    before the date the referral says the patient should be seen by (an invitation that
    stopped working while the patient still had time to book would send them to the phone)."""
    expires_on = issued_on + timedelta(days=BOOKING_LINK_DAYS)
    return max(expires_on, see_by) if see_by is not None else expires_on


def booking_token(
    settings: Settings, referral_id: int, *, issued_on: date, see_by: date | None = None
) -> str:
    return _dumps(settings, BOOKING_SALT, referral_id, booking_expiry(issued_on, see_by))


def read_booking_token(settings: Settings, token: str) -> LinkClaim | None:
    return _loads(settings, BOOKING_SALT, token)


def booking_url(
    settings: Settings, referral_id: int, *, issued_on: date, see_by: date | None = None
) -> str:
    token = booking_token(settings, referral_id, issued_on=issued_on, see_by=see_by)
    return f"{settings.public_base_url}/book/{token}"


def manage_token(settings: Settings, appointment_id: int, *, issued_on: date) -> str:
    return _dumps(
        settings, MANAGE_SALT, appointment_id, issued_on + timedelta(days=MANAGE_LINK_DAYS)
    )


def read_manage_token(settings: Settings, token: str) -> LinkClaim | None:
    return _loads(settings, MANAGE_SALT, token)


def manage_url(settings: Settings, appointment_id: int, *, issued_on: date) -> str:
    token = manage_token(settings, appointment_id, issued_on=issued_on)
    return f"{settings.public_base_url}/manage/{token}"
