"""Referrals over the API: systems and navigators record them; a repeat of a system's own ids
answers with the referral we have."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from scheduling import referrals
from scheduling.endpoints import router
from scheduling.referral_models import Referral, Source
from scheduling.referral_schemas import (
    CloseIn,
    ReferralIn,
    ReferralList,
    ReferralOut,
    ReferralQuery,
)
from scheduling.slots import to_london
from telehealth.kernel.api import Context
from telehealth.kernel.auth.models import Role

REFERRERS = (Role.ADMIN, Role.NAVIGATOR, Role.CLINICIAN)


async def referral_out(session: AsyncSession, referral: Referral) -> ReferralOut:
    """The referral, with its appointment's reference and start once booked."""
    out = ReferralOut.model_validate(referral)
    appointment = await referrals.appointment_of(session, referral)
    if appointment is not None:
        out = out.model_copy(
            update={
                "appointment_reference": appointment.reference,
                "appointment_start": to_london(appointment.starts_at),
            }
        )
    return out


@router.operation(
    "POST",
    "/referrals",
    summary="Record a referral",
    roles=REFERRERS,
    tag="referrals",
    body=ReferralIn,
    response=ReferralOut,
    status=201,
    also=(200,),
    errors=(409,),
)
async def create_referral(ctx: Context, body: ReferralIn) -> ReferralOut | Response:
    """201 with a new open referral (the messaging worker then invites the patient to book);
    200 with the referral we have when `source_system` and `source_reference` were sent
    before with the same details; 409 naming the details that differ when they were not."""
    recorded = await referrals.record(ctx.session, body, viewer=ctx.user, source=Source.API)
    out = await referral_out(ctx.session, recorded.referral)
    if recorded.created:
        return out
    return Response(out.model_dump_json(), status_code=200, media_type="application/json")


@router.operation(
    "GET",
    "/referrals",
    summary="List referrals",
    roles=REFERRERS,
    tag="referrals",
    query=ReferralQuery,
    response=ReferralList,
)
async def list_referrals(ctx: Context, query: ReferralQuery) -> ReferralList:
    found = await referrals.list_referrals(ctx.session, query, viewer=ctx.user)
    return ReferralList(
        items=[await referral_out(ctx.session, r) for r in found],
        limit=query.limit,
        offset=query.offset,
    )


@router.operation(
    "GET",
    "/referrals/{referral_id}",
    summary="Read a referral",
    roles=REFERRERS,
    tag="referrals",
    response=ReferralOut,
    errors=(404,),
)
async def get_referral(ctx: Context) -> ReferralOut:
    referral = await referrals.get(ctx.session, ctx.path_int("referral_id"), viewer=ctx.user)
    return await referral_out(ctx.session, referral)


@router.operation(
    "POST",
    "/referrals/{referral_id}/close",
    summary="Close a referral",
    roles=REFERRERS,
    tag="referrals",
    body=CloseIn,
    response=ReferralOut,
    errors=(404, 409),
)
async def close_referral(ctx: Context, body: CloseIn) -> ReferralOut:
    """Withdraw an open referral: nothing more is sent and nothing can be booked from it."""
    referral = await referrals.close(
        ctx.session, ctx.path_int("referral_id"), reason=body.reason, viewer=ctx.user
    )
    return await referral_out(ctx.session, referral)
