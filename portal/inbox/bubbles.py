"""What the thread shows for WhatsApp messages whose `body` alone says too little: a location
with its map link, an order's items, why an unsupported message cannot be shown, and the ad a
conversation came from (docs/whatsapp-inbound.md). Read-only views of stored rows; templates
reach them as `bubble.<name>`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from flask_babel import format_currency, ngettext
from flask_babel import lazy_gettext as _l

from portal.models import Conversation, Message

# Message types drawn by a partial of their own, inbox/_message_<type>.html (an e-mail: its channel's
# view, portal.channels.email.render).
OWN_PARTIAL = frozenset({"location", "order", "unsupported", "email"})

# WhatsApp's `unsupported.type`: what the customer did that the Cloud API does not deliver.
UNSUPPORTED_KINDS = {
    "edit": _l("The customer edited a message; WhatsApp did not send the new text."),
    "revoke": _l("The customer deleted a message."),
    "poll_creation": _l("The customer sent a poll, which WhatsApp does not deliver here."),
    "poll_update": _l("The customer voted in a poll, which WhatsApp does not deliver here."),
    "video_note": _l("The customer sent a video note, which WhatsApp does not deliver here."),
    "group_invite": _l("The customer sent a group invitation, which WhatsApp does not deliver here."),
    "pin": _l("The customer pinned a message."),
    "keep_in_chat": _l("The customer kept a disappearing message in the chat."),
}
UNSUPPORTED_ERRORS = {
    131051: _l("The customer sent a type of message WhatsApp does not deliver here."),
    131060: _l(
        "WhatsApp has not made this message available (it happens with a customer's first message "
        "to a number shared with the WhatsApp Business app). Ask the customer to send it again."
    ),
}
UNSUPPORTED_DEFAULT = _l("The customer sent a message WhatsApp cannot show here.")

REFERRAL_SOURCES = {"ad": _l("Ad"), "post": _l("Post")}
CURRENCY = re.compile(r"[A-Z]{3}")  # ISO 4217, as WhatsApp sends it
MAX_AMOUNT = Decimal(10) ** 12


def _payload(message: Message) -> dict[str, Any]:
    return message.payload_json if isinstance(message.payload_json, dict) else {}


def _text(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value.strip() if isinstance(value, str) else ""


def _objects(obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = obj.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _web_link(url: str) -> str | None:
    """The URL when it is an http(s) link that is safe to put in an href, else None."""
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


# --- location ---------------------------------------------------------------------------------


def _coordinate(value: Any, limit: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and -limit <= number <= limit else None


@dataclass(frozen=True)
class Place:
    name: str
    address: str
    map_url: str | None


def location(message: Message) -> Place:
    """The shared place, with an OpenStreetMap link centred on its coordinates when they are valid."""
    shared = _payload(message)
    lat, lon = _coordinate(shared.get("latitude"), 90), _coordinate(shared.get("longitude"), 180)
    url = None
    if lat is not None and lon is not None:
        url = f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=17/{lat:.6f}/{lon:.6f}"
    return Place(name=_text(shared, "name"), address=_text(shared, "address"), map_url=url)


# --- order ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderItem:
    product: str
    quantity: int
    price: str | None  # one unit, in its currency


@dataclass
class Order:
    headline: str
    note: str
    items: list[OrderItem] = field(default_factory=list)
    total: str | None = None


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    # Bounded so formatting never fails on a number no order has.
    return amount if amount.is_finite() and abs(amount) < MAX_AMOUNT else None


def _quantity(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**6 else 1


def order(message: Message) -> Order:
    """A catalog order: each product (WhatsApp sends its retailer id, not its name), quantity and
    unit price, and the total when every item has a price in one currency."""
    placed = _payload(message)
    raw_items = _objects(placed, "product_items")
    items, currencies, total = [], set(), Decimal(0)
    for raw in raw_items:
        quantity, amount, currency = _quantity(raw.get("quantity")), _amount(raw.get("item_price")), _text(raw, "currency")
        price = format_currency(amount, currency) if amount is not None and CURRENCY.fullmatch(currency) else None
        items.append(OrderItem(product=_text(raw, "product_retailer_id"), quantity=quantity, price=price))
        currencies.add(currency if price else None)
        total += (amount or 0) * quantity
    count = sum(item.quantity for item in items)
    result = Order(
        headline=ngettext("Order of %(num)d item", "Order of %(num)d items", count),
        note=_text(placed, "text"),
        items=items,
    )
    if items and len(currencies) == 1 and None not in currencies:
        result.total = format_currency(total, currencies.pop())
    return result


# --- unsupported ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unsupported:
    line: str
    whatsapp_error: str  # WhatsApp's own words (code, title, details), for whoever investigates


def unsupported(message: Message) -> Unsupported:
    """Why the customer's message cannot be shown, in the reader's language."""
    stored = _payload(message)
    kind = _text(stored, "type")
    line = UNSUPPORTED_KINDS.get(kind) or UNSUPPORTED_ERRORS.get(message.error_code or 0) or UNSUPPORTED_DEFAULT
    errors = _objects(stored, "errors")
    first = errors[0] if errors else {}
    error_data = first.get("error_data") if isinstance(first.get("error_data"), dict) else {}
    words = [str(message.error_code or ""), message.error_title or "", _text(error_data, "details")]
    return Unsupported(line=str(line), whatsapp_error=" · ".join(w for w in words if w))


# --- referral ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Referral:
    source: str
    headline: str
    body: str
    source_id: str
    source_url: str | None
    link_text: str


def referral(conversation: Conversation) -> Referral | None:
    """The click-to-WhatsApp ad (or post) that brought the customer, as WhatsApp described it."""
    ad = conversation.referral if isinstance(conversation.referral, dict) else None
    if not ad:
        return None
    source_type = _text(ad, "source_type")
    url = _text(ad, "source_url")
    return Referral(
        source=str(REFERRAL_SOURCES.get(source_type, source_type)),
        headline=_text(ad, "headline"),
        body=_text(ad, "body"),
        source_id=_text(ad, "source_id"),
        source_url=_web_link(url),
        link_text=url,
    )
