"""Read-side queries of the inbox: the filtered, searched and keyset-paginated conversation list,
unread counts, waiting-for-first-response times, and the cheap "changed since" versions that the
list and the open thread poll."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import selectinload

from portal import phones
from portal.extensions import db
from portal.models import (
    Agent,
    AuditLog,
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    Priority,
    SlaMetric,
    Tag,
    utcnow,
)
from portal.services import conversations, inboxes, outbound, read_state, settings, teams
from portal.services.business_time import business_seconds

PAGE_SIZE = 25
OPEN = "open"
ALL = "all"
MINE = "mine"
UNASSIGNED = "unassigned"
TEAM = "team"  # the conversations of the agent's teams
# Snoozed conversations (services.snooze) leave the other tabs for this one until they come back.
SNOOZED = "snoozed"
ASSIGNEE_CHOICES = (ALL, MINE, UNASSIGNED, TEAM, SNOOZED)
NO_TEAM = "none"


@dataclass(frozen=True)
class InboxFilter:
    """The list's filters as they travel in the query string; unknown values fall back to defaults."""

    status: str = OPEN
    priority: str = ""
    tag: str = ""
    assignee: str = ALL
    channel: str = ""
    inbox: str = ""  # an inbox id; the agent's scope still applies
    team: str = ""  # a team id, or NO_TEAM
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> InboxFilter:
        status = args.get("status", OPEN)
        assignee = args.get("assignee", ALL)
        priority = args.get("priority", "")
        channel = args.get("channel", "")
        inbox = args.get("inbox", "")
        team = args.get("team", "")
        return cls(
            status=status if status in (OPEN, ALL, *ConversationStatus) else OPEN,
            priority=priority if priority in Priority.__members__ else "",
            tag=conversations.normalize_tag_name(args.get("tag", "")),
            assignee=assignee if assignee in ASSIGNEE_CHOICES else ALL,
            channel=channel if channel in Channel.__members__ else "",
            inbox=inbox if _is_id(inbox) else "",
            team=team if team == NO_TEAM or _is_id(team) else "",
            q=args.get("q", "").strip()[:200],
        )

    def query_args(self) -> dict[str, str]:
        """The non-default filters, for url_for: the shareable URL of this view of the inbox."""
        defaults = InboxFilter()
        return {k: v for k, v in self.__dict__.items() if v != getattr(defaults, k)}


def _is_id(raw: str) -> bool:
    return raw.isascii() and raw.isdigit() and len(raw) < 19


@dataclass
class InboxRow:
    conversation: Conversation
    last_message: Message | None = None
    unread: int = 0
    waiting_since: datetime | None = None
    waited_sec: int = 0
    overdue: bool = False


@dataclass
class InboxPage:
    rows: list[InboxRow] = field(default_factory=list)
    next_cursor: str | None = None


def _sort_key():
    return Conversation.last_message_at


def encode_cursor(conversation: Conversation) -> str:
    return f"{conversation.last_message_at.isoformat()}~{conversation.id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    at, _, row_id = cursor.partition("~")
    try:
        return datetime.fromisoformat(at), int(row_id)
    except ValueError:
        return None


def _phone_forms(text: str) -> list[str]:
    """Digit strings that may appear in a stored E.164 phone for what the user typed."""
    digits = phones.search_digits(text)
    if digits is None:
        return []
    forms = {digits}
    try:
        forms.update(v.lstrip("+") for v in phones.variants(phones.normalize(text)))
    except phones.InvalidPhone:
        pass
    return sorted(forms)


