"""Message templates: the WhatsApp-approved texts agents and auto-rules send outside the 24-hour window.

A body names its parameters {{1}}..{{n}}, numbered from 1 without gaps (WhatsApp's own rule, so a
template that passes here is not refused by Meta for its numbering). Callers commit.

WhatsApp reviews templates and reports each change of their status (message_template_status_update):
the matching row (same key and language) stores it, and only a template WhatsApp lets us send
(approved or flagged) is offered in the composer or accepted from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agent, AutoRule, Inbox, Message, MessageTemplate, TemplateStatus
from portal.services import audit

PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
# Anything between double braces, to catch {{name}} or {{ }} written by mistake.
BRACED = re.compile(r"\{\{(.*?)\}\}")
# WhatsApp template names: lowercase letters, digits and underscores.
TEMPLATE_KEY = re.compile(r"^[a-z0-9_]+$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")


class TemplateError(ValueError):
    """A readable reason a template change was refused; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def placeholder_numbers(body: str) -> list[int]:
    """The distinct placeholder numbers in the body, ascending."""
    return sorted({int(n) for n in PLACEHOLDER.findall(body)})


def placeholder_count(body: str) -> int:
    return len(placeholder_numbers(body))


def body_errors(body: str) -> list[str]:
    """Why the body is not a valid template body (empty when it is)."""
    errors = []
    malformed = [m.group(0) for m in BRACED.finditer(body) if not PLACEHOLDER.fullmatch(m.group(0))]
    if malformed:
        errors.append(
            _(
                "Placeholders are numbers in double braces, like {{1}}; fix: %(found)s",
                found=", ".join(malformed),
            )
        )
    numbers = placeholder_numbers(body)
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        expected = ", ".join(f"{{{{{n}}}}}" for n in range(1, len(numbers) + 1))
        errors.append(
            _(
                "Placeholders must be numbered from {{1}} without gaps: expected %(expected)s.",
                expected=expected,
            )
        )
    return errors


@dataclass(frozen=True)
class Segment:
    """A piece of a rendered body: literal text, or the value put in place of placeholder `number`."""

    text: str
    number: int | None = None


def render_segments(body: str, params: list[str]) -> list[Segment]:
    """The body split into text and placeholder values; a placeholder without a value keeps its {{n}}."""
    segments: list[Segment] = []
    position = 0
    for match in PLACEHOLDER.finditer(body):
        if match.start() > position:
            segments.append(Segment(body[position : match.start()]))
        number = int(match.group(1))
        value = params[number - 1] if 0 < number <= len(params) and params[number - 1] else match.group(0)
        segments.append(Segment(value, number))
        position = match.end()
    if position < len(body):
        segments.append(Segment(body[position:]))
    return segments


def render(body: str, params: list[str]) -> str:
    """The text a customer reads once `params` fill the placeholders."""
    return "".join(segment.text for segment in render_segments(body, params))


def list_templates() -> list[MessageTemplate]:
    return list(db.session.scalars(select(MessageTemplate).order_by(MessageTemplate.template_key)))


def can_send(template: MessageTemplate) -> bool:
    """Whether WhatsApp lets us send it now (not paused, disabled, rejected or pending)."""
    return TemplateStatus(template.status).can_send


def sendable_templates(inbox: Inbox) -> list[MessageTemplate]:
    """What a conversation of `inbox` may send: its business account's templates WhatsApp allows now."""
    return [t for t in for_inbox(inbox) if can_send(t)]


def apply_review(key: str, language: str | None, status: TemplateStatus, *, reason: str | None) -> bool:
    """Store the channel's review status on the matching template; False when none matches."""
    query = select(MessageTemplate).where(MessageTemplate.template_key == key)
    if language:
        query = query.where(MessageTemplate.language == language)
    template = db.session.scalars(query).first()
    if template is None:
        return False
    old = TemplateStatus(template.status)
    if old != status:
        template.status = status
        audit.record("template.status_changed", target=template, old=old.value, new=status.value, reason=reason)
    return True


