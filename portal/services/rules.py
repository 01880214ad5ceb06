"""Auto-rules: the trigger catalogue, rule changes from the supervisor forms, and the engine.

A rule's `trigger_key` is a catalogue entry, with its parameter after a colon (docs/architecture.md, "Auto-rules"):
`conversation.opened`, `message.keyword:<word>`, `outside_business_hours`,
`status.changed:<status>`, `no_reply_after:<minutes>`, `message.failed`, `csat.low:<score>` (a
satisfaction survey answered with that score or lower, portal.services.csat).

The engine reacts to domain events inside the unit of work that caused them (a webhook processed
by the worker, a status change in the portal) and sends the rule's template through the same
outbound queue as an agent reply, marked automatic. `no_reply_after` has no event: the scheduled
job portal.jobs.rules.fire_timed_rules looks for it every minute.

- A rule fires at most once per conversation: an auto_rule_firings row (unique on rule and
  conversation) is written before the message, inside a savepoint, so a second worker racing on
  the same conversation loses quietly and the surrounding transaction carries on. A repeating
  firing claims the row with a conditional UPDATE (last firing older than the cool-down).
- The out-of-hours reply goes to a contact at most once per cool-down (default 12 hours), in
  whichever conversation, by the conversation's team's business hours and holidays.
- An automatic message never triggers a rule, and disabled rules never fire.
- Templates carry at most one parameter for rules: {{1}} is the contact's first name (the first
  word of the contact's name; the name as stored when it is only the phone number).
- Templates are allowed outside the 24-hour window, so a rule can always send.
Callers commit.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from portal.extensions import db
from portal.models import (
    Agent,
    AutoRule,
    AutoRuleFiring,
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    MessageStatus,
    MessageTemplate,
    TemplateStatus,
    utcnow,
)
from portal.services import audit, business_time, outbound, rule_steps, settings, teams, templates, unit_cache

log = logging.getLogger(__name__)

MAX_KEYWORD_LENGTH = 60
MAX_MINUTES = 7 * 24 * 60
# Conversations handled per rule and run of the timer; the rest wait for the next minute.
TIMED_BATCH = 500


class TriggerKind(StrEnum):
    conversation_opened = "conversation.opened"
    message_keyword = "message.keyword"
    outside_business_hours = "outside_business_hours"
    status_changed = "status.changed"
    no_reply_after = "no_reply_after"
    message_failed = "message.failed"
    csat_low = "csat.low"


class Parameter(StrEnum):
    keyword = "keyword"
    status = "status"
    minutes = "minutes"
    score = "score"


@dataclass(frozen=True)
class TriggerSpec:
    kind: TriggerKind
    label: object
    parameter: Parameter | None = None


CATALOGUE: dict[TriggerKind, TriggerSpec] = {
    spec.kind: spec
    for spec in (
        TriggerSpec(TriggerKind.conversation_opened, _l("A conversation is opened")),
        TriggerSpec(
            TriggerKind.message_keyword, _l("A customer message contains a keyword"), Parameter.keyword
        ),
        TriggerSpec(TriggerKind.outside_business_hours, _l("A customer writes outside business hours")),
        TriggerSpec(TriggerKind.status_changed, _l("The conversation moves to a status"), Parameter.status),
        TriggerSpec(
            TriggerKind.no_reply_after, _l("No reply to the customer after some minutes"), Parameter.minutes
        ),
        TriggerSpec(TriggerKind.message_failed, _l("A message to the customer failed")),
        TriggerSpec(TriggerKind.csat_low, _l("A satisfaction rating is low"), Parameter.score),
    )
}


class RuleError(ValueError):
    """A readable reason a rule change was refused; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Trigger:
    kind: TriggerKind
    parameter: str | None = None

    @property
    def key(self) -> str:
        return self.kind.value if self.parameter is None else f"{self.kind.value}:{self.parameter}"

    @property
    def spec(self) -> TriggerSpec:
        return CATALOGUE[self.kind]


def words(text: str) -> list[str]:
    """The text's words, case- and accent-insensitive: "Preço!" and "preco" give the same word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.findall(r"\w+", stripped)


def contains_keyword(text: str, keyword: str) -> bool:
    """Whether the keyword's words appear in the text as whole words, in a row."""
    wanted, found = words(keyword), words(text)
    size = len(wanted)
    return size > 0 and any(found[i : i + size] == wanted for i in range(len(found) - size + 1))