def filtered(agent: Agent, filters: InboxFilter) -> Select:
    query = conversations.visible_to(agent).join(Contact, Conversation.contact_id == Contact.id)
    if filters.status == OPEN:
        query = query.where(Conversation.status.in_(ConversationStatus.open_states()))
    elif filters.status != ALL:
        query = query.where(Conversation.status == ConversationStatus(filters.status))
    if filters.priority:
        query = query.where(Conversation.priority == Priority(filters.priority))
    if filters.channel:
        query = query.where(Conversation.channel == Channel(filters.channel))
    if filters.inbox:
        query = query.where(Conversation.inbox_id == int(filters.inbox))
    if filters.tag:
        query = query.where(Conversation.tags.any(Tag.name == filters.tag))
    if filters.team == NO_TEAM:
        query = query.where(Conversation.team_id.is_(None))
    elif filters.team:
        query = query.where(Conversation.team_id == int(filters.team))
    if filters.assignee == TEAM:
        query = query.where(Conversation.team_id.in_(teams.team_ids_of(agent)))
    elif filters.assignee == MINE:
        query = query.where(Conversation.assigned_to == agent.id)
    elif filters.assignee == UNASSIGNED:
        query = query.where(Conversation.assigned_to.is_(None))
    if filters.assignee == SNOOZED:
        query = query.where(Conversation.snoozed_at.is_not(None))
    else:
        query = query.where(Conversation.snoozed_at.is_(None))
    whole_phone = phones.whole_number(filters.q) if filters.q else None
    if whole_phone is not None:
        # A whole number names at most one contact: an equality on the unique phone index, where
        # the substring search below would read every conversation and message to find nothing.
        query = query.where(Contact.phone.in_(phones.variants(whole_phone)))
    elif filters.q:
        matches = [
            Contact.name.icontains(filters.q, autoescape=True),
            exists().where(
                Message.conversation_id == Conversation.id, Message.body.icontains(filters.q, autoescape=True)
            ),
        ]
        matches += [Contact.phone.contains(digits, autoescape=True) for digits in _phone_forms(filters.q)]
        query = query.where(or_(*matches))
    return query


def list_page(agent: Agent, filters: InboxFilter, cursor: str | None = None, limit: int = PAGE_SIZE) -> InboxPage:
    """One page of the inbox, newest activity first, continuing after `cursor` (keyset pagination)."""
    sort_key = _sort_key()
    query = filtered(agent, filters).options(
        selectinload(Conversation.contact),
        selectinload(Conversation.inbox),
        selectinload(Conversation.tags),
        selectinload(Conversation.assignee),
        selectinload(Conversation.sla),
        selectinload(Conversation.team),
    )
    position = decode_cursor(cursor)
    if position is not None:
        at, row_id = position
        query = query.where(or_(sort_key < at, and_(sort_key == at, Conversation.id < row_id)))
    found = list(db.session.scalars(query.order_by(sort_key.desc(), Conversation.id.desc()).limit(limit + 1)))
    page = InboxPage(rows=[InboxRow(c) for c in found[:limit]])
    if len(found) > limit:
        page.next_cursor = encode_cursor(found[limit - 1])
    _annotate(agent, page.rows)
    return page


def _annotate(agent: Agent, rows: list[InboxRow]) -> None:
    """Fill in last message, unread count and waiting time with one query each for the whole page."""
    if not rows:
        return
    ids = [row.conversation.id for row in rows]
    last = last_messages(ids)
    unread = read_state.unread_counts(agent, ids)
    waiting = waiting_since(row.conversation for row in rows)
    targets = settings.sla_targets()
    hours, zone = teams.HoursCache(), settings.time_zone()
    now = utcnow()
    for row in rows:
        conversation = row.conversation
        row.last_message = last.get(conversation.id)
        row.unread = unread.get(conversation.id, 0)
        row.waiting_since = waiting.get(conversation.id)
        if row.waiting_since is not None:
            # Counted like the SLA breach check: business time when business hours are set.
            row.waited_sec = business_seconds(row.waiting_since, now, hours.for_team(conversation.team_id), zone)
            row.overdue = row.waited_sec > targets[Priority(conversation.priority)].first_response_sec


def last_messages(conversation_ids: list[int]) -> dict[int, Message]:
    ranked = (
        select(
            Message.id,
            func.row_number()
            .over(partition_by=Message.conversation_id, order_by=(Message.sent_at.desc(), Message.id.desc()))
            .label("rank"),
        )
        # A note or a thread's activity line is no message of the customer's or to them.
        .where(Message.conversation_id.in_(conversation_ids), Message.direction != Direction.internal)
        .subquery()
    )
    newest = (
        select(Message)
        .join(ranked, ranked.c.id == Message.id)
        .where(ranked.c.rank == 1)
        .options(selectinload(Message.sender))
    )
    return {m.conversation_id: m for m in db.session.scalars(newest)}


