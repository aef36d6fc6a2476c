"""The demo's referrals: a few open ones, recorded through `scheduling.referrals` as a navigator
(and one as a system would send it), so the worklist has something to show and the worker has
invitations to deliver to the outbox folder:

    waiting      routine, to be seen in six weeks: invited by the worker, not on the worklist
    soon         urgent, to be seen within the week: "Waiting too long"
    help         the patient could not book online: "Could not book online: ..."
    invited      invited ten days ago and not booked: "Invitation not taken up"
    from RSS     two week wait, sent by the Referral Support System
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import referrals
from scheduling.models import Service
from scheduling.referral_models import Source
from scheduling.referral_schemas import ReferralIn
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.timefmt import LONDON


async def load(
    session: AsyncSession,
    *,
    navigator: StaffUser,
    services: list[Service],
    patient_ids: list[int],
    today: date,
) -> int:
    """Five referrals for the last five patients (and the first five services); returns how
    many."""
    now = datetime.combine(today, time(9), LONDON)
    specs: list[tuple[str, int, dict[str, object]]] = [
        ("routine", 42, {}),
        ("urgent", 5, {}),
        ("routine", 20, {"help": "I do not have the internet at home: please phone me"}),
        ("routine", 30, {"invited_days_ago": 10}),
        ("two_week_wait", 12, {"source": ("RSS", "RSS-2026-000417")}),
    ]
    made = 0
    for n, (priority, days, extra) in enumerate(specs):
        source = extra.get("source")
        system, reference = source if isinstance(source, tuple) else (None, None)
        data = ReferralIn(
            patient=patient_ids[-1 - n],
            service_id=services[n % len(services)].id,
            priority=priority,
            see_by=today + timedelta(days=days),
            notes="Demo referral: palpitations and breathlessness on exertion",
            video_suitable=n != 1,
            source_system=system,
            source_reference=reference,
        )
        recorded = await referrals.record(
            session, data, viewer=navigator, source=Source.API if system else Source.NAVIGATOR
        )
        referral = recorded.referral
        if "help" in extra:
            referral.help_requested_at = now - timedelta(days=1)
            referral.help_reason = str(extra["help"])
        ago = extra.get("invited_days_ago")
        if isinstance(ago, int):
            referral.created_at = referral.invited_at = now - timedelta(days=ago)
        made += 1
    await session.flush()
    return made
