"""The state of a patient's journey (booking from a referral, or changing an appointment)
between its pages: the answers given so far.

Where it lives, and why: in a signed cookie, never in process memory. Several app processes
serve one patient (a page may come from one and its form's POST reach another), so memory in
one process would lose the answers; a table would work but write on every step for a journey
most patients finish in minutes. The cookie is

- signed (itsdangerous, with the app's secret and a salt of its own): a patient cannot forge
  or alter an answer they were not offered, and every answer is checked again when the
  appointment is booked (placement, the database's constraints);
- bound to one journey: it carries the referral's (or appointment's) id and is path-scoped to
  the journey (`/book/{token}` or `/manage/{token}/change`), so two referrals open in two
  tabs keep their answers apart, and nothing is sent to the rest of the site;
- short-lived (`MAX_AGE`), HttpOnly, SameSite=Lax, Secure outside development.

No CSRF token is needed on these forms: the personal link in the path is the only credential,
and a page from another site that knew it could simply open it. A cross-site POST arrives
without the SameSite=Lax cookie, so it has no answers to book with.

A page without JavaScript reads and writes the same cookie: nothing depends on script.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from telehealth.kernel.config import Settings
from telehealth.kernel.inputs import holds_nul, refuse_nul

COOKIE = "bt_journey"
SALT = "telehealth.patient-journey"
# Long enough to find a diary and ask someone; short enough that a shared computer forgets.
MAX_AGE = 4 * 60 * 60

Answers = dict[str, Any]


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=SALT)


def read(request: Request, *, key: str) -> Answers:
    """The answers of journey `key` ("referral:12", "appointment:40"); none when the cookie is
    missing, tampered with, too old or another journey's."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return {}
    settings: Settings = request.app.state.settings
    try:
        value = _serializer(settings).loads(raw, max_age=MAX_AGE)
    except BadSignature:  # also SignatureExpired
        return {}
    if not isinstance(value, dict) or value.get("key") != key:
        return {}
    answers = value.get("answers")
    if not isinstance(answers, dict):
        return {}
    # An answer with a NUL (kept by a cookie from before the forms refused one) would fail
    # the booking on PostgreSQL however often it is retried: it is asked again instead.
    return {name: given for name, given in answers.items() if not holds_nul([name, given])}


def save(response: Response, request: Request, *, key: str, path: str, answers: Answers) -> None:
    # Every form refuses a NUL before its answer gets here: this is the last guard, a 422.
    refuse_nul(answers, name="journey")
    settings: Settings = request.app.state.settings
    response.set_cookie(
        COOKIE,
        _serializer(settings).dumps({"key": key, "answers": answers}),
        max_age=MAX_AGE,
        path=path,
        httponly=True,
        samesite="lax",
        secure=not settings.is_development,
    )


def forget(response: Response, *, path: str) -> None:
    response.delete_cookie(COOKIE, path=path)


# What depends on what: changing an answer drops the answers chosen from it (another way of
# being seen has other hubs, days and times), and keeps the rest.
DEPENDS = {
    "mode": ("site_id", "day", "slot"),
    "site_id": ("day", "slot"),
    "day": ("slot",),
}


def answer(answers: Answers, name: str, value: Any) -> Answers:
    """`answers` with `name` set; the answers that followed from its old value go."""
    changed = dict(answers)
    if changed.get(name) != value:
        for dependent in DEPENDS.get(name, ()):
            changed.pop(dependent, None)
    changed[name] = value
    return changed
