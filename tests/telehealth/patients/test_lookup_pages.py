"""Finding an appointment without the link: the same answer whether or not anything matched,
a fresh manage link queued only on a match and only to the contact on record, the form's
errors, and rate limits that hold across app processes."""

from __future__ import annotations

import re
from datetime import date

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app import create_app
from notifications.models import OutboxMessage
from telehealth import messaging
from telehealth.kernel.audit import AuditEvent
from telehealth.kernel.config import Settings
from telehealth.kernel.db import create_engine, make_sessionmaker
from telehealth.patients import lookup_pages
from tests.builders_manage import (
    csrf_of,
    make_managed,
    make_managed_clinic,
    make_patient_with,
)

BORN = date(1948, 2, 29)


def _details(reference: str, **changes: str) -> dict[str, str]:
    return {
        "reference": reference,
        "dob-day": "29",
        "dob-month": "2",
        "dob-year": "1948",
        "postcode": "LA4 5RJ",
        **changes,
    }


async def _find(client: httpx.AsyncClient, details: dict[str, str]) -> httpx.Response:
    csrf = await csrf_of(client, "/find-appointment")
    return await client.post("/find-appointment", data={"csrf": csrf, **details})


async def _lost_links(session: AsyncSession) -> list[OutboxMessage]:
    return list(
        await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind == "lost_link")
            .order_by(OutboxMessage.id)
        )
    )