def for_inbox(inbox: Inbox) -> list[MessageTemplate]:
    """The templates the inbox's number can send: those of its WhatsApp business account."""
    return list(
        db.session.scalars(
            select(MessageTemplate)
            .where(MessageTemplate.waba_id.is_not_distinct_from(inbox.waba_id))
            .order_by(MessageTemplate.template_key)
        )
    )


def inbox_refusal(template: MessageTemplate, inbox: Inbox) -> str | None:
    """Why the inbox cannot send this template (it belongs to another business account), or None."""
    if template.waba_id == inbox.waba_id:
        return None
    return _(
        "The template %(key)s belongs to another WhatsApp business account than the inbox %(inbox)s.",
        key=template.template_key,
        inbox=inbox.name,
    )


def rules_using(template: MessageTemplate) -> list[AutoRule]:
    return list(
        db.session.scalars(select(AutoRule).where(AutoRule.template_id == template.id).order_by(AutoRule.id))
    )


def _check(template_key: str, language: str, body: str, *, current: MessageTemplate | None) -> None:
    if not TEMPLATE_KEY.fullmatch(template_key):
        raise TemplateError(
            _("Use lowercase letters, digits and underscores, as in WhatsApp Manager."), "template_key"
        )
    if not LANGUAGE_CODE.fullmatch(language):
        raise TemplateError(_("Use a WhatsApp language code such as pt_BR, en_US or es."), "language")
    errors = body_errors(body)
    if errors:
        raise TemplateError(" ".join(errors), "body")
    taken = db.session.scalars(
        select(MessageTemplate).where(MessageTemplate.template_key == template_key)
    ).first()
    if taken is not None and taken is not current:
        raise TemplateError(_("Another template already uses this key."), "template_key")
    if current is not None and placeholder_count(body) > 1:
        # Auto-rules fill only {{1}} (the contact's first name); see portal.services.rules.
        used_by = rules_using(current)
        if used_by:
            raise TemplateError(
                ngettext(
                    "Auto-rules fill only {{1}}, and %(num)d rule sends this template.",
                    "Auto-rules fill only {{1}}, and %(num)d rules send this template.",
                    len(used_by),
                ),
                "body",
            )


def create_template(template_key: str, language: str, body: str, *, by: Agent) -> MessageTemplate:
    template_key, language = template_key.strip(), language.strip()
    _check(template_key, language, body, current=None)
    template = MessageTemplate(template_key=template_key, language=language, body=body)
    db.session.add(template)
    db.session.flush()
    audit.record("template.created", actor=by, target=template, template_key=template_key, language=language)
    return template


def update_template(
    template: MessageTemplate, template_key: str, language: str, body: str, *, by: Agent
) -> bool:
    """Apply the changes; returns False when nothing changed."""
    template_key, language = template_key.strip(), language.strip()
    _check(template_key, language, body, current=template)
    old = {"template_key": template.template_key, "language": template.language, "body": template.body}
    new = {"template_key": template_key, "language": language, "body": body}
    changed = sorted(k for k in new if old[k] != new[k])
    if not changed:
        return False
    template.template_key, template.language, template.body = template_key, language, body
    audit.record(
        "template.updated",
        actor=by,
        target=template,
        changed=changed,
        old={k: old[k] for k in changed if k != "body"},
        new={k: new[k] for k in changed if k != "body"},
    )
    return True


def delete_refusal(template: MessageTemplate) -> str | None:
    """Why the template cannot be deleted, or None when it can."""
    used_by = rules_using(template)
    if used_by:
        return _(
            "Auto-rules send this template (%(rules)s). Change or delete those rules first.",
            rules=", ".join(f"#{rule.id} {rule.trigger_key}" for rule in used_by),
        )
    sent = db.session.scalar(
        select(func.count()).select_from(Message).where(Message.template_id == template.id)
    )
    if sent:
        # Messages keep the template they sent, so a retry sends the same thing; the history stays intact.
        return ngettext(
            "%(num)d message was sent with this template and keeps a link to it.",
            "%(num)d messages were sent with this template and keep a link to it.",
            sent,
        )
    return None


def delete_template(template: MessageTemplate, *, by: Agent) -> None:
    reason = delete_refusal(template)
    if reason:
        raise TemplateError(reason)
    audit.record("template.deleted", actor=by, target=template, template_key=template.template_key)
    db.session.delete(template)
