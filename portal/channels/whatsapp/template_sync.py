"""WhatsApp message templates: the business account's list read from the Graph API, and the
components of a template send (docs/architecture.md, "WhatsApp").

The list (GET /{waba-id}/message_templates, every page) becomes channel-neutral SyncedTemplates
that portal.services.templates.apply_sync stores; a send's TemplateParameters become the
`components` of the send body, header, body and buttons each with their own parameters, as the
Cloud API checks them against the approved template.
"""

from __future__ import annotations

from typing import Any

from portal.channels.whatsapp.client import GraphClient
from portal.models import Message, TemplateCategory, TemplateStatus
from portal.services import templates


def listed(client: GraphClient, waba_id: str) -> list[templates.SyncedTemplate]:
    """The account's templates; one WhatsApp does not describe well enough (no name or language,
    a status or category we do not know) is left out rather than guessed."""
    found = []
    for item in client.message_templates(waba_id):
        synced = _synced(item)
        if synced is not None:
            found.append(synced)
    return found


def _synced(item: dict[str, Any]) -> templates.SyncedTemplate | None:
    name, language, status = item.get("name"), item.get("language"), str(item.get("status") or "").lower()
    components = item.get("components")
    if not isinstance(name, str) or not name or not isinstance(language, str) or not language:
        return None
    try:
        status = TemplateStatus(status)
    except ValueError:
        return None
    category = str(item.get("category") or "").lower()
    reason = item.get("rejected_reason")
    return templates.SyncedTemplate(
        name=name[:512],
        language=language[:10],
        status=status,
        category=TemplateCategory(category) if category in TemplateCategory.__members__ else None,
        components=[c for c in components if isinstance(c, dict)] if isinstance(components, list) else [],
        external_id=str(item["id"])[:64] if item.get("id") else None,
        reason=str(reason)[:500] if reason and reason != "NONE" else None,
    )


def send_components(message: Message) -> list[dict[str, Any]]:
    """The send's components: header (text or media link), body and button parameters."""
    params = templates.TemplateParameters.of_message(message.template_params, message.payload_json)
    components: list[dict[str, Any]] = []
    header = params.header
    if header and header.get("type") == "text":
        components.append({"type": "header", "parameters": [{"type": "text", "text": header["text"]}]})
    elif header:
        media = {"link": header["link"]}
        if header.get("filename"):
            media["filename"] = header["filename"]
        components.append({"type": "header", "parameters": [{"type": header["type"], header["type"]: media}]})
    if params.body:
        components.append({"type": "body", "parameters": [{"type": "text", "text": p} for p in params.body]})
    for button, value in zip(templates.parameter_buttons(message.template), params.buttons, strict=False):
        parameter = (
            {"type": "text", "text": value} if button.kind == "url" else {"type": "coupon_code", "coupon_code": value}
        )
        components.append(
            {"type": "button", "sub_type": button.kind, "index": str(button.index), "parameters": [parameter]}
        )
    return components
