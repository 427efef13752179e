"""The mayknow command: thin wrappers that parse flags and call one thing each."""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
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
jobs_app = typer.Typer(help="Batch jobs over the store.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="See docs/settings.md.")]
Db = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL; default SQLite file.")]


def _settings(**flags: object) -> config.Settings:
    try:
        return config.load(flags, os.environ)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


@contextmanager
def _container(
    settings: config.Settings, *, migrate: bool = False
) -> Iterator[bootstrap.Container]:
    """The service for one command: its refusals become usage errors, its engine is
    disposed of at the end."""
    container = bootstrap.build(settings, migrate=migrate)
    try:
        yield container
    except MayknowError as exc:
        raise typer.BadParameter(exc.message) from None
    finally:
        container.engine.dispose()


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
    """Walk the hash chain from its checkpoint; exit 1 naming the first event broken."""
    with _container(_settings(db=db, data_dir=data_dir)) as container:
        verdict = container.verify_audit()
    start = (
        f"checkpoint event {verdict.base_id} (hash {verdict.base_hash.hex()}; "
        "older events removed by retention)"
        if verdict.base_id
        else "the start of the log (no event removed by retention)"
    )
    if not verdict.ok:
        typer.echo(
            f"audit log BROKEN after {verdict.checked} good events from {start}: {verdict.problem}",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"audit log intact: {verdict.checked} events checked from {start}")


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
    with _container(settings) as container:
        container.keys.reload()
        total = 0
        while done := container.accounts.rekey_batch():
            total += done
    typer.echo(f"re-keyed {total} members to version {version}")


@keys_app.command("retire")
def keys_retire(db: Db = None, data_dir: DataDir = None) -> None:
    """Remove key versions that no member's data uses any more."""
    settings = _settings(db=db, data_dir=data_dir)
    with _container(settings) as container:
        gone = retire_versions(settings.data_dir, container.accounts.key_versions_in_use())
    typer.echo(f"retired versions: {', '.join(map(str, gone)) or 'none'}")


@operators_app.command("add")
def operators_add(
    user_id: Annotated[int, typer.Argument(help="The member account that becomes an operator.")],
    db: Db = None,
    data_dir: DataDir = None,
) -> None:
    """Make a member account an operator (audited)."""
    with _container(_settings(db=db, data_dir=data_dir)) as container:
        container.operators.add(user_id)
    typer.echo(f"{user_id} is an operator")


@operators_app.command("remove")
def operators_remove(
    user_id: Annotated[int, typer.Argument(help="The operator account to demote.")],
    db: Db = None,
    data_dir: DataDir = None,
) -> None:
    """Take the operator role away (audited)."""
    with _container(_settings(db=db, data_dir=data_dir)) as container:
        removed = container.operators.remove(user_id)
    typer.echo(f"{user_id} {'is no longer' if removed else 'was not'} an operator")


@app.command()
def purge(db: Db = None, data_dir: DataDir = None) -> None:
    """Remove every piece of personal data that has outlived its declared retention."""
    with _container(_settings(db=db, data_dir=data_dir), migrate=True) as container:
        removed = container.retention.purge()
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
    with _container(_settings(db=db, data_dir=data_dir)) as container:
        container.partners.add(partner_id, name, redirect_uri, category or [])
    typer.echo(f"partner {partner_id} registered")


class JobEngine(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


def _slice(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    k, _, n = text.partition("/")
    if not (k.isdigit() and n.isdigit() and int(k) < int(n)):
        raise typer.BadParameter("a slice is k/n with 0 <= k < n, e.g. 0/4", param_hint="--slice")
    return int(k), int(n)


@jobs_app.command("suggestions")
def jobs_suggestions(
    engine: Annotated[JobEngine, typer.Option(help="Where the SQL runs.")] = JobEngine.duckdb,
    master: Annotated[
        str | None, typer.Option(help="Spark master URL; default local[--threads or 2].")
    ] = None,
    slice_: Annotated[
        str | None,
        typer.Option("--slice", help="Only viewers with id % n == k, as k/n; their rows only."),
    ] = None,
    parquet: Annotated[
        Path | None,
        typer.Option(help="Read follows (follower_id, followee_id) from this Parquet file/folder."),
    ] = None,
    top_n: Annotated[int, typer.Option(min=1, max=1000, help="Candidates kept per viewer.")] = 20,
    threads: Annotated[int | None, typer.Option(min=1, help="Engine threads.")] = None,
    memory_limit: Annotated[str, typer.Option(help="DuckDB's memory limit.")] = "3GB",
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
    db: Db = None,
    data_dir: DataDir = None,
) -> None:
    """Recompute friend-of-friend candidates; readers see the old table until the commit."""
    from mayknow.suggestions.batch import EngineOptions
    from mayknow.suggestions.jobs import refresh_friends_of_friends

    chosen = _slice(slice_)
    if engine is JobEngine.spark:
        _require_spark()
    with _container(_settings(db=db, data_dir=data_dir)) as container:
        report = refresh_friends_of_friends(
            container.engine,
            clock=container.clock,
            degree_cap=container.settings.fof_degree_cap,
            engine=engine.value,
            top_n=top_n,
            slice_=chosen,
            parquet_in=parquet,
            options=EngineOptions(threads=threads, memory_limit=memory_limit, master=master),
            progress=progress,
        )
    typer.echo(
        f"fof_candidates: {report.rows} rows for {report.viewers} viewers "
        f"({report.users} members with mutual connections, {report.edges} connections, "
        f"{report.paths} two-hop paths, {report.batches} batches) on {report.engine}; "
        + ", ".join(f"{step} {sec:.1f} s" for step, sec in report.seconds.items())
    )


def _require_spark() -> None:
    if importlib.util.find_spec("pyspark") is None:
        raise typer.BadParameter(
            "Spark is an optional part: pip install 'mayknow[spark]'", param_hint="--engine"
        )
    if shutil.which("java") is None:
        raise typer.BadParameter(
            "Spark needs a Java 17 runtime on PATH (apt-get install openjdk-17-jre-headless)",
            param_hint="--engine",
        )


class EvalGraph(StrEnum):
    karate = "karate"
    lesmis = "lesmis"


@app.command("eval")
def eval_(
    graph: Annotated[
        list[EvalGraph] | None,
        typer.Option(
            "--graph",
            help="A real social graph shipped with networkx (repeatable; default both). "
            "The synthetic population study is `python -m bench.quality`.",
        ),
    ] = None,
    holdout: Annotated[
        float, typer.Option(min=0.01, max=0.5, help="Share of edges held out per split.")
    ] = 0.1,
    seed: Annotated[int, typer.Option(help="Seed of the first split.")] = 0,
    splits: Annotated[
        int, typer.Option(min=1, max=1000, help="Splits, seeds seed, seed+1...")
    ] = 10,
) -> None:
    """Hold edges out and print Recall@10 and MRR of the job, networkx and random."""
    from mayknow.suggestions.quality import evaluate, markdown, real_graph

    cap = _settings().fof_degree_cap
    chosen = graph or list(EvalGraph)
    typer.echo(
        markdown(
            evaluate(
                real_graph(g.value),
                name=g.value,
                holdout=holdout,
                seed=seed,
                splits=splits,
                degree_cap=cap,
            )
            for g in chosen
        ),
        nl=False,
    )


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
