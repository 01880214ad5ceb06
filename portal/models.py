"""The data model as SQLAlchemy 2 typed models.

Every seed table, column, enum value and recommended index is kept with its seed name. What a
running system needs on top of the seed is added, never renamed, and each addition says why:

inboxes (new)     one row per connected account: a WhatsApp number today (phone_number_id, the
                   business account's waba_id, the display phone and the access token, encrypted
                   with portal.crypto), an e-mail address later; `settings` holds what only one
                   channel needs, and `retention_months`, the inbox's LGPD retention policy
                   (portal.services.privacy). `enabled` false refuses sends and keeps history. phone_number_id is
                   unique: webhooks are routed by it.
agent_inboxes (new)  which agents work which inboxes: an agent sees only their inboxes'
                   conversations; supervisors and admins see every inbox.
teams (new)       sectors ("setores": Vendas, Suporte, Financeiro) that supervisors keep
                   (portal.services.teams). `auto_assign` picks who gets the team's unassigned
                   conversations (off, round-robin, fewest open); `last_assigned_agent_id` is where
                   round-robin continues, so the turn survives restarts and is shared by workers;
                   the team row is locked while assigning (docs/architecture.md, "Teams and routing").
                   `business_hours` and `holidays` (the JSON of services.settings.BusinessHours and
                   Holidays) are the team's own opening hours and holidays for its SLA clocks and
                   out-of-hours replies; null falls back to the installation's.
  keywords         words that choose the team in an inbox's triage menu when the customer writes
                   instead of tapping (the team's name always counts; portal.services.triage).
team_members (new)  which agents work in which teams (an agent may be in several).
contacts
  phone            nullable: a customer who only ever wrote by e-mail has no number. Unique when
                   present (both databases let any number of rows have none), so a WhatsApp sender
                   is still one contact.
  email            indexed: the e-mail channel matches senders by address (stored lowercased).
  out_of_hours_replied_at  when the contact last got an out-of-hours reply: they get it at most
                   once per N hours (settings), whichever conversation or inbox they write to;
                   claimed by one conditional UPDATE, so two workers never send it twice.
  wa_id            the id WhatsApp reports for the customer; for Brazilian mobiles it may lack the
                   ninth digit, and replies must go to the id WhatsApp knows.
  opted_out_at, opted_out_message_id, opted_out_text  LGPD: the contact wrote an opt-out word
                   (portal.services.opt_out) and campaigns leave them out; when, and the message
                   that said so (its id without a foreign key: messages already reach contacts through
                   conversations, and a cycle of foreign keys would need deferred constraints).
                   Cleared by an opt-in word or a supervisor's audited override.
  custom_fields    the values of the admins' custom fields for contacts (custom_field_definitions),
                   key -> the normalized value as a string (a CPF's 11 digits, a date's ISO form);
                   one JSON object rather than a row per value, so the API, the CRM payloads, the
                   CSV export and the LGPD export read a contact in one row, and the list's filters
                   read one key through the JSON operators both databases have.
  erased_at        LGPD erasure (portal.services.privacy): when an admin erased the contact. The row
                   stays, anonymized, so that its conversations and messages keep counting in
                   reports; pages show it as erased and refuse to edit it or write to it.
conversations
  inbox_id         the inbox (connected number) the conversation belongs to; replies leave from it.
  team_id          the team (sector) it is routed to, if any: list filter, Team tab, reports per team.
  queued_at        since when it waits unassigned in its team's queue; auto-assignment takes the
                   oldest first (first come, first served), by the index on (team_id, queued_at).
                   Null once assigned or without a team.
  assigned_to      the seed's nullable bigint, made a foreign key to agents.id.
  last_inbound_at  start of the 24-hour customer-service window.
  referral         the click-to-WhatsApp ad (or post) that brought the customer: WhatsApp's
                   `referral` object of the first message that carried one, shown on the conversation.
  last_message_at  orders the inbox and serves its keyset pagination, through the index on
                   (last_message_at, id); never null (set when the conversation opens), so that
                   index is the inbox's exact sort key (benchmarks 1c).
  started_at, closed_at are indexed: reports select conversations by date range.
  snoozed_at, snoozed_until  a snoozed conversation leaves the open list for the Snoozed tab
                   (portal.services.snooze): snoozed_at is set while it sleeps, snoozed_until is
                   when it comes back (null: when the customer writes). The scheduled job finds
                   the due ones through the index on snoozed_until and wakes each with one
                   conditional UPDATE, so it comes back once however many workers run the job.
  triage_asked_at, triage_retries  the inbox's triage menu ("Escolha o setor", portal.services.triage):
                   when the menu last went out while the customer's choice is awaited (null: none
                   awaited; indexed for the timeout job, which sends the conversation to the
                   default team), and how many answers were not a choice. An answer or the timeout
                   takes the conversation with one conditional UPDATE naming triage_asked_at, so
                   the two never both route it.
  custom_fields    the values of the conversation's custom fields, as contacts.custom_fields.
  one open conversation per contact and inbox is a partial unique index, so two workers
  racing on the same contact cannot open two (a customer who writes to two of our numbers has
  one open conversation with each).
messages
  direction        seed values plus `internal`: a row of our own that never leaves the portal, an
                   agent's note (message_type `note`; a transfer's note carries payload_json
                   {"transfer": {"from", "to"}}) or a line the thread shows for a change
                   (message_type `activity`: snoozed, back from a snooze). Being neither inbound
                   nor outbound, no send job, SLA first response, unread count, auto-rule or CRM
                   event ever takes one; its status is `sent` (stored, nothing to deliver).
                   Split replies (a text over the channel's limit the agent agreed to send in
                   parts) keep payload_json {"split": {"part", "of", "previous", "next"}}: a part
                   is sent only after the previous one was accepted (portal.services.outbound).
  status           seed values plus `read` (WhatsApp reports it; a voice note's `played` maps to it).
  external_id      the WhatsApp message id (wamid), unique: redelivered webhooks add nothing.
  sender_agent_id  the agent who wrote it; null for the customer or an automatic message.
  is_automatic     sent by an auto-rule; does not count as a first response and triggers no rule.
                   Inbound too: an e-mail auto-reply, and a customer's answer to a satisfaction
                   survey kept in its closed conversation (portal.services.csat), which must start
                   no SLA wait, fire no rule and reopen nothing.
  error_code, error_title   why a send failed, shown on the bubble.
  message_type, payload_json  the WhatsApp type and its structured part (location, contacts,
                   interactive reply, reaction...), which `body` alone cannot carry.
  media_id, media_mime_type, media_sha256, media_filename  what the media download job needs.
  reply_to_external_id  the wamid this message answers (WhatsApp `context`).
  template_id, template_params  a template send, so a retry sends the same thing.
  status_at        when the latest status arrived.
  send_attempts, send_attempted_at  a send is recorded before the call, so a timed-out call is
                   never blindly repeated.
  send_claimed_until  the attempt in flight holds the message until then (one conditional UPDATE
                   claims it), so two jobs started for one message (an agent's retry and an
                   admin's requeue) never send it twice; a worker that died mid-attempt frees it
                   when the claim expires.
  read_at          when an agent opened an inbound message (unread counts).
  reaction_emoji, reaction_at  the customer's current reaction to this message and when it last
                   changed (a reaction is no message of its own: a newer one replaces it, an empty
                   one removes it; a late redelivery older than reaction_at changes nothing).
  edited_at        when the customer last edited it: `body` shows the new text, payload_json keeps
                   the original.
  deleted_at       when the customer deleted it for everyone; the row and its text are kept.
auto_rules
  template_id      the template the rule sends; now nullable, since a rule may only route, tag or
                   set the conversation (a keyword to a team) or send free text.
  conditions, actions  what the rule checks besides its trigger and what else it does, as JSON
                   objects (portal.services.rule_steps lists the keys).
  cooldown_minutes null: once per conversation; a number: every time, at least that long apart.
  allow_second_reply  the rule may reply although another automatic reply already answered the
                   same inbound message (off by default: one automatic reply per message).
message_templates
  status           WhatsApp's review status, from message_template_status_update webhooks;
                   only approved and flagged templates are offered in the composer.
  waba_id          the WhatsApp business account the template is approved in: a conversation offers
                   only templates of its inbox's account (null matches an inbox without one).
  category         the channel's category (marketing, utility, authentication), from the sync.
  components       the template's parts as the channel describes them (WhatsApp: HEADER with its
                   format, BODY, FOOTER, BUTTONS), from the sync; null for a hand-written template,
                   which is its body only. The picker asks for header and button parameters from it.
  external_name, external_id  the template's name and id at the channel when synced. Meta's names
                   are unique per business account and language only, while template_key stays
                   unique (data model), so a second language or account gets a key of its own and
                   sends by external_name. Null: a hand-written template, sent by its key.
  status_reason    why the channel set the status (a rejection's or pause's reason), shown on the list.
  synced_at        when the last sync saw the template (null: hand-written, or status webhooks only).
sla_metrics
  first_response_at, response_time_sec are nullable until the first human reply exists;
  conversation_id is unique (one row per conversation).
  first_response_warned_at, resolution_warned_at  when the SLA warning for that target went to the
                   open tabs (a share of the target, 80 % by default): claimed by one conditional
                   UPDATE, so each conversation is warned once per target whatever runs the job;
                   the inbox row and the board card show the badge from them.
incidents
  kind             `sla_breach` (automatic, one per conversation) or `manual`.
  created_by_id    the agent who opened a manual incident.
  status, owner_id, resolved_at  incidents are worked on: open until someone resolves them
                   (when is kept; reopening clears it), and the supervisor or admin who owns one.
webhook_events
  error            why processing failed (or a note, such as a status for an unknown message).
  attempts         how many times processing ran.
  retry_at         when a failed event's automatic retry is due; null when none will come (the
                   event is unprocessable or used its tries). A failed event long past it lost its
                   retry (Redis restarted empty), and the sweep enqueues it again.
agents
  password_hash    hashed password (werkzeug scrypt).
  session_version  bumped on deactivation or password reset, which signs out every session.
  locale           the agent's UI language.
  last_login_at    shown to admins.
  totp_secret, two_factor_enabled_at, totp_last_step, recovery_code_hashes  two-factor sign-in
                   (portal.services.two_factor): the TOTP secret encrypted with portal.crypto, kept
                   from the start of the set-up; on once enabled_at is set; the last code step
                   accepted (no code works twice); SHA-256 hashes of the unused recovery codes.
  max_open_conversations  the agent's capacity: auto-assignment gives them no more open
                   conversations than this (manual assignment is not limited).
  alert_sound, alert_desktop  the agent's choice (profile) of a sound and a desktop notification
                   when a customer writes or a conversation opens in their scope (docs/architecture.md,
                   "Live updates"); both off until chosen.

New tables: tags are seed; audit_log (append-only who-did-what), settings (runtime settings
edited in the portal: business hours, time zone, read receipts...), sla_targets (per-priority
targets), auto_rule_firings (one row per rule and conversation: `fired_at` is the last firing and
`fire_count` how many there were, since a rule may repeat after a cool-down; indexed by
conversation too, as the engine reads a conversation's firings once per inbound message),
crm_deliveries (outbound CRM events with their attempts), api_tokens (hashed per-agent tokens),
conversation_reads (how far each agent has read each conversation: unread counts are per agent,
and a supervisor looking at someone else's conversation changes nothing for its assignee;
messages.read_at stays the seed's "opened by the agent answering it", and counts for an agent
who has no row yet),
email_receipts (one row per mail fetched from an e-mail inbox's IMAP folder: its UID, the folder's
UIDVALIDITY and the Message-ID, and the webhook event that carries it to processing; unique on
(inbox, folder, uidvalidity, uid), committed with the event, so a fetch that crashed before its
commit fetches the mail again and one that committed never stores it twice; the highest UID is
where the next fetch starts. docs/architecture.md, "E-mail"),
scheduled_messages (a message an agent wrote to go out later: free text or a template with its
parameters, `send_at` in UTC; the row is the promise, and the worker turns a due `pending` row into
an ordinary queued message with one conditional UPDATE, re-checking the channel's window then;
`message_id` is the message it became, `error` why it could not go out, cancelled ones keep who and
when; indexed on (status, send_at) for the worker's due query),
campaigns (a template sent to an audience by supervisors: the inbox it leaves from, the template and
how its parameters map to contact fields, the audience as chosen (kept to show it), a send rate
per second for the inbox (never exceeded: portal.services.send_rate), send now or at `send_at`; status
draft -> scheduled/running <-> paused -> completed or cancelled; `dispatched_at` is the dispatcher's
last beat, so the worker's tick restarts one whose job was lost; `template_extras` the header and
button values of a template synced with them: {"header": {"type": "text", "field"} or {"type":
image|video|document, "link", "filename"?}, "buttons": [field, ...]}, each field a contact field or
"text:..." as in param_fields),
campaign_recipients (one row per contact of a campaign, written when the audience is previewed, so
nothing is sent before the supervisor confirms and the worker turns `pending` rows into queued
messages with one conditional UPDATE: a killed worker, a Redis outage or a database restart never
sends a recipient twice nor skips one. `params` are that contact's filled-in parameters;
`excluded` rows (opted out) are shown and never sent; `message_id` is the message it became, whose
status is the delivery; `replied_at` credits the customer's next message to the campaign; unique on
(campaign_id, contact_id), indexed on (campaign_id, status) for progress counts and on message_id
for crediting replies and for the send rate),
mentions (an agent @named in a note: the Mentions list and its unread count, seen_at; one row per
note and agent, listed by agent newest first through its index),
custom_field_definitions (the fields admins add to contacts or conversations: `entity` says which,
`key` is the stable name in the API, the CSV and template variables ({{contact.<key>}}), unique per
entity; `field_type` how values are checked and stored (portal.services.custom_fields), `options`
the choices of a list, `required` whether a person saving the record must fill it in; a change
that would leave stored values invalid is refused),
quick_replies (saved replies an agent inserts with `/shortcut`: shared ones, owner_id null, kept by
supervisors; personal ones, owner_id the agent's; a shortcut is unique among the shared ones and
among one agent's own, by two partial unique indexes, and portal.services.quick_replies also keeps
a personal shortcut from repeating a shared one, so `/x` means one reply to each agent; media_url,
media_mime_type, media_sha256, media_filename and media_size: a quick reply may carry an attachment
(a price list, a form), checked and kept as the composer's attachments are
(portal.services.attachments.store, under MEDIA_ROOT by its sha256); a message sent with it names
the same file, so nothing is copied per send, and media_size is shown in the list and the picker),
csat_responses (the satisfaction survey a closed conversation sent its customer, when its inbox
asks one (inboxes.settings["csat"], portal.services.csat): one row per conversation (unique), so a
conversation closed again after a reopening is not asked twice and a survey never gets two scores
(the score is taken by one conditional UPDATE naming `score IS NULL`). agent_id, team_id and
inbox_id are copied at closing time, so reports credit the agent who closed it however the
conversation moves later; `scale` is what the customer saw (`faces`: three reply buttons, `five`:
1 to 5), `score` always on 1..5 (faces are 1, 3 and 5) so averages and the low-score rule compare
across scales; `comment` is the customer's free text after the score; `message_id` the survey
message; asked_at/answered_at give the response rate and the expiry (indexed on asked_at for the
reports' date range)).
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from portal.extensions import db

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets a real bigint.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Channel(StrEnum):
    whatsapp = "whatsapp"
    email = "email"


class ConversationStatus(StrEnum):
    new = "new"
    triage = "triage"
    proposal = "proposal"
    waiting = "waiting"
    active = "active"
    lost = "lost"
    closed = "closed"

    @classmethod
    def closed_states(cls) -> tuple[ConversationStatus, ...]:
        return (cls.lost, cls.closed)

    @classmethod
    def open_states(cls) -> tuple[ConversationStatus, ...]:
        return tuple(s for s in cls if s not in cls.closed_states())


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class Direction(StrEnum):
    inbound = "inbound"
    outbound = "outbound"
    internal = "internal"


class MessageStatus(StrEnum):
    queued = "queued"
    sent = "sent"
    delivered = "delivered"
    read = "read"
    failed = "failed"

    @property
    def rank(self) -> int:
        """Position in the forward-only order; `failed` is terminal."""
        return _MESSAGE_STATUS_RANK[self]


_MESSAGE_STATUS_RANK = {
    MessageStatus.queued: 0,
    MessageStatus.sent: 1,
    MessageStatus.delivered: 2,
    MessageStatus.read: 3,
    MessageStatus.failed: 4,
}


class Role(StrEnum):
    agent = "agent"
    supervisor = "supervisor"
    admin = "admin"

    @property
    def level(self) -> int:
        return {"agent": 1, "supervisor": 2, "admin": 3}[self.value]

    def at_least(self, other: Role) -> bool:
        return self.level >= other.level


class AssignMode(StrEnum):
    """How a team's unassigned conversations find an agent (portal.services.assignment)."""

    off = "off"
    round_robin = "round_robin"
    fewest_open = "fewest_open"


