"""Message templates: the WhatsApp-approved texts agents and auto-rules send outside the 24-hour window.

A body names its parameters {{1}}..{{n}}, numbered from 1 without gaps, with every pair of braces
closed (WhatsApp's own rules, so a template that passes here is not refused by Meta for its
placeholders). Callers commit.

Templates come from the channel's business account (`sync`: the channel reads the account's list
and hands it over as `SyncedTemplate`s, docs/architecture.md "WhatsApp") or are written by hand
for development (a body only). A synced template keeps its components (header, body, footer,
buttons): a send then carries `TemplateParameters` for the header (a text parameter, or the link of
an image, video or document) and for each button that takes one (a URL's suffix, a coupon code).

The channel reports each change of a template's status (WhatsApp: message_template_status_update):
the matching row (same account, name and language) stores it, and only a template the channel lets
us send (approved or flagged) is offered in the composer or queued (`status_refusal`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, or_, select

from portal import channels
from portal.extensions import db
from portal.labels import label
from portal.models import (
    Agent,
    AutoRule,
    Channel,
    Inbox,
    Message,
    MessageTemplate,
    TemplateCategory,
    TemplateStatus,
    utcnow,
)
from portal.services import audit

PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
# Anything between double braces, to catch {{name}} or {{ }} written by mistake.
BRACED = re.compile(r"\{\{(.*?)\}\}")
ENDING_PLACEHOLDER = re.compile(r"\{\{\s*\d+\s*\}\}$")
# What is left of a body once the {{...}} pairs are out: a word with a brace in it is unpaired when
# it holds a double brace or a brace beside a number ({{1}, {1}}, {1}); "R$ {valor}" is plain text.
UNPAIRED = re.compile(r"\S*[{}]+\S*")
UNPAIRED_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{\s*\d|\d\s*\}")
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
    # Braces left once every {{...}} pair is taken out do not close: Meta refuses `Olá {{1}`, which
    # would otherwise be saved as a template without parameters.
    unbalanced = [piece for piece in UNPAIRED.findall(BRACED.sub(" ", body)) if UNPAIRED_PLACEHOLDER.search(piece)]
    if unbalanced:
        errors.append(
            _(
                "Every placeholder opens with {{ and closes with }}; unbalanced: %(found)s",
                found=", ".join(unbalanced),
            )
        )
    malformed = [m.group(0) for m in BRACED.finditer(body) if not PLACEHOLDER.fullmatch(m.group(0))]
    if malformed:
        errors.append(
            _(
                "Placeholders are numbers in double braces, like {{1}}; fix: %(found)s",
                found=", ".join(malformed),
            )
        )
    stripped = body.strip()
    if PLACEHOLDER.match(stripped) or ENDING_PLACEHOLDER.search(stripped):
        # Meta refuses a body that starts or ends with a parameter (INVALID_FORMAT).
        errors.append(_("A parameter cannot start or end the body: write some text before and after it."))
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


# Header formats whose parameter is a media link (WhatsApp's HEADER `format`, lowercased).
MEDIA_HEADERS = ("image", "video", "document")


@dataclass(frozen=True)
class ParameterButton:
    """A button that takes a parameter when sent: `kind` url (the {{1}} in its URL) or copy_code."""

    index: int
    kind: str
    text: str
    url: str | None = None


@dataclass(frozen=True)
class TemplateParameters:
    """What a send fills in: the body's values ({{1}}..), the header's (None when it has none to
    fill: {"type": "text", "text"} or {"type": image|video|document, "link", "filename"?}) and one
    value per ParameterButton, in order. Stored on the message: body in template_params, the rest
    in payload_json["template"], so a retry sends the same."""

    body: list[str]
    header: dict[str, str] | None = None
    buttons: list[str] = field(default_factory=list)

    def extras_json(self) -> dict[str, Any] | None:
        if self.header is None and not self.buttons:
            return None
        return {"header": self.header, "buttons": list(self.buttons)}

    @classmethod
    def of_message(cls, body: list[str] | None, payload: dict[str, Any] | None) -> TemplateParameters:
        extras = (payload or {}).get("template") or {}
        return cls(list(body or []), extras.get("header"), list(extras.get("buttons") or []))


def _component(template: MessageTemplate, kind: str) -> dict[str, Any] | None:
    for component in template.components or []:
        if isinstance(component, dict) and str(component.get("type", "")).upper() == kind:
            return component
    return None


def header_format(template: MessageTemplate) -> str | None:
    """text, image, video, document or location; None without a header."""
    header = _component(template, "HEADER")
    return str(header.get("format") or "TEXT").lower() if header is not None else None


def header_text(template: MessageTemplate) -> str | None:
    header = _component(template, "HEADER")
    return header.get("text") if header is not None and header_format(template) == "text" else None


def header_parameter(template: MessageTemplate) -> str | None:
    """What the header asks for when sent: "text" (its {{1}}), a media format, or None."""
    kind = header_format(template)
    if kind == "text":
        return "text" if placeholder_count(header_text(template) or "") else None
    return kind if kind in MEDIA_HEADERS else None


def footer_text(template: MessageTemplate) -> str | None:
    footer = _component(template, "FOOTER")
    return footer.get("text") if footer is not None else None


def buttons(template: MessageTemplate) -> list[dict[str, Any]]:
    component = _component(template, "BUTTONS")
    found = component.get("buttons") if component is not None else None
    return [b for b in found if isinstance(b, dict)] if isinstance(found, list) else []


def parameter_buttons(template: MessageTemplate) -> list[ParameterButton]:
    """The buttons a send must fill: a URL button with {{1}} in its URL, a copy-code button."""
    found = []
    for index, button in enumerate(buttons(template)):
        kind = str(button.get("type", "")).lower()
        if kind == "url" and PLACEHOLDER.search(str(button.get("url") or "")):
            found.append(ParameterButton(index, "url", str(button.get("text") or ""), str(button["url"])))
        elif kind == "copy_code":
            found.append(ParameterButton(index, "copy_code", str(button.get("text") or "")))
    return found


def needs_extra_parameters(template: MessageTemplate) -> bool:
    """Whether a send must fill the header or a button besides the body."""
    return header_parameter(template) is not None or bool(parameter_buttons(template))


def is_web_link(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.netloc)


def parameters_refusal(template: MessageTemplate, params: TemplateParameters) -> str | None:
    """Why these values do not fill the template (a missing body, header or button value, or a
    header link that is no https URL), or None."""
    expected = placeholder_count(template.body)
    if len(params.body) != expected or not all(params.body):
        return _("The template %(key)s needs %(count)d filled-in parameters.", key=template.template_key, count=expected)
    wanted = header_parameter(template)
    header = params.header or {}
    if wanted == "text" and not (header.get("type") == "text" and header.get("text")):
        return _("The template %(key)s needs a value for its header.", key=template.template_key)
    if wanted in MEDIA_HEADERS and not (header.get("type") == wanted and is_web_link(header.get("link") or "")):
        return _(
            "The template %(key)s needs the https link of its header's %(kind)s.",
            key=template.template_key,
            kind=header_kind_label(wanted),
        )
    if wanted is None and params.header:
        return _("The template %(key)s has no header to fill.", key=template.template_key)
    wanted_buttons = parameter_buttons(template)
    if len(params.buttons) != len(wanted_buttons) or not all(params.buttons):
        return ngettext(
            "The template %(key)s needs a value for %(num)d button.",
            "The template %(key)s needs a value for each of its %(num)d buttons.",
            len(wanted_buttons),
            key=template.template_key,
        )
    return None


def header_kind_label(kind: str) -> str:
    """A header's format in the reader's language."""
    return {
        "text": _("text"),
        "image": _("image"),
        "video": _("video"),
        "document": _("document"),
        "location": _("location"),
    }.get(kind, kind)


def clean_parameters(
    body: list[str], header_text_value: str = "", header_link: str = "", header_filename: str = "",
    button_values: list[str] | None = None, *, template: MessageTemplate,
) -> TemplateParameters:
    """Form or API values as TemplateParameters for `template` (stripped; the header only when it has one)."""
    wanted = header_parameter(template)
    header: dict[str, str] | None = None
    if wanted == "text":
        header = {"type": "text", "text": header_text_value.strip()}
    elif wanted in MEDIA_HEADERS:
        header = {"type": wanted, "link": header_link.strip()}
        if wanted == "document" and header_filename.strip():
            header["filename"] = header_filename.strip()
    return TemplateParameters(
        [p.strip() for p in body], header, [b.strip() for b in (button_values or [])]
    )


def list_templates() -> list[MessageTemplate]:
    return list(db.session.scalars(select(MessageTemplate).order_by(MessageTemplate.template_key)))


def can_send(template: MessageTemplate) -> bool:
    """Whether WhatsApp lets us send it now (not paused, disabled, rejected or pending)."""
    return TemplateStatus(template.status).can_send


def sendable_templates(inbox: Inbox) -> list[MessageTemplate]:
    """What a conversation of `inbox` may send: its business account's templates WhatsApp allows now."""
    return [t for t in for_inbox(inbox) if can_send(t)]


