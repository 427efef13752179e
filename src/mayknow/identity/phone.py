"""Phone numbers: parsed with phonenumbers, handled as E.164, never echoed back."""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

_MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
MAX_INPUT_LENGTH = 64


class InvalidPhone(ValueError):
    """Not a mobile number. The message never contains the input."""


def parse_mobile(raw: object, region: str) -> str:
    """Return the E.164 form of a mobile number, or raise InvalidPhone."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_INPUT_LENGTH:
        raise InvalidPhone("not a phone number")
    try:
        number = phonenumbers.parse(raw, region)
    except NumberParseException:
        raise InvalidPhone("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a valid phone number")
    if phonenumbers.number_type(number) not in _MOBILE:
        raise InvalidPhone("not a mobile number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def mask(e164: str) -> str:
    """+8613812345678 -> '+86 138****5678': enough to recognise, not to dial."""
    number = phonenumbers.parse(e164, None)
    national = str(number.national_number)
    hidden = max(len(national) - 7, 1)
    shown = national[:3] + "*" * hidden + national[3 + hidden :]
    return f"+{number.country_code} {shown}"
