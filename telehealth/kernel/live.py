"""Live updates across processes: topics published inside a transaction reach subscribers in
every app process once (and only if) the transaction commits.

On PostgreSQL, `announce` runs `pg_notify` in the caller's transaction, which PostgreSQL
delivers at commit to every process LISTENing (see `PostgresRelay`). On SQLite (one process)
announcements wait in the session and are handed to this process's broker after commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from starlette.requests import Request

log = logging.getLogger("telehealth.kernel.live")

CHANNEL = "telehealth_live"
_PENDING = "telehealth_live_pending"
QUEUE_SIZE = 100


class Broker:
    """Fan-out of topic messages to this process's subscribers (each an asyncio.Queue)."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    def publish(self, topics: Iterable[str], payload: dict[str, Any]) -> None:
        delivered: set[int] = set()
        for topic in topics:
            for queue in self._subscribers.get(topic, ()):
                if id(queue) in delivered:
                    continue
                delivered.add(id(queue))
                try:
                    queue.put_nowait(payload)
                except asyncio.QueueFull:
                    # A stalled client must not hold up everyone else; it will resync on
                    # reconnect because every page fetches the full state first.
                    log.warning("dropping a live update for a slow subscriber")

    @asynccontextmanager
    async def subscribe(
        self, topics: Iterable[str]
    ) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        topics = list(topics)
        for topic in topics:
            self._subscribers[topic].add(queue)
        try:
            yield queue
        finally:
            for topic in topics:
                self._subscribers[topic].discard(queue)
                if not self._subscribers[topic]:
                    del self._subscribers[topic]


# One per process: live connections are a per-process thing by nature.
broker = Broker()


def _message(topics: Iterable[str], payload: dict[str, Any]) -> str:
    return json.dumps({"topics": list(topics), "payload": payload}, separators=(",", ":"))


def deliver(raw: str) -> None:
    """Hand a NOTIFY payload (or a local announcement) to this process's subscribers."""
    message = json.loads(raw)
    broker.publish(message["topics"], message["payload"])


async def announce(session: AsyncSession, topics: Iterable[str], payload: dict[str, Any]) -> None:
    raw = _message(topics, payload)
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_notify(:channel, :raw)"), {"channel": CHANNEL, "raw": raw}
        )
        return
    session.sync_session.info.setdefault(_PENDING, []).append(raw)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for raw in session.info.pop(_PENDING, ()):
        deliver(raw)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


async def follow(
    request: Request,
    topic: str,
    *,
    first: tuple[str, dict[str, Any]],
    event_of: Callable[[dict[str, Any]], str],
    heartbeat: float,
    until: Callable[[dict[str, Any]], bool] = lambda _: False,
) -> AsyncIterator[dict[str, str]]:
    """Server-sent events for one topic: `first`, then each announcement, until the client
    leaves or `until` says the story is over. Subscribed before `first` is sent, so nothing
    announced in between is missed."""
    async with broker.subscribe([topic]) as queue:
        yield {"event": first[0], "data": json.dumps(first[1])}
        while not await request.is_disconnected():
            try:
                payload = await asyncio.wait_for(queue.get(), timeout=heartbeat)
            except TimeoutError:
                continue
            yield {"event": event_of(payload), "data": json.dumps(payload)}
            if until(payload):
                return


class PostgresRelay:
    """LISTENs on one dedicated connection and feeds this process's broker. A lost connection
    (PostgreSQL restarted, a network blip, an administrator's pg_terminate_backend) is
    reopened with backoff: without that, every waiting room and clinic screen served by this
    process would go quiet for good. Announcements made while it was away are not replayed;
    each page fetches the full state when it (re)connects.

    `also` listens on more channels, each calling its function on every notification;
    `on_gap` is called when the connection is lost and again once it is back, for whoever
    must forget what the notifications missed in between would have changed.

    A connection can also die without closing (a failover, a dropped NAT mapping): a
    heartbeat asks the server something every HEARTBEAT_SECONDS, and `listening` holds only
    while the last answer is recent; no answer in time closes the connection, which starts
    the reconnect. LISTEN needs a session of its own: point DATABASE_URL at PostgreSQL or a
    session-mode pooler, not a transaction-mode one."""

    RETRY_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0)
    HEARTBEAT_SECONDS = 5.0

    def __init__(
        self,
        dsn: str,
        *,
        also: Mapping[str, Callable[[], None]] | None = None,
        on_gap: Callable[[], None] = lambda: None,
    ) -> None:
        self.dsn = dsn
        self._also = dict(also or {})
        self._on_gap = on_gap
        self._connection: Any = None
        self._stopping = False
        self._reconnecting: asyncio.Task[None] | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._answered_at = 0.0  # loop time of the server's last sign of life

    @property
    def listening(self) -> bool:
        if self._connection is None or self._connection.is_closed():
            return False
        silence = asyncio.get_running_loop().time() - self._answered_at
        return silence < 2 * self.HEARTBEAT_SECONDS

    @property
    def server_pid(self) -> int | None:
        """The PostgreSQL backend doing the listening (for tests and diagnostics)."""
        return int(self._connection.get_server_pid()) if self.listening else None

    async def start(self) -> None:
        self._stopping = False
        await self._connect()
        self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def _connect(self) -> None:
        import asyncpg

        connection = await asyncpg.connect(self.dsn)
        try:
            await connection.add_listener(CHANNEL, self._on_notify)
            for channel, call in self._also.items():
                await connection.add_listener(channel, lambda *_, call=call: call())
        except BaseException:
            connection.terminate()  # half set up: never let it stand in for a good one
            raise
        connection.add_termination_listener(self._on_lost)
        self._connection = connection
        self._answered_at = asyncio.get_running_loop().time()

    async def _beat(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.HEARTBEAT_SECONDS)
            connection = self._connection
            if connection is None or connection.is_closed():
                continue
            try:
                await asyncio.wait_for(connection.fetchval("SELECT 1"), self.HEARTBEAT_SECONDS)
            except Exception as exc:  # a timeout, or the connection failing under us
                log.warning("live updates: no answer from the server (%r); reconnecting", exc)
                connection.terminate()  # its termination listener starts the reconnect
            else:
                self._answered_at = asyncio.get_running_loop().time()

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, raw: str) -> None:
        try:
            deliver(raw)
        except (ValueError, KeyError):
            log.exception("ignoring a malformed live notification")

    def _on_lost(self, connection: Any) -> None:
        if self._stopping or connection is not self._connection:
            return
        log.warning("lost the connection listening for live updates; reconnecting")
        self._connection = None
        self._on_gap()
        self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        attempt = 0
        while not self._stopping:
            try:
                await self._connect()
            except Exception as exc:
                # asyncpg's own errors, OSError, timeouts: whichever it was, try again.
                delay = self.RETRY_SECONDS[min(attempt, len(self.RETRY_SECONDS) - 1)]
                attempt += 1
                log.warning("live updates: reconnect failed (%s); again in %.1f s", exc, delay)
                await asyncio.sleep(delay)
            else:
                self._on_gap()
                log.info("listening for live updates again")
                return

    async def stop(self) -> None:
        self._stopping = True
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnecting
            self._reconnecting = None
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
