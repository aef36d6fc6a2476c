"""One transaction per request, run again when the database aborts it: the API's operations
and the pages both come through here, so every request retries the same way.

A deadlock victim, a serialisation failure or a pooled connection lost to a database restart
(`db.is_retryable`) rolls the whole unit of work back, so running it again from the start has no
double effect; any other error leaves at once.

Work that writes with one statement at most, after any reads, needs no transaction of its
own on PostgreSQL: every statement is atomic, and under READ COMMITTED each statement sees
what was committed when it began, inside a transaction or not. Such work may ask to run with
each statement committing by itself (`single_write=True`), which saves the BEGIN and COMMIT
round trips (two of a booking's four). The tests' sessions, bound to a connection whose
transaction they join, keep that transaction.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from telehealth.kernel.db import is_retryable, sessionmaker_of

log = logging.getLogger("telehealth.kernel.transactions")

ATTEMPTS = 4
T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[T]]


_AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


def commits_each_statement(sessionmaker: async_sessionmaker[AsyncSession]) -> bool:
    """Whether `single_write` work from this sessionmaker runs without a transaction: on a
    PostgreSQL engine (not a connection, whose transaction its sessions join)."""
    bind = sessionmaker.kw.get("bind")
    return isinstance(bind, AsyncEngine) and bind.dialect.name == "postgresql"


async def run_in_transaction(
    request: HTTPConnection, work: Work[T], *, single_write: bool = False
) -> T:
    """`work(session)` in one transaction of the app's database, committed if it returns and
    rolled back if it raises; run again (up to ATTEMPTS times in all) when the database aborted
    it. Whatever `work` does outside the database must be safe to repeat. `single_write`: the
    work writes with at most one statement, after its reads, and raises nothing once that
    statement has succeeded, so where the database allows it each statement commits itself
    (see the module's docstring)."""
    sessionmaker = sessionmaker_of(request)
    autocommit = single_write and commits_each_statement(sessionmaker)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with sessionmaker() as session, session.begin():
                if autocommit:
                    await session.connection(execution_options=_AUTOCOMMIT)
                return await work(session)
        except DBAPIError as exc:
            if not is_retryable(exc) or attempt == ATTEMPTS:
                raise
            log.info(
                "retrying %s %s after %s", request.scope.get("method"), request.url.path, exc.orig
            )
            await asyncio.sleep(random.uniform(0.005, 0.02) * attempt)
    raise AssertionError("unreachable")


PageHandler = Callable[[Request, AsyncSession], Awaitable[Response]]


def transactional(handler: PageHandler) -> Callable[[Request], Awaitable[Response]]:
    """A page handler run as `run_in_transaction(request, ...)`: it takes the session as its
    second argument and never opens one of its own."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        return await run_in_transaction(request, lambda session: handler(request, session))

    return endpoint