def apply_review(
    waba_id: str | None, name: str, language: str | None, status: TemplateStatus, *, reason: str | None
) -> bool:
    """Store the channel's review status on the matching template of business account `waba_id`
    (a hand-written one without an account matches too); False when none matches."""
    query = select(MessageTemplate).where(
        or_(
            MessageTemplate.external_name == name,
            (MessageTemplate.external_name.is_(None)) & (MessageTemplate.template_key == name),
        ),
        or_(MessageTemplate.waba_id == waba_id, MessageTemplate.waba_id.is_(None)),
    )
    if language:
        query = query.where(MessageTemplate.language == language)
    # The account's own row before a hand-written one without an account.
    template = db.session.scalars(query.order_by(MessageTemplate.waba_id.is_(None), MessageTemplate.id)).first()
    if template is None:
        return False
    old = TemplateStatus(template.status)
    template.status_reason = reason
    if old != status:
        template.status = status
        audit.record("template.status_changed", target=template, old=old.value, new=status.value, reason=reason)
    return True


def status_refusal(template: MessageTemplate) -> str | None:
    """Why the channel would refuse this template now (paused, disabled, rejected, in review...), or None."""
    if can_send(template):
        return None
    return _(
        "WhatsApp does not allow the template %(key)s now (%(status)s): nothing was sent.",
        key=template.template_key,
        status=label(TemplateStatus(template.status)),
    )


