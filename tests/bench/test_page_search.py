"""The bench's patient-page measurement (bench/page_search.py) against a real app: the journey
cookie it builds opens "Which day?", and the page's days are the API's for the same search."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app import create_app
from bench import page_search
from bench.slot_search import SearchWindow
from scheduling import slots
from telehealth.kernel.config import Settings
from tests.builders import make_clinic, make_patient, make_user
from tests.builders_journey import add_thursdays


async def test_the_page_and_the_api_find_the_same_days(
    session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic = await make_clinic(session)
    await add_thursdays(session, clinic)
    patient = await make_patient(session)
    _, headers = await make_user(session, role="navigator")
    referral_id = await page_search.add_referral(
        sessionmaker, service_id=clinic.service.id, patient_id=patient.id,
        today=date.today(),
    )  # fmt: skip
    app = create_app(settings, sessionmaker=sessionmaker)
    window = SearchWindow.four_weeks_from_next_monday(clinic.service.id, date.today())
    token = headers["Authorization"].removeprefix("Bearer ")

    result = await page_search.run(
        app, settings, window, token, referral_id,
        rounds=2, iterations=2, warmup=1, max_seconds=30.0,
    )  # fmt: skip

    # Tuesdays and Thursdays over the page's three weeks (but bank holidays), each checked
    # against the API's slots day by day before timing (`run` raises when they differ).
    shown = [window.start + timedelta(days=d) for d in range(21)]
    holidays = slots.bank_holidays_between(shown[0], shown[-1])
    assert result.days == len([d for d in shown if d.weekday() in (1, 3) and d not in holidays])
    assert result.times == result.api_slots  # one clinician: one slot per time
    assert result.page_end == shown[-1]
    assert (result.page.count, result.api.count, result.api_four_weeks.count) == (4, 4, 4)
    assert len(result.round_p50s) == 2
    assert "Page p50 / API p50 for the same search" in "\n".join(page_search.lines(result))


def test_page_days_reads_each_days_radio_and_its_count() -> None:
    html = (
        '<input type="hidden" name="from" value="2027-03-01">\n'
        '<input class="nhsuk-radios__input" id="day" name="day" type="radio" '
        'value="2027-03-02" aria-describedby="day-item-hint">\n<label>Tuesday 2 March 2027'
        '</label>\n<div class="nhsuk-hint" id="day-item-hint">1 time free</div>\n'
        '<input class="nhsuk-radios__input" id="day-2" name="day" type="radio" '
        'value="2027-03-04"><label>Thursday</label><div>12 times free</div>'
    )
    assert page_search.page_days(html) == {date(2027, 3, 2): 1, date(2027, 3, 4): 12}
