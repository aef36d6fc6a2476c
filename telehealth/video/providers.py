"""Video providers behind one small interface, chosen by configuration.

A provider is told only a room name and a display name: never an NHS number, a date of birth
or an address. Room names are random (see `scheduling.booking.new_video_room`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import quote, urlencode

import jwt

from telehealth.kernel.config import Settings

TOKEN_LIFETIME = timedelta(hours=2)
CLOCK_SKEW = timedelta(minutes=5)
# HS256 keys shorter than the hash are weak; PyJWT refuses them too.
MIN_SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class Participant:
    id: str  # an opaque id, e.g. "patient-12" or "staff-3"
    display_name: str
    moderator: bool
    email: str | None = None


class VideoProvider(Protocol):
    @property
    def name(self) -> str: ...

    def join_url(self, room: str, participant: Participant, *, now: datetime) -> str: ...


@dataclass(frozen=True, slots=True)
class JitsiProvider:
    """Jitsi Meet. With an app id and secret, every URL carries a short-lived HS256 JWT
    (lib-jitsi-meet's token format); without them, plain room URLs (open rooms)."""

    base_url: str
    app_id: str = ""
    app_secret: str = ""
    audience: str = "jitsi"
    subject: str = "*"
    name: str = "jitsi"

    def token(self, room: str, participant: Participant, *, now: datetime) -> str:
        user: dict[str, object] = {
            "id": participant.id,
            "name": participant.display_name,
            "moderator": participant.moderator,
        }
        if participant.email:
            user["email"] = participant.email
        claims = {
            "iss": self.app_id,
            "aud": self.audience,
            "sub": self.subject,
            "room": room,
            "nbf": int((now - CLOCK_SKEW).timestamp()),
            "exp": int((now + TOKEN_LIFETIME).timestamp()),
            "context": {"user": user},
            "moderator": participant.moderator,
        }
        return jwt.encode(claims, self.app_secret, algorithm="HS256")

    def join_url(self, room: str, participant: Participant, *, now: datetime) -> str:
        url = f"{self.base_url}/{quote(room)}"
        if self.app_id and self.app_secret:
            url += "?" + urlencode({"jwt": self.token(room, participant, now=now)})
        # Jitsi reads the display name from the URL fragment when there is no token.
        return url + "#" + urlencode({"userInfo.displayName": f'"{participant.display_name}"'})


@dataclass(frozen=True, slots=True)
class LinkTemplateProvider:
    """A platform reached by URL (an Attend Anywhere waiting area, a Teams meeting template):
    `{room}` and `{name}` in the template are filled in, URL-encoded."""

    template: str
    name: str = "link"

    def join_url(self, room: str, participant: Participant, *, now: datetime) -> str:
        return self.template.format(room=quote(room), name=quote(participant.display_name))


def provider_from(settings: Settings) -> VideoProvider:
    if settings.video_provider == "link":
        if "{room}" not in settings.video_link_template:
            raise RuntimeError("VIDEO_LINK_TEMPLATE must contain {room}")
        return LinkTemplateProvider(settings.video_link_template)
    if settings.video_provider == "jitsi":
        if settings.jitsi_app_secret and len(settings.jitsi_app_secret.encode()) < MIN_SECRET_BYTES:
            raise RuntimeError(f"JITSI_APP_SECRET must be at least {MIN_SECRET_BYTES} bytes")
        return JitsiProvider(
            base_url=settings.jitsi_base_url,
            app_id=settings.jitsi_app_id,
            app_secret=settings.jitsi_app_secret,
            audience=settings.jitsi_audience,
            subject=settings.jitsi_subject,
        )
    raise RuntimeError(f"unknown VIDEO_PROVIDER {settings.video_provider!r} (jitsi or link)")
