"""Channels: the ways customers reach us. Each channel is a package here (whatsapp/) with an
adapter (portal.channels.base.ChannelAdapter) that create_app registers by its models.Channel;
the channel-neutral services find it here (docs/architecture.md, "Channels")."""

from __future__ import annotations

from flask import Flask, current_app

from portal.channels.base import ChannelAdapter, ChannelError, FetchedMedia, MediaKind, Menu, MenuOption
from portal.models import Channel, Conversation

__all__ = [
    "ChannelAdapter",
    "ChannelError",
    "FetchedMedia",
    "MediaKind",
    "Menu",
    "MenuOption",
    "adapter_for",
    "register",
    "registered",
]

_EXTENSION = "atende.channels"


def register(app: Flask, adapter: ChannelAdapter) -> None:
    """Make `adapter` the app's adapter for its channel and let it register what it brings."""
    app.extensions.setdefault(_EXTENSION, {})[adapter.channel] = adapter
    adapter.init_app(app)


def registered() -> dict[Channel, ChannelAdapter]:
    return current_app.extensions.get(_EXTENSION, {})


def adapter_for(conversation: Conversation) -> ChannelAdapter | None:
    """The adapter of the conversation's channel; None for a channel this install cannot serve."""
    return registered().get(Channel(conversation.channel))
