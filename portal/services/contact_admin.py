"""Contact administration: searching, creating and editing with validation, and merging duplicates.

Used by the /contacts pages, the CSV import, the inbound CRM webhook and the REST API, so the
same rules hold everywhere: phones are stored in E.164 and unique (a Brazilian mobile with and
without the ninth digit is one number), e-mails are checked with email-validator. A contact needs
a phone or an e-mail: one who only writes by e-mail has no phone.

Changing a phone (docs: the red-team probe's conversation hijack): only a supervisor, or an agent
who may see every open conversation of the contact, may do it, and it is audited. It never
re-points an open conversation: wa_id is the id WhatsApp reported for the customer who wrote in,
so it stays while a conversation is open (its replies keep reaching that customer) and is cleared
once none is open, when the edited phone takes over until WhatsApp reports an id again.

Merging keeps the surviving contact's data, fills its blanks from the other contact, moves every
conversation over and records the removed contact's full data in the audit log. When both
contacts have an open conversation on the same channel (the partial unique index allows only
one), the newer one's messages and tags move into the older one, and the newer one, now empty,
is closed rather than deleted: incidents, SLA rows and rule firings that point at it keep their
history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy import update as sql_update

from portal.extensions import db
from portal.models import (
    Agent,
    Contact,
    Conversation,
    ConversationStatus,
    Message,
    Priority,
    utcnow,
)
from portal.phones import InvalidPhone, from_wa_id, normalize, search_digits, variants
from portal.services import audit, conversations, crm, custom_fields, events, representations, sla

EDITABLE_FIELDS = ("name", "phone", "email", "city")
# Errors of custom fields are keyed "custom_fields.<key>" (the API's field name for them).
CUSTOM_PREFIX = "custom_fields."
_PRIORITY_ORDER = list(Priority)


class PhoneChangeRefused(PermissionError):
    """The agent may not change this contact's phone (see the module docstring)."""


class ContactValidationError(ValueError):
    """Field name -> readable message, shown beside each field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def filtered(query: str = "", city: str = "", fields: dict[str, str] | None = None) -> Select:
    """Contacts matching a free-text query (name, e-mail, city, phone in any format, custom fields),
    a city, and custom field filters (key -> what to look for)."""
    stmt = select(Contact)
    query = query.strip()
    if query:
        # autoescape: % and _ are text, as in the inbox search (portal.services.inbox_queries).
        conditions = [column.icontains(query, autoescape=True) for column in (Contact.name, Contact.email, Contact.city)]
        conditions.extend(custom_fields.search_conditions(query))
        digits = search_digits(query)
        if digits:
            conditions.append(Contact.phone.contains(digits, autoescape=True))
            try:
                conditions.append(Contact.phone.in_(variants(normalize(query))))
            except InvalidPhone:
                pass  # partial digits: the substring match above covers them
        stmt = stmt.where(or_(*conditions))
    city = city.strip()
    if city:
        stmt = stmt.where(func.lower(Contact.city) == city.lower())
    if fields:
        for defn in custom_fields.definitions(custom_fields.Entity.contact):
            condition = custom_fields.filter_condition(defn, fields.get(defn.key, ""))
            if condition is not None:
                stmt = stmt.where(condition)
    return stmt.order_by(func.lower(Contact.name), Contact.id)


def cities() -> list[str]:
    """Every city on file, for the filter's choices."""
    return list(
        db.session.scalars(select(Contact.city).where(Contact.city.is_not(None), Contact.city != "").distinct())
    )


def find_duplicate(e164: str, *, exclude_id: int | None = None) -> Contact | None:
    """Another contact holding this number (or its ninth-digit twin)."""
    stmt = select(Contact).where(Contact.phone.in_(variants(e164)))
    if exclude_id is not None:
        stmt = stmt.where(Contact.id != exclude_id)
    return db.session.scalars(stmt.limit(1)).first()


def clean_phone(raw: str) -> str:
    """E.164 form, or ContactValidationError for the phone field."""
    try:
        return normalize(raw or "")
    except InvalidPhone:
        raise ContactValidationError({"phone": _("Not a valid phone number.")}) from None


def clean_email(raw: str | None) -> str | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ContactValidationError({"email": _("Not a valid e-mail address.")}) from None


def clean(
    *, name: str | None, phone: str | None, email: str | None, city: str | None, exclude_id: int | None = None
) -> dict[str, str | None]:
    """Validated, normalized contact fields; every problem at once in ContactValidationError."""
    errors: dict[str, str] = {}
    values: dict[str, str | None] = {"name": (name or "").strip()[:200], "city": (city or "").strip()[:120] or None}
    if not values["name"]:
        errors["name"] = _("A name is required.")
    try:
        values["email"] = clean_email(email)
    except ContactValidationError as exc:
        errors.update(exc.errors)
    values["phone"] = None
    if (phone or "").strip():
        try:
            values["phone"] = clean_phone(phone)
        except ContactValidationError as exc:
            errors.update(exc.errors)
    elif "email" not in errors and values["email"] is None:
        errors["phone"] = _("Give a phone or an e-mail.")
    if "phone" not in errors and values.get("phone") is not None:
        other = find_duplicate(values["phone"], exclude_id=exclude_id)
        if other is not None:
            errors["phone"] = _("Another contact (%(name)s) already has this number.", name=other.name)
    if errors:
        raise ContactValidationError(errors)
    return values


