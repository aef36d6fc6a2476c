"""Invitations to book: queued once per referral, to the channels the patient prefers, with a
booking link that reads back; a transaction that fails queues nothing and invites nobody."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import outbox
from notifications.models import OutboxMessage
from scheduling import referrals
from scheduling.referral_models import Referral
from telehealth.kernel.audit import AuditEvent
from telehealth.kernel.config import Settings
from telehealth.messaging import invitations
from telehealth.messaging.patient_links import read_booking_token
from tests.builders import make_patient, make_service, make_user
from tests.builders_referrals import make_referral
from tests.telehealth.video.test_clinic_pages import sign_in


async def _messages(session: AsyncSession) -> list[OutboxMessage]:
    return list(
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "invitation")
            .order_by(OutboxMessage.id)
        )
    )


async def test_an_invitation_is_queued_once_with_a_booking_link_that_reads_back(
    session: AsyncSession, settings: Settings
) -> None:
    service = await make_service(session)
    service.phone = "01524 555 0100"
    patient = await make_patient(session, nhs_number="9434765870")
    referral = await make_referral(
        session, patient=patient, service=service, see_by=date(2027, 3, 2), priority="urgent"
    )
    assert await invitations.invitations_from_referrals(session, settings) == 1
    await session.refresh(referral)
    assert referral.invited_at is not None
    [email] = await _messages(session)
    assert (email.channel, email.recipient, email.status) == ("email", patient.email, "pending")
    text = email.body_text or ""
    link = re.search(r"/book/(\S+)", text)
    assert link is not None
    claim = read_booking_token(settings, link.group(1))
    assert claim is not None and claim.id == referral.id
    # Four weeks, or until the see-by date when that is later: the link outlasts neither.
    assert claim.expires_on == max(date.today() + timedelta(days=28), date(2027, 3, 2))
    assert "Tuesday 2 March 2027" in text and "01524 555 0100" in text
    assert "urgent" in text and service.name in text
    assert email.subject and email.body_html and link.group(1) in email.body_html
    for secret in ("9434765870", "Palpitations", "1960", "17 May"):
        assert secret not in text and secret not in (email.body_html or ""), secret
    # Taken once: the next pass finds nobody to invite, and queues nothing more.
    assert await invitations.invitations_from_referrals(session, settings) == 0
    assert len(await _messages(session)) == 1


@pytest.mark.parametrize(("preference", "channels"), [("sms", ["sms"]), ("both", ["email", "sms"])])
async def test_the_invitation_goes_by_the_patients_preferred_channels(
    session: AsyncSession, settings: Settings, preference: str, channels: list[str]
) -> None:
    patient = await make_patient(session)
    patient.mobile, patient.contact_preference = "+447700900123", preference
    await make_referral(session, patient=patient)
    await invitations.invitations_from_referrals(session, settings)
    found = await _messages(session)
    assert [m.channel for m in found] == channels
    sms = next(m for m in found if m.channel == "sms")
    assert sms.recipient == "+447700900123" and "/book/" in (sms.body_text or "")
    assert len(sms.body_text or "") < 480


async def test_only_open_uninvited_referrals_are_invited_and_nowhere_to_send_is_worklisted(
    session: AsyncSession, settings: Settings
) -> None:
    await make_referral(session, status="closed")
    await make_referral(session, invited_at=None, help_requested_at=None, status="open")
    helped = await make_referral(session)
    helped.help_requested_at, helped.help_reason = helped.created_at, "No computer"
    nowhere = await make_patient(session)
    nowhere.email = None
    unreachable = await make_referral(session, patient=nowhere)
    assert await invitations.invitations_from_referrals(session, settings) == 2
    assert len(await _messages(session)) == 1
    await session.refresh(unreachable)
    assert unreachable.invited_at is None
    assert unreachable.help_reason == invitations.NO_ADDRESS


async def test_a_rolled_back_batch_queues_nothing_and_invites_again(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with sessionmaker() as setup, setup.begin():
        referral_id = (await make_referral(setup)).id

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        async with sessionmaker() as session, session.begin():
            assert await invitations.invitations_from_referrals(session, settings) == 1
            raise Crash  # the worker dies before its commit
    async with sessionmaker() as session:
        assert await _messages(session) == []
        referral = await session.get(Referral, referral_id)
        assert referral is not None and referral.invited_at is None
    assert await invitations.queue_invitations(sessionmaker, settings) == 1
    async with sessionmaker() as session:
        assert len(await _messages(session)) == 1
        referral = await session.get(Referral, referral_id)
        assert referral is not None and referral.invited_at is not None


def _facts(referral: Referral) -> dict[str, object]:
    return {"kind": "invitation", "referral_id": referral.id}


async def _invited(session: AsyncSession, settings: Settings) -> tuple[Referral, Referral]:
    """Two referrals, each invited by email and text message (both still waiting to go)."""
    made = []
    for _ in range(2):
        patient = await make_patient(session)
        patient.mobile, patient.contact_preference = "+447700900982", "both"
        made.append(await make_referral(session, patient=patient))
    await session.flush()
    assert await invitations.invitations_from_referrals(session, settings) == 2
    return made[0], made[1]


async def _statuses(session: AsyncSession, referral: Referral) -> list[str]:
    """Read as columns: the withdrawal is an UPDATE round the ORM's loaded rows."""
    return list(
        await session.scalars(
            select(OutboxMessage.status)
            .where(OutboxMessage.dedupe_key.like(f"referral{referral.id}:invitation:%"))
            .order_by(OutboxMessage.id)
        )
    )


async def test_closing_a_referral_withdraws_its_invitation_not_yet_sent(
    session: AsyncSession, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Wired as create_app wires it, for this test only (the page test below needs the app's).
    monkeypatch.setattr(referrals, "_WITHDRAWALS", [])
    referrals.when_closed(invitations.withdraw)
    referrals.when_closed(invitations.withdraw)  # told twice, run once
    closing, other = await _invited(session, settings)
    navigator, _ = await make_user(session, role="navigator")
    await referrals.close(session, closing.id, reason="Seen at A&E", viewer=navigator)
    assert await _statuses(session, closing) == ["cancelled", "cancelled"]
    assert await _statuses(session, other) == ["pending", "pending"]
    audited = await session.scalar(
        select(AuditEvent.detail).where(
            AuditEvent.action == "referral.close", AuditEvent.entity_id == closing.id
        )
    )
    assert audited == {"reason": "Seen at A&E", "withdrawn": 2}
    # One already sent cannot be unsent: it stays as it was (its link says "closed").
    [email, _] = [m for m in await _messages(session) if m.facts == _facts(other)]
    await outbox.mark_sent(session, email.id)
    assert await invitations.withdraw(session, other.id) == 1
    assert sorted(await _statuses(session, other)) == ["cancelled", "sent"]


async def test_the_navigators_close_button_withdraws_the_invitation_in_its_transaction(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    closing, other = await _invited(session, settings)
    navigator, _ = await make_user(session, role="navigator")
    csrf = await sign_in(client, navigator.email)
    path = f"/staff/referrals/{closing.id}/close"
    assert (await client.post(path, data={"csrf": csrf, "reason": "Moved away"})).status_code == 303
    assert await _statuses(session, closing) == ["cancelled", "cancelled"]
    assert await _statuses(session, other) == ["pending", "pending"]
