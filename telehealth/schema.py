"""Every table of every domain, imported in one place for migrations and tests.

A composition root, like app.py and the CLI: it may import every package, and only gathers
metadata.
"""

from notifications import models as notification_models
from scheduling import models as scheduling_models
from scheduling import referral_models
from telehealth.calendars import files as calendars
from telehealth.kernel import audit, idempotency, rate_limits
from telehealth.kernel.auth import models as auth_models
from telehealth.kernel.db import Base
from telehealth.travel import models as travel_models

metadata = Base.metadata

__all__ = [
    "audit",
    "auth_models",
    "calendars",
    "idempotency",
    "metadata",
    "notification_models",
    "rate_limits",
    "referral_models",
    "scheduling_models",
    "travel_models",
]
