"""Video providers: Jitsi JWT claims, plain and templated links, and no patient identifiers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from telehealth.kernel.config import Settings
from telehealth.video.providers import (
    JitsiProvider,
    LinkTemplateProvider,
    Participant,
    provider_from,
)

SECRET = "a-jitsi-app-secret-of-at-least-32-bytes"
NOW = datetime.now(UTC)  # PyJWT checks nbf and exp against the real clock
CLINICIAN = Participant(
    id="staff-3", display_name="Dr Ada Hart", moderator=True, email="a@x.nhs.uk"
)
PATIENT = Participant(id="patient-12", display_name="Mary", moderator=False)


def _claims(url: str, secret: str = SECRET) -> dict[str, object]:
    token = parse_qs(urlsplit(url).query)["jwt"][0]
    return jwt.decode(token, secret, algorithms=["HS256"], audience="jitsi")


def test_jitsi_token_has_the_documented_claims() -> None:
    provider = JitsiProvider("https://meet.bay.example", app_id="bay", app_secret=SECRET)
    url = provider.join_url("bay-abc123", CLINICIAN, now=NOW)
    assert url.startswith("https://meet.bay.example/bay-abc123?jwt=")
    claims = _claims(url)
    assert claims["iss"] == "bay" and claims["aud"] == "jitsi" and claims["sub"] == "*"
    assert claims["room"] == "bay-abc123"
    assert claims["nbf"] <= NOW.timestamp() < claims["exp"]  # type: ignore[operator]
    assert claims["exp"] - NOW.timestamp() <= timedelta(hours=2).total_seconds()  # type: ignore[operator]
    user = claims["context"]["user"]  # type: ignore[index]
    assert user == {
        "id": "staff-3",
        "name": "Dr Ada Hart",
        "moderator": True,
        "email": "a@x.nhs.uk",
    }


def test_only_the_clinician_is_moderator() -> None:
    provider = JitsiProvider("https://meet.bay.example", app_id="bay", app_secret=SECRET)
    claims = _claims(provider.join_url("bay-abc123", PATIENT, now=NOW))
    assert claims["context"]["user"]["moderator"] is False  # type: ignore[index]
    assert "email" not in claims["context"]["user"]  # type: ignore[index]


def test_token_signed_with_another_secret_is_rejected() -> None:
    provider = JitsiProvider("https://meet.bay.example", app_id="bay", app_secret=SECRET)
    with pytest.raises(jwt.InvalidSignatureError):
        _claims(provider.join_url("bay-abc123", PATIENT, now=NOW), secret="w" * 40)


def test_expired_token_is_rejected() -> None:
    provider = JitsiProvider("https://meet.bay.example", app_id="bay", app_secret=SECRET)
    url = provider.join_url("bay-abc123", PATIENT, now=NOW - timedelta(hours=3))
    with pytest.raises(jwt.ExpiredSignatureError):
        _claims(url)


def test_without_credentials_jitsi_links_are_plain() -> None:
    url = JitsiProvider("https://meet.jit.si").join_url("bay-abc123", PATIENT, now=NOW)
    assert url.startswith("https://meet.jit.si/bay-abc123#")
    assert "jwt" not in url


def test_link_template_fills_and_encodes() -> None:
    provider = LinkTemplateProvider("https://aa.example/wait/{room}?name={name}")
    assert provider.join_url("bay-1", PATIENT, now=NOW) == "https://aa.example/wait/bay-1?name=Mary"


def test_provider_chosen_by_settings() -> None:
    assert isinstance(provider_from(Settings(video_provider="jitsi")), JitsiProvider)
    link = Settings(video_provider="link", video_link_template="https://x/{room}")
    assert isinstance(provider_from(link), LinkTemplateProvider)
    with pytest.raises(RuntimeError, match="must contain"):
        provider_from(Settings(video_provider="link", video_link_template="https://x/"))
    assert Settings().video_is_demo
    with pytest.raises(RuntimeError, match="at least 32"):
        provider_from(Settings(jitsi_app_id="bay", jitsi_app_secret="short"))
