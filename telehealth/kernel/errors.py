"""One error hierarchy, mapped to HTTP in one place (`telehealth.kernel.http.error_handlers`).

    TelehealthError (500, "internal_error")
    ├── InvalidInput (422, "invalid_input")        one message per bad field in `fields`
    ├── Unauthenticated (401, "unauthenticated")
    ├── Forbidden (403, "forbidden")
    ├── NotFound (404, "not_found")
    └── Conflict (409, "conflict")
        ├── SlotUnavailable (409, "slot_unavailable")
        └── PatientUnavailable (409, "patient_unavailable")

Domains subclass these to add their own stable codes; callers match on `code`, never on text.
"""

from __future__ import annotations

from collections.abc import Mapping


class TelehealthError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        fields: Mapping[str, str] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        if code is not None:
            self.code = code

    def as_dict(self) -> dict[str, object]:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class InvalidInput(TelehealthError):
    status_code = 422
    code = "invalid_input"

    @classmethod
    def field(cls, name: str, message: str, *, code: str | None = None) -> InvalidInput:
        return cls(f"{name}: {message}", fields={name: message}, code=code)


class BadRequest(TelehealthError):
    status_code = 400
    code = "bad_request"


class Unauthenticated(TelehealthError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(TelehealthError):
    status_code = 403
    code = "forbidden"


class NotFound(TelehealthError):
    status_code = 404
    code = "not_found"


class Conflict(TelehealthError):
    status_code = 409
    code = "conflict"


class SlotUnavailable(Conflict):
    code = "slot_unavailable"


class PatientUnavailable(Conflict):
    code = "patient_unavailable"