@dataclass(frozen=True)
class SyncedTemplate:
    """One template of a business account as the channel lists it (WhatsApp's components kept as sent)."""

    name: str
    language: str
    status: TemplateStatus
    category: TemplateCategory | None
    components: list[dict[str, Any]]
    external_id: str | None
    reason: str | None = None

    @property
    def body(self) -> str:
        for component in self.components:
            if str(component.get("type", "")).upper() == "BODY":
                return str(component.get("text") or "")
        return ""


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0


def _free_key(name: str, language: str, waba_id: str) -> str:
    """template_key is unique (data model) while Meta's names are unique per account and language."""
    for key in (name, f"{name}_{language.lower()}", f"{name}_{language.lower()}_{waba_id}"):
        key = key[:120]
        if db.session.scalar(select(MessageTemplate.id).where(MessageTemplate.template_key == key)) is None:
            return key
    raise TemplateError(_("No free key for template %(name)s.", name=name))


def apply_sync(waba_id: str, listed: list[SyncedTemplate], *, by: Agent | None) -> SyncResult:
    """Make the account's rows match the channel's list: new templates added, changed ones updated,
    ones the account no longer lists marked deleted (kept: messages and rules may name them)."""
    result = SyncResult()
    now = utcnow()
    rows = {
        (t.external_name, t.language): t
        for t in db.session.scalars(
            select(MessageTemplate).where(MessageTemplate.waba_id == waba_id, MessageTemplate.external_name.is_not(None))
        )
    }
    seen = set()
    for item in listed:
        seen.add((item.name, item.language))
        template = rows.get((item.name, item.language))
        values = {
            "body": item.body,
            "status": item.status,
            "category": item.category,
            "components": item.components,
            "external_id": item.external_id,
        }
        if template is None:
            template = MessageTemplate(
                template_key=_free_key(item.name, item.language, waba_id),
                language=item.language,
                waba_id=waba_id,
                external_name=item.name,
                **values,
            )
            db.session.add(template)
            db.session.flush()
            result.created += 1
        else:
            changed = sorted(k for k, v in values.items() if getattr(template, k) != v)
            for key in changed:
                setattr(template, key, values[key])
            if changed:
                result.updated += 1
            else:
                result.unchanged += 1
        if item.reason is not None:
            template.status_reason = item.reason
        template.synced_at = now
    for key, template in rows.items():
        if key not in seen and template.status != TemplateStatus.deleted:
            template.status = TemplateStatus.deleted
            template.synced_at = now
            result.removed += 1
    audit.record(
        "template.synced",
        actor=by,
        waba_id=waba_id,
        created=result.created,
        updated=result.updated,
        removed=result.removed,
    )
    return result


def sync(*, by: Agent | None) -> dict[str, SyncResult | str]:
    """Sync every business account an enabled inbox sends from (one inbox per account, as its
    channel asks the account's list with that inbox's token): by account, what changed, or why
    the channel could not list it (the other accounts are synced all the same)."""
    results: dict[str, SyncResult | str] = {}
    for inbox in db.session.scalars(select(Inbox).where(Inbox.waba_id.is_not(None)).order_by(Inbox.id)):
        adapter = channels.registered().get(Channel(inbox.channel))
        if inbox.waba_id in results or adapter is None or not adapter.sends_templates or not inbox.enabled:
            continue
        try:
            listed = adapter.list_templates(inbox)
        except channels.ChannelError as error:
            results[inbox.waba_id] = error.reason
            audit.record("template.sync_failed", actor=by, waba_id=inbox.waba_id, reason=error.reason)
            continue
        results[inbox.waba_id] = apply_sync(inbox.waba_id, listed, by=by)
    return results


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
    if template.external_name is not None:
        raise TemplateError(_("This template comes from WhatsApp: change it in WhatsApp Manager, then sync."))
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
