"""Two-factor sign-in: a TOTP code from an authenticator app (RFC 6238, `pyotp`) after the
password, or one of ten one-time recovery codes.

- Enrolment: `start_enrolment` keeps a new secret (encrypted at rest with portal.crypto) while
  the agent scans the QR code (SVG drawn here by `segno`, no outside service); it is on only once
  `confirm_enrolment` has seen a right code, and then the recovery codes are shown this once
  (stored as SHA-256 hashes: they are random, like API tokens).
- A code is accepted for its 30-second step and the one before or after (clock drift), and
  never twice: the last step used is kept, so a code read over a shoulder is already spent.
- Admins may require it for admins and supervisors (setting `require_two_factor`); such an
  agent is sent to enrol before anything else (portal.auth). Another admin can reset it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from flask_babel import gettext as _

from portal import crypto
from portal.models import Agent, Role, utcnow
from portal.services import audit, settings

ISSUER = "Atende"
RECOVERY_CODE_COUNT = 10
# Steps either side of now that still count: phones whose clock is a little off still sign in.
DRIFT_STEPS = 1
REQUIRED_SETTING = "require_two_factor"
ROLES_IT_CAN_BE_REQUIRED_FOR = (Role.supervisor, Role.admin)


class TwoFactorError(ValueError):
    """A readable reason a two-factor change was refused."""


def is_enabled(agent: Agent) -> bool:
    return agent.two_factor_enabled_at is not None


def required_setting() -> bool:
    return bool(settings.get(REQUIRED_SETTING, False))


def is_required(agent: Agent) -> bool:
    return agent.role in ROLES_IT_CAN_BE_REQUIRED_FOR and required_setting()


def needs_enrolment(agent: Agent) -> bool:
    """Signed in without two-factor although an admin requires it for this role."""
    return not is_enabled(agent) and is_required(agent)


def set_required(required: bool, *, by: Agent) -> None:
    settings.put(REQUIRED_SETTING, bool(required), by=by)


def start_enrolment(agent: Agent) -> str:
    """A new secret kept until confirmed (replacing an unconfirmed one); returns it in base32."""
    if is_enabled(agent):
        raise TwoFactorError(_("Two-factor sign-in is already on."))
    secret = pyotp.random_base32()
    agent.totp_secret = crypto.encrypt(secret)
    return secret


def pending_secret(agent: Agent) -> str | None:
    """The secret being set up, or None when enrolment has not started (or is done)."""
    if is_enabled(agent) or not agent.totp_secret:
        return None
    return crypto.decrypt(agent.totp_secret)


def provisioning_uri(agent: Agent, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=agent.email, issuer_name=ISSUER)


def qr_code_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG QR code."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, omitsize=True)


def confirm_enrolment(agent: Agent, code: str) -> list[str]:
    """Turn two-factor on once `code` matches the pending secret; returns the recovery codes."""
    secret = pending_secret(agent)
    if secret is None:
        raise TwoFactorError(_("Start the set-up again: no two-factor set-up is in progress."))
    if not _accept_totp(agent, secret, code):
        raise TwoFactorError(_("That code is not right. Check the time on your phone and try the next one."))
    agent.two_factor_enabled_at = utcnow()
    codes = _new_recovery_codes(agent)
    audit.record("two_factor.enabled", actor=agent, target=agent)
    return codes


def verify(agent: Agent, code: str) -> bool:
    """Whether `code` (an app code or an unused recovery code) lets `agent` finish signing in."""
    if not is_enabled(agent):
        return False
    normalized = _normalize(code)
    if normalized.isdigit() and len(normalized) == 6:
        return _accept_totp(agent, crypto.decrypt(agent.totp_secret), normalized)
    return _use_recovery_code(agent, normalized)


def regenerate_recovery_codes(agent: Agent, code: str) -> list[str]:
    """Replace every recovery code; `code` from the app proves the phone is still at hand."""
    if not is_enabled(agent) or not _accept_totp(agent, crypto.decrypt(agent.totp_secret), _normalize(code)):
        raise TwoFactorError(_("That code is not right. Check the time on your phone and try the next one."))
    codes = _new_recovery_codes(agent)
    audit.record("two_factor.recovery_codes_replaced", actor=agent, target=agent)
    return codes


def turn_off(agent: Agent, code: str) -> None:
    """The agent turns it off with a current code, unless their role requires it."""
    if is_required(agent):
        raise TwoFactorError(_("Two-factor sign-in is required for your role, so it stays on."))
    if not verify(agent, code):
        raise TwoFactorError(_("That code is not right. Check the time on your phone and try the next one."))
    _clear(agent)
    audit.record("two_factor.disabled", actor=agent, target=agent)


def reset(agent: Agent, *, by: Agent) -> None:
    """Another admin clears an agent's two-factor (a lost phone): the agent signs in with the
    password alone, or enrols again first when their role requires it."""
    if agent.id == by.id:
        raise TwoFactorError(_("Another admin must reset your own two-factor sign-in."))
    if not is_enabled(agent) and not agent.totp_secret:
        return
    _clear(agent)
    audit.record("two_factor.reset", actor=by, target=agent)


def remaining_recovery_codes(agent: Agent) -> int:
    return len(agent.recovery_code_hashes or [])


def _clear(agent: Agent) -> None:
    agent.totp_secret = None
    agent.two_factor_enabled_at = None
    agent.totp_last_step = None
    agent.recovery_code_hashes = None


def _normalize(code: str) -> str:
    return "".join(c for c in (code or "").lower() if c.isalnum())


def _accept_totp(agent: Agent, secret: str, code: str) -> bool:
    totp = pyotp.TOTP(secret)
    now_step = int(time.time()) // totp.interval
    last_used = agent.totp_last_step if agent.totp_last_step is not None else -1
    for step in range(now_step - DRIFT_STEPS, now_step + DRIFT_STEPS + 1):
        if step > last_used and hmac.compare_digest(totp.at(step * totp.interval).encode(), code.encode()):
            agent.totp_last_step = step
            return True
    return False


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _new_recovery_codes(agent: Agent) -> list[str]:
    # 80 random bits each, shown in four groups of four: xxxx-xxxx-xxxx-xxxx.
    raw = [base64.b32encode(secrets.token_bytes(10)).decode().lower() for _ in range(RECOVERY_CODE_COUNT)]
    agent.recovery_code_hashes = [_hash(code) for code in raw]
    return ["-".join(code[i : i + 4] for i in range(0, 16, 4)) for code in raw]


def _use_recovery_code(agent: Agent, code: str) -> bool:
    hashes = list(agent.recovery_code_hashes or [])
    digest = _hash(code)
    match = next((h for h in hashes if hmac.compare_digest(h, digest)), None)
    if match is None:
        return False
    hashes.remove(match)
    agent.recovery_code_hashes = hashes
    audit.record("two_factor.recovery_code_used", actor=agent, target=agent, remaining=len(hashes))
    return True