def make_trigger(kind: str, parameter: str | None) -> Trigger:
    """A catalogue trigger with its parameter checked and normalized; RuleError says what is wrong."""
    try:
        kind = TriggerKind(kind)
    except ValueError:
        raise RuleError(_("Choose a trigger from the list."), "trigger") from None
    spec = CATALOGUE[kind]
    raw = (parameter or "").strip()
    if spec.parameter is None:
        return Trigger(kind)
    if spec.parameter is Parameter.keyword:
        if not raw:
            raise RuleError(_("Type the keyword to look for."), "keyword")
        if re.search(r"[^\w\s]", raw) or len(raw) > MAX_KEYWORD_LENGTH:
            raise RuleError(
                _("Use letters, digits and spaces only, at most %(max)d characters.", max=MAX_KEYWORD_LENGTH),
                "keyword",
            )
        return Trigger(kind, " ".join(raw.lower().split()))
    if spec.parameter is Parameter.status:
        try:
            return Trigger(kind, ConversationStatus(raw).value)
        except ValueError:
            raise RuleError(_("Choose the status that triggers the rule."), "status") from None
    if spec.parameter is Parameter.score:
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 4:
            raise RuleError(_("Choose the highest score that triggers the rule."), "score")
        return Trigger(kind, str(int(raw)))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_MINUTES:
        raise RuleError(_("Give a whole number of minutes from 1 to %(max)d.", max=MAX_MINUTES), "minutes")
    return Trigger(kind, str(int(raw)))


def parse_trigger_key(trigger_key: str) -> Trigger:
    kind, _colon, parameter = trigger_key.partition(":")
    return make_trigger(kind, parameter or None)


# Rule changes (supervisor forms) ------------------------------------------------------------


@dataclass(frozen=True)
class RuleSummary:
    rule: AutoRule
    trigger: Trigger | None
    fired_count: int
    last_fired_at: datetime | None


def list_rules() -> list[RuleSummary]:
    """Every rule with how often and when it last fired."""
    rows = db.session.execute(
        select(AutoRule, func.coalesce(func.sum(AutoRuleFiring.fire_count), 0), func.max(AutoRuleFiring.fired_at))
        .outerjoin(AutoRuleFiring, AutoRuleFiring.rule_id == AutoRule.id)
        .group_by(AutoRule.id)
        .order_by(AutoRule.id)
    ).all()
    return [RuleSummary(rule, _trigger_or_none(rule), count, last) for rule, count, last in rows]


def _trigger_or_none(rule: AutoRule) -> Trigger | None:
    try:
        return parse_trigger_key(rule.trigger_key)
    except RuleError:
        log.warning("auto-rule %s has an unknown trigger and never fires", rule.id)
        return None


class RuleErrors(RuleError):
    """Every reason a rule change was refused, each with its field (shown all at once)."""

    def __init__(self, errors: list[RuleError]):
        super().__init__(str(errors[0]), errors[0].field)
        self.errors = errors


def fillable(template: MessageTemplate) -> bool:
    """Whether a rule can send this template: WhatsApp allows it and rules can fill its parameters
    (at most {{1}}, the contact's first name; no header or button to fill)."""
    return (
        templates.placeholder_count(template.body) <= 1
        and TemplateStatus(template.status).can_send
        # Rules have no header or button values to give (docs/architecture.md, "Auto-rules").
        and not templates.needs_extra_parameters(template)
    )


def fillable_templates() -> list[MessageTemplate]:
    """The templates a rule form offers."""
    return [t for t in templates.list_templates() if fillable(t)]


