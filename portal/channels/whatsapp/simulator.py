"""A local stand-in for the WhatsApp Cloud (Graph) API, used by the tests and by scripts/run.

It answers like the real API (docs/architecture.md, "WhatsApp"): sends (interactive reply buttons
and lists checked against Meta's limits), read receipts, media
uploads (checked for type and size as the Cloud API checks them), media lookups and media bytes,
all behind the bearer token. It serves several business numbers,
each with its own phone_number_id and access token: a send must use the token of the number it
names. It records every request (with the number and the token it used), can be told to fail, and,
given the portal's webhook URL and app secret, posts signed `sent`, `delivered` and `read` status
webhooks for each accepted send, from the number that sent it, so the ticks move in a local demo.

Control API (no token):
  GET  /_sim/requests   every recorded Graph request, oldest first, with the answer given
                        (`answer_status`, the send's `wamid`, `answered_at`)
  POST /_sim/fail       {"code": 130429 | 131047 | 500 | "timeout" | ..., "times": 1,
                         "delay": 5, "endpoint": "messages" | "media_upload" | "media_info" | "media_bytes",
                         "to": "5511..."}
                        the next `times` matching calls fail: a Graph error code answers its error
                        body, an HTTP status 5xx answers that status, "timeout" waits `delay`
                        seconds before answering normally (the send is still accepted, as a
                        real timed-out send may be). With `to`, only sends to that recipient
                        match, and they match it before any order without `to`
  POST /_sim/latency    {"seconds": 1.5} every Graph call from now on waits that long, then answers
                        as it would have (a slow but working API; 0 ends it)
  POST /_sim/media      {"data_base64", "mime_type", "id"?, "sha256"?} registers media bytes;
                        a given sha256 (hex) is reported instead of the real one (to test the
                        check). The answer has `sha256` in hex, as the media endpoint reports it,
                        and `webhook_sha256` in base64, as Meta writes it in webhooks.
  POST /_sim/templates  {"waba_id", "templates": [{name, language, status?, category?, components}]}
                        the business account's templates (Meta's shape), served paged by
                        GET /{version}/{waba-id}/message_templates?limit=&after=. Once any account
                        has templates, a template send is checked against the one of its name and
                        language (132001 unknown, 132015 paused, 132016 disabled, 132000 a
                        component's parameter count, 132012 a header of the wrong type)
  POST /_sim/template_status  {"waba_id", "name", "language", "event": "PAUSED" | ..., "reason"?}
                        changes a template's status and answers the message_template_status_update
                        webhook Meta sends for it (posted signed too, given a webhook URL)
  POST /_sim/reset      forget requests, failures, latency, media and templates

Run: python -m portal.channels.whatsapp.simulator --host 127.0.0.1 --port 5001
         [--webhook-url URL --app-secret SECRET] [--number PHONE_NUMBER_ID:TOKEN ...]
Without --number any number id and any bearer token are accepted.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
from flask import Flask, Response, g, jsonify, request

from portal.channels.whatsapp import menus
from portal.channels.whatsapp.media import MEDIA_KINDS
from portal.channels.whatsapp.webhook import signature_header

log = logging.getLogger(__name__)

ERROR_TITLES = {
    2: "Service temporarily unavailable",
    4: "Application request limit reached",
    100: "Invalid parameter",
    190: "Error validating access token",
    368: "Temporarily blocked for policies violations",
    80007: "Rate limit issues",
    130429: "Rate limit hit",
    131000: "Something went wrong",
    131016: "Service unavailable",
    131026: "Message undeliverable",
    131031: "Account has been locked",
    131047: "Re-engagement message",
    131048: "Spam rate limit hit",
    131051: "Unsupported message type",
    131052: "Media download error",
    131053: "Media upload error",
    131056: "Pair rate limit hit",
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template does not exist",
    132012: "Parameter format does not match format in the created template",
    132015: "Template is Paused",
    132016: "Template is Disabled",
    133010: "Phone number not registered",
}
ERROR_DETAILS = {
    130429: "Cloud API message throughput has been reached.",
    131047: "Message failed to send because more than 24 hours have passed since the customer last replied "
    "to this number.",
}
HTTP_STATUS_FOR_CODE = {130429: 429, 131056: 429, 4: 429, 80007: 429, 190: 401, 2: 503, 131016: 503}
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
SENDABLE_TYPES = ("text", "template", "location", "contacts", "interactive", "reaction", *MEDIA_TYPES)
MAX_TEXT_BODY = 4096


@dataclass
class Failure:
    code: int | str
    times: int
    delay: float = 5.0
    endpoint: str | None = None
    to: str | None = None


@dataclass
class Media:
    id: str
    data: bytes
    mime_type: str
    sha256: str

    @property
    def webhook_sha256(self) -> str:
        """The same digest as Meta writes it in a webhook: base64, not hex."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode()


