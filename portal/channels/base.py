"""What a channel provides to the channel-neutral services (docs/architecture.md, "Channels").

The services never import a channel's package: they ask the registry (portal.channels) for the
adapter of a conversation's channel and call the methods below with rows. An adapter is one
object per app, built and registered in create_app.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, BinaryIO, ClassVar

if TYPE_CHECKING:
    from flask import Flask

    from portal.models import Channel, Conversation, Inbox, Message
    from portal.services.templates import SyncedTemplate


class Remedy(StrEnum):
    """What an agent can do about a failed message."""

    resend = "resend"  # sending it again can work (once the cause is gone)
    template = "template"  # only an approved template can reach the customer now
    none = "none"  # neither helps: the message, its media or its template must change


class ChannelError(Exception):
    """A send, read receipt or media download the channel could not complete.

    `code` is the channel's own error code (None for a transport failure), `title` the channel's
    own words (stored on the message), `retryable` whether trying again later may succeed, and
    `reason` the sentence an agent reads, in the current language."""

    def __init__(self, code: int | None, title: str, *, retryable: bool) -> None:
        super().__init__(f"({code}) {title}" if code is not None else title)
        self.code = code
        self.title = title
        self.retryable = retryable

    @property
    def reason(self) -> str:
        return self.title


@dataclass(frozen=True)
class FetchedMedia:
    """An inbound attachment's bytes, as checked by the channel, and their MIME type."""

    data: bytes
    mime_type: str