@dataclass
class RuleSpec:
    """A rule as a supervisor chose it (docs/architecture.md, "Auto-rules")."""

    trigger: Trigger
    template: MessageTemplate | None = None
    enabled: bool = True
    conditions: dict = field(default_factory=dict)
    actions: dict = field(default_factory=dict)
    cooldown_minutes: int | None = None
    allow_second_reply: bool = False

    def problems(self) -> list[RuleError]:
        found = []
        if self.template is not None and templates.placeholder_count(self.template.body) > 1:
            found.append(RuleError(
                _("Rules fill only {{1}} (the contact's first name); this template has more parameters."),
                "template_id",
            ))
        elif self.template is not None and templates.needs_extra_parameters(self.template):
            found.append(RuleError(
                _("Rules cannot fill a template's header or buttons; choose a template without them."),
                "template_id",
            ))
        elif self.template is not None and not TemplateStatus(self.template.status).can_send:
            found.append(RuleError(_("WhatsApp does not allow this template now; choose an approved one."), "template_id"))
        if self.template is None and not self.actions:
            found.append(RuleError(_("Choose what the rule does: a template, a text or a change."), "template_id"))
        if "text" in self.actions and self.trigger.kind == TriggerKind.conversation_opened:
            found.append(RuleError(
                _("A conversation may open with our own message, outside the window: send a template instead."),
                "text",
            ))
        return found

    def snapshot(self) -> dict:
        return {
            "trigger_key": self.trigger.key,
            "template_id": self.template.id if self.template is not None else None,
            "enabled": self.enabled,
            "conditions": self.conditions or None,
            "actions": self.actions or None,
            "cooldown_minutes": self.cooldown_minutes,
            "allow_second_reply": self.allow_second_reply,
        }


def _snapshot(rule: AutoRule) -> dict:
    return {
        "trigger_key": rule.trigger_key,
        "template_id": rule.template_id,
        "enabled": rule.enabled,
        "conditions": rule.conditions or None,
        "actions": rule.actions or None,
        "cooldown_minutes": rule.cooldown_minutes,
        "allow_second_reply": rule.allow_second_reply,
    }


def _apply(rule: AutoRule, spec: RuleSpec) -> None:
    for key, value in spec.snapshot().items():
        setattr(rule, key, value)
    rule.template = spec.template


def save_rule(rule: AutoRule | None, spec: RuleSpec, *, by: Agent, errors: list[RuleError] = ()) -> AutoRule:
    """Create (rule None) or update a rule. RuleErrors lists every problem, the caller's `errors`
    (fields the form could not read) included, so the form shows them all at once."""
    problems = [*errors, *spec.problems()]
    if problems:
        raise RuleErrors(problems)
    if rule is None:
        rule = AutoRule()
        _apply(rule, spec)
        db.session.add(rule)
        db.session.flush()
        audit.record("rule.created", actor=by, target=rule, **_snapshot(rule))
        return rule
    old, new = _snapshot(rule), spec.snapshot()
    changed = sorted(k for k in new if old[k] != new[k])
    if changed:
        _apply(rule, spec)
        audit.record(
            "rule.updated", actor=by, target=rule, old={k: old[k] for k in changed}, new={k: new[k] for k in changed}
        )
    return rule


def delete_rule(rule: AutoRule, *, by: Agent) -> None:
    audit.record("rule.deleted", actor=by, target=rule, **_snapshot(rule))
    db.session.execute(delete(AutoRuleFiring).where(AutoRuleFiring.rule_id == rule.id))
    db.session.delete(rule)


# The engine ---------------------------------------------------------------------------------


def _enabled_rules_by_kind() -> dict[TriggerKind, list[tuple[AutoRule, Trigger]]]:
    by_kind: dict[TriggerKind, list[tuple[AutoRule, Trigger]]] = {}
    for rule in db.session.scalars(select(AutoRule).where(AutoRule.enabled.is_(True)).order_by(AutoRule.id)):
        trigger = _trigger_or_none(rule)
        if trigger is not None:
            by_kind.setdefault(trigger.kind, []).append((rule, trigger))
    return by_kind


# The enabled rules, read once per unit of work: every inbound message asks for two or three kinds.
_ENABLED_RULES = unit_cache.UnitValue("rules.enabled_rules", _enabled_rules_by_kind, watch={AutoRule: None})


def enabled_rules(kind: TriggerKind) -> list[tuple[AutoRule, Trigger]]:
    """Enabled rules of this kind with their parsed triggers, oldest first."""
    return _ENABLED_RULES.get().get(kind, [])


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_after_the_unit_of_work(session: Session, transaction) -> None:
    # Only the outermost transaction: after_commit also fires when a savepoint is released.
    if transaction.parent is None:
        session.info.pop("rules.replied_conversations", None)
        session.info.pop(_FIRINGS_KEY, None)


