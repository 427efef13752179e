"""The message catalogue: extract, update and compile, with Babel, without a build step.

    python -m mayknow.entrypoints.web.catalog extract   # templates and code -> messages.pot
    python -m mayknow.entrypoints.web.catalog update    # messages.pot -> zh_CN messages.po
    python -m mayknow.entrypoints.web.catalog compile   # messages.po -> messages.mo

The compiled ``.mo`` is committed, so serving needs no build; a test fails when the .pot,
the .po or the .mo fall behind the templates and code.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from mayknow.entrypoints.web.i18n import CATALOGUE_DIR, DOMAIN

PACKAGE = Path(__file__).parent
POT = CATALOGUE_DIR / f"{DOMAIN}.pot"
LOCALES = ("zh_CN",)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [
    ("**/templates/**.html", "jinja2"),
    ("**.py", "python"),
]
CREATED = datetime(2026, 11, 28, tzinfo=UTC)  # fixed, so that the files change only with messages
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "false"}}


def po_path(locale: str) -> Path:
    return CATALOGUE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(locale: str) -> Path:
    return po_path(locale).with_suffix(".mo")


def _catalog(locale: str | None = None) -> Catalog:
    return Catalog(
        locale,
        domain=DOMAIN,
        project="mayknow",
        version="web",
        copyright_holder="mayknow",
        msgid_bugs_address="privacy@mayknow.example",
        creation_date=CREATED,
        revision_date=CREATED,
        fuzzy=False,
    )


def extract() -> Catalog:
    """Every message of the templates and of the web package's code."""
    catalog = _catalog()
    found = extract_from_dir(
        str(PACKAGE), METHODS, options_map=OPTIONS, keywords=KEYWORDS, strip_comment_tags=True
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def _write(catalog: Catalog, path: Path) -> None:
    buffer = BytesIO()
    write_po(buffer, catalog, width=100, sort_output=True, ignore_obsolete=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def update() -> None:
    template = extract()
    _write(template, POT)
    for locale in LOCALES:
        catalog = read(po_path(locale), locale) if po_path(locale).exists() else _catalog(locale)
        catalog.update(template, no_fuzzy_matching=True)
        _write(catalog, po_path(locale))


def compiled(locale: str) -> bytes:
    buffer = BytesIO()
    write_mo(buffer, read(po_path(locale), locale), use_fuzzy=False)
    return buffer.getvalue()


def compile_all() -> None:
    for locale in LOCALES:
        mo_path(locale).write_bytes(compiled(locale))


def main(argv: list[str]) -> int:
    commands = {"extract": lambda: _write(extract(), POT), "update": update, "compile": compile_all}
    if len(argv) != 1 or argv[0] not in commands:
        print(__doc__)
        return 2
    commands[argv[0]]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