@dataclass
class SimulatorState:
    """What the simulator remembers; shared by its request threads."""

    numbers: dict[str, str]  # phone_number_id -> its access token; empty: any number, any token
    webhook_url: str | None
    app_secret: str | None
    status_delay: float
    latency: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    media: dict[str, Media] = field(default_factory=dict)
    templates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # waba id -> Meta's template objects
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, endpoint: str, phone_number_id: str | None = None) -> dict[str, Any]:
        entry = {
            "endpoint": endpoint,
            "method": request.method,
            "path": request.path,
            "query": request.args.to_dict(),
            "phone_number_id": phone_number_id,
            "token": bearer_token(),
            "authorization": request.headers.get("Authorization"),
            "json": request.get_json(silent=True),
            "at": time.time(),
        }
        with self.lock:
            self.requests.append(entry)
        return entry

    def take_failure(self, endpoint: str, to: str | None = None) -> Failure | None:
        with self.lock:
            # An order for this recipient comes before the orders for everyone.
            for failure in sorted(self.failures, key=lambda f: f.to is None):
                if failure.endpoint in (None, endpoint) and failure.to in (None, to) and failure.times > 0:
                    failure.times -= 1
                    if failure.times == 0:
                        self.failures.remove(failure)
                    return failure
        return None

    def add_media(self, data: bytes, mime_type: str, media_id: str | None = None, sha256: str | None = None) -> Media:
        media = Media(
            id=media_id or str(secrets.randbelow(10**15) + 10**15),
            data=data,
            mime_type=mime_type,
            sha256=sha256 or hashlib.sha256(data).hexdigest(),
        )
        with self.lock:
            self.media[media.id] = media
        return media

    def add_number(self, phone_number_id: str, access_token: str) -> None:
        with self.lock:
            self.numbers[phone_number_id] = access_token

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.failures.clear()
            self.media.clear()
            self.templates.clear()
            self.latency = 0.0

    def set_templates(self, waba_id: str, templates: list[dict[str, Any]]) -> None:
        with self.lock:
            # A template listed again keeps its id, as on Meta's side.
            ids = {(t["name"], t["language"]): t["id"] for t in self.templates.get(waba_id, [])}
        listed = []
        for template in templates:
            template = dict(template)
            template.setdefault(
                "id", ids.get((template.get("name"), template.get("language"))) or str(secrets.randbelow(10**15) + 10**15)
            )
            template.setdefault("status", "APPROVED")
            template.setdefault("category", "UTILITY")
            template.setdefault("components", [])
            listed.append(template)
        with self.lock:
            self.templates[waba_id] = listed

    def find_template(self, name: str, language: str) -> dict[str, Any] | None:
        with self.lock:
            for listed in self.templates.values():
                for template in listed:
                    if template.get("name") == name and template.get("language") == language:
                        return template
        return None


def graph_error_body(code: int, details: str | None = None) -> dict[str, Any]:
    """The Graph API's error body for `code`, shaped like Meta's error responses."""
    details = details or ERROR_DETAILS.get(code)
    error: dict[str, Any] = {
        "message": f"(#{code}) {ERROR_TITLES.get(code, 'An unknown error occurred')}",
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": secrets.token_urlsafe(12),
    }
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return {"error": error}


def _error(code: int, details: str | None = None, http_status: int | None = None) -> tuple[Response, int]:
    return jsonify(graph_error_body(code, details)), http_status or HTTP_STATUS_FOR_CODE.get(code, 400)


