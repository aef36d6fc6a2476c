"""The staff messages page: failures are visible and can be retried."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import outbox
from notifications.models import OutboxMessage
from tests.builders import make_appointment, make_clinic, make_user, tuesday_at
from tests.telehealth.video.test_clinic_pages import sign_in


async def _queued(session: AsyncSession, *keys: str, **fields: object) -> None:
    """One confirmation email per key (its recipient, id, subject and body named after it),
    with `fields` in place of any of those."""
    await outbox.enqueue(
        session,
        [
            outbox.NewMessage(
                **{  # type: ignore[arg-type]
                    "dedupe_key": key,
                    "kind": "confirmation",
                    "channel": "email",
                    "recipient": f"{key}@example.com",
                    "message_id": f"<{key}@x.invalid>",
                    "subject": f"Subject {key}",
                    "body_text": f"Body {key}",
                    **fields,
                }
            )
            for key in keys
        ],
    )


async def test_failed_messages_are_shown_and_can_be_retried(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _queued(session, *(f"k{n}" for n in range(2)))
    failed = await session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == "k1"))
    assert failed is not None
    failed.attempts = outbox.MAX_ATTEMPTS
    await outbox.mark_failed(session, failed, "SMTP 550: mailbox unavailable", permanent=True)
    user, _ = await make_user(session, role="navigator")
    csrf = await sign_in(client, user.email)
    page = await client.get("/staff/outbox?status=failed")
    assert page.status_code == 200
    assert 'data-status="failed"' in page.text and "mailbox unavailable" in page.text
    assert "k0@example.com" not in page.text
    detail = await client.get(f"/staff/outbox/{failed.id}")
    assert "Body k1" in detail.text and "&lt;k1@x.invalid&gt;" in detail.text
    retried = await client.post(f"/staff/outbox/{failed.id}/retry", data={"csrf": csrf})
    assert retried.status_code == 303
    await session.refresh(failed)
    assert (failed.status, failed.attempts) == ("pending", 0)
    analyst, _ = await make_user(session, role="analyst")
    other = httpx.AsyncClient(transport=client._transport, base_url="http://test")
    await sign_in(other, analyst.email)
    assert (await other.get("/staff/outbox")).status_code == 403
    await other.aclose()
    assert re.search(r"Pending</a>: 2", (await client.get("/staff/outbox")).text)


async def test_ids_out_of_range_and_nul_are_422s_not_500s(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """An id past the column (2^31 on PostgreSQL, 2^63 on SQLite) is refused before the look-up,
    as the API refuses it; so is NUL in the page's query or form, and a non-ASCII CSRF token
    (compare_digest raised TypeError on it)."""
    user, _ = await make_user(session, role="navigator")
    csrf = await sign_in(client, user.email)
    for raw in ("99999999999999999999", "2147483648", "0", "abc"):
        page = await client.get(f"/staff/outbox/{raw}")
        assert page.status_code == 422, (raw, page.text)
        assert "must be a whole number from 1 to 2147483647" in page.text
        retried = await client.post(f"/staff/outbox/{raw}/retry", data={"csrf": csrf})
        assert retried.status_code == 422, (raw, retried.text)
    assert (await client.get("/staff/outbox/2147483647")).status_code == 404
    assert (await client.get("/staff/outbox?status=fa%00iled")).status_code == 422
    nul_form = await client.post("/staff/outbox/1/retry", data={"csrf": csrf, "note": "a\x00b"})
    assert nul_form.status_code == 422
    assert (await client.post("/staff/outbox/1/retry", data={"csrf": "é"})).status_code == 403


async def test_an_unknown_status_filter_is_named_not_ignored(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user, _ = await make_user(session, role="navigator")
    await sign_in(client, user.email)
    page = await client.get("/staff/outbox?status=lost")
    assert page.status_code == 422
    assert 'data-module="nhsuk-error-summary"' in page.text
    assert re.search(
        r'<a href="#status"\s*>\s*Choose a status from the list: '
        r"pending, sending, sent, failed or cancelled\s*</a>",
        page.text,
    )
    assert 'id="status"' in page.text
    assert (await client.get("/staff/outbox?status=failed")).status_code == 200


async def test_reception_reads_only_its_hubs_messages(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Reception sees the messages of its hubs' appointments; another hub's, and invitations
    (about no appointment), are not there, and asking for one by id is a 404, as if it did
    not exist."""
    ours, theirs = await make_clinic(session), await make_clinic(session)
    start = tuesday_at(9)
    for key, clinic in (("ours", ours), ("theirs", theirs)):
        booked = await make_appointment(session, clinic, start=start, mode="video_site")
        await _queued(session, key, appointment_id=booked.id)
    await _queued(session, "invitation", kind="invitation")
    for message in await session.scalars(select(OutboxMessage)):
        message.attempts = outbox.MAX_ATTEMPTS
        await outbox.mark_failed(session, message, "SMTP 550", permanent=True)
    ids = {m.dedupe_key: m.id for m in await session.scalars(select(OutboxMessage))}
    user, _ = await make_user(session, role="reception", hubs=[ours.hub])
    csrf = await sign_in(client, user.email)
    page = await client.get("/staff/outbox")
    assert page.status_code == 200
    assert "ours@example.com" in page.text
    assert "theirs@example.com" not in page.text and "invitation@example.com" not in page.text
    assert (await client.get(f"/staff/outbox/{ids['ours']}")).status_code == 200
    for key in ("theirs", "invitation"):
        assert (await client.get(f"/staff/outbox/{ids[key]}")).status_code == 404
        retried = await client.post(f"/staff/outbox/{ids[key]}/retry", data={"csrf": csrf})
        assert retried.status_code == 404
    mine = await client.post(f"/staff/outbox/{ids['ours']}/retry", data={"csrf": csrf})
    assert mine.status_code == 303
    statuses = {m.dedupe_key: m.status for m in await session.scalars(select(OutboxMessage))}
    assert statuses == {"ours": "pending", "theirs": "failed", "invitation": "failed"}


