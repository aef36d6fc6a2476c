"""The admin's service pages: a new service added and audited as the API's POST makes it, a
change saved and audited as the API's PATCH is, a bad value re-rendering the form naming the
field and keeping what was typed, and only admins using them."""

from __future__ import annotations

from datetime import time, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from scheduling.models import Service
from scheduling.slots import london_datetime
from telehealth.kernel.audit import AuditEvent
from tests.builders import (
    Clinic,
    book_via_service,
    make_clinic,
    make_patient,
    make_user,
    next_weekday,
)
from tests.telehealth.admin.test_site_pages import signed_in_admin
from tests.telehealth.video.test_clinic_pages import sign_in


def _form(service: Service, csrf: str, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "csrf": csrf,
        "name": service.name,
        "specialty": service.specialty,
        "length_minutes": str(service.length_minutes),
        "buffer_minutes": str(service.buffer_minutes),
        "modes": list(service.modes),
        "usual_site_id": str(service.usual_site_id),
        "min_notice_hours": "0",
        "horizon_days": str(service.horizon_days),
        "change_notice_hours": "0",
        "phone": "",
        "active": "yes",
    }
    values.update(changes)
    return values


async def test_an_admin_changes_a_services_rules_and_the_change_is_audited(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    admin, _ = await make_user(session, role="admin")
    csrf = await sign_in(client, admin.email)
    listing = await client.get("/staff/admin/services")
    assert listing.status_code == 200
    assert f'href="/staff/admin/services/{clinic.service.id}"' in listing.text
    form = await client.get(f"/staff/admin/services/{clinic.service.id}")
    assert form.status_code == 200 and f"Change {clinic.service.name}" in form.text
    saved = await client.post(
        f"/staff/admin/services/{clinic.service.id}",
        data=_form(
            clinic.service,
            csrf,
            change_notice_hours="24",
            min_notice_hours="1.5",
            phone="01524 65944",
        ),
    )
    assert saved.status_code == 303, saved.text
    assert saved.headers["location"] == f"/staff/admin/services?updated={clinic.service.id}"
    await session.refresh(clinic.service)
    assert clinic.service.change_notice_minutes == 24 * 60
    assert clinic.service.min_notice_minutes == 90
    assert clinic.service.phone == "01524 65944"
    audited = await session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity_type == "service", AuditEvent.entity_id == clinic.service.id
        )
    )
    assert audited is not None and audited.actor_user_id == admin.id


async def test_a_bad_value_names_its_field_and_keeps_what_was_typed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    admin, _ = await make_user(session, role="admin")
    csrf = await sign_in(client, admin.email)
    path = f"/staff/admin/services/{clinic.service.id}"
    typed = await client.post(
        path, data=_form(clinic.service, csrf, length_minutes="twenty", name="Renamed clinic")
    )
    assert typed.status_code == 422
    assert typed.text.count('href="#length_minutes"') == 1
    assert "Enter the appointment length in minutes" in typed.text
    assert 'value="twenty"' in typed.text and 'value="Renamed clinic"' in typed.text
    assert "<title>Error: " in typed.text
    # Out of the domain's range (a service is 5 minutes to 8 hours): the domain's rule, named.
    too_long = await client.post(path, data=_form(clinic.service, csrf, length_minutes="600"))
    assert too_long.status_code == 422 and 'href="#length_minutes"' in too_long.text
    no_modes = await client.post(path, data=_form(clinic.service, csrf, modes=[]))
    assert no_modes.status_code == 422 and 'href="#modes"' in no_modes.text
    await session.refresh(clinic.service)
    assert clinic.service.length_minutes == 20 and clinic.service.name != "Renamed clinic"


