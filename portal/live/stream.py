"""The stream server: `GET /events`, one Server-Sent Events stream per browser tab
(docs/architecture.md, "Live updates").

A small ASGI app run by uvicorn in a process of its own (`python -m portal.live`), so hundreds
of idle streams cost a coroutine each and never hold gunicorn's sync workers. One reader task
follows the Redis streams with XREAD BLOCK and hands each entry to the connected tabs whose agent
may see its conversation; the database work (who may see what, the contact's name) runs in
threads through the Flask app, with the same session rules and scope function as the pages.

- Sign-in: the tab's own session (or remember-me) cookie, checked by Flask-Login exactly as a
  page request; signed out, deactivated or still owing two-factor set-up: 401.
- Every AGENT_RECHECK_SECONDS one query re-reads the connected agents: a deactivated or
  signed-out-everywhere agent's streams close.
- Last-Event-ID (header, or `last_event_id` in the query for a tab that had to open a new
  EventSource): the entries after it are replayed through the same scope filter, so a forged id
  only moves where the replay starts. An id older than the bounded stream's first entry gets a
  `reset` event: the tab reloads its fragments.
- The number of open streams goes to Redis whenever it changes (at most once a second) and every
  REPORT_SECONDS, for /metrics and the admin health page (portal/ops/figures.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import flask_login
from redis import asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.extensions import db
from portal.models import Agent, Conversation
from portal.ops.figures import report_open_streams
from portal.queue import redis_connection, redis_url_for
from portal.services import assignment, two_factor
from portal.services.live import (
    EVENTS_KEY,
    EVENTS_MAXLEN,
    NAMED_EVENTS,
    PRESENCE_KEY,
    LiveEvent,
    audience,
    decode_entry,
    parse_event_id,
)

log = logging.getLogger(__name__)

AGENT_RECHECK_SECONDS = 2.0
KEEPALIVE_SECONDS = 20.0
READ_BLOCK_MS = 10_000
# A tab that falls this far behind (a stalled connection) is closed; it reconnects and catches up.
CLIENT_QUEUE_LIMIT = 1_000
CATCH_UP_LIMIT = 2_000
RECONNECT_MS = 2_000
REDIS_CONNECTIONS = 20
REPORT_SECONDS = 5.0  # well inside figures.OPEN_STREAMS_TTL, after which a silent process drops out


@dataclass(eq=False)
class Client:
    agent_id: int
    session_version: int
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(CLIENT_QUEUE_LIMIT))

    def push(self, item: tuple[str | None, bytes] | None) -> None:
        """Queue (event id or None, bytes) to send; None closes the stream."""
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(None)


def sse(event: str, data: dict, event_id: str | None = None) -> bytes:
    lines = [f"event: {event}", f"data: {json.dumps(data, separators=(',', ':'))}"]
    if event_id is not None:
        lines.insert(0, f"id: {event_id}")
    return ("\n".join(lines) + "\n\n").encode()


def _id_key(event_id: str) -> tuple[int, int]:
    return parse_event_id(event_id) or (0, 0)


class StreamApp:
    def __init__(self, flask_app):
        self.flask_app = flask_app
        self.clients: set[Client] = set()
        self.redis: aioredis.Redis | None = None
        self._tasks: list[asyncio.Task] = []
        # The newest entry of EVENTS_KEY the reader has taken: a new tab's live part starts there.
        self.events_cursor: str | None = None
        self.process = f"{socket.gethostname()}:{os.getpid()}"
        self._clients_changed = asyncio.Event()

    # --- ASGI -----------------------------------------------------------------------------
    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def start(self) -> None:
        # A bounded pool that makes a burst of reconnecting tabs wait for a connection rather than fail.
        pool = aioredis.BlockingConnectionPool.from_url(
            redis_url_for(self.flask_app), max_connections=REDIS_CONNECTIONS, timeout=10,
            socket_connect_timeout=2, socket_timeout=READ_BLOCK_MS / 1000 + 5,
        )
        self.redis = aioredis.Redis(connection_pool=pool)
        self._tasks = [asyncio.create_task(self._read_forever()), asyncio.create_task(self._recheck_forever()),
                       asyncio.create_task(self._report_forever())]

    async def stop(self) -> None:
        for client in list(self.clients):
            client.push(None)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.clients.clear()
        await self._report()
        if self.redis is not None:
            await self.redis.aclose()

    async def _http(self, scope, receive, send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        cors = self._cors_headers(headers.get("origin"))
        if scope["path"] != "/events":
            await self._plain(send, 404, b"not found", cors)
            return
        if scope["method"] != "GET":
            await self._plain(send, 405, b"method not allowed", cors)
            return
        client_host = (scope.get("client") or ("", 0))[0]
        session = await asyncio.to_thread(self._authenticate, headers, client_host)
        if session is None:
            await self._plain(send, 401, b"sign in first", cors)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        last_seen = headers.get("last-event-id") or (query.get("last_event_id") or [None])[0]
        client = Client(*session)
        # Read with the registration, in one step: every batch the reader takes after this
        # includes this tab and lies past `live_from`; every batch before lies at or before it.
        live_from = self.events_cursor
        self.clients.add(client)
        self._clients_changed.set()
        watcher = asyncio.create_task(self._watch_disconnect(receive, client))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/event-stream; charset=utf-8"),
                (b"cache-control", b"no-store"),
                (b"x-accel-buffering", b"no"),
                *cors,
            ]})
            await send({"type": "http.response.body", "body": f"retry: {RECONNECT_MS}\n\n".encode(), "more_body": True})
            sent_through = await self._catch_up(client, parse_event_id(last_seen), live_from, send)
            await self._pump(client, sent_through, send)
        except OSError:  # the tab went away mid-write
            pass
        except RedisError as exc:  # the stream ends; the browser reconnects with its Last-Event-ID
            log.warning("live stream: catch-up failed (%s)", type(exc).__name__)
        finally:
            self.clients.discard(client)
            self._clients_changed.set()
            watcher.cancel()
        try:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:
            pass

    async def _watch_disconnect(self, receive, client: Client) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        client.push(None)

    def _cors_headers(self, origin: str | None) -> list[tuple[bytes, bytes]]:
        # The portal's pages may open the stream from another port (scripts/run); no other site may.
        portal = urlsplit(self.flask_app.config["PUBLIC_BASE_URL"])
        if origin != f"{portal.scheme}://{portal.netloc}":
            return []
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"Origin"),
        ]

    @staticmethod
    async def _plain(send, status: int, body: bytes, cors) -> None:
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"), *cors]})
        await send({"type": "http.response.body", "body": body})

    # --- one tab ----------------------------------------------------------------------------
    async def _catch_up(self, client: Client, last_seen: tuple[int, int] | None, live_from: str | None,
                        send) -> str:
        """Replay what the tab missed after `last_seen` up to `live_from` (the reader's position
        when the tab registered), then a `ready` event with that id. Returns it."""
        head_id = live_from
        if head_id is None:  # the reader has not started yet
            head = await self.redis.xrevrange(EVENTS_KEY, count=1)
            head_id = head[0][0].decode() if head else "0-0"
        chunks: list[bytes] = []
        if last_seen is not None and last_seen < _id_key(head_id):
            first = await self.redis.xrange(EVENTS_KEY, count=1)
            start = f"({last_seen[0]}-{last_seen[1]}"
            entries = await self.redis.xrange(EVENTS_KEY, min=start, max=head_id, count=CATCH_UP_LIMIT + 1)
            # Entries before the first one were dropped only if the stream ever reached its bound.
            trimmed = _id_key(first[0][0].decode()) > last_seen and await self.redis.xlen(EVENTS_KEY) >= EVENTS_MAXLEN
            if trimmed or len(entries) > CATCH_UP_LIMIT:
                chunks.append(sse("reset", {}))
            else:
                events = [e for e in (decode_entry(EVENTS_KEY, i, f) for i, f in entries) if e is not None]
                for _event, payloads in await asyncio.to_thread(self._payloads, events, {client.agent_id}):
                    if client.agent_id in payloads:
                        chunks.append(payloads[client.agent_id])
        chunks.append(sse("ready", {}, head_id))
        await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})
        return head_id

    async def _pump(self, client: Client, sent_through: str, send) -> None:
        """Send what the reader queued, everything waiting in one write (a burst of events costs
        one write per tab, not one per event)."""
        floor = _id_key(sent_through)
        while True:
            try:
                items = [await asyncio.wait_for(client.queue.get(), KEEPALIVE_SECONDS)]
            except TimeoutError:
                items = [(None, b": keepalive\n\n")]
            while not client.queue.empty():
                items.append(client.queue.get_nowait())
            chunks = []
            for item in items:
                if item is None:
                    return
                event_id, chunk = item
                if event_id is None or _id_key(event_id) > floor:  # else the catch-up sent it
                    chunks.append(chunk)
            if chunks:
                await send({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})

    # --- the reader and the agent check ---------------------------------------------------------
    async def _read_forever(self) -> None:
        cursors: dict[str, str] = {}
        while True:
            try:
                if not cursors:
                    for key in (EVENTS_KEY, PRESENCE_KEY):
                        newest = await self.redis.xrevrange(key, count=1)
                        cursors[key] = newest[0][0].decode() if newest else "0-0"
                    self.events_cursor = cursors[EVENTS_KEY]
                result = await self.redis.xread(cursors, block=READ_BLOCK_MS, count=500)
            except (RedisError, OSError) as exc:
                log.warning("live stream: Redis unavailable (%s); retrying", type(exc).__name__)
                await asyncio.sleep(1)
                continue
            clients = list(self.clients)
            events: list[LiveEvent] = []
            for stream, entries in result or ():
                key = stream.decode()
                for entry_id, fields in entries:
                    cursors[key] = entry_id.decode()
                    event = decode_entry(key, entry_id, fields)
                    if event is not None:
                        events.append(event)
            # Tabs that register from now on start after these entries; `clients` will get them.
            self.events_cursor = cursors[EVENTS_KEY]
            if not events or not clients:
                continue
            try:
                deliveries = await asyncio.to_thread(self._payloads, events, {c.agent_id for c in clients})
            except Exception:
                log.exception("live stream: could not work out who hears %d event(s)", len(events))
                continue
            for event, payloads in deliveries:
                durable_id = event.id if event.stream == EVENTS_KEY else None
                for client in clients:
                    chunk = payloads.get(client.agent_id)
                    if chunk is not None:
                        client.push((durable_id, chunk))

    async def _recheck_forever(self) -> None:
        while True:
            await asyncio.sleep(AGENT_RECHECK_SECONDS)
            clients = list(self.clients)
            if not clients:
                continue
            try:
                valid = await asyncio.to_thread(self._session_versions, {c.agent_id for c in clients})
            except Exception:
                log.exception("live stream: could not re-check the connected agents")
                continue
            for client in clients:
                if valid.get(client.agent_id) != client.session_version:
                    client.push(None)

    async def _report_forever(self) -> None:
        while True:
            self._clients_changed.clear()
            await self._report()
            await asyncio.sleep(1)
            try:
                await asyncio.wait_for(self._clients_changed.wait(), REPORT_SECONDS - 1)
            except TimeoutError:
                pass

    async def _report(self) -> None:
        try:
            await asyncio.to_thread(report_open_streams, redis_connection(self.flask_app), self.process,
                                    len(self.clients))
        except (RedisError, OSError) as exc:
            log.warning("live stream: could not report the open streams (%s)", type(exc).__name__)

    # --- database work, in threads -------------------------------------------------------------
    def _authenticate(self, headers: dict[str, str], client_host: str) -> tuple[int, int] | None:
        request_headers = {name: headers[name] for name in ("cookie", "user-agent") if name in headers}
        with self.flask_app.test_request_context(
            "/events", headers=request_headers, environ_base={"REMOTE_ADDR": client_host}
        ):
            agent = flask_login.current_user
            if not agent.is_authenticated or two_factor.needs_enrolment(agent):
                return None
            return agent.id, agent.session_version

    def _session_versions(self, agent_ids: set[int]) -> dict[int, int]:
        with self.flask_app.app_context():
            rows = db.session.execute(
                select(Agent.id, Agent.session_version).where(Agent.id.in_(agent_ids), Agent.active.is_(True))
            )
            versions = {agent_id: version for agent_id, version in rows}
            # An open stream is the agent's presence for auto-assignment (services/assignment.py).
            assignment.note_online_and_assign(versions)
            return versions

    def _payloads(self, events: list[LiveEvent], agent_ids: set[int]) -> list[tuple[LiveEvent, dict[int, bytes]]]:
        """For each event, the bytes each of these agents gets (absent: they do not hear it)."""
        with self.flask_app.app_context():
            agents = list(db.session.scalars(select(Agent).where(Agent.id.in_(agent_ids), Agent.active.is_(True))))
            conversation_ids = {e.conversation_id for e in events if e.conversation_id is not None}
            conversations = {
                c.id: c
                for c in db.session.scalars(
                    select(Conversation)
                    .options(selectinload(Conversation.contact))
                    .where(Conversation.id.in_(conversation_ids))
                )
            }
            result = []
            for event in events:
                conversation = conversations.get(event.conversation_id)
                seeing, others = audience(event, agents, conversation)
                payloads: dict[int, bytes] = {}
                if seeing:
                    payloads |= dict.fromkeys(seeing, self._chunk(event, conversation, full=True))
                if others:
                    payloads |= dict.fromkeys(others, self._chunk(event, conversation, full=False))
                result.append((event, payloads))
            return result

    @staticmethod
    def _chunk(event: LiveEvent, conversation: Conversation, *, full: bool) -> bytes:
        if event.stream == PRESENCE_KEY:
            return sse("presence", event.record)
        data = dict(event.record)
        if full:
            data["title"] = conversation.contact.name if conversation.contact else ""
        named = NAMED_EVENTS.get(data.get("type"))
        return sse(named[1] if named else "change", data, event.id)
