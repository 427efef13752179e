"""The mayknow command: thin wrappers that parse flags and call one thing each."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from mayknow import __version__, bootstrap, config
from mayknow.db.engine import make_engine
from mayknow.db.migrate import upgrade
from mayknow.entrypoints.api.asgi import LOG_FORMAT
from mayknow.identity.keyring import RELOAD_SECONDS, add_version, retire_versions
from mayknow.shared.errors import MayknowError

app = typer.Typer(help="mayknow: people you may know, under consent.", no_args_is_help=True)
db_app = typer.Typer(help="The store.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
keys_app = typer.Typer(help="The key ring of phone pseudonyms.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
operators_app = typer.Typer(
    help="Staff accounts that may run the recall query.", no_args_is_help=True
)
app.add_typer(operators_app, name="operators")
partners_app = typer.Typer(
    help="Partner apps that may ask members to log in.", no_args_is_help=True
)
app.add_typer(partners_app, name="partners")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="See docs/settings.md.")]
Db = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL; default SQLite file.")]


def _settings(**flags: object) -> config.Settings:
    try:
        return config.load(flags, os.environ)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@app.command()
def serve(
    dev: Annotated[bool | None, typer.Option("--dev", help="Development mode.")] = None,
    db: Db = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    data_dir: DataDir = None,
    workers: Annotated[int | None, typer.Option(help="Server processes.")] = None,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy", help="A proxy whose X-Forwarded-For is believed (repeatable)."
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option("--demo", help="With --dev: seed a fictional population into an empty store."),
    ] = False,
) -> None:
    """Run the HTTP service."""
    import uvicorn

    settings = _settings(
        dev=dev,
        db=db,
        host=host,
        port=port,
        data_dir=data_dir,
        workers=workers,
        trusted_proxies=tuple(trusted_proxy) if trusted_proxy else None,
    )
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    if settings.dev and settings.workers != 1:
        typer.echo("Development mode runs one worker (the outbox lives in memory).", err=True)
    if demo and not settings.dev:
        raise typer.BadParameter("--demo works only with --dev")
    container = bootstrap.build(settings)  # creates the key ring and migrates, once
    common: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "access_log": False,  # ours logs route templates only, never paths or queries
        "log_level": "info",
        "proxy_headers": False,  # X-Forwarded-For is read only from --trusted-proxy peers
    }
    if settings.dev or settings.workers == 1:
        from mayknow.entrypoints.api.app import create_app

        served = create_app(container)
        if demo:
            _start_demo(served, container)
        uvicorn.run(served, **common)
        return
    container.engine.dispose()
    os.environ.update(config.to_environ(settings))
    os.environ[config.env_name("auto_migrate")] = "false"
    uvicorn.run(
        "mayknow.entrypoints.api.asgi:app_from_environment",
        factory=True,
        workers=settings.workers,
        **common,
    )


def _start_demo(served: Any, container: bootstrap.Container) -> None:
    """Seed the fictional population into an empty store and keep its members' apps running."""
    from mayknow.demo import Demo

    population = Demo(container)
    if population.store_is_empty():
        typer.echo(f"demo: {population.populate()} fictional members created (docs/web.md)")
    else:
        typer.echo(f"demo: store not empty; {population.attach()} demo members' apps running")
    population.run_in_background()
    served.state.demo = population


@db_app.command("upgrade")
def db_upgrade(db: Db = None, data_dir: DataDir = None) -> None:
    """Bring the schema to the newest version."""
    settings = _settings(db=db, data_dir=data_dir)
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    upgrade(make_engine(settings.database_url))
    typer.echo("schema is up to date")


@audit_app.command("verify")
def audit_verify(db: Db = None, data_dir: DataDir = None) -> None:
    """Walk the hash chain; exit 1 naming the first event edited or removed."""
    container = bootstrap.build(_settings(db=db, data_dir=data_dir), migrate=False)
    try:
        verdict = container.verify_audit()
    finally:
        container.engine.dispose()
    if not verdict.ok:
        typer.echo(
            f"audit log BROKEN after {verdict.checked} good events: {verdict.problem}", err=True
        )
        raise typer.Exit(1)
    typer.echo(f"audit log intact: {verdict.checked} events")


@keys_app.command("rotate")
def keys_rotate(
    db: Db = None,
    data_dir: DataDir = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to let running servers pick up the new version.")
    ] = 2 * RELOAD_SECONDS,
) -> None:
    """Add a key version, then re-key every member's pseudonym and ciphertext to it.

    Running servers keep answering throughout: they re-read the key file within seconds
    and look numbers up under every version until the old one is retired.
    """
    settings = _settings(db=db, data_dir=data_dir)
    version = add_version(settings.data_dir)
    typer.echo(f"key version {version} is current; waiting {wait:g}s for servers to see it")
    time.sleep(wait)
    container = bootstrap.build(settings, migrate=False)
    try:
        container.keys.reload()
        total = 0
        while done := container.accounts.rekey_batch():
            total += done
        typer.echo(f"re-keyed {total} members to version {version}")
    finally:
        container.engine.dispose()