async def test_a_longer_service_lists_the_bookings_it_leaves_not_fitting(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    # Back to back in the clinic's Tuesday session: made longer, the first runs into the second.
    start = london_datetime(next_weekday(1, weeks=2), time(9))
    first = await book_via_service(
        session, clinic, start, patient_id=(await make_patient(session)).id
    )
    await book_via_service(
        session, clinic, start + timedelta(minutes=20), patient_id=(await make_patient(session)).id
    )
    admin, _ = await make_user(session, role="admin")
    csrf = await sign_in(client, admin.email)
    shown = await client.post(
        f"/staff/admin/services/{clinic.service.id}",
        data=_form(clinic.service, csrf, length_minutes="30"),
    )
    assert shown.status_code == 200
    assert "no longer fit" in shown.text and first.reference in shown.text
    await session.refresh(clinic.service)
    assert clinic.service.length_minutes == 30


async def test_only_admins_use_the_service_pages(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    navigator, _ = await make_user(session, role="navigator")
    csrf = await sign_in(client, navigator.email)
    assert (await client.get("/staff/admin/services")).status_code == 403
    assert (await client.get("/staff/admin/services/new")).status_code == 403
    new = {"csrf": csrf, "name": "Navigator's own service"}
    assert (await client.post("/staff/admin/services/new", data=new)).status_code == 403
    refused = await client.post(
        f"/staff/admin/services/{clinic.service.id}", data=_form(clinic.service, csrf, name="X")
    )
    assert refused.status_code == 403
    assert (await client.get("/staff/admin/services/999999")).status_code in (403, 404)


def _new(clinic: Clinic, csrf: str, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "csrf": csrf,
        "organisation_id": str(clinic.organisation.id),
        "name": "Heart failure review",
        "specialty": "Cardiology",
        "length_minutes": "30",
        "buffer_minutes": "5",
        "modes": ["video_home", "in_person"],
        "usual_site_id": str(clinic.hospital.id),
        "min_notice_hours": "2",
        "horizon_days": "28",
        "change_notice_hours": "24",
        "phone": "01524 65944",
    }
    return values | changes


async def test_an_admin_adds_a_service_and_the_creation_is_audited(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic, (admin, csrf) = await make_clinic(session), await signed_in_admin(session, client)
    listing = await client.get("/staff/admin/services")
    assert 'href="/staff/admin/services/new"' in listing.text
    blank = await client.get("/staff/admin/services/new")
    assert blank.status_code == 200 and "<title>Add a service" in blank.text
    assert 'value="56"' in blank.text  # the API's default horizon, offered
    added = await client.post("/staff/admin/services/new", data=_new(clinic, csrf))
    assert added.status_code == 303, added.text
    service = await session.scalar(select(Service).where(Service.name == "Heart failure review"))
    assert service is not None
    assert added.headers["location"] == f"/staff/admin/services?created={service.id}"
    assert (service.length_minutes, service.buffer_minutes, service.horizon_days) == (30, 5, 28)
    assert (service.min_notice_minutes, service.change_notice_minutes) == (120, 24 * 60)
    assert list(service.modes) == ["video_home", "in_person"] and service.active
    assert (service.organisation_id, service.usual_site_id) == (
        clinic.organisation.id,
        clinic.hospital.id,
    )
    by = AuditEvent.actor_user_id
    created = (AuditEvent.action == "service.create", AuditEvent.entity_id == service.id)
    assert await session.scalar(select(by).where(*created)) == admin.id
    shown = await client.get(added.headers["location"])
    assert "The service is added." in shown.text and "Heart failure review" in shown.text


async def test_a_new_services_bad_values_are_named_and_kept(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    _, csrf = await signed_in_admin(session, client)
    path = "/staff/admin/services/new"
    empty = await client.post(path, data={"csrf": csrf})
    assert empty.status_code == 422 and "<title>Error: Add a service" in empty.text
    for target in ("organisation_id", "name", "specialty", "length_minutes", "modes"):
        assert empty.text.count(f'href="#{target}"') == 1, target
    assert 'href="#usual_site_id"' in empty.text
    too_long = await client.post(path, data=_new(clinic, csrf, length_minutes="600"))
    assert too_long.status_code == 422
    assert "Appointment length must be 480 or less" in too_long.text
    assert 'value="600"' in too_long.text and 'value="Heart failure review"' in too_long.text
    endless = await client.post(path, data=_new(clinic, csrf, min_notice_hours="inf"))
    assert endless.status_code == 422 and "Enter the booking notice in hours" in endless.text
    phone = await client.post(path, data=_new(clinic, csrf, phone="999"))
    assert phone.status_code == 422 and 'href="#phone"' in phone.text
    taken = await client.post(path, data=_new(clinic, csrf, name=clinic.service.name))
    assert taken.status_code == 409 and 'href="#name"' in taken.text
    assert "already exists" in taken.text
    count = await session.scalar(select(func.count()).select_from(Service))
    assert count == 1  # only the clinic's own


async def test_a_new_service_needs_an_open_usual_site(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    clinic = await make_clinic(session)
    clinic.hospital.active = False
    await session.flush()
    _, csrf = await signed_in_admin(session, client)
    closed = await client.post("/staff/admin/services/new", data=_new(clinic, csrf))
    assert closed.status_code == 422 and 'href="#usual_site_id"' in closed.text
    assert "Usual site no active site with id" in closed.text
