"""The privacy policy and the user agreement, shipped in the package as Markdown."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


@dataclass(frozen=True)
class PolicyText:
    version: str
    language: str
    summary: str
    full: str
    terms: str


def _read(*parts: str) -> str:
    return resources.files("mayknow.policy").joinpath("texts", *parts).read_text("utf-8")


@cache
def current_version() -> str:
    return _read("VERSION").strip()


@cache
def policy(language: str) -> PolicyText:
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    return PolicyText(
        version=current_version(),
        language=language,
        summary=_read(language, "summary.md"),
        full=_read(language, "privacy.md"),
        terms=_read(language, "terms.md"),
    )


def negotiate(accept_language: str | None) -> str:
    """Pick zh-CN or en from an Accept-Language header; Chinese unless English comes first."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if weight > 0:  # q=0, or a q we cannot read, means "not this one"
            ranked.append((-weight, position, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.startswith("zh"):
            return "zh-CN"
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LANGUAGE
