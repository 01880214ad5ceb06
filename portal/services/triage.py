"""The triage menu of an inbox: a new conversation asks the customer for a team ("Escolha o
setor") and the answer routes it (docs/architecture.md, "Teams and routing").

- Configured per inbox by supervisors on the Teams page (`inboxes.settings["triage"]`): the teams
  offered, in order (up to ten), the default team and the minutes the customer has to answer.
- The first inbound message of a new conversation that has neither a team nor an assignee (a rule
  on `conversation.opened` may have routed it already) gets the menu through the channel
  (`outbound.queue_menu`, ChannelAdapter.send_menu: WhatsApp reply buttons for up to three teams,
  else a list; e-mail a numbered text). The menu is an automatic message: no first response, no
  auto-rule.
- The answer is the option the channel reads from the reply (a tapped button or list row, the
  number of a numbered menu: ChannelAdapter.menu_choice), else the one team whose name or keywords
  (`teams.keywords`) the text contains. It sets the conversation's team through teams.set_team,
  so auto-assignment runs as for any team change.
- An answer that picks no team (or more than one) repeats the menu; the MAX_INVALID_ANSWERS-th
  such answer sends the conversation to the default team, as the timeout does
  (expire_waiting, a scheduled job every 30 s).
- Whoever routes the conversation takes it with one conditional UPDATE naming the
  `triage_asked_at` it read, so an answer and the timeout job never both route it. A conversation
  an agent routed or took meanwhile simply stops waiting.

Callers commit; functions that depend on time take `now`, so tests hold the clock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from portal import channels
from portal.channels import Menu, MenuOption
from portal.extensions import db
from portal.models import Agent, Conversation, Direction, Inbox, Message, Team, utcnow
from portal.services import audit, outbound, teams
from portal.services.rules import contains_keyword

log = logging.getLogger(__name__)

SETTINGS_KEY = "triage"
MAX_TEAMS = 10
# The answers that may pick no team: the menu is shown again after each but the last, which
# sends the conversation to the default team.
MAX_INVALID_ANSWERS = 2
DEFAULT_TIMEOUT_MINUTES = 15
MAX_TIMEOUT_MINUTES = 24 * 60
MAX_TEXT = 1000
MAX_KEYWORDS = 20
OPTION_PREFIX = "team:"
# Conversations one run of the timeout job looks at; the next run takes the rest.
BATCH = 200
_NEW_KEY = "triage.new_conversations"


class TriageError(ValueError):
    """A readable reason a triage setting was refused; `field` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TriageConfig:
    team_ids: tuple[int, ...]
    default_team_id: int
    timeout_minutes: int = DEFAULT_TIMEOUT_MINUTES
    text: str = ""  # the question; empty: the default one in the installation's language

    def to_json(self) -> dict:
        return {
            "team_ids": list(self.team_ids),
            "default_team_id": self.default_team_id,
            "timeout_minutes": self.timeout_minutes,
            "text": self.text,
        }

    @classmethod
    def from_json(cls, raw: dict) -> TriageConfig:
        return cls(
            tuple(int(i) for i in raw.get("team_ids") or ()),
            int(raw["default_team_id"]),
            int(raw.get("timeout_minutes") or DEFAULT_TIMEOUT_MINUTES),
            str(raw.get("text") or ""),
        )


def config_for(inbox: Inbox) -> TriageConfig | None:
    """The inbox's triage menu, or None when it has none."""
    raw = (inbox.settings or {}).get(SETTINGS_KEY)
    if not isinstance(raw, dict) or not raw.get("team_ids") or raw.get("default_team_id") is None:
        return None
    return TriageConfig.from_json(raw)


def save_config(inbox: Inbox, config: TriageConfig | None, *, by: Agent) -> None:
    """Turn the inbox's triage menu on with `config`, or off (None); TriageError says what is wrong."""
    if config is not None:
        if not config.team_ids:
            raise TriageError(_("Choose at least one team for the menu."), "team_ids")
        if len(config.team_ids) > MAX_TEAMS:
            raise TriageError(_("A menu offers at most %(max)d teams.", max=MAX_TEAMS), "team_ids")
        known = set(
            db.session.scalars(select(Team.id).where(Team.id.in_([*config.team_ids, config.default_team_id])))
        )
        if not set(config.team_ids) <= known:
            raise TriageError(_("A chosen team no longer exists."), "team_ids")
        if config.default_team_id not in known:
            raise TriageError(_("Choose the default team."), "default_team_id")
        if not 1 <= config.timeout_minutes <= MAX_TIMEOUT_MINUTES:
            raise TriageError(_("From 1 to %(max)d minutes.", max=MAX_TIMEOUT_MINUTES), "timeout_minutes")
        if len(config.text) > MAX_TEXT:
            raise TriageError(_("At most %(max)d characters.", max=MAX_TEXT), "text")
    old = (inbox.settings or {}).get(SETTINGS_KEY)
    new = config.to_json() if config is not None else None
    if old == new:
        return
    inbox.settings = {**(inbox.settings or {}), SETTINGS_KEY: new}
    audit.record("inbox.triage_changed", actor=by, target=inbox, old=old, new=new)


def clean_keywords(raw: str) -> list[str]:
    """A team's keywords from the form's comma-separated text: trimmed, no repeats."""
    found: list[str] = []
    for word in (raw or "").split(","):
        word = " ".join(word.split())[:60]
        if word and word.casefold() not in {w.casefold() for w in found}:
            found.append(word)
    if len(found) > MAX_KEYWORDS:
        raise teams.TeamError(_("At most %(max)d keywords.", max=MAX_KEYWORDS), "keywords")
    return found


