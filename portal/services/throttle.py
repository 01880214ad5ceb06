"""Login throttling: failed sign-ins are counted per account and per address in Redis, each
counter expiring with its window, so guessing passwords costs time without locking anyone out
for good. A successful sign-in clears its account's counter (not the address's: one office may
share an address with a guesser).

If Redis cannot be reached the check lets the attempt through (and says so in the log): the
password is still checked, and a help desk that cannot sign in helps nobody.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from redis.exceptions import RedisError

from portal.queue import redis_connection
from portal.services import audit
from portal.services.agents import find_by_email, normalize_email

log = logging.getLogger(__name__)

DEFAULT_ACCOUNT_LIMIT = 5
DEFAULT_ADDRESS_LIMIT = 20
DEFAULT_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True)
class Limit:
    key: str
    max_failures: int
    window_seconds: int


def _limits(email: str, address: str | None) -> list[Limit]:
    config = current_app.config
    window = config.get("LOGIN_THROTTLE_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS)
    limits = [
        Limit(_account_key(email), config.get("LOGIN_THROTTLE_PER_ACCOUNT", DEFAULT_ACCOUNT_LIMIT), window)
    ]
    if address:
        limits.append(
            Limit(
                f"atende:login_failures:address:{address}",
                config.get("LOGIN_THROTTLE_PER_ADDRESS", DEFAULT_ADDRESS_LIMIT),
                window,
            )
        )
    return limits


def _account_key(email: str) -> str:
    return f"atende:login_failures:account:{normalize_email(email)}"


def retry_after(email: str, address: str | None) -> int | None:
    """Seconds until a sign-in for `email` from `address` may be tried again, or None when allowed."""
    redis = redis_connection()
    waits = []
    try:
        for limit in _limits(email, address):
            failures = int(redis.get(limit.key) or 0)
            if failures >= limit.max_failures:
                waits.append(max(int(redis.ttl(limit.key)), 1))
    except RedisError as exc:
        log.warning("login throttle unavailable, attempt allowed: %s", type(exc).__name__)
        return None
    return max(waits) if waits else None


def record_failure(email: str, address: str | None) -> None:
    """Count one failed sign-in against the account and the address; the window starts at the first."""
    redis = redis_connection()
    try:
        pipe = redis.pipeline()
        for limit in _limits(email, address):
            # The first failure creates the counter with its expiry; INCR keeps the expiry.
            pipe.set(limit.key, 0, ex=limit.window_seconds, nx=True)
            pipe.incr(limit.key)
        pipe.execute()
    except RedisError as exc:
        log.warning("login throttle unavailable, failure not counted: %s", type(exc).__name__)


def record_success(email: str) -> None:
    try:
        redis_connection().delete(_account_key(email))
    except RedisError as exc:
        log.warning("login throttle unavailable, counter not reset: %s", type(exc).__name__)


def record_refusal(email: str, wait_seconds: int) -> None:
    """Audit a sign-in refused because of too many failures."""
    audit.record(
        "auth.login_throttled",
        target=find_by_email(email),
        email=normalize_email(email),
        wait_seconds=wait_seconds,
    )
