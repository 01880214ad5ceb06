"""Campaigns: one approved template sent by supervisors to an audience, at a rate per second the
inbox never exceeds (docs/architecture.md, "Proactive messaging").

Every send is a row first. Choosing the audience writes a draft with one `campaign_recipients` row
per contact (opted-out contacts and contacts missing a mapped field are `excluded`, shown and never
sent); nothing goes out until the supervisor confirms. The dispatcher then turns `pending` rows
into ordinary queued template messages, a batch per transaction, each row taken by one conditional
UPDATE in the transaction that creates its message: a killed worker, a lost job or a database
restart leaves rows `pending` (sent later) or `queued` with their message (sent by the outbound
path's own rules), never a second message. The send job waits for the inbox's turn
(portal.services.send_rate). Callers commit, except the dispatcher, which commits each batch.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, String, case, cast, func, insert, select, update

from portal import channels
from portal.extensions import db
from portal.models import (
    Agent,
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Inbox,
    Message,
    MessageStatus,
    MessageTemplate,
    Priority,
    RecipientStatus,
    Tag,
    conversation_tags,
    utcnow,
)
from portal.queue import OUTBOUND, enqueue_after_commit, get_queue
from portal.services import (
    audit,
    contact_admin,
    contact_csv,
    contacts,
    conversations,
    custom_fields,
    inboxes,
    opt_out,
    outbound,
    send_rate,
    templates,
)

log = logging.getLogger(__name__)

DISPATCH_JOB = "portal.jobs.campaigns.dispatch"
# Contact fields a template parameter may take; `text:` followed by anything is the same text for all.
FIELDS = {
    "contact.first_name": _l("First name"),
    "contact.name": _l("Name"),
    "contact.phone": _l("Phone"),
    "contact.city": _l("City"),
    "contact.email": _l("E-mail"),
}
TEXT_PREFIX = "text:"


def param_choices() -> dict[str, object]:
    """FIELDS and the contacts' custom fields (contact.<key>, filled with the formatted value)."""
    choices: dict[str, object] = dict(FIELDS)
    for defn in custom_fields.definitions(custom_fields.Entity.contact):
        choices.setdefault(f"contact.{defn.key}", defn.label)
    return choices


# Queued and not yet sent, at most this many seconds of sending ahead: a pause or a cancel takes
# effect within that, and the queue never holds the whole campaign.
AHEAD_SECONDS = 3
# A dispatcher silent for this long lost its job (a killed worker, Redis restarted empty).
STALE_DISPATCH = timedelta(seconds=15)
# A customer's message within this long after a campaign message is a reply to it.
REPLY_CREDIT = timedelta(days=7)
MAX_AUDIENCE = 100_000
MAX_ERRORS_KEPT = 200