# The attachment types every channel takes: what WhatsApp's Cloud API accepts ("Supported media
# types"), and what portal.services.attachments can recognise by content. Channels set the sizes.
IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
AUDIO_TYPES = frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"})
VIDEO_TYPES = frozenset({"video/mp4", "video/3gpp"})
DOCUMENT_TYPES = frozenset(
    {
        "text/plain",
        "application/pdf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)


@dataclass(frozen=True)
class MediaKind:
    """One kind of attachment a channel sends (its message type: image, audio, video, document),
    the MIME types it takes and the largest file, in bytes."""

    name: str
    mime_types: frozenset[str]
    max_bytes: int


@dataclass(frozen=True)
class MenuOption:
    """One choice of an interactive menu: the id the answer carries back and the title shown."""

    id: str
    title: str


@dataclass(frozen=True)
class Menu:
    """A question with up to ten choices (the triage menu's teams): `text` asks, `button` opens
    the list where the channel shows one, `options` in the order shown. Kept on the message as
    payload_json {"menu": ...} (to_json), so a retry sends the same menu."""

    text: str
    button: str
    options: tuple[MenuOption, ...]

    def to_json(self) -> dict:
        return {"text": self.text, "button": self.button, "options": [[o.id, o.title] for o in self.options]}

    @classmethod
    def from_json(cls, raw: dict) -> Menu:
        return cls(raw["text"], raw["button"], tuple(MenuOption(str(i), str(t)) for i, t in raw["options"]))

    def numbered_text(self) -> str:
        """The menu as plain text, one numbered line per choice: what a channel without
        interactive messages sends, and what the thread shows."""
        return "\n".join([self.text, "", *(f"{n}. {o.title}" for n, o in enumerate(self.options, start=1))])


def numbered_choice(body: str, menu: Menu) -> str | None:
    """The option a plain-text answer picks by its number ("2", "2.", "2)"), read from the
    first line that is not quoted; None for anything else."""
    for line in (body or "").splitlines():
        line = line.strip()
        if not line or line.startswith(">"):
            continue
        number = line.rstrip(".)").strip()
        if number.isascii() and number.isdigit() and 1 <= int(number) <= len(menu.options):
            return menu.options[int(number) - 1].id
        return None
    return None


class ChannelAdapter(ABC):
    """One channel (WhatsApp, e-mail...) as the message lifecycle sees it.

    Send methods take a queued outbound row and return the channel's id for it (kept in
    `external_id`, which later status updates name), or raise ChannelError."""

    channel: ClassVar[Channel]
    # The longest free-text body one message may carry.
    max_text_length: ClassVar[int]
    # Whether the channel has pre-approved templates (portal message_templates) to send.
    sends_templates: ClassVar[bool] = False
    # The attachments it sends; empty: none (portal.services.attachments checks uploads against them).
    media_kinds: ClassVar[tuple[MediaKind, ...]] = ()

    # The configuration settings of the channel that the admin settings page lists, plain and
    # secret (a secret shows only whether it is set).
    config_settings: ClassVar[tuple[str, ...]] = ()
    secret_config_settings: ClassVar[tuple[str, ...]] = ()
    # The channel's card on the admin settings page (a template that reads `panel`); None: none.
    settings_template: ClassVar[str | None] = None

    def settings_panel(self) -> dict:
        """What the settings card shows (its template's `panel`)."""
        return {}

    @abstractmethod
    def init_app(self, app: Flask) -> None:
        """Register what the channel brings besides this object: its webhook processor, routes..."""

    @abstractmethod
    def reply_refusal(self, conversation: Conversation) -> str | None:
        """Why a free-text reply cannot go out now (translated, shown before the agent types), or
        None when it can."""

    def reply_closes_at(self, conversation: Conversation) -> datetime | None:
        """Until when free text may go out, when the channel limits it (None: no limit or not now)."""
        return None

    @abstractmethod
    def send_timeout(self) -> timedelta:
        """The longest one send call may take: a send's claim on its message outlives it."""

    @abstractmethod
    def send_text(self, message: Message) -> str:
        """Send `message.body`; `message.reply_to_external_id` names the message it answers."""

    @abstractmethod
    def send_template(self, message: Message) -> str:
        """Send `message.template` filled with `message.template_params`."""

    def list_templates(self, inbox: Inbox) -> list[SyncedTemplate]:
        """The templates of the inbox's business account as the channel lists them (a channel with
        `sends_templates` reads them from its provider; raises ChannelError when it cannot)."""
        raise NotImplementedError

    def send_menu(self, message: Message) -> str:
        """Send the menu in `message.payload_json["menu"]` (Menu.to_json). By default as its
        numbered text (`message.body`, as e-mail does); a channel with interactive messages
        sends its own kind (WhatsApp: reply buttons or a list)."""
        return self.send_text(message)

    def menu_choice(self, message: Message, menu: Menu) -> str | None:
        """The option id an inbound message picks from `menu`, or None when it picks none. By
        default the number of a numbered text menu; a channel with interactive messages reads
        the reply's id too."""
        return numbered_choice(message.body, menu)

    @abstractmethod
    def upload_media(self, message: Message, file: BinaryIO, size: int) -> str:
        """Hand the channel an outbound attachment's bytes (`size` of them, read from `file` as it
        goes, never all at once) and return the channel's id for them, kept in `message.media_id`."""

    @abstractmethod
    def send_media(self, message: Message) -> str:
        """Send the attachment named by `message.media_id` with `message.body` as its caption
        (`message.payload_json["voice"]`: an audio recorded as a voice note)."""

    @abstractmethod
    def mark_read(self, message: Message) -> None:
        """Tell the customer's side that an inbound message was read."""

    @abstractmethod
    def fetch_media(self, message: Message) -> FetchedMedia:
        """The bytes of an inbound message's attachment (`message.media_id`)."""

    @abstractmethod
    def describe_failure(self, code: int | None, title: str | None) -> str | None:
        """The sentence an agent reads for a stored failure (`error_code`, `error_title`), in the
        current language; None when there is nothing to say."""

    def failure_remedy(self, code: int | None) -> Remedy:
        """What may still get the failed message's content to the customer."""
        return Remedy.resend

    def failure_details(self, code: int | None, title: str | None) -> str:
        """The channel's own words for a stored failure, for a tooltip."""
        return title or ""

    def rate_limit_pause(self, error: ChannelError) -> float:
        """Seconds every send from the inbox should wait after `error`: the channel said the
        inbox's rate limit was hit (portal.services.send_rate); 0 for any other error."""
        return 0.0