def _teams(config: TriageConfig) -> list[Team]:
    """The menu's teams in the configured order (a deleted team drops out)."""
    found = {t.id: t for t in db.session.scalars(select(Team).where(Team.id.in_(config.team_ids)))}
    return [found[i] for i in config.team_ids if i in found]


def menu_for(config: TriageConfig) -> Menu:
    return Menu(
        text=config.text or _("Hello! To help you faster, choose the department you want to talk to:"),
        button=_("Choose a department"),
        options=tuple(MenuOption(f"{OPTION_PREFIX}{t.id}", t.name) for t in _teams(config)),
    )


def team_for_text(body: str, candidates: list[Team]) -> Team | None:
    """The one team whose name or keywords the text contains (none, or several: None)."""
    matching = [
        team
        for team in candidates
        if any(contains_keyword(body or "", word) for word in (team.name, *(team.keywords or ())))
    ]
    return matching[0] if len(matching) == 1 else None


def chosen_team(message: Message, menu: Menu, candidates: list[Team]) -> Team | None:
    adapter = channels.adapter_for(message.conversation)
    option = adapter.menu_choice(message, menu) if adapter is not None else None
    if option is not None and option.startswith(OPTION_PREFIX):
        chosen = int(option.removeprefix(OPTION_PREFIX))
        return next((t for t in candidates if t.id == chosen), None)
    return team_for_text(message.body, candidates)


# -- the conversation's way through the menu -------------------------------------------------------


def _take(conversation: Conversation, *, asked_at: datetime | None, retries: int) -> bool:
    """Move the conversation's triage on from the `triage_asked_at` it was read with: one
    conditional UPDATE, so an answer and the timeout job never both act on one menu."""
    taken = db.session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation.id, Conversation.triage_asked_at == conversation.triage_asked_at
        )
        .values(triage_asked_at=asked_at, triage_retries=retries)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken:
        conversation.triage_asked_at, conversation.triage_retries = asked_at, retries
    return bool(taken)


def _send_menu(conversation: Conversation, menu: Menu) -> bool:
    try:
        with db.session.begin_nested():
            outbound.queue_menu(conversation, menu)
    except outbound.OutboundError as error:
        log.info("triage menu not sent on conversation %s: %s", conversation.id, error)
        return False
    return True


def ask(conversation: Conversation, now: datetime | None = None) -> bool:
    """Send the inbox's menu to a new conversation nobody routed yet; False when it has none."""
    if conversation.team_id is not None or conversation.assigned_to is not None or not conversation.is_open:
        return False
    config = config_for(conversation.inbox)
    if config is None:
        return False
    menu = menu_for(config)
    if not menu.options or not _send_menu(conversation, menu):
        return False
    conversation.triage_asked_at = now or utcnow()
    conversation.triage_retries = 0
    return True


def _route(conversation: Conversation, team: Team | None, how: str) -> None:
    if _take(conversation, asked_at=None, retries=conversation.triage_retries) and team is not None:
        audit.record("conversation.triaged", target=conversation, team=team.id, how=how)
        teams.set_team(conversation, team, by=None)


def answer(conversation: Conversation, message: Message, now: datetime | None = None) -> None:
    """The customer wrote while the menu waits for a choice."""
    config = config_for(conversation.inbox)
    if config is None or conversation.team_id is not None or conversation.assigned_to is not None:
        _take(conversation, asked_at=None, retries=conversation.triage_retries)  # routed meanwhile
        return
    menu = menu_for(config)
    candidates = _teams(config)
    team = chosen_team(message, menu, candidates)
    if team is not None:
        _route(conversation, team, "choice")
        return
    retries = conversation.triage_retries + 1
    if retries >= MAX_INVALID_ANSWERS:
        conversation.triage_retries = retries
        _route(conversation, db.session.get(Team, config.default_team_id), "invalid_answers")
    elif _take(conversation, asked_at=now or utcnow(), retries=retries):
        _send_menu(conversation, menu)


def expire_waiting(now: datetime | None = None) -> list[Conversation]:
    """Send the conversations whose menu went unanswered past their inbox's timeout to its default
    team (and stop waiting on those closed or routed meanwhile); returns those routed."""
    now = now or utcnow()
    waiting = db.session.scalars(
        select(Conversation)
        .where(
            Conversation.triage_asked_at.is_not(None),
            Conversation.triage_asked_at <= now - timedelta(minutes=1),
        )
        .order_by(Conversation.triage_asked_at, Conversation.id)
        .limit(BATCH)
    )
    routed = []
    for conversation in list(waiting):
        config = config_for(conversation.inbox)
        if config is None or not conversation.is_open or conversation.team_id or conversation.assigned_to:
            _take(conversation, asked_at=None, retries=conversation.triage_retries)
        elif conversation.triage_asked_at <= now - timedelta(minutes=config.timeout_minutes):
            _route(conversation, db.session.get(Team, config.default_team_id), "timeout")
            routed.append(conversation)
    return routed


# -- subscribers -----------------------------------------------------------------------------------


def on_conversation_created(_name: str, *, conversation: Conversation) -> None:
    # Only a conversation opened in this unit of work gets the menu, with its first message.
    db.session.info.setdefault(_NEW_KEY, set()).add(conversation.id)


def on_message_created(_name: str, *, message: Message) -> None:
    if message.direction != Direction.inbound or message.is_automatic:
        return
    conversation = message.conversation
    if conversation.triage_asked_at is not None:
        answer(conversation, message)
    elif conversation.id in db.session.info.get(_NEW_KEY, ()):
        db.session.info[_NEW_KEY].discard(conversation.id)
        ask(conversation)


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_new_conversations(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_NEW_KEY, None)