class CampaignError(ValueError):
    """Why a campaign could not be made or changed, per field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class Audience:
    """Who a campaign goes to: contacts with a conversation tagged with any of `tags`, in `city`,
    with a conversation in `inbox_id`; or the rows of an uploaded CSV (`csv_contact_ids`)."""

    tags: list[str] = field(default_factory=list)
    city: str = ""
    inbox_id: int | None = None
    csv_contact_ids: list[int] | None = None
    csv_errors: list[dict] = field(default_factory=list)

    @property
    def has_criteria(self) -> bool:
        return bool(self.tags or self.city or self.inbox_id or self.csv_contact_ids is not None)

    def as_json(self) -> dict:
        return {
            "tags": self.tags,
            "city": self.city,
            "inbox_id": self.inbox_id,
            "csv": self.csv_contact_ids is not None,
            "csv_rows": len(self.csv_contact_ids or []),
            "csv_errors": self.csv_errors[:MAX_ERRORS_KEPT],
        }

    def contact_ids(self) -> Select:
        stmt = select(Contact.id)
        if self.csv_contact_ids is not None:
            stmt = stmt.where(Contact.id.in_(self.csv_contact_ids))
        if self.tags:
            tagged = (
                select(Conversation.contact_id)
                .join(conversation_tags, conversation_tags.c.conversation_id == Conversation.id)
                .join(Tag, Tag.id == conversation_tags.c.tag_id)
                .where(Tag.name.in_([conversations.normalize_tag_name(t) for t in self.tags]))
            )
            stmt = stmt.where(Contact.id.in_(tagged))
        if self.city:
            stmt = stmt.where(func.lower(Contact.city) == self.city.strip().lower())
        if self.inbox_id:
            stmt = stmt.where(Contact.id.in_(select(Conversation.contact_id).where(Conversation.inbox_id == self.inbox_id)))
        return stmt.order_by(Contact.id)


def audience_from_csv(data: bytes, *, by: Agent) -> Audience:
    """The contacts of an uploaded CSV (the contact import's format and checks): rows with errors
    are kept to show, valid rows name a known contact or create one."""
    try:
        preview = contact_csv.parse(data)
    except contact_csv.CsvError as error:
        raise CampaignError({"csv": str(error)}) from None
    ids: list[int] = []
    errors: list[dict] = []
    for row in preview.rows:
        if row.errors:
            errors.append({"line": row.line, "phone": row.phone, "errors": list(row.errors.values())})
            continue
        contact = _contact_for_row(row.normalized_phone, row.name, row.city, by=by)
        if contact.id not in ids:
            ids.append(contact.id)
    return Audience(csv_contact_ids=ids, csv_errors=errors)


def _contact_for_row(phone: str, name: str, city: str, *, by: Agent) -> Contact:
    existing = contacts.find_by_phone(phone)
    if existing is not None:
        return existing
    return contact_admin.create(name=name or phone, phone=phone, city=city or None, by=by)


def check_param_fields(template: MessageTemplate, param_fields: list[str]) -> list[str]:
    """Each of the template's parameters mapped to a contact field or a fixed text."""
    expected = templates.placeholder_count(template.body)
    fields = [(f or "").strip() for f in param_fields]
    if len(fields) != expected:
        raise CampaignError(
            {"params": _("The template %(key)s has %(count)d parameters: map each one.", key=template.template_key,
                         count=expected)}
        )
    choices = param_choices()
    for number, value in enumerate(fields, 1):
        if value in choices:
            continue
        if value.startswith(TEXT_PREFIX) and value[len(TEXT_PREFIX):].strip():
            continue
        raise CampaignError({"params": _("Parameter {{%(number)d}} is not mapped to a contact field or a text.",
                                         number=number)})
    return fields


def _mapped(value: str) -> bool:
    return value in param_choices() or (value.startswith(TEXT_PREFIX) and bool(value[len(TEXT_PREFIX):].strip()))


def check_template_extras(
    template: MessageTemplate, header_field: str, header_link: str, header_filename: str, button_fields: list[str]
) -> dict | None:
    """The header's and buttons' values of a template synced with them (campaigns.template_extras):
    a text header and each button mapped like a body parameter, a media header one https link."""
    wanted = templates.header_parameter(template)
    extras: dict = {"header": None, "buttons": []}
    if wanted == "text":
        if not _mapped(header_field.strip()):
            raise CampaignError({"header": _("Map the header's parameter to a contact field or a text.")})
        extras["header"] = {"type": "text", "field": header_field.strip()}
    elif wanted in templates.MEDIA_HEADERS:
        header = templates.clean_parameters([], header_link=header_link, header_filename=header_filename, template=template).header
        if not templates.is_web_link(header["link"]):
            raise CampaignError({"header": _(
                "The template %(key)s needs the https link of its header's %(kind)s.",
                key=template.template_key, kind=templates.header_kind_label(wanted),
            )})
        extras["header"] = header
    buttons = [(f or "").strip() for f in button_fields]
    if len(buttons) != len(templates.parameter_buttons(template)) or not all(_mapped(b) for b in buttons):
        raise CampaignError({"buttons": _("Map each button's value to a contact field or a text.")})
    extras["buttons"] = buttons
    return extras if extras["header"] or extras["buttons"] else None


def _extra_fields(campaign: Campaign) -> list[str]:
    """The contact fields (or texts) the header and buttons take, for the missing-value check."""
    extras = campaign.template_extras or {}
    header = extras.get("header") or {}
    return ([header["field"]] if header.get("field") else []) + list(extras.get("buttons") or [])


def parameters_for(campaign: Campaign, recipient: CampaignRecipient) -> templates.TemplateParameters:
    """The recipient's values: body (filled when previewed), header and buttons filled now."""
    extras = campaign.template_extras or {}
    header = extras.get("header")
    if header and header.get("field"):
        header = {"type": "text", "text": fill(header["field"], recipient.contact)}
    buttons = [fill(f, recipient.contact) for f in extras.get("buttons") or []]
    return templates.TemplateParameters(list(recipient.params), header, buttons)


def fill(param_field: str, contact: Contact, defs: dict | None = None) -> str:
    """The parameter's value for this contact; `defs` (key -> custom field definition) saves a query
    per contact when filling many."""
    if param_field.startswith(TEXT_PREFIX):
        return param_field[len(TEXT_PREFIX):].strip()
    if param_field == "contact.first_name":
        return (contact.name or "").split(" ")[0].strip()
    if param_field not in FIELDS:
        key = param_field.removeprefix("contact.")
        defn = defs.get(key) if defs is not None else custom_fields.definition(custom_fields.Entity.contact, key)
        return custom_fields.display(defn, (contact.custom_fields or {}).get(defn.key)) if defn else ""
    return (getattr(contact, param_field.removeprefix("contact."), None) or "").strip()


def _recipient_values(campaign: Campaign, contact: Contact, defs: dict) -> dict:
    if opt_out.is_opted_out(contact):
        return {"status": RecipientStatus.excluded, "params": [], "error": "opted_out"}
    if not contact.phone:
        # An e-mail-only contact: templates go out by phone number.
        return {"status": RecipientStatus.excluded, "params": [], "error": "missing:contact.phone"}
    params = [fill(f, contact, defs) for f in campaign.param_fields]
    missing = [f for f, value in zip(campaign.param_fields, params, strict=True) if not value]
    missing += [f for f in _extra_fields(campaign) if not fill(f, contact, defs)]
    if missing:
        return {"status": RecipientStatus.excluded, "params": params, "error": f"missing:{missing[0]}"}
    return {"status": RecipientStatus.pending, "params": params, "error": None}


def exclusion_reason(recipient: CampaignRecipient) -> str:
    error = recipient.error or ""
    if error == "opted_out":
        return _("Opted out")
    if error.startswith("missing:"):
        return _("No %(field)s on file", field=str(param_choices().get(error.removeprefix("missing:"), error)).lower())
    return error


def create_draft(
    *,
    name: str,
    inbox: Inbox | None,
    template: MessageTemplate | None,
    param_fields: list[str],
    audience: Audience,
    rate: int | None,
    header_field: str = "",
    header_link: str = "",
    header_filename: str = "",
    button_fields: list[str] | None = None,
    send_at: datetime | None,
    by: Agent,
    now: datetime | None = None,
) -> Campaign:
    """Check everything, then write the campaign as a draft with one recipient row per contact."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    name = (name or "").strip()[:120]
    if not name:
        errors["name"] = _("A campaign needs a name.")
    if inbox is None:
        errors["inbox"] = _("Choose an inbox.")
    elif refusal := inboxes.send_refusal(inbox):
        errors["inbox"] = refusal
    elif not getattr(channels.registered().get(Channel(inbox.channel)), "sends_templates", False):
        errors["inbox"] = _("Campaigns send approved templates: choose an inbox whose channel has them.")
    if template is None:
        errors["template"] = _("Choose a template.")
    elif not templates.can_send(template):
        errors["template"] = _("WhatsApp does not allow this template now: choose another.")
    elif inbox is not None and (refusal := templates.inbox_refusal(template, inbox)):
        errors["template"] = refusal
    extras = None
    if template is not None:
        try:
            param_fields = check_param_fields(template, param_fields)
        except CampaignError as error:
            errors.update(error.errors)
        try:
            extras = check_template_extras(template, header_field, header_link, header_filename, button_fields or [])
        except CampaignError as error:
            errors.update(error.errors)
    if rate is None or not send_rate.MIN_RATE <= rate <= send_rate.MAX_RATE:
        errors["rate"] = _("The send rate must be between %(min)d and %(max)d messages per second.",
                           min=send_rate.MIN_RATE, max=send_rate.MAX_RATE)
    if send_at is not None and send_at <= now:
        errors["send_at"] = _("Choose a time in the future, or send now.")
    if not audience.has_criteria:
        errors["audience"] = _("Choose the audience: tags, a city, an inbox or a CSV file.")
    if errors:
        raise CampaignError(errors)
    contact_ids = db.session.scalars(audience.contact_ids().limit(MAX_AUDIENCE + 1)).all()
    if not contact_ids:
        raise CampaignError({"audience": _("Nobody matches this audience: the campaign would reach no one.")})
    if len(contact_ids) > MAX_AUDIENCE:
        raise CampaignError({"audience": _("At most %(max)d recipients per campaign.", max=MAX_AUDIENCE)})
    campaign = Campaign(
        name=name,
        inbox=inbox,
        template=template,
        param_fields=param_fields,
        template_extras=extras,
        audience=audience.as_json(),
        rate_per_second=rate,
        send_at=send_at,
        status=CampaignStatus.draft,
        created_by_id=by.id,
    )
    db.session.add(campaign)
    db.session.flush()
    rows = []
    defs = {d.key: d for d in custom_fields.definitions(custom_fields.Entity.contact)}
    for chunk in _chunks(contact_ids, 500):
        for contact in db.session.scalars(select(Contact).where(Contact.id.in_(chunk))):
            values = _recipient_values(campaign, contact, defs)
            rows.append({"campaign_id": campaign.id, "contact_id": contact.id, **values})
    for chunk in _chunks(rows, 1000):
        db.session.execute(insert(CampaignRecipient), chunk)
    audit.record("campaign.created", actor=by, target=campaign, recipients=len(rows))
    return campaign


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def preview(campaign: Campaign, limit: int = 20) -> list[tuple[CampaignRecipient, str | None]]:
    """The first recipients with the text each would receive (None for an excluded one)."""
    recipients = db.session.scalars(
        select(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign.id).order_by(CampaignRecipient.id).limit(limit)
    ).all()
    return [
        (r, templates.render(campaign.template.body, r.params) if r.status != RecipientStatus.excluded else None)
        for r in recipients
    ]


def confirm(campaign: Campaign, *, by: Agent, now: datetime | None = None) -> None:
    """Start the draft now, or schedule it for its time."""
    now = now or utcnow()
    if campaign.status != CampaignStatus.draft:
        raise CampaignError({"status": _("Only a draft can be confirmed.")})
    if not _count(campaign, RecipientStatus.pending):
        raise CampaignError({"audience": _("Every recipient is excluded: the campaign would reach no one.")})
    if campaign.send_at is not None and campaign.send_at <= now:
        raise CampaignError({"send_at": _("The chosen time has passed: choose another or send now.")})
    if campaign.send_at is not None:
        campaign.status = CampaignStatus.scheduled
    else:
        _start(campaign, now)
    audit.record("campaign.confirmed", actor=by, target=campaign)


def _start(campaign: Campaign, now: datetime) -> None:
    campaign.status = CampaignStatus.running
    campaign.started_at = campaign.started_at or now
    campaign.dispatched_at = now
    enqueue_after_commit(db.session, DISPATCH_JOB, campaign.id, queue=OUTBOUND)


def _change(campaign: Campaign, new: CampaignStatus, *, only_from: tuple[CampaignStatus, ...]) -> bool:
    now = utcnow()
    values = {"status": new, "updated_at": now}
    if new in (CampaignStatus.cancelled, CampaignStatus.completed):
        values["finished_at"] = now
    if new == CampaignStatus.running:
        values["dispatched_at"] = now
    done = db.session.execute(
        update(Campaign).where(Campaign.id == campaign.id, Campaign.status.in_(only_from)).values(**values)
    ).rowcount
    db.session.refresh(campaign)
    return bool(done)


def pause(campaign: Campaign, *, by: Agent) -> None:
    if not _change(campaign, CampaignStatus.paused, only_from=(CampaignStatus.running, CampaignStatus.scheduled)):
        raise CampaignError({"status": _("Only a running or scheduled campaign can be paused.")})
    audit.record("campaign.paused", actor=by, target=campaign)


def resume(campaign: Campaign, *, by: Agent, now: datetime | None = None) -> None:
    now = now or utcnow()
    target = CampaignStatus.scheduled if campaign.send_at and campaign.send_at > now and not campaign.started_at else CampaignStatus.running
    if not _change(campaign, target, only_from=(CampaignStatus.paused,)):
        raise CampaignError({"status": _("Only a paused campaign can be resumed.")})
    if target == CampaignStatus.running:
        campaign.started_at = campaign.started_at or now
        enqueue_after_commit(db.session, DISPATCH_JOB, campaign.id, queue=OUTBOUND)
    audit.record("campaign.resumed", actor=by, target=campaign)


def cancel(campaign: Campaign, *, by: Agent) -> None:
    """Nothing more is sent; messages already queued go out (they are the outbound path's now)."""
    open_states = (CampaignStatus.draft, CampaignStatus.scheduled, CampaignStatus.running, CampaignStatus.paused)
    if not _change(campaign, CampaignStatus.cancelled, only_from=open_states):
        raise CampaignError({"status": _("This campaign has already ended.")})
    db.session.execute(
        update(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.status == RecipientStatus.pending)
        .values(status=RecipientStatus.cancelled)
    )
    audit.record("campaign.cancelled", actor=by, target=campaign)


def _count(campaign: Campaign, status: RecipientStatus) -> int:
    return db.session.scalar(
        select(func.count()).select_from(CampaignRecipient).where(
            CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.status == status
        )
    )


def in_flight(campaign_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(CampaignRecipient)
        .join(Message, Message.id == CampaignRecipient.message_id)
        .where(CampaignRecipient.campaign_id == campaign_id, Message.status == MessageStatus.queued)
    )


def dispatch(campaign_id: int, *, commit: Callable[[], None]) -> tuple[bool, int]:
    """Queue the next batch of a running campaign: at most AHEAD_SECONDS of sending beyond what is
    queued and not yet sent. (whether the dispatcher should run again, how many it queued)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != CampaignStatus.running:
        return False, 0
    ids: list[int] = []
    room = campaign.rate_per_second * AHEAD_SECONDS - in_flight(campaign.id)
    campaign.dispatched_at = utcnow()
    if room > 0:
        ids = db.session.scalars(
            select(CampaignRecipient.id)
            .where(CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.status == RecipientStatus.pending)
            .order_by(CampaignRecipient.id)
            .limit(room)
        ).all()
        for recipient_id in ids:
            _queue_one(campaign, recipient_id)
    more = bool(_count(campaign, RecipientStatus.pending))
    if not more:
        _finish_if_done(campaign)
    commit()
    return more, len(ids)


def _queue_one(campaign: Campaign, recipient_id: int) -> None:
    taken = db.session.execute(
        update(CampaignRecipient)
        .where(CampaignRecipient.id == recipient_id, CampaignRecipient.status == RecipientStatus.pending)
        .values(status=RecipientStatus.queued)
    ).rowcount
    if not taken:
        return
    recipient = db.session.get(CampaignRecipient, recipient_id)
    db.session.refresh(recipient)
    contact = recipient.contact
    if opt_out.is_opted_out(contact):
        # Opted out after the preview: left out all the same.
        recipient.status, recipient.error = RecipientStatus.excluded, "opted_out"
        return
    try:
        with db.session.begin_nested():
            conversation = conversations.open_conversation_for(contact, campaign.inbox_id) or _closed_conversation(
                contact, campaign.inbox
            )
            message = outbound.queue_template(
                conversation, campaign.template, parameters_for(campaign, recipient), by=None, automatic=True
            )
    except outbound.OutboundError as error:
        recipient.status, recipient.error = RecipientStatus.failed, str(error)
        return
    recipient.message_id = message.id


def _closed_conversation(contact: Contact, inbox: Inbox) -> Conversation:
    """Where a campaign message goes when the contact has no open conversation in the inbox: one
    that is closed from the start, so ten thousand recipients open nothing in the inbox and start
    no SLA clock (an automatic message is no first response, so each would breach); a reply opens
    a conversation as any customer message does (docs/architecture.md, "Proactive messaging")."""
    now = utcnow()
    conversation = Conversation(
        contact=contact,
        inbox=inbox,
        channel=inbox.channel,
        status=ConversationStatus.closed,
        priority=Priority.normal,
        started_at=now,
        closed_at=now,
        last_message_at=now,
    )
    db.session.add(conversation)
    db.session.flush()
    return conversation


def _finish_if_done(campaign: Campaign) -> None:
    """Completed once nothing is pending and every message has its outcome (sent or failed)."""
    if campaign.status == CampaignStatus.running and not in_flight(campaign.id):
        campaign.status = CampaignStatus.completed
        campaign.finished_at = utcnow()


def enqueue_dispatch(campaign_id: int, *, delay: float = 0.0) -> None:
    """The dispatcher's next run; if Redis refuses it, the timer restarts the dispatcher (STALE_DISPATCH)."""
    queue = get_queue(OUTBOUND)
    try:
        if delay > 0:
            queue.enqueue_in(timedelta(seconds=delay), DISPATCH_JOB, campaign_id)
        else:
            queue.enqueue(DISPATCH_JOB, campaign_id)
    except Exception as exc:  # any Redis failure
        log.warning("could not enqueue the dispatcher of campaign %s: %s", campaign_id, type(exc).__name__)


def tick(*, now: datetime | None = None, commit: Callable[[], None]) -> dict[str, int]:
    """The worker's timer: start scheduled campaigns that are due, restart a dispatcher whose job
    was lost, and complete campaigns whose last messages have their outcome."""
    now = now or utcnow()
    counts = {"started": 0, "restarted": 0, "completed": 0}
    for campaign in db.session.scalars(
        select(Campaign).where(Campaign.status == CampaignStatus.scheduled, Campaign.send_at <= now)
    ):
        _start(campaign, now)
        counts["started"] += 1
    for campaign in db.session.scalars(select(Campaign).where(Campaign.status == CampaignStatus.running)):
        if _count(campaign, RecipientStatus.pending):
            if campaign.dispatched_at is None or campaign.dispatched_at <= now - STALE_DISPATCH:
                campaign.dispatched_at = now
                enqueue_after_commit(db.session, DISPATCH_JOB, campaign.id, queue=OUTBOUND)
                counts["restarted"] += 1
        else:
            _finish_if_done(campaign)
            counts["completed"] += campaign.status == CampaignStatus.completed
    commit()
    return counts


@dataclass(frozen=True)
class Progress:
    total: int
    excluded: int
    pending: int
    queued: int
    sent: int
    delivered: int
    read: int
    failed: int
    cancelled: int
    replied: int
    failures: list[tuple[str, int]]

    @property
    def to_send(self) -> int:
        return self.total - self.excluded

    @property
    def done(self) -> int:
        return self.sent + self.delivered + self.read + self.failed

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.to_send) if self.to_send else 100


def progress(campaign: Campaign) -> Progress:
    """Counts for the campaign page: recipients by their row, messages by their delivery status."""
    # Two enum types (on PostgreSQL) compared as the strings they are.
    delivery = case(
        (CampaignRecipient.status != RecipientStatus.queued, cast(CampaignRecipient.status, String)),
        else_=cast(Message.status, String),
    )
    rows = db.session.execute(
        select(delivery, func.count(), func.count(CampaignRecipient.replied_at))
        .select_from(CampaignRecipient)
        .outerjoin(Message, Message.id == CampaignRecipient.message_id)
        .where(CampaignRecipient.campaign_id == campaign.id)
        .group_by(delivery)
    ).all()
    by = {str(state): count for state, count, _replied in rows}
    replied = sum(r for _state, _count, r in rows)
    failures = db.session.execute(
        select(func.coalesce(Message.error_title, CampaignRecipient.error), func.count())
        .select_from(CampaignRecipient)
        .outerjoin(Message, Message.id == CampaignRecipient.message_id)
        .where(
            CampaignRecipient.campaign_id == campaign.id,
            (CampaignRecipient.status == RecipientStatus.failed) | (Message.status == MessageStatus.failed),
        )
        .group_by(func.coalesce(Message.error_title, CampaignRecipient.error))
        .order_by(func.count().desc())
    ).all()
    return Progress(
        total=sum(by.values()),
        excluded=by.get("excluded", 0),
        pending=by.get("pending", 0),
        queued=by.get("queued", 0),
        sent=by.get("sent", 0),
        delivered=by.get("delivered", 0),
        read=by.get("read", 0),
        failed=by.get("failed", 0),
        cancelled=by.get("cancelled", 0),
        replied=replied,
        failures=[(reason or _("Unknown"), count) for reason, count in failures],
    )


def recipients_page(campaign: Campaign) -> Select:
    return (
        select(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign.id)
        .order_by(CampaignRecipient.id)
    )


def recipient_state(recipient: CampaignRecipient) -> MessageStatus | RecipientStatus:
    """Where a recipient stands: its message's delivery once queued, else the row's own state."""
    if recipient.status == RecipientStatus.queued and recipient.message is not None:
        return MessageStatus(recipient.message.status)
    return RecipientStatus(recipient.status)


def export_csv(campaign: Campaign, *, delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(["contact_id", "name", "phone", "status", "reason", "sent_at", "replied_at"])
    for chunk_start in range(0, 10**9, 1000):
        rows = db.session.scalars(recipients_page(campaign).offset(chunk_start).limit(1000)).all()
        if not rows:
            break
        for r in rows:
            reason = exclusion_reason(r) if r.status in (RecipientStatus.excluded, RecipientStatus.failed) else (
                r.message.error_title if r.message is not None and r.message.error_title else ""
            )
            writer.writerow([
                r.contact_id, r.contact.name, r.contact.phone, recipient_state(r), reason,
                r.message.sent_at.isoformat() if r.message is not None else "",
                r.replied_at.isoformat() if r.replied_at else "",
            ])
    return out.getvalue()


def on_message_created(_name: str, *, message: Message) -> None:
    """A customer's message credits the latest campaign message sent to them in the week before
    (its conversation opened or reused as usual), once."""
    if message.direction != Direction.inbound:
        return
    contact_id = message.conversation.contact_id
    since = (message.sent_at or utcnow()) - REPLY_CREDIT
    recipient = db.session.scalars(
        select(CampaignRecipient)
        .join(Message, Message.id == CampaignRecipient.message_id)
        .where(
            CampaignRecipient.contact_id == contact_id,
            CampaignRecipient.replied_at.is_(None),
            Message.sent_at >= since,
            Message.sent_at <= (message.sent_at or utcnow()),
            Message.status.in_((MessageStatus.sent, MessageStatus.delivered, MessageStatus.read)),
        )
        .order_by(Message.sent_at.desc())
        .limit(1)
    ).first()
    if recipient is not None:
        recipient.replied_at = message.sent_at or utcnow()
