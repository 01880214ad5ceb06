"""Opt-out (LGPD): a contact who writes an opt-out word alone (SAIR, PARAR, STOP, CANCELAR by
default; supervisors change the lists) is marked opted out with the time and the message, and
campaigns leave them out; an opt-in word, or a supervisor with a reason (audited), brings them
back (docs/architecture.md, "Proactive messaging"). Callers commit.
"""

from __future__ import annotations

import unicodedata

from flask_babel import gettext as _

from portal.models import Agent, Contact, Direction, Message, utcnow
from portal.services import audit, settings

OPT_OUT_KEY = "opt_out_words"
OPT_IN_KEY = "opt_in_words"
DEFAULT_OPT_OUT_WORDS = ("SAIR", "PARAR", "STOP", "CANCELAR")
DEFAULT_OPT_IN_WORDS = ("VOLTAR", "START")
MAX_WORD_LENGTH = 40
MAX_REASON_LENGTH = 500


class OptOutError(ValueError):
    """A readable reason an opt-out change or the word lists were refused."""


def normalize(text: str) -> str:
    """Upper case, accents and the punctuation and spaces around it dropped: "Sair!" and " sáir "
    match SAIR."""
    folded = unicodedata.normalize("NFKD", text or "")
    letters = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(letters.upper().split()).strip(" .,;:!?¡¿\"'()[]-_*~")


def opt_out_words() -> list[str]:
    return list(settings.get(OPT_OUT_KEY) or DEFAULT_OPT_OUT_WORDS)


def opt_in_words() -> list[str]:
    return list(settings.get(OPT_IN_KEY) or DEFAULT_OPT_IN_WORDS)


def parse_words(raw: str) -> list[str]:
    """One word (or short phrase) per comma or line, normalized, without repeats."""
    words: list[str] = []
    for part in (raw or "").replace("\n", ",").split(","):
        word = normalize(part)
        if word and word not in words:
            words.append(word)
    return words


def set_words(opt_out: list[str], opt_in: list[str], *, by: Agent) -> None:
    if not opt_out:
        raise OptOutError(_("Give at least one opt-out word."))
    if any(len(w) > MAX_WORD_LENGTH for w in opt_out + opt_in):
        raise OptOutError(_("A word holds at most %(max)d characters.", max=MAX_WORD_LENGTH))
    both = sorted(set(opt_out) & set(opt_in))
    if both:
        raise OptOutError(_("A word cannot both opt out and opt in: %(words)s.", words=", ".join(both)))
    settings.put(OPT_OUT_KEY, opt_out, by=by)
    settings.put(OPT_IN_KEY, opt_in, by=by)


def is_opted_out(contact: Contact) -> bool:
    return contact.opted_out_at is not None


def on_message_created(_name: str, *, message: Message) -> None:
    """An inbound message that is only an opt-out (or opt-in) word changes the contact."""
    if message.direction != Direction.inbound or message.message_type != "text":
        return
    word = normalize(message.body)
    if not word:
        return
    contact = message.conversation.contact
    if word in opt_out_words() and not is_opted_out(contact):
        contact.opted_out_at = message.sent_at or utcnow()
        contact.opted_out_message_id = message.id
        contact.opted_out_text = (message.body or "")[:500]
        audit.record("contact.opted_out", target=contact, message_id=message.id, word=word)
    elif word in opt_in_words() and is_opted_out(contact):
        _clear(contact)
        audit.record("contact.opted_in", target=contact, message_id=message.id, word=word)


def opt_in(contact: Contact, *, by: Agent, reason: str) -> None:
    """A supervisor brings an opted-out contact back, saying why (kept in the audit log)."""
    reason = (reason or "").strip()
    if not reason:
        raise OptOutError(_("Say why the contact may receive campaigns again."))
    if len(reason) > MAX_REASON_LENGTH:
        raise OptOutError(_("A reason holds at most %(max)d characters.", max=MAX_REASON_LENGTH))
    if not is_opted_out(contact):
        raise OptOutError(_("This contact has not opted out."))
    previous = {"opted_out_at": contact.opted_out_at.isoformat(), "text": contact.opted_out_text}
    _clear(contact)
    audit.record("contact.opted_in", actor=by, target=contact, reason=reason, previous=previous)


def _clear(contact: Contact) -> None:
    contact.opted_out_at = None
    contact.opted_out_message_id = None
    contact.opted_out_text = None