# Open conversations auto-assignment gives one agent unless a supervisor sets another capacity.
DEFAULT_CAPACITY = 10


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class IncidentKind(StrEnum):
    sla_breach = "sla_breach"
    manual = "manual"


class IncidentStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class WebhookStatus(StrEnum):
    pending = "pending"
    processed = "processed"
    failed = "failed"


class TemplateStatus(StrEnum):
    """WhatsApp's template review states (the `event` of message_template_status_update, lowercased)."""

    approved = "approved"
    pending = "pending"
    rejected = "rejected"
    paused = "paused"
    disabled = "disabled"
    flagged = "flagged"
    in_appeal = "in_appeal"
    pending_deletion = "pending_deletion"
    deleted = "deleted"
    archived = "archived"
    limit_exceeded = "limit_exceeded"

    @property
    def can_send(self) -> bool:
        # A flagged template's quality dropped but it can still be sent until WhatsApp pauses it.
        return self in (TemplateStatus.approved, TemplateStatus.flagged)


class TemplateCategory(StrEnum):
    """WhatsApp's template categories (the `category` of a synced template, lowercased)."""

    marketing = "marketing"
    utility = "utility"
    authentication = "authentication"


class ScheduledMessageStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"


class CampaignStatus(StrEnum):
    draft = "draft"
    scheduled = "scheduled"
    running = "running"
    paused = "paused"
    completed = "completed"
    cancelled = "cancelled"