def new_wamid() -> str:
    return "wamid." + base64.b64encode(secrets.token_bytes(24)).decode().rstrip("=")


def _validate_send(body: Any) -> str | None:
    """Why the real API would reject this send body, or None when it is well formed."""
    if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    if "status" in body:
        if body["status"] != "read" or not isinstance(body.get("message_id"), str):
            return "a status update needs status=read and a message_id"
        return None
    to = body.get("to")
    if not isinstance(to, str) or not to.lstrip("+").isdigit():
        return "to must be the recipient's phone number"
    message_type = body.get("type", "text")
    if message_type not in SENDABLE_TYPES:
        return f"unsupported type {message_type!r}"
    content = body.get(message_type)
    if not isinstance(content, dict):
        return f"the {message_type} object is required"
    if message_type == "text":
        text = content.get("body")
        if not isinstance(text, str) or not text.strip():
            return "text.body is required"
        if len(text) > MAX_TEXT_BODY:
            return f"text.body is longer than {MAX_TEXT_BODY} characters"
    if message_type == "template":
        language = content.get("language")
        if not isinstance(content.get("name"), str) or not content["name"]:
            return "template.name is required"
        if not isinstance(language, dict) or not isinstance(language.get("code"), str):
            return "template.language.code is required"
    if message_type == "interactive":
        problem = _validate_interactive(content)
        if problem:
            return problem
    if message_type in MEDIA_TYPES and ("id" in content) == ("link" in content):
        return f"{message_type} needs exactly one of id or link"
    if "voice" in content and (message_type != "audio" or not isinstance(content["voice"], bool)):
        return "voice is a boolean of audio messages"
    context = body.get("context")
    if context is not None and not (isinstance(context, dict) and isinstance(context.get("message_id"), str)):
        return "context.message_id must be a message id"
    return None


PLACEHOLDER_PATTERN = re.compile(r"\{\{\s*\d+\s*\}\}")


def _count(text: Any) -> int:
    return len(set(PLACEHOLDER_PATTERN.findall(text))) if isinstance(text, str) else 0


def _template_problem(template: dict[str, Any], sent: Any) -> tuple[int, str] | None:
    """Why the Cloud API would refuse this template send (an error code and its details): its
    status, or the send's components against the approved template's (parameters per component,
    the header's type)."""
    status = str(template.get("status", "")).upper()
    if status == "PAUSED":
        return 132015, f"Template {template['name']} is paused"
    if status not in ("APPROVED", "FLAGGED"):
        return 132016, f"Template {template['name']} is {status.lower()}"
    sent = sent if isinstance(sent, list) else []
    given = {}
    for component in sent:
        if not isinstance(component, dict):
            return 100, "components must be objects"
        kind = str(component.get("type", "")).lower()
        key = (kind, str(component.get("index"))) if kind == "button" else (kind, None)
        given[key] = component
    expected: dict[tuple[str, str | None], tuple[int, str | None]] = {}
    for component in template.get("components") or []:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            header_format = str(component.get("format") or "TEXT").lower()
            if header_format == "text":
                if _count(component.get("text")):
                    expected[("header", None)] = (_count(component.get("text")), "text")
            elif header_format in ("image", "video", "document"):
                expected[("header", None)] = (1, header_format)
        elif kind == "BODY" and _count(component.get("text")):
            expected[("body", None)] = (_count(component.get("text")), "text")
        elif kind == "BUTTONS":
            for index, button in enumerate(component.get("buttons") or []):
                button_type = str(button.get("type", "")).lower()
                if button_type == "url" and _count(button.get("url")):
                    expected[("button", str(index))] = (1, "url")
                elif button_type == "copy_code":
                    expected[("button", str(index))] = (1, "copy_code")
    for key in given.keys() - expected.keys():
        return 132000, f"{key[0]}{'[' + key[1] + ']' if key[1] else ''} takes no parameters in template {template['name']}"
    for key, (count, kind) in expected.items():
        where = f"{key[0]}{'[' + key[1] + ']' if key[1] else ''}"
        parameters = given.get(key, {}).get("parameters")
        parameters = parameters if isinstance(parameters, list) else []
        if len(parameters) != count:
            return 132000, f"{where}: expected {count} parameters, got {len(parameters)}"
        for parameter in parameters:
            if not isinstance(parameter, dict):
                return 100, f"{where}: parameters must be objects"
            if key[0] == "button":
                if given[key].get("sub_type") != kind:
                    return 132012, f"{where}: sub_type must be {kind}"
                value_type = "text" if kind == "url" else "coupon_code"
                if parameter.get("type") != value_type or not parameter.get(value_type):
                    return 132012, f"{where}: expected a {value_type} parameter"
            elif kind == "text":
                if parameter.get("type") != "text" or not isinstance(parameter.get("text"), str) or not parameter["text"]:
                    return 132012, f"{where}: expected text parameters"
            else:
                media = parameter.get(kind)
                if parameter.get("type") != kind or not isinstance(media, dict) or ("link" in media) == ("id" in media):
                    return 132012, f"{where}: the header is a {kind} (one of link or id)"
    return None


