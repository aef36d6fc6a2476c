"""The scheduling domain's HTTP API: one router, operations registered by the modules below."""

from telehealth.kernel.api import ApiRouter

router = ApiRouter()

# Imported for their side effect: each module registers its operations on `router`.
from scheduling.endpoints import (  # noqa: E402
    appointments,
    availability,
    clinic,
    directory,
    patients,
    referrals,
)

__all__ = ["appointments", "availability", "clinic", "directory", "patients", "referrals", "router"]