class RecipientStatus(StrEnum):
    pending = "pending"
    queued = "queued"
    excluded = "excluded"
    failed = "failed"
    cancelled = "cancelled"


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


def _enum(enum_cls: type[StrEnum], name: str) -> Enum:
    # Stored as the seed's strings (values, not member names), as a CHECK on SQLite and a
    # native enum type on PostgreSQL.
    return Enum(enum_cls, name=name, values_callable=lambda e: [m.value for m in e], length=20)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)


class Contact(TimestampMixin, db.Model):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    phone: Mapped[str | None] = mapped_column(String(32), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    city: Mapped[str | None] = mapped_column(String(120))
    wa_id: Mapped[str | None] = mapped_column(String(32), index=True)
    out_of_hours_replied_at: Mapped[datetime | None] = mapped_column(DateTime)
    opted_out_at: Mapped[datetime | None] = mapped_column(DateTime)
    opted_out_message_id: Mapped[int | None] = mapped_column(BigInteger)
    opted_out_text: Mapped[str | None] = mapped_column(String(500))
    custom_fields: Mapped[dict[str, str] | None] = mapped_column(JSON)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)

    conversations: Mapped[list[Conversation]] = relationship(back_populates="contact")

    def __repr__(self) -> str:
        return f"<Contact {self.id}>"