async def test_retry_is_refused_to_roles_the_page_does_not_let_in(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _queued(session, "k0")
    failed = await session.scalar(select(OutboxMessage))
    assert failed is not None
    failed.attempts = outbox.MAX_ATTEMPTS
    await outbox.mark_failed(session, failed, "SMTP 550", permanent=True)
    for role in ("analyst", "clinician"):
        user, _ = await make_user(session, role=role)
        other = httpx.AsyncClient(transport=client._transport, base_url="http://test")
        csrf = await sign_in(other, user.email)
        retried = await other.post(f"/staff/outbox/{failed.id}/retry", data={"csrf": csrf})
        assert retried.status_code == 403, role
        await other.aclose()
    await session.refresh(failed)
    assert failed.status == "failed"


async def test_every_message_can_be_reached_a_page_at_a_time(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await _queued(session, *(f"page{n}" for n in range(130)))
    user, _ = await make_user(session, role="navigator")
    await sign_in(client, user.email)
    first = await client.get("/staff/outbox?status=pending")
    assert "Showing 1 to 100 of 130 messages" in first.text
    assert "page=2" in first.text and "page129@example.com" in first.text
    assert "page0@example.com" not in first.text
    second = await client.get("/staff/outbox?status=pending&page=2")
    assert "Showing 101 to 130 of 130 messages" in second.text
    assert "page0@example.com" in second.text and "page=1" in second.text
    assert (await client.get("/staff/outbox?page=abc")).status_code == 422


async def test_a_message_not_yet_written_says_so_rather_than_none(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    # A reminder is queued without its words; the worker writes them when it sends.
    await _queued(session, "reminder-1", kind="reminder", subject="Reminder", body_text=None)
    queued = await session.scalar(
        select(OutboxMessage).where(OutboxMessage.dedupe_key == "reminder-1")
    )
    assert queued is not None and queued.body_text is None
    user, _ = await make_user(session, role="navigator")
    await sign_in(client, user.email)
    detail = await client.get(f"/staff/outbox/{queued.id}")
    assert detail.status_code == 200
    assert "Not written yet" in detail.text
    assert "None" not in re.sub(r"<[^>]+>", " ", detail.text)