def _title_problem(obj: Any, where: str, limit: int) -> str | None:
    title = obj.get("title") if isinstance(obj, dict) else None
    if not isinstance(title, str) or not title.strip():
        return f"{where}.title is required"
    if len(title) > limit:
        return f"{where}.title is longer than {limit} characters"
    return None


def _validate_interactive(content: dict[str, Any]) -> str | None:
    """Reply buttons and lists as the Cloud API checks them (portal.channels.whatsapp.menus has
    the limits): a body text; 1 to 3 buttons with unique ids and titles up to 20 characters; a list
    button up to 20 characters and 1 to 10 rows in all, titles up to 24, descriptions up to 72."""
    body = content.get("body")
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return "interactive.body.text is required"
    if len(text) > menus.TEXT_MAX:
        return f"interactive.body.text is longer than {menus.TEXT_MAX} characters"
    action = content.get("action")
    if not isinstance(action, dict):
        return "interactive.action is required"
    kind = content.get("type")
    if kind == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= menus.MAX_BUTTONS:
            return f"interactive.action.buttons must hold 1 to {menus.MAX_BUTTONS} buttons"
        ids = []
        for n, button in enumerate(buttons):
            reply = button.get("reply") if isinstance(button, dict) else None
            if button.get("type") != "reply" or not isinstance(reply, dict):
                return f"buttons[{n}] must be a reply button"
            if not isinstance(reply.get("id"), str) or not reply["id"] or len(reply["id"]) > 256:
                return f"buttons[{n}].reply.id is required (up to 256 characters)"
            problem = _title_problem(reply, f"buttons[{n}].reply", menus.BUTTON_TITLE_MAX)
            if problem:
                return problem
            ids.append(reply["id"])
        if len(set(ids)) != len(ids):
            return "button ids must be unique"
        return None
    if kind == "list":
        button = action.get("button")
        if not isinstance(button, str) or not button.strip() or len(button) > menus.LIST_BUTTON_MAX:
            return f"interactive.action.button is required (up to {menus.LIST_BUTTON_MAX} characters)"
        sections = action.get("sections")
        if not isinstance(sections, list) or not 1 <= len(sections) <= menus.MAX_ROWS:
            return "interactive.action.sections must hold 1 to 10 sections"
        rows = [row for section in sections if isinstance(section, dict) for row in section.get("rows") or []]
        if not 1 <= len(rows) <= menus.MAX_ROWS:
            return f"a list holds 1 to {menus.MAX_ROWS} rows in all"
        for n, row in enumerate(rows):
            if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not row["id"] or len(row["id"]) > 200:
                return f"rows[{n}].id is required (up to 200 characters)"
            problem = _title_problem(row, f"rows[{n}]", menus.ROW_TITLE_MAX)
            if problem:
                return problem
            if len(row.get("description") or "") > 72:
                return f"rows[{n}].description is longer than 72 characters"
        if len({row["id"] for row in rows}) != len(rows):
            return "row ids must be unique"
        return None
    return f"unsupported interactive type {kind!r}"