def first_name(contact: Contact) -> str:
    name = contact.name.strip()
    if not name or name == contact.phone:
        return name or contact.phone
    return name.split()[0]


def rule_params(template: MessageTemplate, conversation: Conversation) -> list[str]:
    return [first_name(conversation.contact)] if templates.placeholder_count(template.body) else []


# The conversation's firing rows, read once per unit of work (one query by conversation instead of
# one or two per rule and message), kept current by this session's flushes and dropped when any
# transaction or savepoint rolls back, as rows it inserted may be gone.
_FIRINGS_KEY = "rules.firings"


def _firings(conversation: Conversation) -> dict[int, AutoRuleFiring]:
    """Rule id -> this conversation's firing row."""
    if conversation.id is None:
        db.session.flush()
    by_conversation = db.session.info.setdefault(_FIRINGS_KEY, {})
    found = by_conversation.get(conversation.id)
    if found is None:
        found = by_conversation[conversation.id] = {
            firing.rule_id: firing
            for firing in db.session.scalars(
                select(AutoRuleFiring).where(AutoRuleFiring.conversation_id == conversation.id)
            )
        }
    return found


@sa_event.listens_for(Session, "after_flush")
def _note_flushed_firings(session: Session, _flush_context) -> None:
    by_conversation = session.info.get(_FIRINGS_KEY)
    if not by_conversation:
        return
    for firing in session.new:
        if isinstance(firing, AutoRuleFiring) and firing.conversation_id in by_conversation:
            by_conversation[firing.conversation_id][firing.rule_id] = firing
    for firing in session.deleted:
        if isinstance(firing, AutoRuleFiring) and firing.conversation_id in by_conversation:
            by_conversation[firing.conversation_id].pop(firing.rule_id, None)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_firings_after_a_rollback(session: Session, _previous_transaction) -> None:
    session.info.pop(_FIRINGS_KEY, None)


def has_fired(rule: AutoRule, conversation: Conversation) -> bool:
    return _firing(rule, conversation) is not None


def _firing(rule: AutoRule, conversation: Conversation) -> AutoRuleFiring | None:
    return _firings(conversation).get(rule.id)


_RULES_COOLDOWN = object()  # fire(): the rule's own cool-down
_APPLYING_KEY = "rules.applying"
_REPLIED_KEY = "rules.replied_conversations"


def applying() -> bool:
    """Whether a rule is changing things right now: those changes trigger no other rule."""
    return bool(db.session.info.get(_APPLYING_KEY))


def _rule_cooldown(rule: AutoRule) -> timedelta | None:
    return None if rule.cooldown_minutes is None else timedelta(minutes=rule.cooldown_minutes)


def _may_claim(rule: AutoRule, conversation: Conversation, cooldown: timedelta | None, at: datetime) -> bool:
    """Whether the rule may fire at `at` by the firing rows this unit of work knows: checked before
    anything is written, so a rule that already fired costs no savepoint. `_claim` decides."""
    if cooldown is None:
        return not has_fired(rule, conversation)
    firing = _firing(rule, conversation)
    return firing is None or firing.fired_at <= at - cooldown