conversation_tags = Table(
    "conversation_tags",
    db.metadata,
    Column("conversation_id", BigId, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", BigId, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(db.Model):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True, nullable=False)


class Agent(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    role: Mapped[Role] = mapped_column(_enum(Role, "agent_role"), nullable=False, default=Role.agent)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    locale: Mapped[str | None] = mapped_column(String(10))
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    two_factor_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    recovery_code_hashes: Mapped[list[str] | None] = mapped_column(JSON)
    alert_sound: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    alert_desktop: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    max_open_conversations: Mapped[int] = mapped_column(
        Integer, nullable=False, default=DEFAULT_CAPACITY, server_default=str(DEFAULT_CAPACITY)
    )

    def set_password(self, password: str) -> None:
        # Tests lower the work factor; production keeps werkzeug's scrypt default.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    # Flask-Login: the session id carries the version, so bumping it signs every session out.
    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    inboxes: Mapped[list[Inbox]] = relationship(
        secondary="agent_inboxes", order_by="Inbox.name", back_populates="agents"
    )

    def has_role(self, minimum: Role) -> bool:
        return Role(self.role).at_least(minimum)

    def __repr__(self) -> str:
        return f"<Agent {self.id} {self.role}>"


agent_inboxes = Table(
    "agent_inboxes",
    db.metadata,
    Column("agent_id", BigId, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("inbox_id", BigId, ForeignKey("inboxes.id", ondelete="CASCADE"), primary_key=True),
)


class Inbox(TimestampMixin, db.Model):
    __tablename__ = "inboxes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "inbox_channel"), nullable=False, default=Channel.whatsapp)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    phone_number_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    waba_id: Mapped[str | None] = mapped_column(String(64))
    display_phone: Mapped[str | None] = mapped_column(String(32))
    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    agents: Mapped[list[Agent]] = relationship(secondary=agent_inboxes, order_by="Agent.name", back_populates="inboxes")

    def __repr__(self) -> str:
        return f"<Inbox {self.id} {self.channel}>"


team_members = Table(
    "team_members",
    db.metadata,
    Column("team_id", BigId, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("agent_id", BigId, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Team(TimestampMixin, db.Model):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    auto_assign: Mapped[AssignMode] = mapped_column(
        _enum(AssignMode, "team_auto_assign"), nullable=False, default=AssignMode.off,
        server_default=AssignMode.off.value,
    )
    last_assigned_agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id", ondelete="SET NULL"))
    business_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    holidays: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    keywords: Mapped[list[str] | None] = mapped_column(JSON)

    members: Mapped[list[Agent]] = relationship(secondary=team_members, order_by="Agent.name")

    def __repr__(self) -> str:
        return f"<Team {self.id}>"


class Conversation(TimestampMixin, db.Model):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_status", "status"),
        Index("ix_conversations_priority", "priority"),
        Index("ix_conversations_last_message", "last_message_at", "id"),
        Index("ix_conversations_started_at", "started_at"),
        Index("ix_conversations_closed_at", "closed_at"),
        Index("ix_conversations_assigned_to", "assigned_to"),
        Index("ix_conversations_inbox_id", "inbox_id"),
        Index("ix_conversations_team_queue", "team_id", "queued_at"),
        Index("ix_conversations_snoozed_until", "snoozed_until"),
        Index("ix_conversations_triage_asked_at", "triage_asked_at"),
        Index(
            "uq_conversations_one_open",
            "contact_id",
            "inbox_id",
            unique=True,
            sqlite_where=text("status NOT IN ('lost', 'closed')"),
            postgresql_where=text("status NOT IN ('lost', 'closed')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id"), nullable=False, index=True)
    inbox_id: Mapped[int] = mapped_column(BigId, ForeignKey("inboxes.id"), nullable=False)
    channel: Mapped[Channel] = mapped_column(
        _enum(Channel, "conversation_channel"), nullable=False, default=Channel.whatsapp
    )
    status: Mapped[ConversationStatus] = mapped_column(
        _enum(ConversationStatus, "conversation_status"), nullable=False, default=ConversationStatus.new
    )
    priority: Mapped[Priority] = mapped_column(
        _enum(Priority, "conversation_priority"), nullable=False, default=Priority.normal
    )
    assigned_to: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_message_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    referral: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id", ondelete="SET NULL"))
    queued_at: Mapped[datetime | None] = mapped_column(DateTime)
    snoozed_at: Mapped[datetime | None] = mapped_column(DateTime)
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime)
    triage_asked_at: Mapped[datetime | None] = mapped_column(DateTime)
    triage_retries: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    custom_fields: Mapped[dict[str, str] | None] = mapped_column(JSON)

    contact: Mapped[Contact] = relationship(back_populates="conversations")
    inbox: Mapped[Inbox] = relationship()
    team: Mapped[Team | None] = relationship()
    assignee: Mapped[Agent | None] = relationship(foreign_keys=[assigned_to])
    tags: Mapped[list[Tag]] = relationship(secondary=conversation_tags, order_by="Tag.name")
    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation", order_by="Message.sent_at", lazy="dynamic"
    )
    sla: Mapped[SlaMetric | None] = relationship(back_populates="conversation", uselist=False)

    @property
    def is_open(self) -> bool:
        return self.status not in ConversationStatus.closed_states()

    @property
    def is_snoozed(self) -> bool:
        return self.snoozed_at is not None

    def __repr__(self) -> str:
        return f"<Conversation {self.id} {self.status}>"


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_id", "conversation_id"),
        Index("ix_messages_sent_at", "sent_at"),
        Index("ix_messages_conversation_sent", "conversation_id", "sent_at", "id"),
        Index("ix_messages_status", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id"), nullable=False)
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "message_direction"), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    media_url: Mapped[str | None] = mapped_column(String(500))
    sent_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    status: Mapped[MessageStatus] = mapped_column(
        _enum(MessageStatus, "message_status"), nullable=False, default=MessageStatus.queued
    )
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    sender_agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    is_automatic: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    error_code: Mapped[int | None] = mapped_column(Integer)
    error_title: Mapped[str | None] = mapped_column(String(500))
    message_type: Mapped[str] = mapped_column(String(30), nullable=False, default="text")
    payload_json: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    media_id: Mapped[str | None] = mapped_column(String(128))
    media_mime_type: Mapped[str | None] = mapped_column(String(120))
    media_sha256: Mapped[str | None] = mapped_column(String(128))
    media_filename: Mapped[str | None] = mapped_column(String(255))
    reply_to_external_id: Mapped[str | None] = mapped_column(String(128))
    template_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("message_templates.id"))
    template_params: Mapped[list[str] | None] = mapped_column(JSON)
    status_at: Mapped[datetime | None] = mapped_column(DateTime)
    send_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    send_attempted_at: Mapped[datetime | None] = mapped_column(DateTime)
    send_claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    reaction_emoji: Mapped[str | None] = mapped_column(String(32))
    reaction_at: Mapped[datetime | None] = mapped_column(DateTime)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)

    conversation: Mapped[Conversation] = relationship(back_populates="messages")
    sender: Mapped[Agent | None] = relationship(foreign_keys=[sender_agent_id])
    template: Mapped[MessageTemplate | None] = relationship()

    @property
    def is_note(self) -> bool:
        return self.direction == Direction.internal and self.message_type == NOTE

    def __repr__(self) -> str:
        return f"<Message {self.id} {self.direction} {self.status}>"


# message_type of the internal rows (Direction.internal).
NOTE = "note"
ACTIVITY = "activity"


class Mention(db.Model):
    """An agent @named in a note (portal.services.notes)."""

    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("message_id", "agent_id", name="uq_mentions_message_agent"),
        Index("ix_mentions_agent_created", "agent_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False)
    agent_id: Mapped[int] = mapped_column(BigId, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    seen_at: Mapped[datetime | None] = mapped_column(DateTime)

    message: Mapped[Message] = relationship()
    agent: Mapped[Agent] = relationship()


class MessageTemplate(TimestampMixin, db.Model):
    __tablename__ = "message_templates"
    __table_args__ = (Index("ix_message_templates_waba_external", "waba_id", "external_name", "language"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    template_key: Mapped[str] = mapped_column(String(120), unique=True, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    language: Mapped[str] = mapped_column(String(10), nullable=False, default="pt_BR")
    status: Mapped[TemplateStatus] = mapped_column(
        _enum(TemplateStatus, "template_status"),
        nullable=False,
        default=TemplateStatus.approved,
        server_default=TemplateStatus.approved.value,
    )
    waba_id: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[TemplateCategory | None] = mapped_column(_enum(TemplateCategory, "template_category"))
    components: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    external_name: Mapped[str | None] = mapped_column(String(512))
    external_id: Mapped[str | None] = mapped_column(String(64))
    status_reason: Mapped[str | None] = mapped_column(String(500))
    synced_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def send_name(self) -> str:
        """The name the channel knows the template by."""
        return self.external_name or self.template_key


class AutoRule(TimestampMixin, db.Model):
    __tablename__ = "auto_rules"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    trigger_key: Mapped[str] = mapped_column(String(120), nullable=False, index=True)
    template_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("message_templates.id"))
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    conditions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    actions: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cooldown_minutes: Mapped[int | None] = mapped_column(Integer)
    allow_second_reply: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())

    template: Mapped[MessageTemplate | None] = relationship()


class AutoRuleFiring(db.Model):
    __tablename__ = "auto_rule_firings"
    __table_args__ = (
        UniqueConstraint("rule_id", "conversation_id", name="uq_auto_rule_firings_once"),
        Index("ix_auto_rule_firings_conversation_id", "conversation_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_id: Mapped[int] = mapped_column(BigId, ForeignKey("auto_rules.id", ondelete="CASCADE"), nullable=False)
    conversation_id: Mapped[int] = mapped_column(BigId, ForeignKey("conversations.id"), nullable=False)
    message_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("messages.id"))
    fired_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    fire_count: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")


class SlaMetric(db.Model):
    __tablename__ = "sla_metrics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id"), unique=True, nullable=False
    )
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime)
    response_time_sec: Mapped[int | None] = mapped_column(Integer)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    first_response_warned_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolution_warned_at: Mapped[datetime | None] = mapped_column(DateTime)

    conversation: Mapped[Conversation] = relationship(back_populates="sla")


class SlaTarget(db.Model):
    __tablename__ = "sla_targets"

    priority: Mapped[Priority] = mapped_column(_enum(Priority, "conversation_priority"), primary_key=True)
    first_response_sec: Mapped[int] = mapped_column(Integer, nullable=False)
    resolution_sec: Mapped[int | None] = mapped_column(Integer)


class Incident(TimestampMixin, db.Model):
    __tablename__ = "incidents"
    __table_args__ = (
        Index(
            "uq_incidents_one_sla_breach",
            "conversation_id",
            unique=True,
            sqlite_where=text("kind = 'sla_breach'"),
            postgresql_where=text("kind = 'sla_breach'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id"), nullable=False, index=True
    )
    severity: Mapped[Severity] = mapped_column(_enum(Severity, "incident_severity"), nullable=False)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    kind: Mapped[IncidentKind] = mapped_column(
        _enum(IncidentKind, "incident_kind"), nullable=False, default=IncidentKind.manual
    )
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    status: Mapped[IncidentStatus] = mapped_column(
        _enum(IncidentStatus, "incident_status"), nullable=False, default=IncidentStatus.open,
        server_default=IncidentStatus.open.value,
    )
    owner_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"), index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)

    conversation: Mapped[Conversation] = relationship()
    created_by: Mapped[Agent | None] = relationship(foreign_keys=[created_by_id])
    owner: Mapped[Agent | None] = relationship(foreign_keys=[owner_id])


class WebhookEvent(db.Model):
    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_status_received", "status", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(30), nullable=False)
    event_type: Mapped[str] = mapped_column(String(80), nullable=False)
    payload_json: Mapped[Any] = mapped_column(JSON, nullable=False)
    received_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
    status: Mapped[WebhookStatus] = mapped_column(
        _enum(WebhookStatus, "webhook_status"), nullable=False, default=WebhookStatus.pending
    )
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    action: Mapped[str] = mapped_column(String(60), nullable=False, index=True)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped[Agent | None] = relationship()


class Setting(db.Model):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow, nullable=False)


class CrmDelivery(db.Model):
    __tablename__ = "crm_deliveries"
    __table_args__ = (Index("ix_crm_deliveries_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    event_type: Mapped[str] = mapped_column(String(60), nullable=False)
    payload_json: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    status: Mapped[DeliveryStatus] = mapped_column(
        _enum(DeliveryStatus, "crm_delivery_status"), nullable=False, default=DeliveryStatus.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_response: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    agent_id: Mapped[int] = mapped_column(BigId, ForeignKey("agents.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(String(12), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    agent: Mapped[Agent] = relationship()


class ConversationRead(db.Model):
    """How far one agent has read one conversation (portal.services.read_state)."""

    __tablename__ = "conversation_reads"

    agent_id: Mapped[int] = mapped_column(BigId, ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    last_read_message_id: Mapped[int] = mapped_column(BigId, nullable=False, default=0)
    last_read_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class QuickReply(TimestampMixin, db.Model):
    __tablename__ = "quick_replies"
    __table_args__ = (
        Index(
            "uq_quick_replies_shared_shortcut",
            "shortcut",
            unique=True,
            sqlite_where=text("owner_id IS NULL"),
            postgresql_where=text("owner_id IS NULL"),
        ),
        Index(
            "uq_quick_replies_personal_shortcut",
            "owner_id",
            "shortcut",
            unique=True,
            sqlite_where=text("owner_id IS NOT NULL"),
            postgresql_where=text("owner_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shortcut: Mapped[str] = mapped_column(String(40), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    media_url: Mapped[str | None] = mapped_column(String(500))
    media_mime_type: Mapped[str | None] = mapped_column(String(120))
    media_sha256: Mapped[str | None] = mapped_column(String(128))
    media_filename: Mapped[str | None] = mapped_column(String(255))
    media_size: Mapped[int | None] = mapped_column(BigInteger)

    @property
    def shared(self) -> bool:
        return self.owner_id is None


class EmailReceipt(db.Model):
    __tablename__ = "email_receipts"
    __table_args__ = (
        UniqueConstraint("inbox_id", "folder", "uidvalidity", "uid", name="uq_email_receipts_uid"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    inbox_id: Mapped[int] = mapped_column(BigId, ForeignKey("inboxes.id", ondelete="CASCADE"), nullable=False)
    folder: Mapped[str] = mapped_column(String(200), nullable=False)
    uidvalidity: Mapped[int] = mapped_column(BigInteger, nullable=False)
    uid: Mapped[int] = mapped_column(BigInteger, nullable=False)
    message_id_header: Mapped[str | None] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    event_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("webhook_events.id", ondelete="SET NULL"))
    fetched_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)


class ScheduledMessage(TimestampMixin, db.Model):
    __tablename__ = "scheduled_messages"
    __table_args__ = (Index("ix_scheduled_messages_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    template_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("message_templates.id"))
    template_params: Mapped[list[str] | None] = mapped_column(JSON)
    send_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    status: Mapped[ScheduledMessageStatus] = mapped_column(
        _enum(ScheduledMessageStatus, "scheduled_message_status"),
        nullable=False,
        default=ScheduledMessageStatus.pending,
    )
    message_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("messages.id"))
    error: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))

    conversation: Mapped[Conversation] = relationship()
    created_by: Mapped[Agent | None] = relationship(foreign_keys=[created_by_id])
    template: Mapped[MessageTemplate | None] = relationship()
    message: Mapped[Message | None] = relationship()


class Campaign(TimestampMixin, db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    inbox_id: Mapped[int] = mapped_column(BigId, ForeignKey("inboxes.id"), nullable=False)
    template_id: Mapped[int] = mapped_column(BigId, ForeignKey("message_templates.id"), nullable=False)
    param_fields: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    template_extras: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[CampaignStatus] = mapped_column(
        _enum(CampaignStatus, "campaign_status"), nullable=False, default=CampaignStatus.draft
    )
    rate_per_second: Mapped[int] = mapped_column(Integer, nullable=False, default=80)
    send_at: Mapped[datetime | None] = mapped_column(DateTime)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))

    inbox: Mapped[Inbox] = relationship()
    template: Mapped[MessageTemplate] = relationship()
    created_by: Mapped[Agent | None] = relationship()


class CampaignRecipient(db.Model):
    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "contact_id", name="uq_campaign_recipients_once"),
        Index("ix_campaign_recipients_campaign_status", "campaign_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(BigId, ForeignKey("campaigns.id", ondelete="CASCADE"), nullable=False)
    contact_id: Mapped[int] = mapped_column(BigId, ForeignKey("contacts.id"), nullable=False, index=True)
    status: Mapped[RecipientStatus] = mapped_column(
        _enum(RecipientStatus, "campaign_recipient_status"), nullable=False, default=RecipientStatus.pending
    )
    params: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    message_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("messages.id"), unique=True)
    error: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime)

    campaign: Mapped[Campaign] = relationship()
    contact: Mapped[Contact] = relationship()
    message: Mapped[Message | None] = relationship()


class CustomFieldDefinition(TimestampMixin, db.Model):
    """A field admins added to contacts or conversations (module docstring)."""

    __tablename__ = "custom_field_definitions"
    __table_args__ = (UniqueConstraint("entity", "key", name="uq_custom_field_definitions_entity_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity: Mapped[str] = mapped_column(String(20), nullable=False)
    key: Mapped[str] = mapped_column(String(40), nullable=False)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    field_type: Mapped[str] = mapped_column(String(20), nullable=False)
    options: Mapped[list[str] | None] = mapped_column(JSON)
    required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class CsatResponse(db.Model):
    """A satisfaction survey and its answer (module docstring, "csat_responses")."""

    __tablename__ = "csat_responses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    inbox_id: Mapped[int] = mapped_column(BigId, ForeignKey("inboxes.id"), nullable=False)
    agent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("agents.id"))
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("messages.id", ondelete="SET NULL"))
    scale: Mapped[str] = mapped_column(String(10), nullable=False)
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)

    conversation: Mapped[Conversation] = relationship()
    inbox: Mapped[Inbox] = relationship()
