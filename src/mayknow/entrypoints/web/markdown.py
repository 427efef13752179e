"""Just enough Markdown for the policy texts: headings, paragraphs, lists, tables,
bold, italics, code and links. Everything is escaped first; only these tags come out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html import escape

from markupsafe import Markup

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_ESCAPED = re.compile(r"\\([\\`*_\[\]()#+\-.!|])")
_ORDERED = re.compile(r"^\d+\.\s+")
_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")

Links = Callable[[str], str]


def _inline(text: str, links: Links) -> str:
    held: list[str] = []

    def hold(html: str) -> str:
        held.append(html)
        return f"\x00{len(held) - 1}\x00"

    text = _ESCAPED.sub(lambda m: hold(escape(m.group(1))), text)
    text = _CODE.sub(lambda m: hold(f"<code>{escape(m.group(1))}</code>"), text)
    text = escape(text, quote=False)
    text = _LINK.sub(lambda m: f'<a href="{escape(links(m.group(2)))}">{m.group(1)}</a>', text)
    text = _BOLD.sub(r"<strong>\1</strong>", text)
    text = _ITALIC.sub(r"<em>\1</em>", text)
    return re.sub("\x00(\\d+)\x00", lambda m: held[int(m.group(1))], text)


def _blocks(lines: list[str]) -> Iterator[list[str]]:
    block: list[str] = []
    for line in lines:
        if line.strip():
            block.append(line.rstrip())
        elif block:
            yield block
            block = []
    if block:
        yield block


def _cells(row: str) -> list[str]:
    return [c.strip() for c in row.strip().strip("|").split("|")]


def _table(block: list[str], links: Links) -> str:
    head = "".join(f"<th>{_inline(c, links)}</th>" for c in _cells(block[0]))
    rows = "".join(
        "<tr>" + "".join(f"<td>{_inline(c, links)}</td>" for c in _cells(r)) + "</tr>"
        for r in block[2:]
    )
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    return f'<div class="table">{table}</div>'


def _list(block: list[str], links: Links) -> str:
    ordered = bool(_ORDERED.match(block[0]))
    items: list[str] = []
    for line in block:
        if line.startswith(("- ", "* ")) or _ORDERED.match(line):
            items.append(_ORDERED.sub("", line[2:] if not ordered else line).strip())
        elif items:
            items[-1] += " " + line.strip()
    tag = "ol" if ordered else "ul"
    body = "".join(f"<li>{_inline(i, links)}</li>" for i in items)
    return f"<{tag}>{body}</{tag}>"


def _block(block: list[str], links: Links, ids: Callable[[str], str], shift: int) -> str:
    heading = _HEADING.match(block[0])
    if heading:
        level, text = min(6, len(heading.group(1)) + shift), heading.group(2)
        html = f'<h{level} id="{ids(text)}">{_inline(text, links)}</h{level}>'
        return html + (_block(block[1:], links, ids, shift) if len(block) > 1 else "")
    if block[0].startswith("|") and len(block) > 1 and set(block[1]) <= set("|-: "):
        return _table(block, links)
    if block[0].startswith(("- ", "* ")) or _ORDERED.match(block[0]):
        return _list(block, links)
    return f"<p>{_inline(' '.join(line.strip() for line in block), links)}</p>"


def render(
    text: str, links: Links = lambda href: href, prefix: str = "s", shift: int = 1
) -> Markup:
    """HTML for ``text``; headings move down ``shift`` levels (where the page owns the h1)."""
    counter = iter(range(1, 10_000))

    def ids(_text: str) -> str:
        return f"{prefix}-{next(counter)}"

    html = "\n".join(_block(b, links, ids, shift) for b in _blocks(text.splitlines()))
    return Markup(html)  # noqa: S704 (built above from escaped text and fixed tags only)
