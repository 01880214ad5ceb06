"""Customer satisfaction (CSAT): a closed conversation asks its customer for a rating, and the
answer is kept per conversation, agent, team and inbox (docs/architecture.md, "Satisfaction
surveys").

- Per inbox (`inboxes.settings["csat"]`, Admin > Inboxes): on or off, the scale, the template sent
  outside the channel's window and how many days an answer is accepted (`expiry_days`).
- Scales. `faces` (the default): three options, which WhatsApp shows as three reply buttons, the
  most the Cloud API allows on one message, so the customer rates with one tap. `five` (1 to 5):
  five options do not fit in buttons, so WhatsApp shows them as a list behind one button (two
  taps). E-mail gets either as numbered text. Scores are kept on 1..5 whatever the scale (faces
  are 1, 3 and 5), so averages and the low-score rule compare across inboxes.
- Asking. A conversation that becomes `closed` (not `lost`) in an inbox that asks gets one survey:
  a csat_responses row (unique per conversation, so closing it again after a reopening asks
  nothing) and the question through the channel: the menu (outbound.queue_menu,
  ChannelAdapter.send_menu) inside the window, else the inbox's template (outbound.queue_template);
  with neither, no survey; nor for a conversation the customer never wrote in (an outreach no one
  answered has nothing to rate). The question is automatic: no first response, no auto-rule.
- Answering. Inbound processing asks `take_answer` before it picks a conversation: a message that
  answers the contact's latest survey in the inbox is stored in that closed conversation, marked
  automatic (no SLA wait, no rule, no reopening, no new conversation), when the contact has no
  open conversation there and
    * it is a rating (the channel's menu_choice: a tapped button or list row, a number; or the
      option's word or face) and the survey is unanswered and younger than `expiry_days`: the
      score, taken with one conditional UPDATE naming `score IS NULL`, so a survey never gets two;
    * it is another rating of an answered survey (a second tap) within the expiry: kept there,
      the score unchanged;
    * it is free text within COMMENT_MINUTES of the score and the survey has no comment yet: the
      comment.
  Anything else (free text before any score, a rating after the expiry) is a normal message: it
  goes to the open conversation or opens a new one, as any message does.
- A score emits `csat.answered`; the auto-rule trigger `csat.low:<N>` fires on a score of N or less.

Callers commit; functions that depend on time take `now` (or the message's time).
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import channels
from portal.channels import Menu, MenuOption
from portal.extensions import db
from portal.models import (
    Agent,
    Contact,
    Conversation,
    ConversationStatus,
    CsatResponse,
    Direction,
    Inbox,
    Message,
    MessageTemplate,
    utcnow,
)
from portal.services import audit, events, outbound, rules

log = logging.getLogger(__name__)

SETTINGS_KEY = "csat"
FACES, FIVE = "faces", "five"
SCALES = {FACES: _l("Three faces (WhatsApp reply buttons)"), FIVE: _l("1 to 5 (WhatsApp list)")}
DEFAULT_EXPIRY_DAYS = 7
MAX_EXPIRY_DAYS = 30
# How long after the score a free-text message is taken as its comment.
COMMENT_MINUTES = 60
OPTION_PREFIX = "csat:"
# The score a satisfied customer gives (4 or 5 on 1..5; the happy face is 5).
SATISFIED_FROM = 4
_ANSWERS_KEY = "csat.answers"


class CsatError(ValueError):
    """A readable reason a survey setting was refused; `field` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class CsatConfig:
    enabled: bool = False
    scale: str = FACES
    template_id: int | None = None
    expiry_days: int = DEFAULT_EXPIRY_DAYS

    def to_json(self) -> dict:
        return {
            "enabled": self.enabled,
            "scale": self.scale,
            "template_id": self.template_id,
            "expiry_days": self.expiry_days,
        }

    @classmethod
    def from_json(cls, raw: dict) -> CsatConfig:
        scale = raw.get("scale") if raw.get("scale") in SCALES else FACES
        template_id = raw.get("template_id")
        return cls(
            bool(raw.get("enabled")),
            scale,
            int(template_id) if template_id else None,
            int(raw.get("expiry_days") or DEFAULT_EXPIRY_DAYS),
        )


def config_for(inbox: Inbox) -> CsatConfig:
    raw = (inbox.settings or {}).get(SETTINGS_KEY)
    return CsatConfig.from_json(raw) if isinstance(raw, dict) else CsatConfig()


