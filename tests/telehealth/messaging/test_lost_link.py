"""The lost-link message: to the contacts on record as the patient prefers, one per request,
rendered by the worker with a manage link issued that day."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import outbox
from notifications.models import OutboxMessage
from telehealth import messaging
from telehealth.messaging import lost_link
from telehealth.messaging.content import today
from telehealth.messaging.patient_links import MANAGE_LINK_DAYS, read_manage_token
from tests.builders import tuesday_at
from tests.builders_manage import make_managed, make_managed_clinic, make_patient_with
from tests.conftest import TEST_SETTINGS


async def test_the_message_goes_only_to_contacts_on_record_as_the_patient_prefers(
    session: AsyncSession,
) -> None:
    c = await make_managed_clinic(session)
    cases = [
        (
            {"email": "a@example.com", "mobile": "07700900001", "preference": "email"},
            {("email", "a@example.com")},
        ),
        (
            {"email": "b@example.com", "mobile": "07700900002", "preference": "sms"},
            {("sms", "07700900002")},
        ),
        (
            {"email": "c@example.com", "mobile": "07700900003", "preference": "both"},
            {("email", "c@example.com"), ("sms", "07700900003")},
        ),
        ({"email": None, "mobile": None, "preference": "email"}, set()),
    ]
    for n, (contact, expected) in enumerate(cases):
        patient = await make_patient_with(session, **contact)  # type: ignore[arg-type]
        a = await make_managed(session, c, patient=patient, start=tuesday_at(9 + n))
        found = lost_link.messages(a, patient, TEST_SETTINGS)
        assert {(m.channel, m.recipient) for m in found} == expected, contact
        assert all(m.kind == "lost_link" and m.appointment_id == a.id for m in found)


async def test_asking_twice_queues_twice_and_each_renders_a_fresh_link(
    session: AsyncSession,
) -> None:
    c = await make_managed_clinic(session)
    patient = await make_patient_with(session, mobile="07700900123", preference="both")
    a = await make_managed(session, c, patient=patient)
    for _ in range(2):
        assert await outbox.enqueue(session, lost_link.messages(a, patient, TEST_SETTINGS)) == 2
    rows = list(
        await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "lost_link"))
    )
    assert len(rows) == 4
    for row in rows:
        rendered = await messaging.render(session, row, settings=TEST_SETTINGS)
        token = rendered.body_text.split("/manage/", 1)[1].split()[0]
        claim = read_manage_token(TEST_SETTINGS, token)
        assert claim is not None and claim.id == a.id
        assert claim.expires_on == today() + timedelta(days=MANAGE_LINK_DAYS)
        assert a.reference in rendered.body_text
        assert (rendered.subject == lost_link.SUBJECT) == (row.channel == "email")
        assert rendered.calendar is None  # a link, not a new invitation
