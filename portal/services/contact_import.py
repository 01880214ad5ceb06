"""Confirmed CSV imports run as a job (queue "default") with progress, not in the request: a large
file could outlast the web worker's 30-second timeout.

Confirming hands the previewed file to Redis beside a progress hash and enqueues the job; the job
re-reads and re-validates the file (contacts may have changed since the preview), writes every
valid row and commits once, so an import is still all or nothing. The file travels in Redis, not
on disk, because workers may run on other machines than the web process that kept the preview.
The progress page polls the hash; it and the file expire after a day.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum

from flask_babel import lazy_gettext as _l

from portal.models import Agent
from portal.queue import DEFAULT, enqueue_now, redis_connection
from portal.services import contact_csv

JOB = "portal.jobs.contacts.import_contacts"
KEEP_SECONDS = 24 * 60 * 60
# The job may take minutes for MAX_ROWS rows; RQ's default timeout is three.
JOB_TIMEOUT_SECONDS = 30 * 60
PROGRESS_EVERY_ROWS = 100
_STATUS_KEY = "atende:contact-import:{}"
_FILE_KEY = "atende:contact-import:{}:file"


class ImportState(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


UNEXPECTED_FAILURE = _l("The import stopped on an unexpected error; nothing was imported. Try again.")
STATE_LABELS = {
    ImportState.queued: _l("Waiting for a worker"),
    ImportState.running: _l("Importing"),
    ImportState.done: _l("Done"),
    ImportState.failed: _l("Failed"),
}


@dataclass
class ImportProgress:
    import_id: str
    state: ImportState
    owner_id: int
    filename: str
    total: int
    processed: int
    created: int
    skipped: int
    error: str

    @property
    def finished(self) -> bool:
        return self.state in (ImportState.done, ImportState.failed)

    @property
    def percent(self) -> int:
        if self.state == ImportState.done:
            return 100
        return int(100 * self.processed / self.total) if self.total else 0


def start(data: bytes, *, by: Agent, filename: str) -> str | None:
    """Keep the file, record the import as queued and enqueue its job; the import's id, or None
    when Redis did not take the job (nothing is imported then)."""
    import_id = secrets.token_urlsafe(16)
    status = {"state": ImportState.queued.value, "owner_id": by.id, "filename": filename[:200]}
    status |= {"total": 0, "processed": 0, "created": 0, "skipped": 0, "error": ""}
    pipe = redis_connection().pipeline()
    pipe.set(_FILE_KEY.format(import_id), data, ex=KEEP_SECONDS)
    pipe.hset(_STATUS_KEY.format(import_id), mapping=status)
    pipe.expire(_STATUS_KEY.format(import_id), KEEP_SECONDS)
    pipe.execute()
    if not enqueue_now(JOB, import_id, queue=DEFAULT, timeout=JOB_TIMEOUT_SECONDS):
        redis_connection().delete(_FILE_KEY.format(import_id), _STATUS_KEY.format(import_id))
        return None
    return import_id


def progress(import_id: str, *, owner: Agent | None = None) -> ImportProgress | None:
    """The import's progress; None when unknown, expired, or (given an owner) someone else's."""
    raw = {k.decode(): v.decode() for k, v in redis_connection().hgetall(_STATUS_KEY.format(import_id)).items()}
    if not raw or (owner is not None and int(raw["owner_id"]) != owner.id):
        return None
    numbers = {key: int(raw[key]) for key in ("owner_id", "total", "processed", "created", "skipped")}
    return ImportProgress(
        import_id=import_id, state=ImportState(raw["state"]), filename=raw["filename"], error=raw["error"], **numbers
    )


def _update(import_id: str, **fields: object) -> None:
    redis_connection().hset(_STATUS_KEY.format(import_id), mapping={k: str(v) for k, v in fields.items()})


def run(import_id: str, owner: Agent | None) -> None:
    """Parse the kept file and add every valid row to the session (the job commits). Raises
    contact_csv.CsvError when the file is gone or unreadable."""
    data = redis_connection().get(_FILE_KEY.format(import_id))
    status = progress(import_id)
    if data is None or status is None:
        raise contact_csv.CsvError(str(_l("That upload has expired. Upload the file again.")))
    _update(import_id, state=ImportState.running.value)
    preview = contact_csv.parse(data)
    _update(import_id, total=len(preview.valid_rows), skipped=len(preview.invalid_rows))

    def report(processed: int) -> None:
        if processed % PROGRESS_EVERY_ROWS == 0:
            _update(import_id, processed=processed)

    created = contact_csv.import_valid(preview, by=owner, filename=status.filename, progress=report)
    _update(import_id, processed=len(created), created=len(created))


def finish(import_id: str, *, error: str | None = None) -> None:
    """After the job's commit (done) or rollback (failed, with a readable reason)."""
    if error is None:
        _update(import_id, state=ImportState.done.value)
    else:
        _update(import_id, state=ImportState.failed.value, created=0, error=error)
    redis_connection().delete(_FILE_KEY.format(import_id))
