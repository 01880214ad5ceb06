"""WhatsApp as a channel: the Cloud API behind portal.channels.base.ChannelAdapter."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import BinaryIO

from flask import Flask, current_app, url_for

from portal.channels.base import ChannelAdapter, ChannelError, FetchedMedia, Menu, Remedy, numbered_choice
from portal.channels.whatsapp import (
    cli,
    failures,
    inbound,
    media,
    menus,
    notes,
    template_sync,
    views,
    webhook,
    window,
)
from portal.channels.whatsapp.client import GraphClient, graph_client, timeout_seconds
from portal.models import Channel, Conversation, Inbox, Message
from portal.services import webhook_events
from portal.services.templates import SyncedTemplate

# The Cloud API's limit for a text body.
MAX_TEXT_LENGTH = 4096


# How long an inbox's sends wait after WhatsApp says its rate limit was hit (docs/architecture.md,
# "Proactive messaging"); the message itself is retried with the usual backoff.
RATE_LIMIT_PAUSE_SECONDS = 1.0


class WhatsAppChannel(ChannelAdapter):
    channel = Channel.whatsapp
    max_text_length = MAX_TEXT_LENGTH
    sends_templates = True
    media_kinds = media.MEDIA_KINDS
    config_settings = (
        "WHATSAPP_API_BASE",
        "WHATSAPP_API_VERSION",
        "WHATSAPP_PHONE_NUMBER_ID",
        "WHATSAPP_SEND_READ_RECEIPTS",
    )
    secret_config_settings = ("WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN", "WHATSAPP_ACCESS_TOKEN")
    settings_template = "channels/whatsapp_settings.html"

    def settings_panel(self) -> dict:
        config = current_app.config
        return {
            # The callback URL to paste into Meta's dashboard.
            "webhook_url": config["PUBLIC_BASE_URL"].rstrip("/") + url_for("whatsapp.receive"),
            "verify_token_set": bool(config.get("WHATSAPP_VERIFY_TOKEN")),
            "app_secret_set": bool(config.get("WHATSAPP_APP_SECRET")),
        }

    def init_app(self, app: Flask) -> None:
        webhook_events.register_processor("whatsapp", inbound.process_event)
        webhook_events.register_readable_errors(*notes.ALL)
        app.register_blueprint(views.bp)
        app.cli.add_command(cli.simulate_inbound)

    def reply_refusal(self, conversation: Conversation) -> str | None:
        return window.refusal(conversation)

    def reply_closes_at(self, conversation: Conversation) -> datetime | None:
        return window.closes_at(conversation)

    def send_timeout(self) -> timedelta:
        return timedelta(seconds=timeout_seconds(current_app.config))

    def send_text(self, message: Message) -> str:
        result = self._client(message).send_text(
            _recipient(message), message.body, reply_to=message.reply_to_external_id
        )
        return result.message_id

    def send_template(self, message: Message) -> str:
        template = message.template
        result = self._client(message).send_template(
            _recipient(message), template.send_name, template.language, template_sync.send_components(message)
        )
        return result.message_id

    def list_templates(self, inbox: Inbox) -> list[SyncedTemplate]:
        return template_sync.listed(graph_client(inbox), inbox.waba_id or "")

    def send_menu(self, message: Message) -> str:
        menu = Menu.from_json(message.payload_json["menu"])
        return self._client(message).send_interactive(_recipient(message), menus.interactive(menu)).message_id

    def menu_choice(self, message: Message, menu: Menu) -> str | None:
        # A tapped button or list row names its option; a customer who types the number instead
        # (an older app shows the menu as text) picks it too.
        reply = webhook.interactive_reply(message.message_type, message.payload_json)
        if reply is not None:
            return menus.option_id(menu, reply[0])
        return numbered_choice(message.body, menu)

    def upload_media(self, message: Message, file: BinaryIO, size: int) -> str:
        return self._client(message).upload_media(
            file, size, message.media_mime_type or "application/octet-stream", message.media_filename or "file"
        )

    def send_media(self, message: Message) -> str:
        voice = bool((message.payload_json or {}).get("voice")) and message.message_type == "audio"
        result = self._client(message).send_media(
            _recipient(message),
            message.message_type,
            media_id=message.media_id,
            # Audio carries no caption on WhatsApp; a file name shows only on documents.
            caption=(message.body or None) if message.message_type != "audio" else None,
            filename=message.media_filename if message.message_type == "document" else None,
            reply_to=message.reply_to_external_id,
            voice=voice,
        )
        return result.message_id

    def mark_read(self, message: Message) -> None:
        self._client(message).mark_read(message.external_id)

    def fetch_media(self, message: Message) -> FetchedMedia:
        return media.fetch(self._client(message), message)

    def describe_failure(self, code: int | None, title: str | None) -> str | None:
        return failures.describe(code, title)

    def failure_remedy(self, code: int | None) -> Remedy:
        return failures.remedy(code)

    def failure_details(self, code: int | None, title: str | None) -> str:
        return failures.details(code, title)

    def rate_limit_pause(self, error: ChannelError) -> float:
        # 130429: the number's throughput was exceeded; 80007: the business account's rate limit.
        return RATE_LIMIT_PAUSE_SECONDS if error.code in (130429, 80007) else 0.0

    def _client(self, message: Message) -> GraphClient:
        # Every call is made as the conversation's inbox: its number and its access token.
        return graph_client(message.conversation.inbox)


def _recipient(message: Message) -> str:
    contact = message.conversation.contact
    return contact.wa_id or contact.phone.lstrip("+")
