from __future__ import annotations

from pydantic import BaseModel

from scheduling import patients
from scheduling.endpoints import router
from scheduling.patients import PatientPatch
from scheduling.schemas import PatientOut
from telehealth.kernel.api import Context
from telehealth.kernel.auth.models import Role
from telehealth.kernel.partial import sent

PATIENT_EDITORS = (Role.ADMIN, Role.NAVIGATOR)


@router.operation(
    "PATCH",
    "/patients/{patient_id}",
    summary="Change a patient's details",
    roles=PATIENT_EDITORS,
    tag="patients",
    body=PatientPatch,
    response=PatientOut,
    errors=(404, 409),
)
async def update_patient(ctx: Context, body: BaseModel) -> PatientOut:
    """Change any of the patient's details, validated as on registering (null clears an
    optional one). Messages queued before the change, reminders included, still go to the
    address they were queued for; messages about later changes use the new details."""
    patient = await patients.update_patient(
        ctx.session, ctx.path_int("patient_id"), sent(body), actor_user_id=ctx.user.id
    )
    return PatientOut.model_validate(patient)
