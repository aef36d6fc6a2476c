"""Recording referrals, repeats from a system, and the navigators' worklist (both databases)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling import referrals
from scheduling.models import Patient
from scheduling.referral_models import Referral
from scheduling.referral_schemas import ReferralIn
from telehealth.kernel.api import parse_input
from telehealth.kernel.audit import AuditEvent
from telehealth.kernel.db import utcnow
from telehealth.kernel.errors import InvalidInput, NotFound
from tests.builders import NEW_PATIENT, make_patient, make_service, make_user
from tests.builders_referrals import make_referral

SEE_BY = (date.today() + timedelta(days=40)).isoformat()


def referral_in(**fields: object) -> ReferralIn:
    return parse_input(ReferralIn, {"see_by": SEE_BY, **fields})


async def test_records_an_open_referral_for_a_patient_by_id_and_audits_it(
    session: AsyncSession,
) -> None:
    patient, service = await make_patient(session), await make_service(session)
    navigator, _ = await make_user(session, role="navigator")
    recorded = await referrals.record(
        session,
        referral_in(patient=patient.id, service_id=service.id, priority="urgent"),
        viewer=navigator,
    )
    r = recorded.referral
    assert recorded.created and r.id and len(r.reference) == 8
    assert (r.status, r.priority, r.patient_id, r.invited_at) == (
        "open",
        "urgent",
        patient.id,
        None,
    )
    assert r.referred_by_user_id == navigator.id
    audited = await session.scalar(select(AuditEvent).where(AuditEvent.action == "referral.create"))
    assert audited is not None and audited.entity_id == r.id


async def test_finds_the_patient_by_nhs_number_or_name_and_birth_or_registers_them(
    session: AsyncSession,
) -> None:
    known = await make_patient(session, nhs_number="9434765870", family_name="Dobson")
    service = await make_service(session)
    admin, _ = await make_user(session)
    by_nhs = await referrals.record(
        session,
        referral_in(patient={"nhs_number": "943 476 5870"}, service_id=service.id),
        viewer=admin,
    )
    by_name = await referrals.record(
        session,
        referral_in(
            patient={"family_name": "DOBSON", "date_of_birth": "1960-05-17"},
            service_id=service.id,
        ),
        viewer=admin,
    )
    assert by_nhs.referral.patient_id == by_name.referral.patient_id == known.id
    new = await referrals.record(
        session, referral_in(patient=NEW_PATIENT, service_id=service.id), viewer=admin
    )
    created = await session.get(Patient, new.referral.patient_id)
    assert created is not None and created.family_name == "Atkinson"
    with pytest.raises(InvalidInput) as nobody:
        await referrals.record(
            session,
            referral_in(patient={"nhs_number": "9434765871"}, service_id=service.id),
            viewer=admin,
        )
    assert "patient.nhs_number" in nobody.value.fields
    with pytest.raises(InvalidInput) as unknown:
        await referrals.record(
            session,
            referral_in(
                patient={"family_name": "Nobody", "date_of_birth": "1970-01-01"},
                service_id=service.id,
            ),
            viewer=admin,
        )
    assert list(unknown.value.fields) == ["patient"]


async def test_a_repeat_of_a_systems_ids_is_the_same_referral_and_different_details_409(
    session: AsyncSession,
) -> None:
    patient, service = await make_patient(session), await make_service(session)
    admin, _ = await make_user(session)
    sent = {
        "patient": patient.id,
        "service_id": service.id,
        "source_system": "RSS",
        "source_reference": "RSS-0001",
    }
    first = await referrals.record(session, referral_in(**sent), viewer=admin)
    again = await referrals.record(session, referral_in(**sent), viewer=admin)
    assert first.created and not again.created
    assert again.referral.id == first.referral.id
    count = await session.scalar(select(func.count()).select_from(Referral))
    assert count == 1
    with pytest.raises(referrals.ReferralMismatch) as refused:
        await referrals.record(
            session, referral_in(**sent, priority="urgent", notes="Other"), viewer=admin
        )
    assert refused.value.status_code == 409
    assert set(refused.value.fields) == {"priority", "notes"}
    assert "priority, notes" in refused.value.message


async def test_a_repeat_with_the_patients_details_does_not_register_them_again(
    session: AsyncSession,
) -> None:
    service = await make_service(session)
    admin, _ = await make_user(session)
    details = {k: v for k, v in NEW_PATIENT.items() if k != "nhs_number"}
    sent = {
        "patient": details,
        "service_id": service.id,
        "source_system": "GP",
        "source_reference": "G-7",
    }
    first = await referrals.record(session, referral_in(**sent), viewer=admin)
    again = await referrals.record(session, referral_in(**sent), viewer=admin)
    assert (first.created, again.created) == (True, False)
    assert again.referral.id == first.referral.id
    assert await session.scalar(select(func.count()).select_from(Patient)) == 1
    someone_else = {**sent, "patient": {**details, "family_name": "Other"}}
    with pytest.raises(referrals.ReferralMismatch) as refused:
        await referrals.record(session, referral_in(**someone_else), viewer=admin)
    assert list(refused.value.fields) == ["patient"]
    clinician, _ = await make_user(session, role="clinician")
    with pytest.raises(referrals.ReferralMismatch) as hidden:
        await referrals.record(session, referral_in(**sent), viewer=clinician)
    assert hidden.value.fields == {} and first.referral.reference not in hidden.value.message


def test_validation_names_the_field() -> None:
    past = (date.today() - timedelta(days=1)).isoformat()
    with pytest.raises(InvalidInput) as bad_date:
        parse_input(ReferralIn, {"patient": 1, "service_id": 1, "see_by": past})
    assert list(bad_date.value.fields) == ["see_by"]
    with pytest.raises(InvalidInput) as half:
        parse_input(
            ReferralIn, {"patient": 1, "service_id": 1, "see_by": SEE_BY, "source_system": "RSS"}
        )
    assert list(half.value.fields) == ["source_reference"]
    with pytest.raises(InvalidInput) as priority:
        parse_input(ReferralIn, {"patient": 1, "service_id": 1, "see_by": SEE_BY, "priority": "x"})
    assert list(priority.value.fields) == ["priority"]


async def test_refuses_an_inactive_or_unknown_service_and_an_unseen_patient(
    session: AsyncSession,
) -> None:
    patient, service = await make_patient(session), await make_service(session)
    service.active = False
    admin, _ = await make_user(session)
    with pytest.raises(InvalidInput) as inactive:
        await referrals.record(
            session, referral_in(patient=patient.id, service_id=service.id), viewer=admin
        )
    assert "not taking referrals" in inactive.value.fields["service_id"]
    with pytest.raises(InvalidInput) as unknown:
        await referrals.record(
            session, referral_in(patient=patient.id, service_id=999_999), viewer=admin
        )
    assert list(unknown.value.fields) == ["service_id"]
    clinician_user, _ = await make_user(session, role="clinician")
    with pytest.raises(InvalidInput) as unseen:
        await referrals.record(
            session,
            referral_in(patient=patient.id, service_id=(await make_service(session)).id),
            viewer=clinician_user,
        )
    assert list(unseen.value.fields) == ["patient"]


async def test_get_list_and_close(session: AsyncSession) -> None:
    navigator, _ = await make_user(session, role="navigator")
    analyst, _ = await make_user(session, role="analyst")
    open_one = await make_referral(session)
    other = await make_referral(session)
    found = await referrals.get(session, open_one.id, viewer=navigator)
    assert found.id == open_one.id
    with pytest.raises(NotFound):
        await referrals.get(session, open_one.id, viewer=analyst)
    closed = await referrals.close(session, other.id, reason="Seen elsewhere", viewer=navigator)
    assert closed.status == "closed"
    with pytest.raises(referrals.ReferralNotOpen):
        await referrals.close(session, other.id, reason="again", viewer=navigator)
    from scheduling.referral_schemas import ReferralQuery

    listed = await referrals.list_referrals(session, ReferralQuery(status="open"), viewer=navigator)
    assert [r.id for r in listed] == [open_one.id]
    by_patient = await referrals.list_referrals(
        session, ReferralQuery(patient_id=other.patient_id), viewer=navigator
    )
    assert [r.id for r in by_patient] == [other.id]


async def test_worklist_says_why_and_puts_the_most_urgent_first(session: AsyncSession) -> None:
    navigator, _ = await make_user(session, role="navigator")
    now, today = utcnow(), date.today()
    soon = await make_referral(session, see_by=today + timedelta(days=3))
    ignored = await make_referral(session, see_by=today + timedelta(days=60))
    invited = await make_referral(session, invited_at=now - timedelta(days=9))
    recent = await make_referral(session, invited_at=now - timedelta(days=2))
    helped = await make_referral(
        session, help_requested_at=now, help_reason="No email address", priority="urgent"
    )
    urgent_late = await make_referral(
        session, priority="two_week_wait", see_by=today + timedelta(days=5)
    )
    closed = await make_referral(session, status="closed", see_by=today)
    entries = await referrals.worklist(session, viewer=navigator)
    ids = [e.referral.id for e in entries]
    assert ids == [urgent_late.id, helped.id, soon.id, invited.id]
    reasons = {e.referral.id: e.reasons for e in entries}
    assert reasons[soon.id] == ("Waiting too long",)
    assert reasons[invited.id] == ("Invitation not taken up",)
    assert reasons[helped.id] == ("Could not book online: No email address",)
    assert not {ignored.id, recent.id, closed.id} & set(ids)
    assert entries[0].patient_name == "Alex Testpatient"
