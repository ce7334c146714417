"""``vulnhound remote``: drive a vulnhound server over its REST API (resources, scans, findings, suppressions,
coverage), and ``upload_inventory`` — the push path ``vulnhound scan --server`` and host agents use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

remote = typer.Typer(help="Drive a remote vulnhound server (needs --server and --api-key).", no_args_is_help=True)
resources_app = typer.Typer(help="Resources: hosts, container images, functions, SBOMs.", no_args_is_help=True)
findings_app = typer.Typer(help="Findings.", no_args_is_help=True)
suppressions_app = typer.Typer(help="Suppression rules.", no_args_is_help=True)
remote.add_typer(resources_app, name="resources")
remote.add_typer(findings_app, name="findings")
remote.add_typer(suppressions_app, name="suppressions")

FILTER_HELP = ("FIELD=VALUE (equals), FIELD!=VALUE, FIELD^=PREFIX, FIELD>=NUMBER|DATE, FIELD<=NUMBER|DATE, "
               "tag:KEY=VALUE; fields as in the API's filterCriteria plus packageName/packageVersion; repeatable.")
NUMBER_FIELDS = ("epssScore", "riskScore")
DATE_FIELDS = ("firstObservedAt", "lastObservedAt", "updatedAt")


class RemoteError(Exception):
    pass


class Client:
    def __init__(self, server: str, api_key: str, timeout: float = 300.0) -> None:
        import httpx

        self.http = httpx.Client(base_url=server.rstrip("/"), timeout=timeout,
                                 headers={"Authorization": f"Bearer {api_key}"})

    def call(self, method: str, path: str, **kw: Any) -> Any:
        import httpx

        try:
            r = self.http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach {self.http.base_url}: {exc}") from None
        if r.status_code >= 400:
            try:
                doc = r.json()
                detail = f"{doc.get('title')}: {doc.get('detail')}"
                detail += "".join(f"\n  {e.get('field')}: {e.get('message')}" for e in doc.get("errors", []))
            except ValueError:
                detail = r.text[:500]
            raise RemoteError(f"HTTP {r.status_code} {detail}")
        if r.status_code == 204:
            return None
        return r.json() if r.headers.get("content-type", "").split(";")[0].endswith("json") else r.text


def _client(ctx: typer.Context) -> Client:
    client: Client = ctx.obj
    return client


def _run(fn: Any, *args: Any, **kw: Any) -> Any:
    try:
        return fn(*args, **kw)
    except RemoteError as exc:
        typer.echo(f"vulnhound remote: {exc}", err=True)
        raise typer.Exit(1) from None


def _print(doc: Any) -> None:
    typer.echo(json.dumps(doc, indent=2))


@remote.callback()
def _options(
    ctx: typer.Context,
    server: str = typer.Option(..., "--server", envvar="VULNHOUND_SERVER", help="Server URL, e.g. http://host:8080."),
    api_key: str = typer.Option(..., "--api-key", envvar="VULNHOUND_API_KEY", help="API key."),
) -> None:
    ctx.obj = Client(server, api_key)


OPERATORS = (("!=", "NOT_EQUALS"), ("^=", "PREFIX"), (">=", "lower"), ("<=", "upper"), ("=", "EQUALS"))


def _split(item: str) -> tuple[str, str, str]:
    for op, comparison in OPERATORS:
        field, sep, value = item.partition(op)
        if sep:
            return field.strip(), comparison, value
    raise ValueError(f"--filter {item!r}: use FIELD=VALUE, FIELD!=VALUE, FIELD^=PREFIX, FIELD>=N, FIELD<=N")


def parse_filters(items: list[str]) -> dict[str, Any]:
    """``--filter`` strings to a filterCriteria document; raises ValueError naming the bad one."""
    crit: dict[str, list[Any]] = {}
    for item in items:
        field, comparison, value = _split(item)
        if field.startswith("tag:"):
            crit.setdefault("resourceTags", []).append({"comparison": "EQUALS", "key": field[4:], "value": value})
        elif comparison in ("lower", "upper"):
            if field in NUMBER_FIELDS:
                key = "lowerInclusive" if comparison == "lower" else "upperInclusive"
                crit.setdefault(field, []).append({key: float(value)})
            elif field in DATE_FIELDS:
                key = "startInclusive" if comparison == "lower" else "endInclusive"
                crit.setdefault(field, []).append({key: value})
            else:
                raise ValueError(f"--filter {item!r}: >= and <= work on {', '.join(NUMBER_FIELDS + DATE_FIELDS)}")
        elif field in ("packageName", "packageVersion"):
            part = "name" if field == "packageName" else "version"
            crit.setdefault("vulnerablePackages", []).append({part: {"comparison": comparison, "value": value}})
        else:
            crit.setdefault(field, []).append({"comparison": comparison, "value": value})
    return crit


def _tags(items: list[str]) -> dict[str, str]:
    return {k: v for k, _, v in (t.partition("=") for t in items)}


@resources_app.command("add")
def resources_add(
    ctx: typer.Context,
    rtype: str = typer.Argument(..., metavar="TYPE", help="HOST, CONTAINER_IMAGE, FUNCTION or SBOM."),
    name: str = typer.Argument(..., help="Host name, image repository, function name."),
    tag: list[str] = typer.Option([], "--tag", help="KEY=VALUE (repeatable)."),
    digest: str | None = typer.Option(None, "--digest", help="Image digest (sha256:...)."),
    image_tag: list[str] = typer.Option([], "--image-tag", help="Image tag (repeatable)."),
) -> None:
    """Register a resource; prints it (with its resourceId)."""
    details: dict[str, Any] = {}
    if digest:
        details["imageDigest"] = digest
    if image_tag:
        details["imageTags"] = image_tag
    body = {"type": rtype.upper(), "name": name, "details": details, "tags": _tags(tag)}
    _print(_run(_client(ctx).call, "POST", "/v1/resources", json=body))


@resources_app.command("list")
def resources_list(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """List resources with their scan status."""
    doc = _run(_client(ctx).call, "GET", "/v1/resources")
    if as_json:
        _print(doc)
        return
    for r in doc["resources"]:
        st = r["scanStatus"]
        typer.echo(f"{r['resourceId']}  {r['type']:<15} {st['statusCode']:<8} {st['reason']:<20} {r['name']}")


@resources_app.command("delete")
def resources_delete(ctx: typer.Context, resource_id: str) -> None:
    """Delete a resource; its open findings close (RESOURCE_DELETED)."""
    _run(_client(ctx).call, "DELETE", f"/v1/resources/{resource_id}")


@remote.command("scan")
def scan(
    ctx: typer.Context,
    resource_id: str = typer.Argument(..., help="The resource to scan."),
    target: str | None = typer.Option(None, "--target", help="Have the server collect this target (under its "
                                                              "--scan-root)."),
    local: str | None = typer.Option(None, "--local", help="Collect this target here and upload the inventory."),
    inventory: Path | None = typer.Option(None, "--inventory", help="Upload this inventory JSON file."),
) -> None:
    """Scan a resource: server-side (--target), collected here (--local) or a ready inventory (--inventory)."""
    if sum(x is not None for x in (target, local, inventory)) != 1:
        typer.echo("vulnhound remote scan: give exactly one of --target, --local, --inventory", err=True)
        raise typer.Exit(2)
    client = _client(ctx)
    if target:
        _print(_run(client.call, "POST", "/v1/scans", json={"resourceId": resource_id, "target": target}))
        return
    if local:
        doc = _collect(local)
    else:
        assert inventory is not None
        doc = json.loads(inventory.read_text("utf-8"))
    _print(_run(client.call, "POST", f"/v1/resources/{resource_id}/inventory", json=doc))


def _collect(target: str) -> dict[str, Any]:
    from vulnhound.exports.inventory_json import to_wire
    from vulnhound.inventory.build import build_inventory
    from vulnhound.sources.resolve import open_source

    with open_source(target) as src:
        return to_wire(build_inventory(src))


@findings_app.command("list")
def findings_list(
    ctx: typer.Context,
    filters: list[str] = typer.Option([], "--filter", help=FILTER_HELP),
    sort: str = typer.Option("SEVERITY", "--sort", help="SEVERITY, RISK_SCORE, LAST_OBSERVED_AT, ..."),
    order: str = typer.Option("DESC", "--order", help="ASC or DESC."),
    limit: int = typer.Option(1000, "--limit", help="Stop after this many findings."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """List findings matching the filters (all pages, up to --limit)."""
    try:
        crit = parse_filters(filters)
    except ValueError as exc:
        typer.echo(f"vulnhound remote: {exc}", err=True)
        raise typer.Exit(2) from None
    out: list[dict[str, Any]] = []
    token = None
    while len(out) < limit:
        body: dict[str, Any] = {"filterCriteria": crit, "sortCriteria": {"field": sort, "sortOrder": order},
                                "maxResults": min(100, limit - len(out))}
        if token:
            body["nextToken"] = token
        page = _run(_client(ctx).call, "POST", "/v1/findings/list", json=body)
        out += page["findings"]
        token = page["nextToken"]
        if not token:
            break
    if as_json:
        _print({"findings": out})
        return
    for f in out:
        typer.echo(f"{f['findingId']}  {f['status']:<10} {f['severity']:<13} {f['riskScore']:>5}  {f['title']}")


@findings_app.command("history")
def findings_history(ctx: typer.Context, finding_id: str) -> None:
    """Every status change of a finding."""
    _print(_run(_client(ctx).call, "GET", f"/v1/findings/{finding_id}/history"))


@suppressions_app.command("create")
def suppressions_create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Rule name ([A-Za-z0-9._-])."),
    filters: list[str] = typer.Option(..., "--filter", help=FILTER_HELP),
    reason: str | None = typer.Option(None, "--reason"),
    expires: str | None = typer.Option(None, "--expires", help="ISO date after which the rule lapses."),
) -> None:
    """Create a suppression rule; matching findings become SUPPRESSED at once."""
    try:
        crit = parse_filters(filters)
    except ValueError as exc:
        typer.echo(f"vulnhound remote: {exc}", err=True)
        raise typer.Exit(2) from None
    body = {"name": name, "action": "SUPPRESS", "filterCriteria": crit, "reason": reason, "expiresAt": expires}
    _print(_run(_client(ctx).call, "POST", "/v1/filters", json=body))


@suppressions_app.command("list")
def suppressions_list(ctx: typer.Context) -> None:
    _print(_run(_client(ctx).call, "GET", "/v1/filters", params={"action": "SUPPRESS"}))


@suppressions_app.command("delete")
def suppressions_delete(ctx: typer.Context, filter_id: str) -> None:
    """Delete a rule; the findings it suppressed become ACTIVE again."""
    _print(_run(_client(ctx).call, "DELETE", f"/v1/filters/{filter_id}"))


@remote.command("coverage")
def coverage(ctx: typer.Context, as_json: bool = typer.Option(False, "--json")) -> None:
    """Scan status of every resource."""
    doc = _run(_client(ctx).call, "GET", "/v1/coverage")
    if as_json:
        _print(doc)
        return
    for c in doc["coveredResources"]:
        st = c["scanStatus"]
        typer.echo(f"{c['resourceId']}  {c['resourceType']:<15} {st['statusCode']:<8} {st['reason']:<20} "
                   f"{c['lastScannedAt'] or '-':<28} {c['name']}")


def upload_inventory(server: str, api_key: str, doc: dict[str, Any], resource_type: str, name: str,
                     details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Push an inventory document for the resource (type, name), registering it first if needed; the scan result.

    Raises RemoteError with the server's reason.
    """
    client = Client(server, api_key)
    # By name on the server (a fleet has more resources than one page); an image is one digest of its repository.
    listed = client.call("GET", "/v1/resources", params={"type": resource_type, "name": name})["resources"]
    digest = (details or {}).get("imageDigest")
    match = [r for r in listed if resource_type != "CONTAINER_IMAGE" or r["details"].get("imageDigest") == digest]
    if match:
        rid = match[0]["resourceId"]
    else:
        rid = client.call("POST", "/v1/resources", json={"type": resource_type, "name": name,
                                                          "details": details or {}})["resourceId"]
    result: dict[str, Any] = client.call("POST", f"/v1/resources/{rid}/inventory", json=doc)
    return result


