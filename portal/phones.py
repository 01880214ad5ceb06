"""Phone numbers: E.164 normalization and the Brazilian ninth digit.

Brazilian mobiles gained a ninth digit (a leading 9) in 2012-2016, and WhatsApp may still report
a wa_id without it: 551187654321 for +55 11 98765-4321. We store the nine-digit form and match
both forms to one contact.
"""

from __future__ import annotations

import re

import phonenumbers


class InvalidPhone(ValueError):
    """The text is not a phone number we can store."""


def normalize(raw: str, default_region: str = "BR") -> str:
    """E.164 form (`+5511987654321`) of a number typed in any common format."""
    text = (raw or "").strip()
    digits = re.sub(r"\D", "", text)
    if not digits:
        raise InvalidPhone("empty phone number")
    if text.startswith("00"):
        text = "+" + digits[2:]
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"not a phone number: {exc}") from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    e164 = with_ninth_digit(e164)
    if not phonenumbers.is_valid_number(phonenumbers.parse(e164, None)):
        raise InvalidPhone("not a valid phone number")
    return e164


def from_wa_id(wa_id: str) -> str:
    """E.164 form of a WhatsApp id (digits, country code first, no plus)."""
    if not wa_id or not wa_id.isdigit():
        raise InvalidPhone("a WhatsApp id has digits only")
    return normalize("+" + wa_id)


def with_ninth_digit(e164: str) -> str:
    """+55 DD 8765-4321 (an old 8-digit mobile) becomes +55 DD 98765-4321; other numbers are unchanged."""
    if e164.startswith("+55") and len(e164) == 13 and e164[5] in "6789":
        return e164[:5] + "9" + e164[5:]
    return e164


def variants(e164: str) -> list[str]:
    """Every stored form that may name the same line: for Brazilian mobiles, with and without the 9."""
    forms = [e164]
    if e164.startswith("+55") and len(e164) == 14 and e164[5] == "9" and e164[6] in "6789":
        forms.append(e164[:5] + e164[6:])
    return forms


def whole_number(text: str, default_region: str = "BR") -> str | None:
    """E.164 form when `text` is one complete phone number and nothing else: a valid number in any
    format, or one typed with its country code (+...) that has a full number's length even if no
    line could have it (a typo). None for anything partial or not phone-shaped."""
    text = (text or "").strip()
    if not re.fullmatch(r"\+?[\d\s().-]+", text):
        return None
    try:
        return normalize(text, default_region)
    except InvalidPhone:
        pass
    if not text.startswith("+"):
        return None
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return with_ninth_digit(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def search_digits(text: str) -> str | None:
    """Digits to search for when the user typed something phone-like, in any format."""
    digits = re.sub(r"\D", "", text or "")
    return digits if len(digits) >= 4 else None