def unread_conversation_count(agent: Agent) -> int:
    """How many conversations the agent may see have a message unread by them: the count in the
    browser tab's title."""
    visible = (
        conversations.visible_to(agent)
        .where(Conversation.id.in_(read_state.conversations_with_unread(agent)))
        .with_only_columns(Conversation.id)
        .subquery()
    )
    return db.session.scalar(select(func.count()).select_from(visible)) or 0


def _ends_first_response_wait():
    """A first response as services.sla.refresh_first_response counts it: a reply written by a
    person that did not fail (a refused reply never reached the customer)."""
    return and_(
        Message.direction == Direction.outbound,
        Message.is_automatic.is_(False),
        Message.sender_agent_id.is_not(None),
        Message.status != MessageStatus.failed,
    )


def waiting_since(conversation_rows) -> dict[int, datetime]:
    """Open conversations whose customer waits for a person's answer, and since when: the
    customer's oldest message after the last reply a person sent (docs/architecture.md, "SLA")."""
    ids = [c.id for c in conversation_rows if c.is_open]
    if not ids:
        return {}
    last_answer = (
        select(Message.conversation_id, func.max(Message.sent_at).label("at"))
        .where(Message.conversation_id.in_(ids), _ends_first_response_wait())
        .group_by(Message.conversation_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Message.conversation_id, func.min(Message.sent_at))
        .outerjoin(last_answer, last_answer.c.conversation_id == Message.conversation_id)
        .outerjoin(SlaMetric, SlaMetric.conversation_id == Message.conversation_id)
        .where(
            Message.conversation_id.in_(ids),
            Message.direction == Direction.inbound,
            or_(last_answer.c.at.is_(None), Message.sent_at > last_answer.c.at),
            # A first response the SLA recorded (as services.sla counts it) answered what came before.
            or_(SlaMetric.first_response_at.is_(None), Message.sent_at > SlaMetric.first_response_at),
        )
        .group_by(Message.conversation_id)
    )
    return dict(rows.tuples().all())


def tab_counts(agent: Agent, filters: InboxFilter, choices: tuple[str, ...] = ASSIGNEE_CHOICES) -> dict[str, int]:
    """How many conversations each of Mine / Unassigned / All (/ Team) / Snoozed holds under the other filters."""
    counts = {}
    for choice in choices:
        query = filtered(agent, replace(filters, assignee=choice)).with_only_columns(Conversation.id)
        counts[choice] = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    return counts


def list_version() -> str:
    """Changes whenever a message arrives or is queued, or anyone changes a conversation (every
    change is audited). Two primary-key maxima: cheap enough to poll every few seconds."""
    newest_message = db.session.scalar(select(func.max(Message.id))) or 0
    newest_audit = db.session.scalar(select(func.max(AuditLog.id))) or 0
    return f"{newest_message}.{newest_audit}"


@dataclass(frozen=True)
class ThreadVersion:
    """What the open thread has shown; each part says which fragment needs re-rendering."""

    messages: str
    conversation: str
    window_open: bool

    def encode(self) -> str:
        return f"{self.messages}~{self.conversation}~{int(self.window_open)}"

    @classmethod
    def decode(cls, raw: str | None) -> ThreadVersion | None:
        parts = (raw or "").split("~")
        if len(parts) != 3:
            return None
        return cls(parts[0], parts[1], parts[2] == "1")


def thread_version(conversation: Conversation) -> ThreadVersion:
    # Statuses only move forward, so the sum of their ranks changes with every tick, even when
    # WhatsApp's status timestamp is older than one we already hold.
    status_ranks = func.sum(case(*((Message.status == s, s.rank) for s in MessageStatus), else_=0))
    # A customer's reaction, edit or deletion changes an earlier message without adding one.
    newest_id, ranks, *stamps = db.session.execute(
        select(
            func.max(Message.id),
            status_ranks,
            func.max(Message.status_at),
            func.max(Message.reaction_at),
            func.max(Message.edited_at),
            func.max(Message.deleted_at),
        ).where(Message.conversation_id == conversation.id)
    ).one()
    messages = "-".join([str(newest_id or 0), str(ranks or 0), *(s.isoformat() if s else "" for s in stamps)])
    # Tag changes touch only the association table, so the tag ids join the row's updated_at.
    tag_ids = ".".join(str(t.id) for t in conversation.tags)
    return ThreadVersion(
        messages=messages,
        conversation=f"{conversation.updated_at.isoformat() if conversation.updated_at else ''}-{tag_ids}",
        window_open=outbound.window_refusal(conversation) is None,
    )


