"""The append-only audit log: who did what, when, from where."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request

from portal.extensions import db
from portal.models import Agent, AuditLog


def record(action: str, *, actor: Agent | None = None, target: Any = None, **details: Any) -> AuditLog:
    """Add one audit row to the session. `target` is any model with an `id` (or a (type, id) pair)."""
    if isinstance(target, tuple):
        target_type, target_id = target
    elif target is not None:
        target_type, target_id = target.__tablename__, target.id
    else:
        target_type = target_id = None
    entry = AuditLog(
        actor_id=actor.id if actor is not None else None,
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        details=details or None,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry
