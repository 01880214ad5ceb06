"""What the drills read to prove their checks, from sources that can disagree with the portal.

- every customer message's wamid counted in `messages`, against the list the drill posted;
- the inbox each customer message landed in, against the number the drill addressed it to;
- RQ's queue and registries (read without RQ's cleanup, which would change them), to tell a
  failed webhook event still waiting for its retry from one that is final;
- a worker's own log, to prove a SIGKILL landed inside a job;
- a trigger-fed log of every change of `messages.status` on the drill's private database, to
  catch a status that moved backwards however briefly (sampling the table would miss it).
"""

from __future__ import annotations

import re
import signal
import time
from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry
from sqlalchemy import create_engine, text

from bench import harness

# ---------------------------------------------------------------- customer messages stored once


def check_stored_once(verdict: harness.Verdict, database_url: str, posted: Collection[str]) -> bool:
    """Each wamid the drill posted is one inbound message, none missing, none twice, none other."""
    stored = Counter(dict(_rows(database_url, """
        SELECT external_id, count(*) FROM messages WHERE direction = 'inbound' GROUP BY external_id""")))
    expected = set(posted)
    missing = sorted(expected - stored.keys())
    twice = sorted(w for w, n in stored.items() if n > 1)
    other = sorted(stored.keys() - expected)
    detail = (f"{sum(stored.values())} stored for {len(expected)} posted; {len(missing)} missing, "
              f"{len(twice)} stored more than once, {len(other)} never posted")
    examples = (missing + twice + other)[:3]
    return verdict.check(f"each of the {len(expected)} customer messages stored exactly once",
                         not (missing or twice or other), detail + (f", e.g. {examples}" if examples else ""))


# ---------------------------------------------------------------- nothing crossed between inboxes


def check_inboxes(verdict: harness.Verdict, database_url: str, addressed: dict[str, str]) -> bool:
    """Each posted customer message is in a conversation of the inbox of the number it was sent
    to ({wamid: phone_number_id}), both numbers got some, and no contact has two open
    conversations in one inbox."""
    landed = dict(_rows(database_url, """
        SELECT m.external_id, i.phone_number_id FROM messages m
        JOIN conversations c ON c.id = m.conversation_id JOIN inboxes i ON i.id = c.inbox_id
        WHERE m.direction = 'inbound'"""))
    crossed = sorted(w for w, number in addressed.items() if w in landed and landed[w] != number)
    per_number = Counter(addressed.values())
    per_inbox = Counter(landed[w] for w in addressed if w in landed)
    in_both = _rows(database_url, """
        SELECT count(*) FROM (SELECT contact_id FROM conversations GROUP BY contact_id
        HAVING count(DISTINCT inbox_id) > 1) several""")[0][0]
    doubled = _rows(database_url, """
        SELECT contact_id, inbox_id FROM conversations WHERE status NOT IN ('lost', 'closed')
        GROUP BY contact_id, inbox_id HAVING count(*) > 1""")
    numbers = ", ".join(f"{number}: {per_inbox[number]} in its inbox of {per_number[number]} sent"
                        for number in sorted(per_number))
    ok_crossed = verdict.check(
        "every customer message landed in the inbox of the number it was sent to",
        len(per_number) > 1 and not crossed,
        f"{len(crossed)} in another number's inbox{f', e.g. {crossed[:3]}' if crossed else ''}; {numbers}; "
        f"{in_both} contacts have conversations in more than one inbox")
    ok_doubled = verdict.check("one open conversation per contact and inbox", not doubled,
                               f"{len(doubled)} contact/inbox pairs with more than one")
    return ok_crossed and ok_doubled


def _rows(database_url: str, sql: str) -> list[tuple]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql))]
    finally:
        engine.dispose()


# ---------------------------------------------------------------- waiting until the events are settled


