"""``vulnhound sbom TARGET``: print or write the inventory of a source."""

from __future__ import annotations

import sys

import typer

from vulnhound.inventory.build import build_inventory
from vulnhound.sources.interface import SourceError
from vulnhound.sources.resolve import SourceOptions, open_source


def sbom(
    target: str = typer.Argument(..., help="dir:PATH, host:, oci-dir:PATH, oci-archive:TAR, docker-archive:TAR, "
                                           "registry:REF, zip:ZIP, function:ZIP, sbom:FILE, or a bare path."),
    fmt: str = typer.Option("table", "--format", "-f", help="table|json|cyclonedx|spdx-json"),
    output: str | None = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress or warnings on stderr."),
    platform: str = typer.Option("linux/amd64", "--platform", help="Platform to pick from a multi-platform image."),
    insecure: bool = typer.Option(False, "--insecure", help="Plain HTTP / unverified TLS for registries."),
) -> None:
    """Inventory TARGET: every installed package, with PURLs and provenance."""
    from vulnhound.exports import inventory_formats

    try:
        with open_source(target, SourceOptions(platform=platform, insecure=insecure)) as src:
            inv = build_inventory(src)
    except SourceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    text = inventory_formats.render(inv, fmt)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    if not quiet and inv.issues:
        typer.echo(f"{len(inv.issues)} issue(s) while cataloging; see the JSON output's 'issues'", err=True)


def register(app: typer.Typer) -> None:
    app.command("sbom")(sbom)
