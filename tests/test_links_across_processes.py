"""Every link a patient is sent opens, as `make run` runs the service: the worker process
writes the messages, a separately started server process answers the links, and neither is
given a SECRET_KEY or a PUBLIC_BASE_URL (development defaults)."""

from __future__ import annotations

import asyncio
import email
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from email.message import Message
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from telehealth.kernel.db import create_engine, make_sessionmaker
from tests.builders import make_appointment, make_clinic, make_patient, next_weekday
from tests.builders_referrals import make_referral
from tests.servers import _free_port

pytestmark = pytest.mark.slow
LINK = re.compile(r"""https?://[^\s"'<>)]+""")


async def _book(url: str) -> tuple[set[str], str]:
    """Two appointments (the patient's by email and SMS, another by email): their references;
    and a referral to a service, whose invitation carries a booking link: the service's name."""
    engine = create_engine(url)
    async with make_sessionmaker(engine)() as session, session.begin():
        clinic = await make_clinic(session)
        patient = await make_patient(session)
        patient.mobile = "07700900123"
        patient.contact_preference = "both"
        day = next_weekday(1)
        start = datetime.combine(day, clock(9, 0), ZoneInfo("Europe/London")).astimezone(UTC)
        home = await make_appointment(session, clinic, start=start, patient=patient)
        hub = await make_appointment(
            session, clinic, start=start + timedelta(minutes=40), mode="video_site"
        )
        referred = await make_patient(session)
        await make_referral(session, clinic=clinic, patient=referred)
        service = clinic.service.name
    await engine.dispose()
    return {home.reference, hub.reference}, service


def _texts(part: Message) -> list[str]:
    found = []
    for piece in part.walk():
        if piece.is_multipart():
            continue
        payload = piece.get_payload(decode=True)
        if isinstance(payload, bytes):
            found.append(payload.decode(piece.get_content_charset() or "utf-8", "replace"))
    return found


def _links(outbox: Path) -> set[str]:
    links: set[str] = set()
    for path in outbox.iterdir():
        if path.suffix == ".eml":
            texts = _texts(email.message_from_bytes(path.read_bytes()))
        else:
            texts = [path.read_text()]
        for text in texts:
            # iCalendar folds long lines at 75 octets: unfold before looking for links.
            links.update(LINK.findall(text.replace("\r\n ", "").replace("\n ", "")))
    return {link.rstrip(".,;") for link in links}


def _wait_for(base: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited"
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not start")


def test_every_link_in_a_delivered_message_opens_on_another_process(
    fresh_database: str, tmp_path: Path
) -> None:
    references, service = asyncio.run(_book(fresh_database))
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "PUBLIC_BASE_URL", "SMTP_HOST", "TELEHEALTH_ENV"}
    } | {"DATABASE_URL": fresh_database, "PORT": str(port), "OUTBOX_DIR": str(tmp_path / "out")}
    worker = subprocess.run(
        [sys.executable, "-m", "telehealth.cli", "worker", "--once"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr
    links = _links(tmp_path / "out")
    base = f"http://127.0.0.1:{port}"
    ours = {link for link in links if "127.0.0.1" in link or "localhost" in link}
    assert ours and all(link.startswith(base + "/") for link in ours), ours
    assert any("/join/" in link for link in ours) and any("invite" in link for link in ours)
    manage = {link for link in ours if "/manage/" in link}
    assert len(manage) >= 2, ours  # each appointment's messages say "Manage your appointment"
    booking = [link for link in ours if "/book/" in link]
    assert len(booking) == 1, ours  # the referral's invitation

    server = subprocess.Popen(
        [sys.executable, "-m", "telehealth.cli", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(base, server)
        # Staff links (the clinician's notice) lead to the sign-in page: that is opening too.
        with httpx.Client(timeout=10, follow_redirects=True) as client:
            answers = {link: client.get(link).status_code for link in sorted(ours)}
            # A manage link opens its appointment on this process, not just some page.
            shown = {ref for link in manage for ref in references if ref in client.get(link).text}
            # The invitation's booking link starts that referral's journey, and its first
            # question follows (the journey's answers live in a cookie, not in this process).
            start = client.get(booking[0])
            question = client.get(booking[0] + "/how")
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert set(answers.values()) == {200}, answers
    assert shown == references, (shown, references)
    assert f"Book your {service}" in start.text, start.text
    assert "How would you like to be seen?" in question.text, question.text
