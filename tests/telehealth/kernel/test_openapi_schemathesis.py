"""schemathesis against /openapi.json, in process through its ASGI transport, on both databases.

Every documented operation gets a bounded number of generated requests, valid and invalid by
the document, sent with an admin's token; every check schemathesis has is run on each response
(no 5xx, status codes, content types, headers and bodies as documented, invalid data refused,
valid data not refused, authentication not ignored, ...). The run is derandomised, so CI sees
the same requests every time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck
from schemathesis.core.result import Err
from schemathesis.errors import FailureGroup
from schemathesis.python import asgi

from app import create_app
from telehealth.kernel.config import Settings
from telehealth.kernel.db import create_engine, make_sessionmaker
from tests.builders import make_appointment, make_clinic, make_user, next_weekday

EXAMPLES = 25

# A request can be valid by the document and still be refused for what it means: an end before
# its start, an id that names nothing, a slot that is not free. The document says so with 422
# and 404; the positive-data check is told to expect them rather than switched off.
CONFIG = {
    "checks": {
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "401", "403", "404", "409", "422"],
        },
    },
    "generation": {"allow-x00": True},
}


async def _seed(url: str) -> dict[str, str]:
    """An admin's token, and a clinic with an appointment so ids 1 and 2 name real rows."""
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            _, headers = await make_user(session, role="admin")
            clinic = await make_clinic(session)
            start = datetime.combine(next_weekday(1), time(9), UTC)
            await make_appointment(session, clinic, start=start)
    finally:
        await engine.dispose()
    return headers


def _exercise(
    operation: schemathesis.APIOperation[Any, Any, Any, Any],
    mode: schemathesis.GenerationMode,
    headers: dict[str, str],
) -> list[str]:
    """Every failing check of up to EXAMPLES generated requests to one operation."""
    failures: list[str] = []

    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case[Any]) -> None:
        # Collected rather than raised: one run reports every operation's failures.
        try:
            case.call_and_validate(headers=headers)
        except (FailureGroup, Exception) as exc:
            failures.append(f"{operation.label} ({mode.value}): {exc}")

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        # Nothing about the operation can be invalid (no parameters, no body).
        assert mode == schemathesis.GenerationMode.NEGATIVE, operation.label
    return failures


@pytest.mark.slow
async def test_schemathesis_finds_no_server_error_and_nothing_undocumented(
    fresh_database: str, settings: Settings
) -> None:
    headers = await _seed(fresh_database)
    app = create_app(replace(settings, database_url=fresh_database))
    schema = schemathesis.openapi.from_asgi(
        "/openapi.json", app, config=schemathesis.Config.from_dict(CONFIG)
    )
    failures: list[str] = []
    try:
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                raise result.err()
            for mode in schemathesis.GenerationMode:
                failures += _exercise(result.ok(), mode, headers)
    finally:
        asgi.shutdown_lifespans()
    assert not failures, f"{len(failures)} failures:\n" + "\n\n".join(failures[:60])