async def test_the_answer_is_the_same_and_only_a_match_sends_a_link(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c = await make_managed_clinic(session)
    patient = await make_patient_with(session, born=BORN, email="mary@example.com")
    a = await make_managed(session, c, patient=patient)
    answers = []
    for wrong in (
        {"postcode": "LA1 4RP"},
        {"dob-day": "28"},
        {"reference": "ACDEFGHJ" if a.reference != "ACDEFGHJ" else "ACDEFGHK"},
    ):
        answers.append(await _find(client, {**_details(a.reference), **wrong}))
    assert await _lost_links(session) == []
    answers.append(await _find(client, _details(a.reference)))
    assert {(r.status_code, r.headers["location"]) for r in answers} == {
        (303, "/find-appointment/sent")
    }
    sent = await client.get("/find-appointment/sent")
    assert "If the details match an appointment, we have sent a link to the email address or" in (
        " ".join(sent.text.split())
    )
    assert (
        "mary@example.com" not in sent.text
        and '<a href="/find-appointment">try again</a>' in sent.text
    )
    [message] = await _lost_links(session)
    assert message.recipient == "mary@example.com" and message.channel == "email"
    assert message.appointment_id == a.id
    audit = await session.scalars(
        select(AuditEvent.actor_user_id).where(
            AuditEvent.action == "patient.self.lookup", AuditEvent.entity_id == a.id
        )
    )
    assert list(audit) == [None]  # the match only: the misses named no appointment


async def test_details_match_whatever_their_case_and_spaces_and_go_as_the_patient_prefers(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    c = await make_managed_clinic(session)
    patient = await make_patient_with(
        session, born=BORN, email="mary@example.com", mobile="07700900123", preference="both"
    )
    a = await make_managed(session, c, patient=patient)
    spaced = " ".join(a.reference.lower())
    await _find(client, _details(spaced, postcode=" la45rj ", **{"dob-day": "29 "}))
    found = {(m.channel, m.recipient) for m in await _lost_links(session)}
    assert found == {("email", "mary@example.com"), ("sms", "07700900123")}


async def test_the_link_sent_opens_the_appointment(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    c = await make_managed_clinic(session)
    patient = await make_patient_with(
        session, born=BORN, email="mary@example.com", mobile="07700900123", preference="both"
    )
    a = await make_managed(session, c, patient=patient)
    await _find(client, _details(a.reference))
    for message in await _lost_links(session):
        rendered = await messaging.render(session, message, settings=settings)
        text = rendered.body_text + (rendered.body_html or "")
        links = set(re.findall(r"http://[^\s\"<>]+(/manage/[A-Za-z0-9_.-]+)", text))
        assert len(links) == 1, text
        assert a.reference in text and "07700900123" not in text
        opened = await client.get(links.pop())
        assert opened.status_code == 200 and a.reference in opened.text
        if message.channel == "email":
            assert rendered.subject == "Your link to manage your appointment"
            assert "Manage your appointment" in (rendered.body_html or "")


async def test_missing_or_impossible_details_show_the_form_again_with_what_was_typed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    empty = await _find(client, {})
    assert empty.status_code == 422
    assert "<title>Error: Find your appointment" in empty.text
    for field in ("reference", "dob-day", "postcode"):
        assert f'href="#{field}"' in empty.text and f'id="{field}"' in empty.text
    impossible = await _find(
        client, _details("qr9 gaekx", **{"dob-day": "31", "dob-month": "2", "dob-year": "1960"})
    )
    assert impossible.status_code == 422
    assert "Date of birth must be a real date" in impossible.text
    assert 'value="qr9 gaekx"' in impossible.text and 'value="31"' in impossible.text
    part = await _find(client, _details("QR9GAEKX", **{"dob-month": ""}))
    assert part.status_code == 422 and 'href="#dob-month"' in part.text
    assert "Date of birth must include a month" in part.text
    assert 'type="date"' not in part.text
    assert await _lost_links(session) == []


def test_the_date_of_birth_is_read_as_the_nhs_date_input_gives_it() -> None:
    def born(day: str, month: str, year: str) -> date | None:
        given, _errors = lookup_pages.read_form(
            {
                "reference": "X",
                "postcode": "LA4 5RJ",
                "dob-day": day,
                "dob-month": month,
                "dob-year": year,
            }
        )
        return None if given is None else given[1]

    assert born("29", "2", "1948") == date(1948, 2, 29)
    assert born("05", "09", "2001") == date(2001, 9, 5)
    for wrong in (
        ("29", "2", "1949"),
        ("1", "13", "1990"),
        ("x", "1", "1990"),
        ("1", "1", "90"),
        ("1", "1", "2999"),
        ("٣", "1", "1990"),
    ):
        assert born(*wrong) is None, wrong


async def test_the_limits_hold_across_two_app_processes_sharing_one_database(
    fresh_database: str, settings: Settings
) -> None:
    engines = [create_engine(fresh_database), create_engine(fresh_database)]
    async with make_sessionmaker(engines[0])() as session, session.begin():
        c = await make_managed_clinic(session)
        patient = await make_patient_with(session, born=BORN)
        reference = (await make_managed(session, c, patient=patient)).reference
    clients = [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(
                app=create_app(settings, sessionmaker=make_sessionmaker(engine)),
                client=(address, 5000),
            ),
            base_url="http://test",
        )
        for engine, address in zip(engines, ("192.0.2.1", "192.0.2.2"), strict=True)
    ]
    try:
        # Per reference: five tries in fifteen minutes, whichever process and address.
        for n in range(lookup_pages.PER_REFERENCE):
            answer = await _find(clients[n % 2], _details(reference, postcode="LA1 4RP"))
            assert answer.status_code == 303, n
        refused = await _find(clients[0], _details(reference))
        assert refused.status_code == 429
        assert "Try again in 15 minutes" in refused.text and reference not in refused.text
        assert (await _find(clients[1], _details(reference))).status_code == 429
        # Per client address: one address trying many references is stopped too.
        third = httpx.AsyncClient(
            transport=httpx.ASGITransport(
                app=create_app(settings, sessionmaker=make_sessionmaker(engines[1])),
                client=("192.0.2.1", 5001),
            ),
            base_url="http://test",
        )
        async with third:
            tries = lookup_pages.PER_CLIENT - (lookup_pages.PER_REFERENCE + 1) // 2 - 1
            for n in range(tries):
                assert (await _find(third, _details(f"ACDEFG{n:02d}"))).status_code == 303, n
            assert (await _find(third, _details("ACDEFGXX"))).status_code == 429
        async with make_sessionmaker(engines[1])() as session:
            # The matching try came after the limit: nothing was sent.
            assert await _lost_links(session) == []
    finally:
        for client in clients:
            await client.aclose()
        for engine in engines:
            await engine.dispose()
