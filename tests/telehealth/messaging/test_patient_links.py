"""Booking and manage links: each reads back as itself, expires when it says, and is never
taken for the other kind or for a tampered copy."""

from __future__ import annotations

from datetime import date, timedelta

from telehealth.messaging import patient_links as links
from tests.conftest import TEST_SETTINGS

TODAY = date(2027, 3, 2)


def test_a_booking_link_reads_back_with_its_expiry() -> None:
    token = links.booking_token(TEST_SETTINGS, 42, issued_on=TODAY)
    claim = links.read_booking_token(TEST_SETTINGS, token)
    assert claim is not None and claim.id == 42
    assert claim.expires_on == TODAY + timedelta(days=links.BOOKING_LINK_DAYS)
    assert not claim.expired(claim.expires_on)
    assert claim.expired(claim.expires_on + timedelta(days=1))


def test_a_booking_link_works_until_the_see_by_date_when_that_is_later() -> None:
    later = TODAY + timedelta(days=links.BOOKING_LINK_DAYS + 15)
    token = links.booking_token(TEST_SETTINGS, 42, issued_on=TODAY, see_by=later)
    claim = links.read_booking_token(TEST_SETTINGS, token)
    assert claim is not None and claim.expires_on == later
    sooner = TODAY + timedelta(days=3)  # an urgent referral: the usual four weeks still
    assert links.booking_expiry(TODAY, sooner) == TODAY + timedelta(days=links.BOOKING_LINK_DAYS)


def test_a_link_of_one_kind_is_not_a_link_of_the_other() -> None:
    booking = links.booking_token(TEST_SETTINGS, 7, issued_on=TODAY)
    manage = links.manage_token(TEST_SETTINGS, 7, issued_on=TODAY)
    assert links.read_manage_token(TEST_SETTINGS, booking) is None
    assert links.read_booking_token(TEST_SETTINGS, manage) is None
    assert links.read_manage_token(TEST_SETTINGS, manage) is not None


def test_tampered_truncated_and_foreign_tokens_read_as_nothing() -> None:
    token = links.manage_token(TEST_SETTINGS, 7, issued_on=TODAY)
    for bad in (token[:-2], token + "x", "", "not-a-token", token.replace(".", "..")):
        assert links.read_manage_token(TEST_SETTINGS, bad) is None


def test_urls_carry_the_public_base_url() -> None:
    url = links.manage_url(TEST_SETTINGS, 9, issued_on=TODAY)
    assert url.startswith(f"{TEST_SETTINGS.public_base_url}/manage/")
    assert links.read_manage_token(TEST_SETTINGS, url.rsplit("/", 1)[1]) is not None