@keys_app.command("retire")
def keys_retire(db: Db = None, data_dir: DataDir = None) -> None:
    """Remove key versions that no member's data uses any more."""
    settings = _settings(db=db, data_dir=data_dir)
    container = bootstrap.build(settings, migrate=False)
    try:
        gone = retire_versions(settings.data_dir, container.accounts.key_versions_in_use())
    finally:
        container.engine.dispose()
    typer.echo(f"retired versions: {', '.join(map(str, gone)) or 'none'}")


@operators_app.command("add")
def operators_add(
    user_id: Annotated[int, typer.Argument(help="The member account that becomes an operator.")],
    db: Db = None,
    data_dir: DataDir = None,
) -> None:
    """Make a member account an operator (audited)."""
    container = bootstrap.build(_settings(db=db, data_dir=data_dir), migrate=False)
    try:
        container.operators.add(user_id)
    except MayknowError as exc:
        raise typer.BadParameter(exc.message) from None
    finally:
        container.engine.dispose()
    typer.echo(f"{user_id} is an operator")


@operators_app.command("remove")
def operators_remove(
    user_id: Annotated[int, typer.Argument(help="The operator account to demote.")],
    db: Db = None,
    data_dir: DataDir = None,
) -> None:
    """Take the operator role away (audited)."""
    container = bootstrap.build(_settings(db=db, data_dir=data_dir), migrate=False)
    try:
        removed = container.operators.remove(user_id)
    except MayknowError as exc:
        raise typer.BadParameter(exc.message) from None
    finally:
        container.engine.dispose()
    typer.echo(f"{user_id} {'is no longer' if removed else 'was not'} an operator")


@app.command()
def purge(db: Db = None, data_dir: DataDir = None) -> None:
    """Remove every piece of personal data that has outlived its declared retention."""
    container = bootstrap.build(_settings(db=db, data_dir=data_dir))
    try:
        removed = container.retention.purge()
    finally:
        container.engine.dispose()
    summary = ", ".join(f"{kind} {count}" for kind, count in removed.items())
    typer.echo(f"purged: {summary or 'nothing'}")


@partners_app.command("add")
def partners_add(
    partner_id: Annotated[str, typer.Option("--id", help="Its client_id: a-z, 0-9, . _ -.")],
    name: Annotated[str, typer.Option("--name", help="Shown to members on the consent screen.")],
    redirect_uri: Annotated[
        list[str], typer.Option("--redirect-uri", help="An exact redirect URI (repeatable).")
    ],
    category: Annotated[
        list[str] | None,
        typer.Option("--category", help="What it may ask for beyond the profile (repeatable)."),
    ] = None,
    db: Db = None,
    data_dir: DataDir = None,
) -> None:
    """Register a partner app: a public client that must use PKCE (S256). Audited."""
    container = bootstrap.build(_settings(db=db, data_dir=data_dir), migrate=False)
    try:
        container.partners.add(partner_id, name, redirect_uri, category or [])
    except MayknowError as exc:
        raise typer.BadParameter(exc.message) from None
    finally:
        container.engine.dispose()
    typer.echo(f"partner {partner_id} registered")


@app.command()
def records(
    html: Annotated[bool, typer.Option("--html", help="An HTML page instead of Markdown.")] = False,
) -> None:
    """Print the records of processing and a short impact assessment, from the code."""
    from mayknow.rights import records as generated
    from mayknow.schema import metadata

    typer.echo(generated.html_page(metadata) if html else generated.markdown(metadata), nl=False)


@app.command()
def replay(
    db: Db = None,
    html: Annotated[Path | None, typer.Option("--html", help="Also write the report page.")] = None,
) -> None:
    """Replay the Douyin scene against a real server on loopback; exit 1 if a check fails."""
    from mayknow.replay import play, report, server

    with server.running(db) as running:
        steps = play.play(running)
    typer.echo(report.text(steps), nl=False)
    if html is not None:
        html.write_text(report.page(steps), encoding="utf-8")
    if not report.passed(steps):
        raise typer.Exit(1)


@app.command("settings")
def settings_doc(markdown: Annotated[bool, typer.Option(help="As Markdown.")] = True) -> None:
    """Print every setting with its variable, default and help (docs/settings.md)."""
    typer.echo(
        config.markdown() if markdown else "\n".join(f.name for f in config.declared()), nl=False
    )


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    app()
