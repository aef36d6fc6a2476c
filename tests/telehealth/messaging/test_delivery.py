"""Messages through a real SMTP server on loopback: what arrives, and that it arrives once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from functools import partial
from types import SimpleNamespace
from typing import Any, cast

import httpx
import ics
import pytest
from icalendar import Calendar
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import outbox, worker
from notifications.delivery import SmtpSender, SmtpSettings
from notifications.models import OutboxMessage
from scheduling.slots import london_datetime
from telehealth import messaging
from telehealth.kernel.db import create_engine, make_sessionmaker
from tests.builders import book_via_api, make_clinic, make_user, next_weekday
from tests.conftest import TEST_SETTINGS
from tests.smtp_server import SmtpServer

RENDER = partial(messaging.render, settings=TEST_SETTINGS)
# The tests' sessions share one connection, and on PostgreSQL each message in hand holds a
# transaction of its own: one message at a time.
deliver = partial(worker.run_once, concurrency=1)
PATIENT = {
    "given_name": "Mary",
    "family_name": "Atkinson",
    "date_of_birth": "1948-02-29",
    "nhs_number": "9434765919",
    "email": "mary@example.com",
    "postcode": "LA4 5RJ",
}


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


def senders(server: SmtpServer) -> dict[str, SmtpSender]:
    return {
        "email": SmtpSender(SmtpSettings(host="127.0.0.1", port=server.port, tls="none", timeout=5))
    }


def calendar_of(message) -> tuple[str, Calendar, bytes]:  # type: ignore[no-untyped-def]
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            raw = part.get_payload(decode=True)
            return part.get_param("method"), Calendar.from_ical(raw), raw
    raise AssertionError("no text/calendar part")


async def queue_changes(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """What the worker does first: the change feed into outbox messages."""
    while await messaging.queue_messages(sessionmaker, TEST_SETTINGS):
        pass


@pytest.mark.parametrize("week_of_change", [(2027, 3, 30), (2027, 11, 2)])
async def test_book_move_cancel_arrive_as_calendar_messages(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    smtp: SmtpServer,
    week_of_change: tuple[int, int, int],
) -> None:
    """Across both 2027 clock changes: the Tuesday after each change, moved a week back to the
    Tuesday before it, then cancelled."""
    c = await make_clinic(session, horizon_days=800)
    _, headers = await make_user(session, role="navigator")
    after = datetime(*week_of_change).date()
    start = london_datetime(after, time(9))
    booked = await book_via_api(client, session, headers, c, start, patient=PATIENT)
    earlier = london_datetime(after - timedelta(days=7), time(9, 20))
    moved = await client.post(
        f"/api/v1/appointments/{booked['id']}/reschedule",
        json={"start": earlier.isoformat()},
        headers=headers,
    )
    assert moved.status_code == 200
    cancelled = await client.post(
        f"/api/v1/appointments/{booked['id']}/cancel",
        json={"reason": "Feeling better"},
        headers=headers,
    )
    assert cancelled.status_code == 200
    await queue_changes(sessionmaker)
    tally = await deliver(sessionmaker, senders(smtp), batch=100, render=RENDER)
    assert tally.failed == tally.retrying == 0

    to_patient = [m for m in smtp.inbox.messages if m["To"].endswith("<mary@example.com>")]
    # Sent concurrently, so they may arrive in any order: put them in SEQUENCE order.
    invites = sorted(
        (calendar_of(m) for m in to_patient),
        key=lambda found: int(str(found[1].walk("VEVENT")[0]["SEQUENCE"])),
    )
    methods = [(method, int(str(cal.walk("VEVENT")[0]["SEQUENCE"]))) for method, cal, _ in invites]
    assert methods == [("REQUEST", 0), ("REQUEST", 1), ("CANCEL", 2)]
    uids = {str(cal.walk("VEVENT")[0]["UID"]) for _, cal, _ in invites}
    assert uids == {booked["uid"]}
    starts = [cal.walk("VEVENT")[0].decoded("DTSTART").astimezone(UTC) for _, cal, _ in invites]
    assert starts[0] == start and starts[1] == earlier and starts[2] == earlier
    # An independent parser agrees on the times and the cancellation.
    for (_, _, raw), expected in zip(invites, starts, strict=True):
        event = next(iter(ics.Calendar(raw.decode()).events))
        assert event.begin.datetime.astimezone(UTC) == expected
    assert "STATUS:CANCELLED" in invites[2][2].decode()
    # Nothing identifying beyond the name and address it was sent to.
    for message in smtp.inbox.messages:
        # What people and programs read: the headers people see and every decoded part (not
        # MIME boundaries or Message-IDs, whose random digits could contain anything).
        text = "\n".join(
            [f"{k}: {message[k]}" for k in ("Subject", "From", "To")]
            + [
                cast(bytes, part.get_payload(decode=True)).decode()
                for part in message.walk()
                if not part.is_multipart()
            ]
        )
        assert "9434765919" not in text and "943 476 5919" not in text
        assert "1948" not in text and "LA4 5RJ" not in text
    clinician_copies = [m for m in smtp.inbox.messages if c.clinician.email in m["To"]]
    assert len(clinician_copies) == 3


async def test_reminders_follow_the_appointment(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    c = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    start = london_datetime(next_weekday(1, weeks=2), time(9))
    booked = await book_via_api(client, session, headers, c, start, patient=PATIENT)

    async def pending_reminders() -> list[datetime]:
        await queue_changes(sessionmaker)
        rows = await session.scalars(
            select(OutboxMessage.next_attempt_at)
            .where(
                OutboxMessage.appointment_id == booked["id"],
                OutboxMessage.kind == "reminder",
                OutboxMessage.status == "pending",
            )
            .order_by(OutboxMessage.next_attempt_at)
        )
        return list(rows)

    assert await pending_reminders() == [start - timedelta(hours=24), start - timedelta(hours=1)]
    later = start + timedelta(minutes=40)
    await client.post(
        f"/api/v1/appointments/{booked['id']}/reschedule",
        json={"start": later.isoformat()},
        headers=headers,
    )
    assert await pending_reminders() == [later - timedelta(hours=24), later - timedelta(hours=1)]
    await client.post(
        f"/api/v1/appointments/{booked['id']}/cancel", json={"reason": "x"}, headers=headers
    )
    assert await pending_reminders() == []


async def test_a_reminder_falling_due_before_its_move_is_taken_is_not_sent(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    smtp: SmtpServer,
) -> None:
    """The worker replaces reminders when it takes a move from the feed; one that falls due
    before then would send the patient to the old time, so it is cancelled instead."""
    c = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    start = london_datetime(next_weekday(1, weeks=2), time(9))
    booked = await book_via_api(client, session, headers, c, start, patient=PATIENT)
    await queue_changes(sessionmaker)
    await deliver(sessionmaker, senders(smtp), render=RENDER)  # the confirmation
    for action, body in (("reschedule", {"start": (start + timedelta(minutes=40)).isoformat()}),
                         ("cancel", {"reason": "Feeling better"})):  # fmt: skip
        moved = await client.post(
            f"/api/v1/appointments/{booked['id']}/{action}", json=body, headers=headers
        )
        assert moved.status_code == 200
        # Every pending reminder falls due now, before the worker has taken the change.
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.kind == "reminder", OutboxMessage.status == "pending")
            .values(next_attempt_at=datetime.now(UTC))
        )
        sent_before = len(smtp.inbox.messages)
        tally = await deliver(sessionmaker, senders(smtp), render=RENDER)
        assert (tally.sent, tally.cancelled) == (0, 2)
        assert len(smtp.inbox.messages) == sent_before
        await queue_changes(sessionmaker)
        # The change's own messages go; the new time's reminders are not due.
        assert (await deliver(sessionmaker, senders(smtp), render=RENDER)).sent == 2
    statuses = await session.scalars(
        select(OutboxMessage.status).where(OutboxMessage.kind == "reminder")
    )
    assert set(statuses) == {"cancelled"}


async def test_no_reminder_for_a_time_already_past(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    c = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    soonest = await client.get(
        f"/api/v1/slots?service_id={c.service.id}&start={datetime.now(UTC).date()}"
        f"&end={(datetime.now(UTC) + timedelta(days=8)).date()}&mode=video_home",
        headers=headers,
    )
    first = soonest.json()["slots"][0]
    start = datetime.fromisoformat(first["start"])
    booked = await book_via_api(client, session, headers, c, start, patient=PATIENT)
    await queue_changes(sessionmaker)
    due = list(
        await session.scalars(
            select(OutboxMessage.next_attempt_at).where(
                OutboxMessage.appointment_id == booked["id"], OutboxMessage.kind == "reminder"
            )
        )
    )
    assert all(d > datetime.now(UTC) for d in due)
    assert len(due) == sum(1 for h in (24, 1) if start - timedelta(hours=h) > datetime.now(UTC))


async def test_smtp_down_delays_but_loses_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    smtp: SmtpServer,
) -> None:
    c = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    await book_via_api(
        client,
        session,
        headers,
        c,
        london_datetime(next_weekday(1, weeks=2), time(9)),
        patient=PATIENT,
    )
    await queue_changes(sessionmaker)
    due_now = await session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind != "reminder")
    )
    smtp.stop()
    down = await deliver(sessionmaker, senders(smtp), render=RENDER)
    assert down.sent == 0 and down.retrying == due_now
    waiting = list(
        await session.scalars(select(OutboxMessage).where(OutboxMessage.kind != "reminder"))
    )
    assert all(
        m.status == "pending" and m.attempts == 1 and m.next_attempt_at > datetime.now(UTC)
        for m in waiting
    )
    assert all("unreachable" in (m.last_error or "") for m in waiting)
    nothing_due = await deliver(sessionmaker, senders(smtp), render=RENDER)
    assert nothing_due.handled == 0  # backing off, not hammering the server
    smtp.start()
    await session.execute(
        update(OutboxMessage)
        .values(next_attempt_at=datetime.now(UTC))
        .where(OutboxMessage.kind != "reminder")
    )
    up = await deliver(sessionmaker, senders(smtp), render=RENDER)
    assert up.sent == due_now
    assert len(smtp.inbox.messages) == due_now == len(set(smtp.inbox.message_ids()))


async def test_gives_up_after_the_limit_and_says_so(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], smtp: SmtpServer
) -> None:
    await outbox.enqueue(session, [_message(0)])
    smtp.stop()
    for _ in range(outbox.MAX_ATTEMPTS):
        await session.execute(update(OutboxMessage).values(next_attempt_at=datetime.now(UTC)))
        await deliver(sessionmaker, senders(smtp), render=RENDER)
    row = await session.scalar(select(OutboxMessage))
    assert row is not None and row.status == "failed" and row.attempts == outbox.MAX_ATTEMPTS


def _message(n: int) -> outbox.NewMessage:
    return outbox.NewMessage(
        dedupe_key=f"test:{n}",
        kind="confirmation",
        channel="email",
        recipient=f"p{n}@example.com",
        message_id=f"<test.{n}@bay-telehealth.invalid>",
        subject=f"Test {n}",
        body_text="Hello",
    )


async def test_the_same_cause_is_queued_once(session: AsyncSession) -> None:
    assert await outbox.enqueue(session, [_message(1), _message(2)]) == 2
    assert await outbox.enqueue(session, [_message(1), _message(3)]) == 1
    assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 3


def test_backoff_grows_with_jitter_and_a_ceiling() -> None:
    import random

    rng = random.Random(1)
    delays = [outbox.retry_delay(n, rng) for n in range(1, 12)]
    assert outbox.BASE_DELAY / 2 <= delays[0] <= outbox.BASE_DELAY
    assert delays[3] > delays[0]
    assert all(d <= outbox.MAX_DELAY for d in delays)
    assert len({round(outbox.retry_delay(3).total_seconds(), 3) for _ in range(20)}) > 1


async def test_two_workers_racing_send_everything_once(
    fresh_database: str, smtp: SmtpServer
) -> None:
    engine = create_engine(fresh_database)
    maker = make_sessionmaker(engine)
    async with maker() as session, session.begin():
        await outbox.enqueue(session, [_message(n) for n in range(60)])
    other_engine = create_engine(fresh_database)
    other = make_sessionmaker(other_engine)
    results = await asyncio.gather(
        *(worker.run_once(m, senders(smtp), batch=7) for m in (maker, other, maker, other) * 5)
    )
    await engine.dispose()
    await other_engine.dispose()
    assert sum(r.sent for r in results) == 60
    ids = smtp.inbox.message_ids()
    assert len(ids) == 60 == len(set(ids))


async def test_a_worker_killed_mid_batch_loses_nothing(
    fresh_database: str, smtp: SmtpServer
) -> None:
    engine = create_engine(fresh_database)
    maker = make_sessionmaker(engine)
    async with maker() as session, session.begin():
        await outbox.enqueue(session, [_message(n) for n in range(5)])
    # The dead worker claimed everything, sent the first message and died before recording.
    async with maker() as session, session.begin():
        claimed = await outbox.claim(session, limit=10)
    await senders(smtp)["email"].send(claimed[0])
    assert await worker.run_once(maker, senders(smtp)) == worker.Tally()  # still leased
    async with maker() as session, session.begin():
        await session.execute(
            update(OutboxMessage).values(locked_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    recovered = await worker.run_once(maker, senders(smtp))
    await engine.dispose()
    assert recovered.sent == 5
    ids = smtp.inbox.message_ids()
    # Every message arrived; the one sent before the crash arrived again with the SAME
    # Message-ID, which mail systems treat as one message.
    assert set(ids) == {f"<test.{n}@bay-telehealth.invalid>" for n in range(5)}
    assert len(ids) == 6


@pytest.mark.parametrize(
    ("preference", "mobile", "email", "channels"),
    [
        ("email", None, "e@example.com", {"email"}),
        ("sms", "07700 900123", None, {"sms"}),
        ("both", "07700 900123", "e@example.com", {"email", "sms"}),
    ],
)
async def test_contact_preference_is_honoured(
    client: httpx.AsyncClient,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    preference: str,
    mobile: str | None,
    email: str | None,
    channels: set[str],
) -> None:
    c = await make_clinic(session)
    _, headers = await make_user(session, role="navigator")
    patient = {
        "given_name": "Pat",
        "family_name": "Pref",
        "date_of_birth": "1950-01-01",
        "contact_preference": preference,
        "mobile": mobile,
        "email": email,
    }
    booked = await client.post(
        "/api/v1/appointments",
        json={
            "service_id": c.service.id,
            "clinician_id": c.clinician.id,
            "start": london_datetime(next_weekday(1, weeks=2), time(9)).isoformat(),
            "mode": "video_home",
            "patient": patient,
        },
        headers=headers,
    )
    assert booked.status_code == 201, booked.text
    await queue_changes(sessionmaker)
    rows = (
        await session.execute(
            select(OutboxMessage.channel, OutboxMessage.recipient).where(
                OutboxMessage.appointment_id == booked.json()["id"],
                OutboxMessage.kind == "confirmation",
            )
        )
    ).all()
    assert {channel for channel, _ in rows} == channels
    if "sms" in channels:
        assert ("sms", "+447700900123") in rows


async def test_sms_through_notify_carries_no_personal_data_in_its_reference(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GOV.UK Notify's client, replaced by a recorder (no network here): what we send it."""
    from notifications.delivery import DeliveryError, NotifySmsSender

    calls: list[dict[str, object]] = []

    class FakeClient:
        def __init__(self, api_key: str) -> None:
            assert api_key == "key"

        def send_sms_notification(self, **kwargs: object) -> dict[str, str]:
            calls.append(kwargs)
            if kwargs["phone_number"] == "+447700900999":
                from notifications_python_client.errors import HTTPError

                response = SimpleNamespace(
                    status_code=400,
                    json=lambda: {"errors": [{"message": "phone_number Not a UK mobile number"}]},
                )
                raise HTTPError(cast(Any, response))  # a stand-in for requests.Response
            return {"id": "n1"}

    monkeypatch.setattr(
        "notifications_python_client.notifications.NotificationsAPIClient", FakeClient
    )
    sender = NotifySmsSender("key", "template-1")
    message = OutboxMessage(id=42, channel="sms", recipient="+447700900123", body_text="Booked")
    await sender.send(message)
    assert calls == [
        {
            "phone_number": "+447700900123",
            "template_id": "template-1",
            "personalisation": {"body": "Booked"},
            "reference": "outbox-42",
        }
    ]
    refused = OutboxMessage(id=43, channel="sms", recipient="+447700900999", body_text="x")
    with pytest.raises(DeliveryError) as caught:
        await sender.send(refused)
    assert caught.value.permanent