def clean_custom(
    raw: dict[str, object] | None, *, current: dict[str, str] | None = None, partial: bool = False
) -> dict[str, str]:
    """Custom field values cleaned (portal.services.custom_fields), errors as ContactValidationError."""
    try:
        return custom_fields.clean_values(custom_fields.Entity.contact, raw or {}, current=current, partial=partial)
    except custom_fields.CustomFieldError as exc:
        raise ContactValidationError({CUSTOM_PREFIX + k: v for k, v in exc.errors.items()}) from None


def create(
    *,
    name: str,
    phone: str | None,
    email: str | None = None,
    city: str | None = None,
    custom: dict[str, object] | None = None,
    custom_partial: bool = False,
    by: Agent | None = None,
) -> Contact:
    """A new contact. `custom`: the custom fields a person gave (None where no person fills them in,
    as a conversation started by phone: required fields bind people, not channels)."""
    errors: dict[str, str] = {}
    values: dict = {}
    try:
        values = clean(name=name, phone=phone, email=email, city=city)
    except ContactValidationError as exc:
        errors.update(exc.errors)
    extra = {}
    if custom is not None:
        try:
            extra = clean_custom(custom, partial=custom_partial)
        except ContactValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ContactValidationError(errors)
    contact = Contact(wa_id=values["phone"].lstrip("+") if values["phone"] else None, custom_fields=extra or None, **values)
    db.session.add(contact)
    db.session.flush()
    audit.record("contact.created", actor=by, target=contact)
    events.emit("contact.created", contact=contact)
    return contact


def open_conversations(contact: Contact) -> list[Conversation]:
    return [c for c in contact.conversations if c.is_open]


def may_change_phone(agent: Agent, contact: Contact) -> bool:
    """Supervisors, and agents who may see every open conversation of the contact."""
    return all(conversations.can_see(agent, c) for c in open_conversations(contact))