def resource_for(target: str, inv: Any) -> tuple[str, str, dict[str, Any]]:
    """(resource type, name, details) a pushed target registers as: the host name, image repository, zip name."""
    import socket

    from vulnhound.sources.resolve import split_target

    kind, rest = split_target(target)
    kind = kind or inv.source.kind
    if kind in ("oci-dir", "oci-archive", "docker-archive", "registry", "image"):
        tags = list(inv.source.repo_tags)
        name = tags[0].rsplit(":", 1)[0] if tags else rest
        details = {"imageDigest": inv.source.digest, "imageTags": tags} if inv.source.digest else {"imageTags": tags}
        return "CONTAINER_IMAGE", name, details
    if kind in ("zip", "function"):
        return "FUNCTION", Path(rest).stem, {}
    if kind == "sbom":
        return "SBOM", Path(rest).name, {}
    if kind == "host":
        return "HOST", socket.gethostname(), {}
    return "HOST", Path(rest).resolve().name or rest, {}


def push_scan(server: str, api_key: str | None, target: str, opts: Any) -> None:
    """``vulnhound scan --server URL TARGET``: collect here, upload, print the server's scan result."""
    from vulnhound.cli.sbom import scan as collect
    from vulnhound.exports.inventory_json import to_wire

    if not api_key:
        typer.echo("vulnhound scan: --server needs --api-key (or VULNHOUND_API_KEY)", err=True)
        raise typer.Exit(2)
    from vulnhound.sources.interface import SourceError, ViewError

    try:
        inv = collect(target, opts, include_files=True)  # file lists mark OS-owned language packages
    except (SourceError, ViewError, OSError) as exc:
        typer.echo(f"vulnhound scan: {target}: {exc}", err=True)
        raise typer.Exit(2) from None
    rtype, name, details = resource_for(target, inv)
    result = _run(upload_inventory, server, api_key, to_wire(inv), rtype, name, details)
    _print(result)


def register(app: typer.Typer) -> None:
    app.add_typer(remote, name="remote")


