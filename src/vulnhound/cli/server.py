"""``vulnhound server``: run the REST API (embedded SQLite by default, PostgreSQL with --database-url)."""

from __future__ import annotations

from pathlib import Path

import typer


def server(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", help="Port to listen on."),
    database_url: str | None = typer.Option(
        None, "--database-url", envvar="VULNHOUND_DATABASE_URL",
        help="SQLAlchemy URL of the service store, e.g. postgresql+psycopg://user@host/db (default: SQLite file "
             "in the user data dir)."),
    db: str | None = typer.Option(None, "--db", envvar="VULNHOUND_DB", help="Knowledge base path or URL."),
    scan_root: list[Path] = typer.Option(
        [], "--scan-root", help="Directory the server may scan itself (POST /v1/scans); repeatable."),
    max_upload_mb: int = typer.Option(64, "--max-upload-mb", help="Largest inventory upload accepted."),
    broker: str | None = typer.Option(
        None, "--broker", envvar="VULNHOUND_BROKER",
        help="Run jobs on `vulnhound worker` processes through this Celery broker (redis://… or amqp://…) instead "
             "of in-process threads."),
    workers: int = typer.Option(4, "--workers", help="In-process job threads (without --broker)."),
    mirror: Path | None = typer.Option(None, "--mirror", help="Feed mirror that scheduled `db update` jobs import."),
    nats: str | None = typer.Option(
        None, "--nats", envvar="VULNHOUND_NATS",
        help="Also publish every event to NATS JetStream (stream VULNHOUND), e.g. nats://127.0.0.1:4222."),
) -> None:
    """Run the vulnhound server (REST API under /v1, OpenAPI at /openapi.json)."""
    from vulnhound.service.db.engine import StoreUnavailable
    from vulnhound.service.server import build

    try:
        built = build(database_url, db, tuple(p.resolve() for p in scan_root), max_upload_mb * 1024 * 1024,
                      broker=broker, workers=workers, mirror=mirror, nats=nats)
    except StoreUnavailable as exc:
        typer.echo(f"vulnhound server: {exc}", err=True)
        raise typer.Exit(2) from None
    if built.first_admin_key:
        typer.echo("First start: the admin API key of the default account (shown once, store it now):", err=True)
        typer.echo(built.first_admin_key)
    typer.echo(f"vulnhound server: store {built.database}; listening on http://{host}:{port}/v1", err=True)
    import uvicorn

    built.start_jobs()
    try:
        uvicorn.run(built.app, host=host, port=port, log_level="info")
    finally:
        built.stop_jobs()


def register(app: typer.Typer) -> None:
    app.command("server")(server)
