"""Channels: the ways customers reach us (WhatsApp today). Each channel is a package here
(portal/channels/whatsapp/); see docs/architecture.md, "Channels"."""
