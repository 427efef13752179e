"""First run: the policy summary and two answers, neither preselected; the full texts."""

from __future__ import annotations

from fastapi import Response

from mayknow.entrypoints.web import markdown
from mayknow.entrypoints.web.pages import Page, Web
from mayknow.entrypoints.web.views import page_router
from mayknow.policy.texts import policy

router = page_router()


def policy_links(web: Web) -> markdown.Links:
    targets = {"privacy.md": "#privacy", "terms.md": "#terms"}
    return lambda href: web.url("/policy") + targets[href] if href in targets else href


@router.get("/")
def first_run(web: Page) -> Response:
    """Nothing is collected here: no cookie, no record, no timer that answers for you."""
    if web.member is not None:
        return web.redirect("/follow")
    text = policy(web.lang)
    summary = markdown.render(text.summary, policy_links(web), prefix="summary")
    return web.render("start.html", summary=summary, version=text.version)


@router.get("/policy")
def full_policy(web: Page) -> Response:
    text = policy(web.lang)
    return web.render(
        "policy.html",
        version=text.version,
        privacy=markdown.render(text.full, policy_links(web), prefix="privacy", shift=0),
        terms=markdown.render(text.terms, policy_links(web), prefix="terms", shift=0),
    )


@router.get("/declined")
def declined(web: Page) -> Response:
    return web.render("declined.html")
