"""Jinja2 environments, one per language, with the gettext catalogue installed."""

from __future__ import annotations

from functools import cache
from typing import Any, cast

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from mayknow.entrypoints.web import i18n, texts


@cache
def environment(language: str) -> Environment:
    env = Environment(
        loader=PackageLoader("mayknow.entrypoints.web", "templates"),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    cast(Any, env).install_gettext_translations(i18n.translations(language), newstyle=True)
    env.filters["when"] = lambda moment: i18n.when(moment, language)
    env.globals.update(
        ERRORS=texts.ERRORS,
        REASONS=texts.REASONS,
        WHY=texts.WHY,
        PURPOSES=texts.PURPOSES,
        GUARD_FIELD="form_guard",
    )
    return env
