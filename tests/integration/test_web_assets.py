"""What the web app ships without a build step: the message catalogue (.pot, .po and the
committed .mo), the vendored browser module of private discovery, and the Markdown of
the policy texts."""

from __future__ import annotations

import gettext
import json
from pathlib import Path

import pytest

from mayknow.entrypoints.web import catalog, markdown
from mayknow.entrypoints.web.assets import STATIC_DIR
from mayknow.policy.texts import LANGUAGES, policy

ROOT = Path(__file__).resolve().parents[2]
MODULE = ROOT / "web" / "private-discovery"
VENDOR = STATIC_DIR / "vendor"


def _ids(messages: object) -> set[object]:
    return {m.id for m in messages if m.id}  # type: ignore[attr-defined]


def test_the_pot_holds_exactly_the_messages_of_the_templates_and_code() -> None:
    """Run `python -m mayknow.entrypoints.web.catalog update` when this fails."""
    assert _ids(catalog.read(catalog.POT)) == _ids(catalog.extract())


@pytest.mark.parametrize("locale", catalog.LOCALES)
def test_every_message_is_translated(locale: str) -> None:
    po = catalog.read(catalog.po_path(locale), locale)
    assert _ids(po) == _ids(catalog.read(catalog.POT))
    untranslated = [m.id for m in po if m.id and (m.fuzzy or not all(_strings(m.string)))]
    assert untranslated == []


def _strings(value: object) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (str(value),)


@pytest.mark.parametrize("locale", catalog.LOCALES)
def test_the_committed_mo_is_up_to_date_with_the_po(locale: str) -> None:
    """Run `python -m mayknow.entrypoints.web.catalog compile` when this fails."""
    with catalog.mo_path(locale).open("rb") as handle:
        committed = gettext.GNUTranslations(handle)
    po = catalog.read(catalog.po_path(locale), locale)
    for message in po:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            assert committed.ngettext(message.id[0], message.id[1], 1) == message.string[0]
        else:
            assert committed.gettext(message.id) == message.string
    assert committed.info()["plural-forms"] == "nplurals=1; plural=0;"


def test_the_vendored_private_discovery_module_is_the_repositorys() -> None:
    """Run scripts/build-web when this fails."""
    vendored = VENDOR / "private-discovery" / "index.js"
    assert vendored.read_bytes() == (MODULE / "index.js").read_bytes()
    lock = json.loads((MODULE / "package-lock.json").read_text())
    for package in ("curves", "hashes"):
        shipped = json.loads((VENDOR / "@noble" / package / "package.json").read_text())
        assert shipped["version"] == lock["packages"][f"node_modules/@noble/{package}"]["version"]
        assert (VENDOR / "@noble" / package / "LICENSE").exists()


def test_the_vendored_noble_files_are_byte_for_byte_those_of_node_modules() -> None:
    installed = MODULE / "node_modules" / "@noble"
    if not installed.is_dir():
        pytest.skip("web/private-discovery/node_modules is not installed (npm ci)")
    for path in (VENDOR / "@noble").rglob("*.js"):
        assert path.read_bytes() == (installed / path.relative_to(VENDOR / "@noble")).read_bytes()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_policy_texts_render_without_raw_markdown(language: str) -> None:
    html = str(markdown.render(policy(language).full, shift=0))
    assert html.count("<table>") >= 2
    assert "<h1" in html
    assert "<strong>" in html
    assert "**" not in html.replace("****", "")
    assert "](" not in html
    assert "\n|" not in html


def test_markdown_escapes_html_in_the_text() -> None:
    html = str(markdown.render("Hello <script>alert(1)</script> **bold** `a<b` [x](y.md)"))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<strong>bold</strong>" in html
    assert "<code>a&lt;b</code>" in html
    assert '<a href="y.md">x</a>' in html
