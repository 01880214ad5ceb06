"""Sign-in throttling: every attempt at a secret (a password, or a two-factor code) is counted in
Redis before the secret is checked, so parallel guesses cannot slip past the limit; each counter
expires with its window, so guessing costs time without locking anyone out for good.

Three counters per attempt (docs in the README, "Sign-in protection"):
- the account from this address: the tight limit a guesser meets first;
- the address across accounts: one address trying many accounts;
- the account from anywhere: a larger, slower limit against guessing from many addresses. It is
  the only one a stranger can fill for someone else's account, so it does not apply at an address
  where the account signed in successfully in the last 30 days: the owner at their usual desk is
  never locked out by someone guessing elsewhere.

A successful attempt clears the account's counters and gives its count back to the address (one
office may share an address with a guesser). Refusals are counted, and audited only at the 1st,
10th, 100th... of an address's window, so a flood of refused requests cannot grow the audit log.

If Redis cannot be reached the check lets the attempt through (and says so in the log): the
secret is still checked, and a help desk that cannot sign in helps nobody.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from flask_babel import ngettext
from redis.exceptions import RedisError

from portal.queue import redis_connection
from portal.services import audit

log = logging.getLogger(__name__)

DEFAULTS = {
    "LOGIN_THROTTLE_PER_ACCOUNT_AND_ADDRESS": 5,
    "LOGIN_THROTTLE_PER_ADDRESS": 20,
    "LOGIN_THROTTLE_WINDOW_SECONDS": 15 * 60,
    "LOGIN_THROTTLE_PER_ACCOUNT": 50,
    "LOGIN_THROTTLE_ACCOUNT_WINDOW_SECONDS": 60 * 60,
    "LOGIN_KNOWN_ADDRESS_SECONDS": 30 * 24 * 60 * 60,
}

# Checks every counter first and counts the attempt only when all are under their limit, in one
# step: refused attempts add nothing (so they cannot push the per-account counter up for its
# owner), and parallel attempts cannot all read "under the limit" before any of them counts.
# ARGV holds (max, window) per key; returns 0 when counted, else the seconds until a retry.
_RESERVE = """
local wait = 0
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[2 * i - 1]) then
    wait = math.max(wait, redis.call('TTL', key), 1)
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, ARGV[2 * i]) end
end
return 0
"""


@dataclass(frozen=True)
class Limit:
    key: str
    max_attempts: int
    window_seconds: int


def _setting(name: str) -> int:
    return int(current_app.config.get(name, DEFAULTS[name]))


def _limits(kind: str, account: str, address: str, known_address: bool) -> list[Limit]:
    window = _setting("LOGIN_THROTTLE_WINDOW_SECONDS")
    limits = [
        Limit(
            _pair_key(kind, account, address), _setting("LOGIN_THROTTLE_PER_ACCOUNT_AND_ADDRESS"), window
        ),
        Limit(_address_key(kind, address), _setting("LOGIN_THROTTLE_PER_ADDRESS"), window),
    ]
    if not known_address:
        limits.append(
            Limit(
                _account_key(kind, account),
                _setting("LOGIN_THROTTLE_PER_ACCOUNT"),
                _setting("LOGIN_THROTTLE_ACCOUNT_WINDOW_SECONDS"),
            )
        )
    return limits


def _known_address_key(kind: str, account: str, address: str) -> str:
    return f"atende:{kind}_known_address:{account}:{address}"


def _pair_key(kind: str, account: str, address: str) -> str:
    return f"atende:{kind}_attempts:pair:{account}:{address}"


def _address_key(kind: str, address: str) -> str:
    return f"atende:{kind}_attempts:address:{address}"


def _account_key(kind: str, account: str) -> str:
    return f"atende:{kind}_attempts:account:{account}"


def reserve_attempt(kind: str, account: str, address: str | None) -> int | None:
    """Count one attempt of `kind` ("login", "two_factor") at `account` from `address` before the
    secret is checked. Returns None when it may go ahead, else the seconds until one may."""
    address = address or "unknown"
    redis = redis_connection()
    try:
        known_address = bool(redis.exists(_known_address_key(kind, account, address)))
        limits = _limits(kind, account, address, known_address)
        args = [value for limit in limits for value in (limit.max_attempts, limit.window_seconds)]
        wait = int(redis.eval(_RESERVE, len(limits), *(limit.key for limit in limits), *args))
    except RedisError as exc:
        log.warning("sign-in throttle unavailable, attempt allowed: %s", type(exc).__name__)
        return None
    return wait or None


def record_success(kind: str, account: str, address: str | None) -> None:
    """The secret was right: forget the account's counts, give the address its attempt back and
    remember it as one this account signs in from."""
    address = address or "unknown"
    try:
        pipe = redis_connection().pipeline()
        pipe.delete(_pair_key(kind, account, address), _account_key(kind, account))
        pipe.decr(_address_key(kind, address))
        pipe.set(_known_address_key(kind, account, address), 1, ex=_setting("LOGIN_KNOWN_ADDRESS_SECONDS"))
        pipe.execute()
    except RedisError as exc:
        log.warning("sign-in throttle unavailable, counter not reset: %s", type(exc).__name__)


def record_refusal(kind: str, account: str, address: str | None, wait_seconds: int) -> None:
    """Count a refused attempt; audit the 1st, 10th, 100th... refusal of the address's window."""
    key = f"atende:{kind}_refusals:address:{address or 'unknown'}"
    try:
        pipe = redis_connection().pipeline()
        pipe.set(key, 0, ex=_setting("LOGIN_THROTTLE_ACCOUNT_WINDOW_SECONDS"), nx=True)
        pipe.incr(key)
        refusals = int(pipe.execute()[1])
    except RedisError as exc:
        log.warning("sign-in throttle unavailable, refusal not counted: %s", type(exc).__name__)
        return
    if _is_power_of_ten(refusals):
        audit.record(f"auth.{kind}_throttled", account=account, wait_seconds=wait_seconds, refusals=refusals)


def _is_power_of_ten(number: int) -> bool:
    while number % 10 == 0:
        number //= 10
    return number == 1


def wait_message(wait_seconds: int) -> str:
    """'Try again in N minutes', for a refused attempt."""
    minutes = max(1, -(-wait_seconds // 60))
    return ngettext(
        "Too many failed sign-in attempts. Try again in %(num)d minute.",
        "Too many failed sign-in attempts. Try again in %(num)d minutes.",
        minutes,
    )
