"""The per-process cache of verified API tokens: the rules alone, then real server processes
on PostgreSQL where revocations, deactivations and role changes arrive as notifications."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import text, update

from telehealth.kernel.auth.cache import Principal, TokenCache
from telehealth.kernel.auth.models import StaffUser
from telehealth.kernel.auth.service import revoke_tokens
from telehealth.kernel.db import create_engine, make_sessionmaker
from tests.builders import make_user
from tests.servers import running_servers, wait_for

ALICE = Principal(1, "alice@example.com", "Alice", "navigator")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def live_cache(**kw: object) -> TokenCache:
    cache = TokenCache(**kw)  # type: ignore[arg-type]
    cache.live_when(lambda: True)
    return cache


def test_off_until_invalidations_can_arrive() -> None:
    cache = TokenCache()
    cache.put("h", ALICE, cache.generation)
    assert cache.get("h") is None and len(cache) == 0
    listening = [True]
    cache.live_when(lambda: listening[0])
    cache.put("h", ALICE, cache.generation)
    assert cache.get("h") == ALICE
    listening[0] = False  # the listener lost its connection
    assert cache.get("h") is None


def test_a_look_up_overtaken_by_an_invalidation_is_not_kept() -> None:
    cache = live_cache()
    began = cache.generation
    cache.invalidate()  # a revocation arrived while the look-up was reading the database
    cache.put("h", ALICE, began)
    assert cache.get("h") is None
    cache.put("h", ALICE, cache.generation)
    assert cache.get("h") == ALICE
    cache.invalidate()
    assert cache.get("h") is None


def test_entries_expire_and_the_oldest_unused_go_first() -> None:
    clock = Clock()
    cache = live_cache(ttl=60.0, max_entries=2, clock=clock)
    for name in ("a", "b"):
        cache.put(name, ALICE, cache.generation)
    assert cache.get("a") == ALICE  # "b" is now the least recently used
    cache.put("c", ALICE, cache.generation)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (ALICE, None, ALICE)
    clock.now = 59.9
    assert cache.get("a") == ALICE
    clock.now = 60.0
    assert cache.get("a") is None and len(cache) == 1


@pytest.mark.parametrize("fresh_database", ["postgresql"], indirect=True)
async def test_revocations_reach_every_server_process(
    fresh_database: str, project_root: Path
) -> None:
    engine = create_engine(fresh_database)
    sessionmaker = make_sessionmaker(engine)
    async with sessionmaker() as session, session.begin():
        navigator, navigator_headers = await make_user(session, role="navigator")
        admin, admin_headers = await make_user(session, role="admin")
        other, other_headers = await make_user(session, role="navigator")
    with running_servers(fresh_database, project_root) as bases:

        def status(base: str, headers: dict[str, str], path: str = "/api/v1/services") -> int:
            return httpx.get(base + path, headers=headers, timeout=10).status_code

        for base in bases:
            assert status(base, navigator_headers) == 200
            assert status(base, admin_headers, "/api/v1/appointments") == 200
            assert status(base, other_headers) == 200

        # Proof that the servers answer from their caches: with the notification switched
        # off, a revocation goes unseen...
        async with sessionmaker() as session, session.begin():
            await session.execute(text("ALTER TABLE api_tokens DISABLE TRIGGER USER"))
            await revoke_tokens(session, user=other)
        assert all(status(base, other_headers) == 200 for base in bases)
        async with sessionmaker() as session, session.begin():
            await session.execute(text("ALTER TABLE api_tokens ENABLE TRIGGER USER"))

        # ...and with it on, as deployed, every process hears of the next one at once.
        async with sessionmaker() as session, session.begin():
            await revoke_tokens(session, user=navigator)
        wait_for(lambda: all(status(base, navigator_headers) == 401 for base in bases))
        assert all(status(base, other_headers) == 401 for base in bases)  # read afresh

        # Role changes and deactivation travel the same way (staff_users).
        async with sessionmaker() as session, session.begin():
            await session.execute(
                update(StaffUser).where(StaffUser.id == admin.id).values(role="analyst")
            )
        wait_for(
            lambda: all(status(b, admin_headers, "/api/v1/appointments") == 403 for b in bases)
        )
        async with sessionmaker() as session, session.begin():
            await session.execute(
                update(StaffUser).where(StaffUser.id == admin.id).values(active=False)
            )
        wait_for(lambda: all(status(base, admin_headers) == 401 for base in bases))
    await engine.dispose()