def update(
    contact: Contact,
    *,
    by: Agent | None,
    custom: dict[str, object] | None = None,
    custom_partial: bool = True,
    **fields: str | None,
) -> list[str]:
    """Apply the given editable fields and custom fields (others keep their value); returns the
    changed field names (a custom field as "custom_fields.<key>").

    A new phone needs may_change_phone() and keeps wa_id while a conversation is open (module docstring)."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    if contact.erased_at is not None:
        raise ContactValidationError({"name": _("This contact was erased (LGPD); it cannot be edited.")})
    current = {key: getattr(contact, key) for key in EDITABLE_FIELDS}
    errors: dict[str, str] = {}
    values: dict = {}
    try:
        values = clean(**{**current, **fields}, exclude_id=contact.id)
    except ContactValidationError as exc:
        errors.update(exc.errors)
    new_custom = None
    if custom is not None:
        try:
            new_custom = clean_custom(custom, current=contact.custom_fields, partial=custom_partial)
        except ContactValidationError as exc:
            errors.update(exc.errors)
    if errors:
        raise ContactValidationError(errors)
    changed = [key for key in EDITABLE_FIELDS if values[key] != current[key]]
    if new_custom is not None:
        changed += [CUSTOM_PREFIX + key for key in custom_fields.set_values(contact, new_custom)]
    if not changed:
        return []
    if "phone" in changed and by is not None and not may_change_phone(by, contact):
        raise PhoneChangeRefused(
            _("Only a supervisor, or an agent who may see all of this contact's open conversations, may change the phone.")
        )
    for key in changed:
        if not key.startswith(CUSTOM_PREFIX):
            setattr(contact, key, values[key])
    if "phone" in changed:
        kept_open = [c.id for c in open_conversations(contact)]
        if not kept_open:
            contact.wa_id = None
        audit.record("contact.phone_changed", actor=by, target=contact, open_conversations=kept_open)
    db.session.flush()
    # Field names only: the audit log is not a second copy of customer data.
    audit.record("contact.updated", actor=by, target=contact, fields=changed)
    events.emit("contact.updated", contact=contact)
    return changed


def drop_stale_whatsapp_id(_name: str, *, conversation: Conversation, **_data) -> None:
    """The last open conversation closed after a phone change: the edited phone takes over."""
    contact = conversation.contact
    if conversation.is_open or contact.wa_id is None or open_conversations(contact):
        return
    try:
        stale = contact.phone is None or from_wa_id(contact.wa_id) != contact.phone
    except InvalidPhone:
        stale = True
    if stale:
        contact.wa_id = None


@dataclass
class MergeResult:
    survivor: Contact
    moved_conversation_ids: list[int] = field(default_factory=list)
    folded: dict[int, int] = field(default_factory=dict)  # closed duplicate id -> conversation it went into
    filled_fields: list[str] = field(default_factory=list)


def _snapshot(contact: Contact) -> dict[str, object]:
    return {**representations.contact(contact, representations.utc_timestamp), "wa_id": contact.wa_id}


def _fold_into(older: Conversation, newer: Conversation, *, by: Agent | None) -> None:
    """Move `newer`'s messages and tags into `older`, then close `newer`.

    Closing goes around conversations.change_status on purpose: a `status.changed:closed`
    auto-rule would otherwise message the customer about an administrative merge. SLA and the
    CRM still hear of it, directly."""
    db.session.execute(
        sql_update(Message).where(Message.conversation_id == newer.id).values(conversation_id=older.id)
    )
    older.tags = sorted({t.id: t for t in [*older.tags, *newer.tags]}.values(), key=lambda t: t.name)
    older.priority = max(older.priority, newer.priority, key=_PRIORITY_ORDER.index)
    older.assigned_to = older.assigned_to or newer.assigned_to
    for attr in ("last_inbound_at", "last_message_at"):
        stamps = [s for s in (getattr(older, attr), getattr(newer, attr)) if s is not None]
        setattr(older, attr, max(stamps) if stamps else None)
    old_status = ConversationStatus(newer.status)
    newer.status = ConversationStatus.closed
    newer.closed_at = utcnow()
    sla.record_status(newer, ConversationStatus.closed)
    crm.record_event("conversation.status_changed", conversation=newer, old=old_status, new=newer.status, by=by)
    audit.record("conversation.merged", actor=by, target=newer, into=older.id, old_status=old_status.value)
    db.session.flush()


@dataclass
class MergePlan:
    """What merge() will do, shown to the supervisor before it is done."""

    survivor: Contact
    other: Contact
    moving: list[Conversation]
    folds: list[tuple[Conversation, Conversation]]  # (newer, older): newer's messages go into older
    filled: dict[str, str]  # a blank field of the survivor -> the value it takes from the other


def plan_merge(survivor: Contact, other: Contact) -> MergePlan:
    if survivor.id == other.id:
        raise ContactValidationError({"other_id": _("Choose a different contact to merge.")})
    moving = list(other.conversations)
    folds = []
    for theirs in moving:
        mine = conversations.open_conversation_for(survivor, theirs.inbox_id) if theirs.is_open else None
        if mine is not None:
            older, newer = sorted((mine, theirs), key=lambda c: (c.started_at or c.created_at, c.id))
            folds.append((newer, older))
    filled = {}
    if (not survivor.name or survivor.name == survivor.phone) and other.name and other.name != other.phone:
        filled["name"] = other.name
    # An e-mail-only survivor takes the other's phone: one contact across channels.
    for key in ("phone", "email", "city", "wa_id"):
        if not getattr(survivor, key) and getattr(other, key):
            filled[key] = getattr(other, key)
    return MergePlan(survivor=survivor, other=other, moving=moving, folds=folds, filled=filled)


def merge(survivor: Contact, other: Contact, *, by: Agent | None) -> MergeResult:
    """Fold `other` into `survivor` and delete `other`; nothing is lost (see module docstring)."""
    plan = plan_merge(survivor, other)
    result = MergeResult(survivor=survivor, moved_conversation_ids=[c.id for c in plan.moving])
    for newer, older in plan.folds:
        _fold_into(older, newer, by=by)
        result.folded[newer.id] = older.id
    # The duplicates were closed and flushed above, so moving the conversations now never puts two
    # open ones for the survivor under the partial unique index.
    for theirs in plan.moving:
        theirs.contact = survivor
    for key, value in plan.filled.items():
        if key != "phone":
            setattr(survivor, key, value)
        result.filled_fields.append(key)
    # Custom field values the survivor lacks come from the other contact, as blank fields do.
    missing = {k: v for k, v in (other.custom_fields or {}).items() if k not in (survivor.custom_fields or {})}
    if missing:
        survivor.custom_fields = {**(survivor.custom_fields or {}), **missing}
        result.filled_fields += [CUSTOM_PREFIX + k for k in sorted(missing)]
    removed = _snapshot(other)
    db.session.flush()
    db.session.delete(other)
    db.session.flush()
    # The phone is unique: it moves only once the other contact is gone.
    if "phone" in plan.filled:
        survivor.phone = plan.filled["phone"]
    survivor.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "contact.merged",
        actor=by,
        target=survivor,
        merged_contact=removed,
        conversations=result.moved_conversation_ids,
        folded=result.folded,
        filled=result.filled_fields,
    )
    events.emit("contact.updated", contact=survivor)
    return result