def job_rows(redis_url: str, queue_name: str) -> tuple[set[int], set[int]]:
    """The row ids (first job argument) of the queue's live jobs (queued, scheduled for a retry,
    started) and of its dead letters (failed registry). Read with cleanup off: RQ's cleanup
    retries or fails abandoned jobs, which is the workers' business, not the observer's."""
    connection = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    try:
        queue = Queue(queue_name, connection=connection)
        live = set(queue.get_job_ids())
        for registry in (ScheduledJobRegistry(queue=queue), StartedJobRegistry(queue=queue)):
            live |= set(registry.get_job_ids(cleanup=False))
        dead = set(FailedJobRegistry(queue=queue).get_job_ids(cleanup=False))

        def rows(ids: set[str]) -> set[int]:
            jobs = Job.fetch_many(sorted(ids), connection=connection) if ids else []
            return {job.args[0] for job in jobs if job is not None and job.args}

        return rows(live), rows(dead)
    finally:
        connection.close()


@dataclass
class Settled:
    done: bool  # every event processed or finally failed
    seconds: float
    events: int
    pending: int
    failed_waiting: int  # failed, a retry queued or scheduled
    failed_lost: int  # failed, no job left and not dead-lettered: its retry was lost
    failed_final: int  # failed, its job dead-lettered
    # The wait before issue 14 stopped at the first moment nothing was pending: when, and how many
    # failed events were then still waiting for their retry (None: it would have stopped right).
    old_wait_stop: tuple[float, int] | None = None

    def describe(self) -> str:
        old = (f"; the old wait would have stopped at {self.old_wait_stop[0]:.0f} s with {self.old_wait_stop[1]} "
               "failed events not final" if self.old_wait_stop else "")
        return (f"{self.events} events after {self.seconds:.0f} s: {self.pending} pending, "
                f"{self.failed_waiting} failed awaiting a retry, {self.failed_lost} failed with their retry lost, "
                f"{self.failed_final} failed for good{old}")


def settle(stack: harness.Stack, expected_events: int, timeout: float, since: float | None = None) -> Settled:
    """Wait until at least `expected_events` events exist, none is pending, and every failed one
    is final (its job dead-lettered). A failed event whose retry is queued or scheduled is still
    in flight, and one whose retry was lost (no job anywhere) may yet be swept up: the wait goes
    on for both, until `timeout`. `since` (perf_counter) is where `seconds` counts from."""
    started = since if since is not None else time.perf_counter()
    deadline = time.perf_counter() + timeout
    old_wait_stop: tuple[float, int] | None = None
    old_wait_stopped = False
    while True:
        state = _event_state(stack, started)
        nothing_pending = state.events >= expected_events and state.pending == 0
        state.done = nothing_pending and not state.failed_waiting and not state.failed_lost
        if nothing_pending and not old_wait_stopped:
            old_wait_stopped = True
            if not state.done:
                old_wait_stop = (state.seconds, state.failed_waiting + state.failed_lost)
        state.old_wait_stop = old_wait_stop
        if state.done or time.perf_counter() > deadline:
            return state
        time.sleep(0.5)


def _event_state(stack: harness.Stack, started: float) -> Settled:
    counts = dict(_rows(stack.database_url, "SELECT status, count(*) FROM webhook_events GROUP BY status"))
    failed = {row[0] for row in _rows(stack.database_url, "SELECT id FROM webhook_events WHERE status = 'failed'")}
    live, dead = job_rows(stack.redis.url, "webhooks") if failed else (set(), set())
    return Settled(
        done=False,
        seconds=time.perf_counter() - started,
        events=sum(counts.values()),
        pending=counts.get("pending", 0),
        failed_waiting=len(failed & live),
        failed_lost=len(failed - live - dead),
        failed_final=len((failed & dead) - live),
    )


