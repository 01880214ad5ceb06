"""The send rate per inbox, shared by every worker through Redis (docs/architecture.md,
"Proactive messaging").

Each send reserves the next free instant of its inbox's schedule, one interval (1/rate second)
after the previous reservation, in one Lua script on Redis's clock, then sleeps until it: sends
from any number of workers are spaced evenly, so no one-second window holds more than the rate.
The rate is the campaign's for a campaign message, else the inbox's default
(SEND_RATE_PER_SECOND, 80: Meta's default throughput tier). A channel that reports its rate limit
hit (WhatsApp 130429) pushes the inbox's schedule back (`slow_down`), which every worker obeys.
"""

from __future__ import annotations

import logging
import time

from flask import current_app
from sqlalchemy import select

from portal.extensions import db
from portal.models import Campaign, CampaignRecipient, Inbox, Message
from portal.queue import redis_connection

log = logging.getLogger(__name__)

DEFAULT_RATE = 80
MIN_RATE = 1
MAX_RATE = 1000
# Reservations are spaced a little wider than 1/rate, room for the jitter between the reserved
# instant and the request reaching the channel (two workers, a busy machine).
HEADROOM = 1.03

_RESERVE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local interval = tonumber(ARGV[1])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(t, next_free)
redis.call('SET', KEYS[1], tostring(at + interval), 'EX', 3600)
return {tostring(at), tostring(t)}
"""

_PUSH_BACK = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local until_ = t + tonumber(ARGV[1])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > next_free then redis.call('SET', KEYS[1], tostring(until_), 'EX', 3600) end
return tostring(until_)
"""


def _key(inbox_id: int) -> str:
    return f"atende:send_rate:{inbox_id}"


def default_rate() -> int:
    return int(current_app.config.get("SEND_RATE_PER_SECOND", DEFAULT_RATE))


def rate_for(message: Message) -> int:
    campaign_rate = db.session.scalar(
        select(Campaign.rate_per_second)
        .join(CampaignRecipient, CampaignRecipient.campaign_id == Campaign.id)
        .where(CampaignRecipient.message_id == message.id)
    )
    return campaign_rate or default_rate()


def reserve(inbox: Inbox, rate: int) -> tuple[float, float]:
    """The inbox's next free instant at `rate` per second, taken, and Redis's time now."""
    interval = HEADROOM / max(MIN_RATE, min(rate, MAX_RATE))
    at, now = (float(v) for v in redis_connection().eval(_RESERVE, 1, _key(inbox.id), interval))
    return at, now


def wait_for_turn(inbox: Inbox, rate: int) -> float:
    """Reserve the inbox's next instant and sleep until it; the seconds slept."""
    at, now = reserve(inbox, rate)
    delay = at - now
    if delay > 0:
        time.sleep(delay)
    return max(delay, 0.0)


def slow_down(inbox: Inbox, seconds: float) -> None:
    """Nothing leaves the inbox for `seconds` (the channel said its rate limit was hit)."""
    log.warning("inbox %s hit the channel's rate limit: sends paused %.1f s", inbox.id, seconds)
    redis_connection().eval(_PUSH_BACK, 1, _key(inbox.id), seconds)