def _accept_upload(state: SimulatorState) -> tuple[str | None, Media | None]:
    """Why the Cloud API would refuse this media upload, or the media it stored."""
    if request.form.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp", None
    upload = request.files.get("file")
    if upload is None:
        return "file is required", None
    mime_type = (request.form.get("type") or upload.mimetype or "").split(";")[0].strip().lower()
    kind = next((k for k in MEDIA_KINDS if mime_type in k.mime_types), None)
    if kind is None:
        return f"Unsupported file type {mime_type!r}", None
    data = upload.read(kind.max_bytes + 1)
    if not data:
        return "The file is empty", None
    if len(data) > kind.max_bytes:
        return f"{kind.name} files may have at most {kind.max_bytes} bytes", None
    return None, state.add_media(data, mime_type)


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    return header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""


def _post_statuses(state: SimulatorState, wamid: str, recipient: str, phone_number_id: str) -> None:
    """Play the status webhooks a real send produces, signed like Meta's, from the sending number."""
    for status in ("sent", "delivered", "read"):
        time.sleep(state.status_delay)
        if not _post_webhook(state, status_webhook(wamid, recipient, status, phone_number_id)):
            return


def template_status_webhook(waba_id: str, template: dict[str, Any], event: str, reason: str | None) -> dict[str, Any]:
    """The message_template_status_update webhook Meta sends when a template's status changes."""
    value = {
        "event": event,
        "message_template_id": int(template["id"]),
        "message_template_name": template["name"],
        "message_template_language": template["language"],
        "reason": reason or "NONE",
    }
    change = {"field": "message_template_status_update", "value": value}
    return {"object": "whatsapp_business_account", "entry": [{"id": waba_id, "time": int(time.time()), "changes": [change]}]}


def _post_webhook(state: SimulatorState, payload: dict[str, Any]) -> bool:
    """Post a webhook signed like Meta's; False (and a log line) when the portal did not take it."""
    raw = json.dumps(payload).encode()
    try:
        requests.post(
            state.webhook_url,
            data=raw,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature_header(raw, state.app_secret)},
            timeout=5,
        )
    except requests.RequestException as exc:
        log.warning("simulator: webhook not delivered: %s", type(exc).__name__)
        return False
    return True


def _cursor_of(position: int) -> str:
    return base64.urlsafe_b64encode(str(position).encode()).decode()


def _cursor(value: str) -> int:
    """A paging cursor back to its position (a ValueError makes request.args.get start from the top)."""
    position = int(base64.urlsafe_b64decode(value.encode()).decode())
    if position < 0:
        raise ValueError(value)
    return position


def status_webhook(wamid: str, recipient: str, status: str, phone_number_id: str) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
        "statuses": [
            {
                "id": wamid,
                "status": status,
                "timestamp": str(int(time.time())),
                "recipient_id": recipient,
                "pricing": {"billable": True, "pricing_model": "PMP", "category": "service", "type": "regular"},
            }
        ],
    }
    return {"object": "whatsapp_business_account", "entry": [{"id": "0", "changes": [{"field": "messages", "value": value}]}]}