# ---------------------------------------------------------------- a worker's log: killed mid-job?

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# RQ logs "Worker NAME: QUEUE: DESCRIPTION (JOB_ID)" when it takes a job, and names the job id
# again when it finishes or fails it.
_TAKEN = re.compile(r"Worker \S+: (\w+): .*\(([0-9a-f-]{8,})\)\s*$")


def unfinished_job(log_path: Path) -> str | None:
    """The job the worker took last, if its log never mentions that job again (not finished, not
    failed); None when the worker was idle or between jobs."""
    lines = [_ANSI.sub("", line) for line in log_path.read_text(errors="replace").splitlines()]
    for index in range(len(lines) - 1, -1, -1):
        taken = _TAKEN.search(lines[index])
        if taken:
            job_id = taken.group(2)
            return None if any(job_id in later for later in lines[index + 1:]) else job_id
    return None


def job_status(redis_url: str, job_id: str) -> str | None:
    connection = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    try:
        return Job.fetch(job_id, connection=connection).get_status(refresh=True).value
    except Exception:  # gone, or Redis away
        return None
    finally:
        connection.close()


def kill_mid_job(stack: harness.Stack, victim, interval: float = 0.01) -> tuple[float, bool] | None:
    """SIGKILL `victim` the moment its log shows it inside a job and start a worker in its place:
    (when, whether the job was still unfinished in Redis: a kill proven mid-job), or None when the
    worker took no job within 30 s."""
    log = stack.worker_log(victim)
    try:
        harness.wait_for(lambda: unfinished_job(log) is not None, timeout=30, interval=interval,
                         what="the worker to take a job")
    except TimeoutError:
        return None
    victim.send_signal(signal.SIGKILL)
    killed_at = time.time()
    victim.wait()
    stack.workers.remove(victim)
    job_id = unfinished_job(log)
    proven = bool(job_id and job_status(stack.redis.url, job_id) in ("started", "queued"))
    stack.start_worker()
    return killed_at, proven


# ---------------------------------------------------------------- every status change, in order

STATUS_LOG_DDL = """
CREATE TABLE drill_status_changes (
    id bigserial PRIMARY KEY,
    message_id bigint NOT NULL,
    old_status text NOT NULL,
    new_status text NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE FUNCTION drill_log_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO drill_status_changes (message_id, old_status, new_status)
    VALUES (NEW.id, OLD.status::text, NEW.status::text);
    RETURN NEW;
END $$;
CREATE TRIGGER drill_status_changes AFTER UPDATE OF status ON messages
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION drill_log_status_change();
"""

RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}


def install_status_log(database_url: str) -> None:
    """Log every change of messages.status, with the row's status before and after, in commit
    order of the row lock: an UPDATE that lands after a later status has committed is logged as
    the move backwards it is."""
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(STATUS_LOG_DDL)
    engine.dispose()


def moves_forward(old: str, new: str) -> bool:
    """The portal's rule for WhatsApp statuses: forward only; `failed` only before delivery and
    final (an agent's retry of a failed send, failed -> queued, is the one way back)."""
    if old == "failed":
        return new == "queued"
    if new == "failed":
        return old in ("queued", "sent")
    return RANK[new] > RANK[old]


@dataclass
class StatusChanges:
    changes: int
    backwards: list[tuple[int, str, str]]  # (message id, from, to)

    def describe(self) -> str:
        example = (f", e.g. message {self.backwards[0][0]} {self.backwards[0][1]} -> {self.backwards[0][2]}"
                   if self.backwards else "")
        return f"{len(self.backwards)} of {self.changes} status changes moved backwards{example}"


def status_changes(database_url: str, message_ids: Iterable[int] | None = None) -> StatusChanges:
    rows = _rows(database_url, "SELECT message_id, old_status, new_status FROM drill_status_changes ORDER BY id")
    wanted = set(message_ids) if message_ids is not None else None
    rows = [row for row in rows if wanted is None or row[0] in wanted]
    return StatusChanges(len(rows), [row for row in rows if not moves_forward(row[1], row[2])])
