"""The ``vulnhound`` command: one Typer app; each command group lives in its own module."""

from __future__ import annotations

import typer

from vulnhound import __version__

app = typer.Typer(
    name="vulnhound",
    help="Self-hosted continuous vulnerability management: inventory, advisories, findings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vulnhound {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """vulnhound."""


def _register() -> None:
    # The one list of command modules; each exposes ``register(app)``.
    from vulnhound.cli import db, remote, sbom, scan, server, worker

    for module in (sbom, scan, db, server, remote, worker):
        module.register(app)


_register()


def run() -> None:
    app()