THREAD_PAGE_SIZE = 50


def encode_message_cursor(message: Message) -> str:
    return f"{message.sent_at.isoformat()}~{message.id}"


@dataclass
class ThreadPage:
    """Messages oldest first; `earlier_cursor` is set when older messages exist before them."""

    messages: list[Message] = field(default_factory=list)
    earlier_cursor: str | None = None
    quoted: dict[str, Message] = field(default_factory=dict)  # by external id, for reply quotes


def _thread_page(conversation: Conversation, messages: list[Message], has_earlier: bool) -> ThreadPage:
    quoted_ids = {m.reply_to_external_id for m in messages if m.reply_to_external_id}
    quoted = {m.external_id: m for m in messages if m.external_id in quoted_ids}
    missing = quoted_ids - quoted.keys()
    if missing:
        # A reply may quote a message older than the page shown.
        quoted |= {
            m.external_id: m
            for m in db.session.scalars(
                select(Message).where(Message.conversation_id == conversation.id, Message.external_id.in_(missing))
            )
        }
    return ThreadPage(messages, encode_message_cursor(messages[0]) if has_earlier else None, quoted)


def _message_before(at: datetime, row_id: int):
    return or_(Message.sent_at < at, and_(Message.sent_at == at, Message.id < row_id))


def thread_messages(
    conversation: Conversation, start: str | None = None, before: str | None = None, limit: int = THREAD_PAGE_SIZE
) -> ThreadPage:
    """The thread, keyset-paginated on (sent_at, id): every message from the `start` cursor on
    (what an open thread already shows, new ones included); else the `limit` messages just before
    the `before` cursor; else the newest `limit`."""
    in_thread = Message.conversation_id == conversation.id
    query = select(Message).where(in_thread).options(selectinload(Message.sender))
    first = decode_cursor(start)
    if first is not None:
        query = query.where(~_message_before(*first))
        messages = list(db.session.scalars(query.order_by(Message.sent_at, Message.id)))
        has_earlier = bool(messages) and bool(
            db.session.scalar(select(exists().where(in_thread, _message_before(messages[0].sent_at, messages[0].id))))
        )
    else:
        end = decode_cursor(before)
        if end is not None:
            query = query.where(_message_before(*end))
        newest_first = list(
            db.session.scalars(query.order_by(Message.sent_at.desc(), Message.id.desc()).limit(limit + 1))
        )
        has_earlier = len(newest_first) > limit
        messages = newest_first[:limit][::-1]
    if not messages:
        return ThreadPage()
    return _thread_page(conversation, messages, has_earlier)


def tag_names() -> list[str]:
    return list(db.session.scalars(select(Tag.name).order_by(Tag.name)))


def assignable_agents(conversation: Conversation) -> list[Agent]:
    """Who the conversation may be handed to (services.conversations.may_receive)."""
    active = list(db.session.scalars(select(Agent).where(Agent.active.is_(True)).order_by(Agent.name)))
    member_of = inboxes.memberships(agent.id for agent in active)
    return [agent for agent in active if conversations.may_receive(agent, conversation, member_of)]


EARLIER_CONVERSATIONS_SHOWN = 10


def earlier_conversations(agent: Agent, conversation: Conversation) -> list[Conversation]:
    """The contact's other conversations this agent may see, newest first."""
    query = (
        conversations.visible_to(agent)
        .where(Conversation.contact_id == conversation.contact_id, Conversation.id != conversation.id)
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
        .limit(EARLIER_CONVERSATIONS_SHOWN)
    )
    return list(db.session.scalars(query))
