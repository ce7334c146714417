"""``vulnhound db ...``: update the knowledge base (upstream or mirror), status, offline bundles, show one group."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:  # rich is imported where it is used: every CLI start (vulnhound sbom too) imports this module
    from rich.console import Console
    from rich.progress import TaskID

db_app = typer.Typer(help="The advisory knowledge base: update, status, bundles, show.", no_args_is_help=True)

DB_OPT = typer.Option(None, "--db", envvar="VULNHOUND_DB", help="Database path or SQLAlchemy URL "
                      "(default: the user data dir's vulnhound.db).")


@cache
def _err() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def _summary(res: Any) -> str:
    c = res.counts
    if res.mode in ("unchanged", "failed"):
        return f"{res.source}: {res.mode}" + (f" ({res.description})" if res.mode == "failed" else "")
    return (f"{res.source}: {res.mode} op #{res.op_id}: {c.get('records', 0)} records, +{c.get('added', 0)} "
            f"~{c.get('modified', 0)} -{c.get('withdrawn', 0)}, {c.get('rejects', 0)} rejected")


@db_app.command("update")
def update(
    source: list[str] = typer.Option(None, "--source", "-s", help="Only these sources (repeatable)."),
    mirror: Path | None = typer.Option(None, "--mirror", help="Import feed files found in this local directory.",
                                       exists=True, file_okay=False),
    force: bool = typer.Option(False, "--force", help="Re-import mirror sources even when their files are unchanged."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
    db: str | None = DB_OPT,
) -> None:
    """Update the knowledge base: one recorded operation per source, each atomic."""
    import httpx
    from rich.progress import BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from vulnhound.advisories.feeds.registry import by_name
    from vulnhound.advisories.mirror import discover
    from vulnhound.advisories.store import open_engine
    from vulnhound.advisories.store.update import Hooks, update_from_mirror, update_upstream

    engine = open_engine(db)
    # Byte counts only mean something for downloads; a mirror import shows phases and item counts.
    columns = [SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.fields[note]}"),
               TimeElapsedColumn()]
    if mirror is None:
        columns[2:2] = [BarColumn(), DownloadColumn()]
    progress = Progress(*columns, console=_err(), disable=quiet)
    tasks: dict[str, TaskID] = {}

    def begin(name: str, phase: str) -> None:
        if name not in tasks:
            tasks[name] = progress.add_task(name, total=None, note="")
        progress.update(tasks[name], note=phase)

    def items(name: str, n: int) -> None:
        progress.update(tasks[name], note=f"import: {n} items")

    def done(res: Any) -> None:
        begin(res.source, res.mode)
        progress.update(tasks[res.source], note=_summary(res).split(": ", 1)[1], total=1, completed=1)

    def failed(name: str, msg: str) -> None:
        begin(name, "failed")
        progress.update(tasks[name], note=f"[red]failed[/red]: {msg}")

    hooks = Hooks(begin=begin, items=items, done=done, failed=failed)
    with progress:
        if mirror is not None:
            plan = discover(mirror)
            for path, why in plan.skipped:
                if not quiet:
                    typer.echo(f"skipped {path}: {why}", err=True)
            results = update_from_mirror(engine, mirror, only=source or None, hooks=hooks, plan=plan, force=force)
        else:
            try:
                feeds = by_name(source or None)
            except KeyError as exc:
                _err().print(f"error: {exc.args[0]}")
                raise typer.Exit(2) from None
            for f in feeds:
                http = getattr(f, "http", None)
                if isinstance(http, dict):
                    def on_bytes(got: int, total: int | None, _n: str = f.name) -> None:
                        begin(_n, "fetch")
                        progress.update(tasks[_n], completed=got, total=total)
                    http["progress"] = on_bytes
            with httpx.Client(timeout=httpx.Timeout(60.0, connect=15.0), follow_redirects=True) as client:
                results = update_upstream(engine, feeds, client, hooks=hooks)
    for res in results:
        if not quiet:
            typer.echo(_summary(res))
    if any(r.mode == "failed" for r in results):
        raise typer.Exit(1)


@db_app.command("status")
def status(
    stale_hours: float = typer.Option(48.0, "--stale-hours", help="Warn about sources older than this."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    db: str | None = DB_OPT,
) -> None:
    """Per source: last update, record count, rejects by reason, age."""
    from vulnhound.advisories.store import open_kb

    kb = open_kb(db)
    rows = kb.status()
    if as_json:
        typer.echo(json.dumps([asdict(r) for r in rows], indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="vulnhound knowledge base")
    for col in ("source", "last update", "age", "records", "rejects"):
        table.add_column(col)
    stale = []
    for r in rows:
        age = "never" if r.age_hours is None else f"{r.age_hours:.1f} h"
        if r.age_hours is None or r.age_hours > stale_hours:
            stale.append(r.name)
            age = f"[yellow]{age}[/yellow]"
        table.add_row(r.name, (r.last_update or "-")[:19], age, _records(r), _rejects(r.rejects))
    Console().print(table)
    if not rows:
        _err().print("[yellow]warning[/yellow]: the knowledge base is empty; run `vulnhound db update`")
    for name in stale:
        _err().print(f"[yellow]warning[/yellow]: {name} is stale (older than {stale_hours:g} h)")


def _records(r: Any) -> str:
    extra = [f"{r.last_counts[k]} {k.upper()}" for k in ("kev", "epss", "releases") if r.last_counts.get(k)]
    return ", ".join([str(r.record_count)] * bool(r.record_count or not extra) + extra)


def _rejects(rejects: dict[str, int]) -> str:
    # Reasons may carry the offending value; the table shows the total and the commonest few (--json has all).
    total = sum(rejects.values())
    if not total:
        return "0"
    top = sorted(rejects.items(), key=lambda x: -x[1])[:2]
    shown = "; ".join(f"{n}× {reason[:40]}" for reason, n in top)
    return f"{total}: {shown}" + ("; …" if len(rejects) > 2 else "")


@db_app.command("export-bundle")
def export_bundle(file: Path = typer.Argument(..., help="Bundle to write (tar.gz)."), db: str | None = DB_OPT) -> None:
    """Write an offline bundle: a consistent snapshot of the database plus a checksum manifest."""
    from vulnhound.advisories.store.bundle import BundleError
    from vulnhound.advisories.store.bundle import export_bundle as do_export

    try:
        manifest = do_export(db, file)
    except BundleError as exc:
        _err().print(f"error: {exc}")
        raise typer.Exit(2) from None
    typer.echo(f"wrote {file} ({manifest['files']['vulnhound.db']['size']} bytes of database)")


@db_app.command("import-bundle")
def import_bundle(file: Path = typer.Argument(..., exists=True, dir_okay=False), db: str | None = DB_OPT) -> None:
    """Verify an offline bundle and atomically replace the database with it."""
    from vulnhound.advisories.store.bundle import BundleError
    from vulnhound.advisories.store.bundle import import_bundle as do_import

    try:
        manifest = do_import(db, file)
    except BundleError as exc:
        _err().print(f"error: {exc}")
        raise typer.Exit(2) from None
    typer.echo(f"imported bundle created {manifest.get('created')}")


@db_app.command("show")
def show(
    vuln_id: str = typer.Argument(..., help="Any id or alias: CVE-…, GHSA-…, PYSEC-…, GO-…, RUSTSEC-…, ALSA-…"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    db: str | None = DB_OPT,
) -> None:
    """One vulnerability group: every source's record, all aliases, affected packages, severities."""
    from vulnhound.advisories.store import open_kb

    kb = open_kb(db)
    group = kb.group_of(vuln_id)
    if group is None:
        _err().print(f"{vuln_id}: not in the knowledge base")
        raise typer.Exit(1)
    members = kb.group_members(group)
    records = kb.group_records(group)
    kev, epss = kb.kev(members), kb.epss(members)
    if as_json:
        out = {"group": group, "ids": members, "records": [asdict(r) for r in records],
               "kev": [asdict(k) for k in kev.values()], "epss": [asdict(e) for e in epss.values()]}
        sys.stdout.write(json.dumps(out, indent=2, default=str) + "\n")
        return
    from rich.console import Console

    con = Console()
    con.print(f"[bold]{group}[/bold]  ids: {', '.join(members)}")
    for k in kev.values():
        con.print(f"  [red]CISA KEV[/red] {k.cve_id}: added {k.date_added}, due {k.due_date or '-'}, "
                  f"ransomware {k.ransomware_use or '-'}")
    for e in epss.values():
        con.print(f"  EPSS {e.cve_id}: {e.score:.4f} (percentile {e.percentile:.4f}, {e.score_date or '-'})")
    for r in records:
        state = f" [red]withdrawn {r.withdrawn:%Y-%m-%d}[/red]" if r.withdrawn else ""
        con.print(f"\n[bold]{r.id}[/bold] from {r.source}{state}: {r.summary or ''}")
        if r.aliases:
            con.print(f"  aliases: {', '.join(r.aliases)}")
        for s in r.severities:
            con.print(f"  severity {s.source} {s.type}: {s.rating or ''} {s.score if s.score is not None else ''} "
                      f"{s.vector or ''}".rstrip())
        for a in r.affected:
            fixed = ", ".join(a.fixed_versions()) or "-"
            extra = f", {len(a.versions)} versions listed" if a.versions else ""
            con.print(f"  {a.ecosystem} {a.name}: {a.status.value}, fixed {fixed}{extra}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
