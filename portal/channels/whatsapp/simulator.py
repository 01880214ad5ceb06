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
  POST /_sim/reset      forget requests, failures, latency and media

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
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

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
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, endpoint: str, phone_number_id: str | None = None) -> dict[str, Any]:
        entry = {
            "endpoint": endpoint,
            "method": request.method,
            "path": request.path,
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
            self.latency = 0.0


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
        payload = status_webhook(wamid, recipient, status, phone_number_id)
        raw = json.dumps(payload).encode()
        try:
            requests.post(
                state.webhook_url,
                data=raw,
                headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature_header(raw, state.app_secret)},
                timeout=5,
            )
        except requests.RequestException as exc:
            log.warning("simulator: status webhook not delivered: %s", type(exc).__name__)
            return


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
        return bool(token) and any(secrets.compare_digest(token, e) for e in expected if e)

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
