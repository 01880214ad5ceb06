"""Queue "default": a confirmed CSV contact import (portal.services.contact_import)."""

from __future__ import annotations

from portal.extensions import db
from portal.models import Agent
from portal.services import contact_admin, contact_csv, contact_import


def import_contacts(import_id: str) -> str:
    """All rows in one transaction; a file or row that became invalid fails the whole import."""
    status = contact_import.progress(import_id)
    owner = db.session.get(Agent, status.owner_id) if status is not None else None
    try:
        contact_import.run(import_id, owner)
        db.session.commit()
    except (contact_csv.CsvError, contact_admin.ContactValidationError) as exc:
        db.session.rollback()
        contact_import.finish(import_id, error=str(exc))
        return "failed"
    except Exception:
        db.session.rollback()
        contact_import.finish(import_id, error=str(contact_import.UNEXPECTED_FAILURE))
        raise
    contact_import.finish(import_id)
    return "done"