def survey_templates(inbox: Inbox) -> list[MessageTemplate]:
    """The templates the survey may send outside the window: those a rule could fill (at most
    {{1}}, the contact's first name) in the inbox's business account."""
    from portal.services import templates

    return [t for t in rules.fillable_templates() if templates.inbox_refusal(t, inbox) is None]


def save_config(inbox: Inbox, config: CsatConfig, *, by: Agent) -> None:
    """Store the inbox's survey settings; CsatError says what is wrong."""
    if config.scale not in SCALES:
        raise CsatError(_("Choose a scale from the list."), "scale")
    if not 1 <= config.expiry_days <= MAX_EXPIRY_DAYS:
        raise CsatError(_("From 1 to %(max)d days.", max=MAX_EXPIRY_DAYS), "expiry_days")
    if config.template_id is not None and config.template_id not in {t.id for t in survey_templates(inbox)}:
        raise CsatError(_("Choose a template from the list."), "template_id")
    old = (inbox.settings or {}).get(SETTINGS_KEY)
    new = config.to_json()
    if old == new:
        return
    inbox.settings = {**(inbox.settings or {}), SETTINGS_KEY: new}
    audit.record("inbox.csat_changed", actor=by, target=inbox, old=old, new=new)


# -- the question ----------------------------------------------------------------------------------


def options(scale: str) -> tuple[MenuOption, ...]:
    """The scale's choices, lowest first; each id names its score on 1..5."""
    if scale == FIVE:
        titles = (_("Very bad"), _("Bad"), _("Okay"), _("Good"), _("Excellent"))
        return tuple(MenuOption(f"{OPTION_PREFIX}{n}", t) for n, t in enumerate(titles, start=1))
    return (
        MenuOption(f"{OPTION_PREFIX}1", "😞 " + _("Bad")),
        MenuOption(f"{OPTION_PREFIX}3", "😐 " + _("Okay")),
        MenuOption(f"{OPTION_PREFIX}5", "😀 " + _("Great")),
    )


def menu_for(scale: str) -> Menu:
    return Menu(
        text=_("How would you rate the help you received? Answer with one option."),
        button=_("Rate the service"),
        options=options(scale),
    )


def on_status_changed(_name: str, *, conversation: Conversation, new: ConversationStatus, **_data) -> None:
    if ConversationStatus(new) == ConversationStatus.closed:
        ask(conversation)


def ask(conversation: Conversation, now: datetime | None = None) -> CsatResponse | None:
    """Send the survey of the conversation's inbox, once per conversation; None when the inbox asks
    none, the conversation was asked before, or the channel can send neither the menu nor the
    template now."""
    config = config_for(conversation.inbox)
    if not config.enabled or conversation.last_inbound_at is None:
        return None
    if db.session.scalar(select(CsatResponse.id).where(CsatResponse.conversation_id == conversation.id)):
        return None
    try:
        with db.session.begin_nested():
            message = _send_question(conversation, config)
            if message is None:
                return None
            response = CsatResponse(
                conversation=conversation,
                inbox_id=conversation.inbox_id,
                agent_id=conversation.assigned_to,
                team_id=conversation.team_id,
                message_id=message.id,
                scale=config.scale,
                asked_at=now or utcnow(),
            )
            db.session.add(response)
            db.session.flush()
    except IntegrityError:
        return None  # another worker asked it first (unique on the conversation)
    return response


def _send_question(conversation: Conversation, config: CsatConfig) -> Message | None:
    if outbound.window_refusal(conversation) is None:
        try:
            with db.session.begin_nested():
                return outbound.queue_menu(conversation, menu_for(config.scale))
        except outbound.OutboundError as error:
            log.info("survey menu not sent on conversation %s: %s", conversation.id, error)
    template = db.session.get(MessageTemplate, config.template_id) if config.template_id else None
    if template is None:
        return None
    try:
        with db.session.begin_nested():
            params = rules.rule_params(template, conversation)
            return outbound.queue_template(conversation, template, params, by=None, automatic=True)
    except outbound.OutboundError as error:
        log.info("survey template not sent on conversation %s: %s", conversation.id, error)
    return None


def for_conversation(conversation: Conversation) -> CsatResponse | None:
    """The conversation's survey, if it was asked (the details panel shows it)."""
    return db.session.scalar(select(CsatResponse).where(CsatResponse.conversation_id == conversation.id))


