"""The password rule, one for every place a password is chosen: the profile, the set-password
link, an admin's temporary password and `flask create-agent`.

At least 12 characters, at most 128 (hashing a megabyte-long password is a cheap denial of
service), and not a common one: the bundled list (portal/data/common_passwords.txt) is compared
without case, also once digits and punctuation around it are stripped ("Password2024!") and when
the password is one short piece repeated ("abcabcabcabc").
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

from flask_babel import gettext as _
from wtforms import ValidationError

MIN_LENGTH = 12
MAX_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common_passwords.txt"
_DECORATION = string.digits + string.punctuation + string.whitespace


@cache
def _common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _is_repetition(text: str) -> bool:
    return any(len(text) % size == 0 and text == text[:size] * (len(text) // size) for size in range(1, len(text) // 2 + 1))


def is_common(password: str) -> bool:
    lowered = password.lower()
    common = _common_passwords()
    return lowered in common or lowered.strip(_DECORATION) in common or _is_repetition(lowered)


def problem(password: str) -> str | None:
    """Why `password` may not be used, as a sentence for the person choosing it, or None."""
    if len(password) < MIN_LENGTH:
        return _("The password must have at least %(num)d characters.", num=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("The password can have at most %(num)d characters.", num=MAX_LENGTH)
    if is_common(password):
        return _("This password is too common and easy to guess: choose another.")
    return None


class PasswordRule:
    """The rule as a WTForms validator; empty values are left to Optional/DataRequired."""

    def __call__(self, form, field) -> None:
        if field.data:
            reason = problem(field.data)
            if reason:
                raise ValidationError(reason)
