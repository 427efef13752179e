"""The replay as a table in the terminal and as a page: step by step, then per holding."""

from __future__ import annotations

import html
from collections import defaultdict

from mayknow.replay.scene import DOUYIN, Check, Step

HOLDINGS = [f"H{i}" for i in range(1, 15)]


def verdicts(steps: list[Step]) -> dict[str, list[Check]]:
    found: dict[str, list[Check]] = defaultdict(list)
    for step in steps:
        for check in step.checks:
            found[check.holding].append(check)
    return {h: found.get(h, []) for h in HOLDINGS}


def passed(steps: list[Step]) -> bool:
    return all(checks and all(c.passed for c in checks) for checks in verdicts(steps).values())


def text(steps: list[Step]) -> str:
    lines: list[str] = []
    for step in steps:
        lines += [step.title, f"  he sees:      {step.shown}", f"  server holds: {step.held}"]
        lines += [
            f"  [{'PASS' if c.passed else 'FAIL'}] {c.holding:>3} {c.what}" for c in step.checks
        ]
        lines.append("")
    lines.append("holding | verdict | checks | what Douyin 4.3.1 did")
    for holding, checks in verdicts(steps).items():
        verdict = "PASS" if checks and all(c.passed for c in checks) else "FAIL"
        lines.append(f"{holding:>7} | {verdict:>7} | {len(checks):>6} | {DOUYIN[holding]}")
    lines.append("")
    lines.append("replay: every holding met" if passed(steps) else "replay: FAILED")
    return "\n".join(lines) + "\n"


def page(steps: list[Step]) -> str:
    e = html.escape
    body = []
    for step in steps:
        checks = "".join(
            f'<tr class="{"pass" if c.passed else "fail"}"><td>{e(c.holding)}</td>'
            f"<td>{e(c.what)}</td><td>{'PASS' if c.passed else 'FAIL'}</td>"
            f"<td>{e(c.douyin)}</td></tr>"
            for c in step.checks
        )
        body.append(
            f"<section><h2>{e(step.title)}</h2><p><b>He sees:</b> {e(step.shown)}</p>"
            f"<p><b>The server holds:</b> {e(step.held)}</p>"
            f"<table><tr><th>holding</th><th>check</th><th>verdict</th>"
            f"<th>Douyin 4.3.1</th></tr>{checks}</table></section>"
        )
    summary = "".join(
        f'<tr class="{"pass" if cs and all(c.passed for c in cs) else "fail"}"><td>{h}</td>'
        f"<td>{'PASS' if cs and all(c.passed for c in cs) else 'FAIL'}</td><td>{len(cs)}</td>"
        f"<td>{e(DOUYIN[h])}</td></tr>"
        for h, cs in verdicts(steps).items()
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>mayknow replays (2019)京0491民初6694号</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:64rem;margin:1rem auto;padding:0 1rem}"
        "table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem;"
        "text-align:left;vertical-align:top}.pass td:nth-child(2),.pass td:nth-child(3)"
        "{background:#eaf7ea}.fail td{background:#fbeaea}</style></head><body>"
        "<h1>The Douyin scene, replayed against mayknow</h1>"
        f"<p>{'Every holding is met.' if passed(steps) else 'Some checks FAILED.'}</p>"
        f"<h2>Holdings</h2><table><tr><th>holding</th><th>verdict</th><th>checks</th>"
        f"<th>what Douyin 4.3.1 did</th></tr>{summary}</table>{''.join(body)}</body></html>\n"
    )