def score_label(response: CsatResponse) -> str | None:
    """The answer as the customer chose it ("😀 Great"), or None while unanswered."""
    if response.score is None:
        return None
    chosen = next((o.title for o in options(response.scale) if o.id == f"{OPTION_PREFIX}{response.score}"), "")
    return f"{chosen} ({response.score}/5)" if chosen else f"{response.score}/5"


# -- the answer ------------------------------------------------------------------------------------


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def score_of(message: Message, response: CsatResponse) -> int | None:
    """The score (1..5) a message gives the survey: the option the channel reads (a tapped button
    or row, a number), else an option's word or face written alone; None for anything else."""
    menu = menu_for(response.scale)
    adapter = channels.adapter_for(response.conversation)
    option = adapter.menu_choice(message, menu) if adapter is not None else None
    if option is None:
        first = next((line for line in (message.body or "").splitlines() if line.strip()), "")
        said = _plain(first).strip(" .!")
        for candidate in menu.options:
            names = {_plain(candidate.title)}
            if response.scale == FACES:  # "😀 Great": the face or the word alone also counts
                face, _space, word = candidate.title.partition(" ")
                names |= {face, _plain(word)}
            if said and said in names:
                option = candidate.id
                break
    if option is None or not option.startswith(OPTION_PREFIX):
        return None
    return int(option.removeprefix(OPTION_PREFIX))


def _latest_survey(contact: Contact, inbox: Inbox) -> CsatResponse | None:
    return db.session.scalars(
        select(CsatResponse)
        .join(Conversation, Conversation.id == CsatResponse.conversation_id)
        .where(Conversation.contact_id == contact.id, CsatResponse.inbox_id == inbox.id)
        .order_by(CsatResponse.asked_at.desc(), CsatResponse.id.desc())
        .limit(1)
    ).first()


def take_answer(message: Message, contact: Contact | None, inbox: Inbox, at: datetime) -> bool:
    """Whether the inbound `message` (not yet in a conversation) answers the contact's latest
    survey in the inbox; if so it is put in that closed conversation and marked automatic, and
    the `message.created` subscriber records it (module docstring). False: a normal message."""
    if contact is None or contact.id is None:
        return False
    from portal.services import conversations

    if conversations.open_conversation_for(contact, inbox.id) is not None:
        return False
    response = _latest_survey(contact, inbox)
    if response is None or response.conversation.is_open:
        return False
    expired = at > response.asked_at + timedelta(days=config_for(inbox).expiry_days)
    score = score_of(message, response)
    if response.score is None:
        kind = "score" if score is not None and not expired else None
    elif score is not None:
        kind = "repeat" if not expired else None
    else:
        late = response.answered_at is None or at > response.answered_at + timedelta(minutes=COMMENT_MINUTES)
        kind = "comment" if response.comment is None and not late and (message.body or "").strip() else None
    if kind is None:
        return False
    message.conversation = response.conversation
    message.is_automatic = True
    db.session.info.setdefault(_ANSWERS_KEY, {})[id(message)] = (response.id, kind, score, at)
    return True


def on_message_created(_name: str, *, message: Message) -> None:
    taken = db.session.info.get(_ANSWERS_KEY, {}).pop(id(message), None)
    if taken is None or message.direction != Direction.inbound:
        return
    response_id, kind, score, at = taken
    response = db.session.get(CsatResponse, response_id)
    if kind == "score":
        record_score(response, score, at)
    elif kind == "comment":
        response.comment = (message.body or "").strip()[:4000]


def record_score(response: CsatResponse, score: int, at: datetime) -> bool:
    """Give the survey its score, once: one conditional UPDATE naming `score IS NULL`, so a
    redelivered or second answer racing on another worker changes nothing. Thanks the customer
    (inside the window) and emits `csat.answered`."""
    taken = db.session.execute(
        update(CsatResponse)
        .where(CsatResponse.id == response.id, CsatResponse.score.is_(None))
        .values(score=score, answered_at=at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not taken:
        return False
    response.score, response.answered_at = score, at
    try:
        with db.session.begin_nested():
            outbound.queue_automatic_text(
                response.conversation,
                _("Thank you for your rating! If you want to tell us more, just write it here."),
            )
    except outbound.OutboundError:
        pass
    events.emit("csat.answered", response=response)
    return True


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_answers(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_ANSWERS_KEY, None)
