"""``vulnhound scan TARGET`` (findings, CI gating) and ``vulnhound explain`` (why a finding exists)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from vulnhound.cli.sbom import TARGET_HELP, _progress, _write_atomic
from vulnhound.cli.sbom import scan as collect_inventory
from vulnhound.sources.interface import SourceError, ViewError
from vulnhound.sources.resolve import SourceOptions

SEVERITIES = ("UNTRIAGED", "INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
STALE_HOURS = 24 * 7
DEFAULT_IGNORE = ".vulnhoundignore.yaml"


class KnowledgeBaseMissing(Exception):
    pass


def check_schema(url: str) -> None:
    """Refuse, with what to do, a knowledge base that is missing or from a schema this version cannot read.

    An older schema this version knows is upgraded by ``open_kb``; one with no schema version or an unknown
    (newer) one is never touched.
    """
    from vulnhound.advisories.store.engine import create_engine

    engine = create_engine(url)
    try:
        _check_schema(engine, url)
    finally:
        engine.dispose()


def _check_schema(engine: Any, url: str) -> None:
    # The usual case costs one query (the version stamp equals this vulnhound's head); Alembic and the schema
    # inspector are only loaded to explain a knowledge base that is not at the head.
    import sqlalchemy as sa

    from vulnhound.advisories.store.engine import HEAD, MIGRATIONS, schema_stamp, sqlite_path

    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise KnowledgeBaseMissing(
            f"no knowledge base at {path}: run `vulnhound db update` (or `vulnhound db update --mirror DIR` for an "
            "offline mirror, or `vulnhound db import-bundle FILE`), or point --db/VULNHOUND_DB at one.")
    try:
        current = schema_stamp(engine)
        if current == HEAD:
            return
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
    except Exception as exc:  # not a database at all, or unreachable: name it and stop
        raise KnowledgeBaseMissing(f"cannot read the knowledge base at {url}: {exc}") from None
    if current is None and tables:
        raise KnowledgeBaseMissing(
            f"{url} holds tables ({', '.join(sorted(tables)[:5])}) but no vulnhound schema version: it is not a "
            "vulnhound knowledge base, or one from before versioned schemas. Rebuild it with `vulnhound db update` "
            "into a new file (--db).")
    from alembic.script import ScriptDirectory

    known = {rev.revision for rev in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
    if current is not None and current not in known:
        raise KnowledgeBaseMissing(
            f"the knowledge base at {url} has schema revision {current}, unknown to this vulnhound (it reads up to "
            f"{HEAD}): it was written by a newer or foreign version. Upgrade vulnhound, or rebuild the knowledge "
            "base with `vulnhound db update --db NEWFILE`.")


def open_index(db: str | None) -> tuple[Any, dict[str, Any], list[str]]:
    """(index, knowledge-base facts for the report, warnings). Raises KnowledgeBaseMissing with what to do."""
    from vulnhound.advisories.store import KnowledgeBase
    from vulnhound.advisories.store.engine import create_engine, migrate, resolve_url
    from vulnhound.matching.index import StoreIndex

    url = resolve_url(db)
    engine = create_engine(url)  # one engine for the check and the scan
    try:
        _check_schema(engine, url)
    except KnowledgeBaseMissing:
        engine.dispose()
        raise
    try:
        migrate(engine)  # an older schema this version knows; a no-op (the same one query) at the head
        kb = KnowledgeBase(engine)
        status = kb.status()
    except Exception as exc:  # an unreadable or foreign database: say which and how to fix it
        engine.dispose()
        raise KnowledgeBaseMissing(
            f"cannot open the knowledge base at {url}: {exc}. Rebuild it with `vulnhound db update` "
            "(or `vulnhound db update --mirror DIR`), or point --db/VULNHOUND_DB at a valid one.") from None
    if not status or not any(s.record_count for s in status):
        raise KnowledgeBaseMissing(
            f"the knowledge base at {url} is empty: run `vulnhound db update` (or `vulnhound db update --mirror DIR` "
            "for an offline mirror, or `vulnhound db import-bundle FILE`) first.")
    warnings = []
    stale = [s.name for s in status if s.age_hours is not None and s.age_hours > STALE_HOURS]
    if stale:
        warnings.append(f"knowledge base sources older than {STALE_HOURS // 24} days: {', '.join(stale)}; "
                        "run `vulnhound db update` for current advisories")
    facts = {"database": url.split("@")[-1],
             "sources": {s.name: {"lastUpdate": s.last_update, "records": s.record_count, "lastOperation": s.last_op}
                         for s in status}}
    return StoreIndex(kb), facts, warnings


def scan(
    target: str = typer.Argument(..., help=TARGET_HELP),
    fmt: str = typer.Option("table", "--format", "-f", help="table|json|sarif|cyclonedx|openvex|csv"),
    output: str | None = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout."),
    severity: str | None = typer.Option(None, "--severity", help="Only these severities, e.g. HIGH,CRITICAL."),
    ignore_unfixed: bool = typer.Option(False, "--ignore-unfixed", help="Hide findings with no fixed version."),
    vendor_status: str | None = typer.Option(
        None, "--vendor-status", help="Only these vendor statuses, e.g. fixed,unfixed (no-dsa, ignored, ...)."),
    fail_on: str | None = typer.Option(None, "--fail-on", help="Exit non-zero when a finding is at least SEVERITY."),
    exit_code: int = typer.Option(1, "--exit-code", help="The exit code --fail-on uses."),
    ignore_file: Path | None = typer.Option(None, "--ignore-file", help=f"Ignore file (default: ./{DEFAULT_IGNORE})."),
    vex: list[Path] = typer.Option([], "--vex", help="OpenVEX or CycloneDX VEX document (repeatable)."),
    show_suppressed: bool = typer.Option(False, "--show-suppressed", help="List suppressed findings with reasons."),
    db: str | None = typer.Option(None, "--db", envvar="VULNHOUND_DB", help="Knowledge base path or URL."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress or warnings on stderr."),
    platform: str = typer.Option("linux/amd64", "--platform", help="Platform to pick from a multi-platform image."),
    insecure: bool = typer.Option(False, "--insecure", help="Plain HTTP / unverified TLS for registries."),
    layer: list[str] = typer.Option([], "--layer", help="Extra function layer zip (repeatable)."),
    runtime: str | None = typer.Option(None, "--runtime", help="Function runtime, e.g. python3.12."),
    no_verify: bool = typer.Option(False, "--no-verify", help="Skip sha256 checks of image layers (faster on big "
                                                             "local archives; a tampered layer goes unnoticed)."),
    server: str | None = typer.Option(None, "--server", help="Upload the inventory to this vulnhound server "
                                                             "(matched there) instead of matching here."),
    api_key: str | None = typer.Option(None, "--api-key", envvar="VULNHOUND_API_KEY", help="API key for --server."),
) -> None:
    """Scan TARGET for vulnerabilities: inventory, match against the knowledge base, report."""
    if server:
        from vulnhound.cli.remote import push_scan

        push_scan(server, api_key, target, SourceOptions(platform=platform, insecure=insecure, layers=list(layer),
                                                         runtime=runtime, verify_digests=not no_verify))
        return
    from vulnhound.exports.findings_formats import FORMATS, ScanReport, render
    from vulnhound.findings import suppress
    from vulnhound.matching.matcher import match_inventory

    if fmt not in FORMATS:
        _fail(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}", 2)
    wanted_sev = _severity_list(severity)
    if fail_on and fail_on.upper() not in SEVERITIES:
        _fail(f"--fail-on must be one of {', '.join(SEVERITIES)}", 2)
    rules = _load_rules(ignore_file, vex)
    try:
        index, facts, warnings = open_index(db)
    except KnowledgeBaseMissing as exc:
        _fail(str(exc), 3)
    opts = SourceOptions(platform=platform, insecure=insecure, layers=list(layer), runtime=runtime,
                         verify_digests=not no_verify)
    try:
        with _progress(f"Scanning {target}", enabled=not quiet and sys.stderr.isatty()):
            # Installed files let the inventory mark language packages the OS package manager owns.
            inv = collect_inventory(target, opts, include_files=True)
            result = match_inventory(inv, index, resource_id=inv.source.digest or target)
    except SourceError as exc:
        _fail(str(exc), 2)
    except (ViewError, OSError) as exc:
        _fail(f"{target}: {exc}", 1)
    findings = result.findings
    if wanted_sev:
        findings = [f for f in findings if f.severity.value in wanted_sev]
    if ignore_unfixed:
        findings = [f for f in findings if f.fix_available.value != "NO"]
    if vendor_status:
        statuses = {s.strip().lower() for s in vendor_status.split(",")}
        findings = [f for f in findings if f.package is not None and f.package.vendor_status in statuses]
    findings, suppressed = suppress.apply(findings, rules)
    warnings = [*warnings, *result.warnings]
    rep = ScanReport(inv, findings, result.unmatched, warnings, suppressed, facts)
    text = render(rep, fmt, show_suppressed=show_suppressed)
    if output:
        _write_atomic(output, text)
    else:
        sys.stdout.write(text)
    if not quiet:
        for w in warnings:
            typer.echo(f"warning: {w}", err=True)
        if result.unmatched:
            typer.echo(f"note: {len(result.unmatched)} package/advisory pair(s) could not be decided "
                       "(see 'unmatched' in --format json)", err=True)
    if fail_on:
        floor = SEVERITIES.index(fail_on.upper())
        if any(SEVERITIES.index(f.severity.value) >= floor and f.severity.value != "UNTRIAGED" for f in findings):
            raise typer.Exit(exit_code)


def explain(
    source: str = typer.Argument(..., help="A scan report (scan --format json) or a target to scan."),
    ident: str = typer.Argument(..., help="A finding id, or a vulnerability id / alias."),
    db: str | None = typer.Option(None, "--db", envvar="VULNHOUND_DB", help="Knowledge base path or URL."),
) -> None:
    """Explain in plain words why a finding exists: the record, the versions compared and the rule."""
    path = Path(source)
    if path.is_file() and path.suffix == ".json":
        doc = json.loads(path.read_text())
        findings = [*doc.get("findings", []), *doc.get("suppressed", [])]
    else:
        from vulnhound.exports.findings_json import finding_to_wire
        from vulnhound.matching.matcher import match_inventory

        try:
            index, _, _ = open_index(db)
        except KnowledgeBaseMissing as exc:
            _fail(str(exc), 3)
        inv = collect_inventory(source, SourceOptions(), include_files=True)
        findings = [finding_to_wire(f) for f in match_inventory(inv, index).findings]
    hits = [f for f in findings if ident in _ids_of(f)]
    if not hits:
        _fail(f"no finding {ident} in {source}", 1)
    for f in hits:
        typer.echo(explain_text(f))


def _ids_of(f: dict[str, Any]) -> set[str]:
    d = f.get("packageVulnerabilityDetails") or {}
    check = (f.get("details") or {}).get("checkId")
    return {f["findingId"], *([d["vulnerabilityId"], *d["aliases"]] if d else []), *([check] if check else [])}


def explain_text(f: dict[str, Any]) -> str:
    if "packageVulnerabilityDetails" not in f:
        return (f"{f['title']} [{f['severity']}, {f['type']}] — finding {f['findingId']}\n  {f['description']}\n"
                f"  Fix: {f['remediation']['recommendation']['text']}")
    d = f["packageVulnerabilityDetails"]
    vp = d["vulnerablePackages"][0]
    lines = [f"{f['title']} [{f['severity']}, risk score {f['riskScore']}] — finding {f['findingId']}",
             f"  Package: {vp['name']} {vp['version']} ({vp['packageManager'] or '?'}) at {vp['filePath'] or '?'}"
             + (f", layer {vp['sourceLayerHash']}" if vp.get("sourceLayerHash") else "")]
    for p in d["provenance"]:
        op = f", knowledge-base update #{p['updateOperation']}" if p.get("updateOperation") else ""
        lines.append(f"  Matched because record {p['advisoryId']} (source {p['advisorySource']}{op}) lists "
                     f"{p['packageName']} in {p['ecosystem']}, and {p['rule']}.")
        status = p["vendorStatus"] + (f" ({p['vendorStatusReason']})" if p.get("vendorStatusReason") else "")
        lines.append(f"  Vendor status: {status}.")
    lines.append(f"  Also known as: {', '.join(d['aliases']) or 'no aliases'}.")
    lines.append(f"  Severity {f['severity']} comes from {f['severitySource']}; every rating: " + "; ".join(
        f"{r['source']} {r.get('rating') or ''} {r.get('score') or ''} {r.get('vector') or ''}".strip()
        for r in f["severityRatings"]) + ".")
    lines.append(f"  Fix: {vp['fixedInVersion']} — {vp['remediation']}")
    if f.get("kev"):
        lines.append(f"  Known exploited (CISA KEV) since {f['kev']['dateAdded']}, due {f['kev']['dueDate']}.")
    if f.get("epss"):
        lines.append(f"  EPSS {f['epss']['score']:.4f} (percentile {f['epss']['percentile']:.2f}).")
    if f.get("suppressedBy"):
        lines.append(f"  Suppressed: {f['suppressedBy']}")
    return "\n".join(lines)


def _severity_list(value: str | None) -> set[str]:
    if not value:
        return set()
    out = {s.strip().upper() for s in value.split(",") if s.strip()}
    bad = out - set(SEVERITIES)
    if bad:
        _fail(f"--severity: unknown {', '.join(sorted(bad))}; use {', '.join(SEVERITIES)}", 2)
    return out


def _load_rules(ignore_file: Path | None, vex: list[Path]) -> list[Any]:
    from vulnhound.findings import suppress

    rules: list[Any] = []
    path = ignore_file or (Path(DEFAULT_IGNORE) if Path(DEFAULT_IGNORE).exists() else None)
    try:
        if path is not None:
            if not path.exists():
                _fail(f"ignore file {path} does not exist", 2)
            rules += suppress.load_ignore_file(path)
        for v in vex:
            rules += suppress.load_vex(v)
    except suppress.SuppressionError as exc:
        _fail(str(exc), 2)
    return rules


def _fail(message: str, code: int) -> Any:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
    app.command("explain")(explain)
