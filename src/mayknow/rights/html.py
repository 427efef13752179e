"""The export as a page a person can read: every section of the JSON export, as tables."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, select_autoescape

_TITLES = {
    "zh-CN": {
        "title": "我的个人信息副本",
        "intro": "这是 mayknow 保存的关于你的全部个人信息，与 JSON 导出内容一致。",
        "empty": "（无）",
    },
    "en": {
        "title": "My personal data",
        "intro": "Everything mayknow holds about you; the same as the JSON export.",
        "empty": "(none)",
    },
}

_TEMPLATE = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ t.title }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;
text-align:left;vertical-align:top}h2{margin-top:2rem}</style></head>
<body><h1>{{ t.title }}</h1><p>{{ t.intro }}</p>
{% for name, value in sections %}<section><h2>{{ name }}</h2>{{ render(value) }}</section>
{% endfor %}</body></html>
"""

_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def _render(value: Any, empty: str) -> str:
    escape = _env.filters["e"]
    if isinstance(value, dict):
        if not value:
            return empty
        rows = "".join(
            f"<tr><th>{escape(k)}</th><td>{_render(v, empty)}</td></tr>" for k, v in value.items()
        )
        return f"<table>{rows}</table>"
    if isinstance(value, list):
        if not value:
            return empty
        return "<ol>" + "".join(f"<li>{_render(v, empty)}</li>" for v in value) + "</ol>"
    return str(escape("" if value is None else value)) or empty


def export_page(document: dict[str, Any], language: str) -> str:
    titles = _TITLES.get(language, _TITLES["zh-CN"])
    template = _env.from_string(_TEMPLATE)
    return template.render(
        lang=language,
        t=titles,
        sections=list(document.items()),
        render=lambda v: _env.filters["safe"](_render(v, titles["empty"])),
    )
