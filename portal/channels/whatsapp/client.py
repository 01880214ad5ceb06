"""The WhatsApp Cloud (Graph) API client: sends, read receipts and media, with typed errors.

Every failure becomes a GraphError (a ChannelError) whose `retryable` follows Meta's error table
(docs/architecture.md, "WhatsApp"): jobs retry the transient ones with backoff and fail the
permanent ones at once with a reason the agent can read.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import Any, BinaryIO

import requests
from flask import current_app

from portal.channels.base import ChannelError
from portal.channels.whatsapp import failures
from portal.models import Inbox
from portal.services import inboxes

# Transient: rate limits, "something went wrong", service unavailable.
RETRYABLE_CODES = frozenset({130429, 131056, 4, 80007, 131000, 131016, 2})
# Problems with our number, token or account: sending cannot recover without an admin.
ADMIN_ALERT_CODES = frozenset({190, 131048, 133010, 368, 131031})

DEFAULT_TIMEOUT_SECONDS = 10.0
# What a template listing asks for (docs/architecture.md, "WhatsApp": template sync).
TEMPLATE_FIELDS = "id,name,language,status,category,components,rejected_reason"
TEMPLATE_PAGE_SIZE = 100


class GraphError(ChannelError):
    """A failed Graph API call. `code` is Meta's error code (None for transport failures)."""

    def __init__(
        self,
        code: int | None,
        title: str,
        *,
        http_status: int | None = None,
        details: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        if retryable is None:
            retryable = classify_retryable(code, http_status)
        super().__init__(code, title, retryable=retryable)
        self.http_status = http_status
        self.details = details

    @property
    def reason(self) -> str:
        return failures.describe(self.code, self.title) or self.title

    @property
    def needs_admin_alert(self) -> bool:
        return self.code in ADMIN_ALERT_CODES

    @classmethod
    def from_error_object(cls, error: Mapping[str, Any], http_status: int | None = None) -> GraphError:
        """From the `error` object of a failed call, or one entry of a status webhook's `errors`."""
        code = error.get("code")
        code = code if isinstance(code, int) and not isinstance(code, bool) else None
        title = str(error.get("title") or error.get("message") or "Unknown Graph API error")
        error_data = error.get("error_data")
        details = error_data.get("details") if isinstance(error_data, Mapping) else None
        return cls(code, title, http_status=http_status, details=str(details) if details else None)

    @classmethod
    def from_response(cls, response: requests.Response) -> GraphError:
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            return cls.from_error_object(error, http_status=response.status_code)
        return cls(None, f"HTTP {response.status_code} from the Graph API", http_status=response.status_code)


def classify_retryable(code: int | None, http_status: int | None) -> bool:
    if code in RETRYABLE_CODES:
        return True
    if http_status is not None and http_status >= 500:
        return True
    # A transport failure (no code, no status) is a timeout or a refused connection.
    return code is None and http_status is None


@dataclass(frozen=True)
class SendResult:
    message_id: str
    # Template sends may report accepted / held_for_quality_assessment / paused.
    message_status: str | None = None


class GraphClient:
    def __init__(
        self,
        base_url: str,
        version: str,
        access_token: str,
        phone_number_id: str,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.version = version
        self.phone_number_id = phone_number_id
        self.timeout = timeout
        self._session = requests.Session()
        self._session.headers["Authorization"] = f"Bearer {access_token}"

    def send_text(self, to: str, body: str, reply_to: str | None = None) -> SendResult:
        return self._send(to, "text", {"body": body, "preview_url": False}, reply_to)

    def send_template(
        self, to: str, name: str, language: str, components: list[dict[str, Any]] | None = None
    ) -> SendResult:
        """`components`: the send's header, body and button parameters (template_sync.send_components)."""
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        if components:
            template["components"] = components
        return self._send(to, "template", template, None)

    def message_templates(self, waba_id: str) -> Iterator[dict[str, Any]]:
        """GET /{waba-id}/message_templates, every page (Graph's cursor paging: follow `paging.next`)."""
        url: str | None = self._url(waba_id, "message_templates")
        params: dict[str, Any] | None = {"fields": TEMPLATE_FIELDS, "limit": TEMPLATE_PAGE_SIZE}
        while url:
            body = _json_object(self._call("GET", url, params=params))
            data = body.get("data")
            if not isinstance(data, list):
                raise GraphError(None, "The Graph API listed templates without data", http_status=200)
            yield from (item for item in data if isinstance(item, dict))
            paging = body.get("paging")
            following = paging.get("next") if isinstance(paging, dict) else None
            # `next` is a whole URL with the query (cursor included); it is absent on the last page.
            url, params = (following, None) if isinstance(following, str) and following else (None, None)

    def send_interactive(self, to: str, interactive: dict[str, Any]) -> SendResult:
        """Reply buttons or a list (the `interactive` object; portal.channels.whatsapp.menus)."""
        return self._send(to, "interactive", interactive, None)

    def send_media(
        self,
        to: str,
        media_type: str,
        *,
        media_id: str | None = None,
        link: str | None = None,
        caption: str | None = None,
        filename: str | None = None,
        reply_to: str | None = None,
        voice: bool = False,
    ) -> SendResult:
        """Send an image, audio, video, document or sticker by uploaded media id or public link;
        `voice`: an OGG/Opus audio shown as a voice note (audio carries no caption)."""
        if (media_id is None) == (link is None):
            raise ValueError("send_media needs exactly one of media_id or link")
        media: dict[str, Any] = {"id": media_id} if media_id is not None else {"link": link}
        if caption:
            media["caption"] = caption
        if filename:
            media["filename"] = filename
        if voice:
            media["voice"] = True
        return self._send(to, media_type, media, reply_to)

    def upload_media(self, file: BinaryIO, size: int, mime_type: str, filename: str) -> str:
        """POST /{phone-number-id}/media: the file streamed as multipart/form-data; its media id."""
        body = MultipartBody({"messaging_product": "whatsapp", "type": mime_type}, file, size, mime_type, filename)
        response = self._call(
            "POST",
            self._url(self.phone_number_id, "media"),
            data=body,
            headers={"Content-Type": body.content_type},
        )
        media_id = _json_object(response).get("id")
        if not isinstance(media_id, str | int) or isinstance(media_id, bool) or not str(media_id):
            raise GraphError(None, "The Graph API accepted the upload without a media id", http_status=200)
        return str(media_id)

    def mark_read(self, wamid: str) -> None:
        self._call(
            "POST",
            self._url(self.phone_number_id, "messages"),
            json={"messaging_product": "whatsapp", "status": "read", "message_id": wamid},
        )

    def media_info(self, media_id: str) -> dict[str, Any]:
        """{url, mime_type, sha256, file_size, id}; the url is short-lived and needs the token too."""
        info = _json_object(self._call("GET", self._url(media_id)))
        if not isinstance(info.get("url"), str):
            raise GraphError(None, "The Graph API answered a media lookup without a URL", http_status=200)
        return info

    def download_media(self, url: str) -> bytes:
        return self._call("GET", url).content

    def _send(self, to: str, message_type: str, content: dict[str, Any], reply_to: str | None) -> SendResult:
        payload: dict[str, Any] = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": message_type,
            message_type: content,
        }
        if reply_to:
            payload["context"] = {"message_id": reply_to}
        body = _json_object(self._call("POST", self._url(self.phone_number_id, "messages"), json=payload))
        try:
            sent = body["messages"][0]
            return SendResult(message_id=str(sent["id"]), message_status=sent.get("message_status"))
        except (KeyError, IndexError, TypeError):
            raise GraphError(None, "The Graph API accepted the send without a message id", http_status=200) from None

    def _url(self, *parts: str) -> str:
        return "/".join([self.base_url, self.version, *parts])

    def _call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            response = self._session.request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout:
            raise GraphError(None, "The Graph API did not answer in time") from None
        except requests.RequestException as exc:
            raise GraphError(None, f"Could not reach the Graph API ({type(exc).__name__})") from None
        if not response.ok:
            raise GraphError.from_response(response)
        return response


class MultipartBody:
    """A multipart/form-data body read while it is sent: the fields, then the file a block at a
    time, so a 100 MB document never sits in memory (requests streams an object with read() and
    a length, and sends its Content-Length)."""

    BLOCK = 64 * 1024

    def __init__(self, fields: Mapping[str, str], file: BinaryIO, size: int, mime_type: str, filename: str) -> None:
        boundary = secrets.token_hex(16)
        self.content_type = f"multipart/form-data; boundary={boundary}"
        head = b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in fields.items()
        )
        quoted = filename.replace("\\", "_").replace('"', "%22")
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{quoted}"\r\n'
            f"Content-Type: {mime_type}\r\n\r\n"
        ).encode()
        tail = f"\r\n--{boundary}--\r\n".encode()
        self._parts = [BytesIO(head), file, BytesIO(tail)]
        self._length = len(head) + size + len(tail)

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        size = self.BLOCK if size is None or size < 0 else size
        while self._parts:
            chunk = self._parts[0].read(size)
            if chunk:
                return chunk
            self._parts.pop(0)
        return b""

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read(self.BLOCK):
            yield chunk


def _json_object(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise GraphError(None, "The Graph API answered with something that is not a JSON object", http_status=200)
    return body


def timeout_seconds(config: Mapping[str, Any]) -> float:
    return float(config.get("WHATSAPP_API_TIMEOUT", DEFAULT_TIMEOUT_SECONDS))


def graph_client(inbox: Inbox) -> GraphClient:
    """A client that calls as the inbox's number, with its access token."""
    config = current_app.config
    return GraphClient(
        base_url=config["WHATSAPP_API_BASE"],
        version=config["WHATSAPP_API_VERSION"],
        access_token=inboxes.access_token(inbox) or "",
        phone_number_id=inbox.phone_number_id or "",
        timeout=timeout_seconds(config),
    )
