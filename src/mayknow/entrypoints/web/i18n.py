"""Languages of the pages: Simplified Chinese by default, English by switch or Accept-Language.

Messages are English msgids translated by the gettext catalogue in ``i18n/`` (Babel's
layout: ``messages.pot`` and ``zh_CN/LC_MESSAGES/messages.po``, with the compiled ``.mo``
committed beside it). English needs no catalogue: the msgid is the English text.
"""

from __future__ import annotations

import gettext
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

from mayknow.policy.texts import DEFAULT_LANGUAGE, LANGUAGES, negotiate

CATALOGUE_DIR = Path(__file__).parent / "i18n"
DOMAIN = "messages"
BABEL_LOCALE = {"zh-CN": "zh_CN", "en": "en"}
# Times are shown in China Standard Time, the time zone of the service's users.
SHOWN_ZONE = ZoneInfo("Asia/Shanghai")

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "N_", "choose", "translations", "when"]


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message


@cache
def translations(language: str) -> gettext.NullTranslations:
    if language == "en":
        return gettext.NullTranslations()
    mo = CATALOGUE_DIR / BABEL_LOCALE[language] / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with mo.open("rb") as handle:
        return gettext.GNUTranslations(handle)


def choose(lang_param: str | None, accept_language: str | None) -> tuple[str, bool]:
    """The page language, and whether the visitor chose it (then links carry ``lang``)."""
    if lang_param in LANGUAGES:
        return lang_param, True
    return negotiate(accept_language), False


def when(moment: datetime | str | None, language: str) -> str:
    """A time as people read it, in China Standard Time."""
    if moment is None:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return format_datetime(
        moment, "yyyy-MM-dd HH:mm", tzinfo=SHOWN_ZONE, locale=BABEL_LOCALE[language]
    )