def create_simulator(
    app_secret: str | None = None,
    webhook_url: str | None = None,
    numbers: dict[str, str] | None = None,
    status_delay: float = 0.5,
) -> Flask:
    """The simulator as a Flask app serving `numbers` ({phone_number_id: access token}); without
    numbers any number id and any bearer token are accepted. Status webhooks need both
    `webhook_url` and `app_secret`."""
    app = Flask(__name__)
    state = SimulatorState(dict(numbers or {}), webhook_url, app_secret, status_delay)
    app.extensions["graph_simulator"] = state

    def authorized(phone_number_id: str | None) -> bool:
        """A send must carry its number's token (an unknown number has none); a media call, the
        token of any number."""
        token = bearer_token()
        with state.lock:
            if not state.numbers:
                return bool(token)
            expected = [state.numbers.get(phone_number_id, "")] if phone_number_id else list(state.numbers.values())
        return bool(token) and any(secrets.compare_digest(token.encode(), e.encode()) for e in expected if e)

    def guarded(endpoint: str, phone_number_id: str | None = None) -> tuple[Response, int] | None:
        """Record the call, then answer an auth error or an injected failure, if any."""
        g.sim_request = state.record(endpoint, phone_number_id)
        if state.latency:
            time.sleep(state.latency)
        if not authorized(phone_number_id):
            return _error(190, "Invalid OAuth access token.", 401)
        body = request.get_json(silent=True)
        to = str(body.get("to", "")).lstrip("+") if isinstance(body, dict) else None
        failure = state.take_failure(endpoint, to)
        if failure is None:
            return None
        if failure.code == "timeout":
            time.sleep(failure.delay)
            return None
        code = int(failure.code)
        if 500 <= code <= 599:
            return _error(1, "An unknown error occurred", code)
        return _error(code)

    @app.after_request
    def record_answer(response: Response) -> Response:
        # The answer beside the request, so a client can tell accepted sends from refused ones.
        entry = g.pop("sim_request", None)
        if entry is not None:
            answer = response.get_json(silent=True) if response.is_json else None
            sent = answer.get("messages") if isinstance(answer, dict) else None
            entry["answer_status"] = response.status_code
            entry["wamid"] = sent[0]["id"] if sent else None
            entry["answered_at"] = time.time()
        return response

    @app.post("/<version>/<phone_number_id>/messages")
    def messages(version: str, phone_number_id: str):
        refused = guarded("messages", phone_number_id)
        if refused:
            return refused
        body = request.get_json(silent=True)
        problem = _validate_send(body)
        if problem:
            return _error(100, problem)
        if "status" in body:
            return jsonify(success=True)
        if body.get("type") == "template" and state.templates:
            content = body["template"]
            template = state.find_template(content["name"], content["language"]["code"])
            if template is None:
                return _error(132001, f"template name ({content['name']}) does not exist in {content['language']['code']}")
            problem = _template_problem(template, content.get("components"))
            if problem:
                return _error(*problem)
        wamid = new_wamid()
        sent: dict[str, Any] = {"id": wamid}
        if body.get("type") == "template":
            sent["message_status"] = "accepted"
        recipient = body["to"].lstrip("+")
        if state.webhook_url and state.app_secret:
            threading.Thread(
                target=_post_statuses, args=(state, wamid, recipient, phone_number_id), daemon=True
            ).start()
        return jsonify(messaging_product="whatsapp", contacts=[{"input": body["to"], "wa_id": recipient}], messages=[sent])

    @app.post("/<version>/<phone_number_id>/media")
    def media_upload(version: str, phone_number_id: str):
        refused = guarded("media_upload", phone_number_id)
        if refused:
            return refused
        problem, media = _accept_upload(state)
        if problem:
            return _error(131053, problem)
        g.sim_request["upload"] = {
            "type": media.mime_type,
            "size": len(media.data),
            "sha256": media.sha256,
            "filename": request.files["file"].filename,
        }
        return jsonify(id=media.id)

    @app.get("/<version>/<media_id>")
    def media_info(version: str, media_id: str):
        refused = guarded("media_info")
        if refused:
            return refused
        media = state.media.get(media_id)
        if media is None:
            return _error(100, f"Unsupported get request. Object with ID '{media_id}' does not exist.")
        return jsonify(
            url=f"{request.host_url}media/{media.id}?token={secrets.token_urlsafe(8)}",
            mime_type=media.mime_type,
            sha256=media.sha256,
            file_size=str(len(media.data)),
            id=media.id,
            messaging_product="whatsapp",
        )

    @app.get("/media/<media_id>")
    def media_bytes(media_id: str):
        refused = guarded("media_bytes")
        if refused:
            return refused
        media = state.media.get(media_id)
        if media is None:
            return Response("Not Found", status=404, mimetype="text/plain")
        return Response(media.data, mimetype=media.mime_type)

    @app.get("/<version>/<waba_id>/message_templates")
    def message_templates(version: str, waba_id: str):
        refused = guarded("message_templates")
        if refused:
            return refused
        with state.lock:
            listed = list(state.templates.get(waba_id, []))
        limit = request.args.get("limit", default=25, type=int)
        start = request.args.get("after", default=0, type=_cursor)
        if limit < 1:
            return _error(100, "Invalid parameter")
        page = listed[start : start + limit]
        paging: dict[str, Any] = {"cursors": {"before": _cursor_of(start), "after": _cursor_of(start + len(page))}}
        if start + limit < len(listed):
            # As Graph does: the whole URL of the next page, the query (fields, limit) kept.
            paging["next"] = request.base_url + "?" + urlencode(
                {**request.args, "after": _cursor_of(start + limit), "limit": limit}
            )
        return jsonify(data=page, paging=paging)

    @app.post("/_sim/templates")
    def set_templates():
        body = request.get_json(silent=True) or {}
        if not isinstance(body.get("waba_id"), str) or not isinstance(body.get("templates"), list):
            return jsonify(error="waba_id and templates are required"), 400
        state.set_templates(body["waba_id"], body["templates"])
        return jsonify(ok=True)

    @app.post("/_sim/template_status")
    def template_status():
        body = request.get_json(silent=True) or {}
        with state.lock:
            template = next(
                (
                    t
                    for t in state.templates.get(body.get("waba_id"), [])
                    if t.get("name") == body.get("name") and t.get("language") == body.get("language")
                ),
                None,
            )
            if template is None or not isinstance(body.get("event"), str):
                return jsonify(error="no such template, or no event"), 404
            event = body["event"].upper()
            template["status"] = "APPROVED" if event == "REINSTATED" else event
        payload = template_status_webhook(body["waba_id"], template, event, body.get("reason"))
        if state.webhook_url and state.app_secret:
            _post_webhook(state, payload)
        return jsonify(payload)

    @app.get("/_sim/requests")
    def recorded_requests():
        with state.lock:
            return jsonify(list(state.requests))

    @app.post("/_sim/fail")
    def fail():
        body = request.get_json(silent=True) or {}
        code = body.get("code")
        if not (code == "timeout" or isinstance(code, int)):
            return jsonify(error="code must be a Graph error code, an HTTP 5xx status or 'timeout'"), 400
        to = str(body["to"]).lstrip("+") if body.get("to") else None
        failure = Failure(code, int(body.get("times", 1)), float(body.get("delay", 5.0)), body.get("endpoint"), to)
        with state.lock:
            state.failures.append(failure)
        return jsonify(ok=True)

    @app.post("/_sim/latency")
    def latency():
        seconds = (request.get_json(silent=True) or {}).get("seconds")
        if not isinstance(seconds, int | float) or seconds < 0:
            return jsonify(error="seconds must be a number, 0 or more"), 400
        with state.lock:
            state.latency = float(seconds)
        return jsonify(ok=True)

    @app.post("/_sim/media")
    def register_media():
        body = request.get_json(silent=True) or {}
        try:
            data = base64.b64decode(body["data_base64"], validate=True)
        except (KeyError, TypeError, ValueError):
            return jsonify(error="data_base64 is required"), 400
        media = state.add_media(data, body.get("mime_type", "application/octet-stream"), body.get("id"), body.get("sha256"))
        return jsonify(
            id=media.id,
            sha256=media.sha256,
            webhook_sha256=media.webhook_sha256,
            mime_type=media.mime_type,
            file_size=len(media.data),
        )

    @app.post("/_sim/reset")
    def reset():
        state.reset()
        return jsonify(ok=True)

    return app


def simulator_state(app: Flask) -> SimulatorState:
    return app.extensions["graph_simulator"]


def main() -> None:
    parser = argparse.ArgumentParser(description="Local WhatsApp Cloud API simulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--webhook-url", help="the portal's /webhooks/whatsapp, to receive status webhooks")
    parser.add_argument("--app-secret", help="signs the status webhooks (the portal's WHATSAPP_APP_SECRET)")
    parser.add_argument(
        "--number",
        action="append",
        default=[],
        metavar="PHONE_NUMBER_ID:TOKEN",
        help="a number served and its access token; repeat for several (default: any number, any token)",
    )
    parser.add_argument("--status-delay", type=float, default=1.0, help="seconds between status webhooks")
    args = parser.parse_args()
    numbers = dict(number.split(":", 1) for number in args.number)
    app = create_simulator(args.app_secret, args.webhook_url, numbers, args.status_delay)
    app.run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