def _claim(rule: AutoRule, conversation: Conversation, cooldown: timedelta | None, at: datetime) -> AutoRuleFiring | None:
    """The firing row for this run, or None when the rule may not fire now. Once per conversation:
    a new row (unique on rule and conversation: a racing worker loses quietly, as fire() rolls back
    the savepoint it calls this in). Repeating: the existing row claimed with one conditional
    UPDATE (its last firing at least `cooldown` old), so two workers never both repeat it."""
    if cooldown is not None:
        firing = _firing(rule, conversation)
        if firing is not None:
            claimed = db.session.execute(
                update(AutoRuleFiring)
                .where(AutoRuleFiring.id == firing.id, AutoRuleFiring.fired_at <= at - cooldown)
                .values(fired_at=at, fire_count=AutoRuleFiring.fire_count + 1, message_id=None)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not claimed:
                return None
            db.session.refresh(firing)
            return firing
    elif has_fired(rule, conversation):
        return None
    firing = AutoRuleFiring(rule_id=rule.id, conversation_id=conversation.id, fired_at=at)
    db.session.add(firing)
    try:
        db.session.flush()
    except IntegrityError:
        # Another worker fired this rule on this conversation first.
        return None
    return firing


def _send(rule: AutoRule, conversation: Conversation) -> Message | None:
    """The rule's template, then its text (inside the window only). One automatic reply per
    conversation and unit of work (one inbound message) unless the rule allows a second."""
    text = (rule.actions or {}).get("text")
    if rule.template is None and not text:
        return None
    if _replied_already(rule, conversation):
        log.info("auto-rule %s did not reply: conversation %s already got an automatic reply", rule.id, conversation.id)
        return None
    first = None
    if rule.template is not None:
        try:
            with db.session.begin_nested():
                params = rule_params(rule.template, conversation)
                first = outbound.queue_template(conversation, rule.template, params, by=None, automatic=True)
        except outbound.OutboundError:
            log.warning("auto-rule %s could not send its template on conversation %s", rule.id, conversation.id)
    if text:
        try:
            with db.session.begin_nested():
                message = outbound.queue_automatic_text(conversation, text)
                first = first or message
        except outbound.OutboundError:
            log.info("auto-rule %s sent no text on conversation %s: outside the window", rule.id, conversation.id)
    if first is not None:
        db.session.info.setdefault(_REPLIED_KEY, set()).add(conversation.id)
    return first


def _replied_already(rule: AutoRule, conversation: Conversation) -> bool:
    """Whether the rule may send nothing more here: the conversation got its automatic reply in
    this unit of work and the rule does not allow a second."""
    return conversation.id in db.session.info.get(_REPLIED_KEY, ()) and not rule.allow_second_reply


def fire(
    rule: AutoRule, conversation: Conversation, *, cooldown=_RULES_COOLDOWN, now: datetime | None = None
) -> AutoRuleFiring | None:
    """Run the rule on the conversation when it is on, its conditions hold and it may fire now
    (once per conversation, or again after its cool-down; `cooldown` overrides the rule's): its
    changes first (team, assignee, tag, priority, status), then its messages. Changes a rule makes
    trigger no other rule."""
    if not rule.enabled:
        return None
    at = now or utcnow()
    cooldown = _rule_cooldown(rule) if cooldown is _RULES_COOLDOWN else cooldown
    if not _may_claim(rule, conversation, cooldown, at):
        return None
    if not rule_steps.conditions_hold(rule.conditions, conversation, at):
        return None
    if not rule_steps.changes(rule.actions) and _replied_already(rule, conversation):
        # It could only send, and may not: no savepoint, no firing (it may fire later).
        log.info("auto-rule %s did not reply: conversation %s already got an automatic reply", rule.id, conversation.id)
        return None
    # A rule that could do nothing (its only message refused) leaves no firing: it may fire later.
    savepoint = db.session.begin_nested()
    firing = _claim(rule, conversation, cooldown, at)
    if firing is None:
        savepoint.rollback()
        return None
    db.session.info[_APPLYING_KEY] = db.session.info.get(_APPLYING_KEY, 0) + 1
    try:
        rule_steps.apply_changes(rule.actions, conversation)
        message = _send(rule, conversation)
    finally:
        db.session.info[_APPLYING_KEY] -= 1
    if message is None and not rule_steps.changes(rule.actions):
        savepoint.rollback()
        return None
    if message is not None:
        firing.message_id = message.id
        db.session.flush()
    savepoint.commit()
    return firing


def _fire_each(pairs: list[tuple[AutoRule, Trigger]], conversation: Conversation, **how) -> None:
    for rule, _trigger in pairs:
        fire(rule, conversation, **how)


def on_conversation_created(name: str, *, conversation: Conversation) -> None:
    if applying():
        return
    _fire_each(enabled_rules(TriggerKind.conversation_opened), conversation)


def is_outside_business_hours(at: datetime, conversation: Conversation) -> bool:
    """Whether `at` (naive UTC) falls outside the conversation's business hours (its team's, else
    the installation's; holidays are closed); never without hours set."""
    return not business_time.is_open(at, teams.hours_for(conversation), settings.time_zone())


def claim_out_of_hours_reply(contact: Contact, at: datetime) -> bool:
    """Whether the contact may get an out-of-hours reply at `at`: not within the cool-down
    (settings.out_of_hours_cooldown_hours) of the last one, whichever conversation it went to.
    One conditional UPDATE records it, so two workers never both reply."""
    since = at - timedelta(hours=settings.out_of_hours_cooldown_hours())
    claimed = db.session.execute(
        update(Contact)
        .where(
            Contact.id == contact.id,
            or_(Contact.out_of_hours_replied_at.is_(None), Contact.out_of_hours_replied_at <= since),
        )
        .values(out_of_hours_replied_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed:
        contact.out_of_hours_replied_at = at
    return bool(claimed)


def on_message_created(name: str, *, message: Message) -> None:
    if message.direction != Direction.inbound or message.is_automatic or applying():
        return
    conversation = message.conversation
    keyword_rules = [
        (rule, trigger)
        for rule, trigger in enabled_rules(TriggerKind.message_keyword)
        if contains_keyword(message.body or "", trigger.parameter or "")
    ]
    _fire_each(keyword_rules, conversation, now=message.sent_at)
    after_hours = enabled_rules(TriggerKind.outside_business_hours)
    if (
        after_hours
        and is_outside_business_hours(message.sent_at, conversation)
        and claim_out_of_hours_reply(conversation.contact, message.sent_at)
    ):
        # The contact's cool-down decides, not the conversation: a rule may reply again here.
        _fire_each(after_hours, conversation, cooldown=timedelta(0), now=message.sent_at)


def on_status_changed(name: str, *, conversation: Conversation, new: ConversationStatus, **_data) -> None:
    if applying():
        return
    matching = [
        (rule, trigger)
        for rule, trigger in enabled_rules(TriggerKind.status_changed)
        if trigger.parameter == ConversationStatus(new).value
    ]
    _fire_each(matching, conversation)


def on_message_status_changed(name: str, *, message: Message, old: MessageStatus) -> None:
    failed_now = message.status == MessageStatus.failed and old != MessageStatus.failed
    if not failed_now or message.direction != Direction.outbound or message.is_automatic:
        return
    _fire_each(enabled_rules(TriggerKind.message_failed), message.conversation)


def on_csat_answered(name: str, *, response) -> None:
    """A survey's score (1..5, portal.services.csat) at or below a `csat.low:<N>` rule's N."""
    matching = [
        (rule, trigger)
        for rule, trigger in enabled_rules(TriggerKind.csat_low)
        if response.score is not None and response.score <= int(trigger.parameter or 0)
    ]
    _fire_each(matching, response.conversation)


def conversations_awaiting_reply(rule: AutoRule, *, since: datetime, limit: int) -> list[Conversation]:
    """Open conversations whose customer last wrote before `since` and got no reply from a person
    since then, where this rule has not fired yet. Automatic messages are not a reply: an
    acknowledgement sent by another rule does not stop this one."""
    inbound, reply = aliased(Message), aliased(Message)
    last_inbound = (
        select(func.max(inbound.sent_at))
        .where(inbound.conversation_id == Conversation.id, inbound.direction == Direction.inbound)
        .correlate(Conversation)
        .scalar_subquery()
    )
    replied = exists().where(
        reply.conversation_id == Conversation.id,
        reply.direction == Direction.outbound,
        reply.is_automatic.is_(False),
        reply.sent_at >= last_inbound,
    )
    fired = exists().where(
        AutoRuleFiring.rule_id == rule.id, AutoRuleFiring.conversation_id == Conversation.id
    )
    return list(
        db.session.scalars(
            select(Conversation)
            .where(
                Conversation.status.in_(ConversationStatus.open_states()),
                last_inbound <= since,
                ~replied,
                ~fired,
            )
            .order_by(Conversation.id)
            .limit(limit)
        )
    )


def fire_timed_rules(now: datetime | None = None) -> int:
    """Fire every enabled `no_reply_after:<minutes>` rule that is due; returns how many fired."""
    now = now or utcnow()
    fired = 0
    for rule, trigger in enabled_rules(TriggerKind.no_reply_after):
        since = now - timedelta(minutes=int(trigger.parameter or 0))
        for conversation in conversations_awaiting_reply(rule, since=since, limit=TIMED_BATCH):
            if fire(rule, conversation) is not None:
                fired += 1
    return fired
