"""nodejs/security-wg ``vuln/``: ``npm/*.json`` (ecosystem npm), ``core/*.json`` (Node.js itself), ``deps/*.json``.

Ids follow the working group's own scheme: NSWG-ECO-<n> (npm), NSWG-COR-<n> (core), NSWG-DEP-<n> (deps).
Node core is not an npm package: it gets ecosystem ``Node.js``, name ``node`` (purl ``pkg:generic/node``), SEMVER
ranges = ``vulnerable`` minus ``patched`` — for the matcher to use against a detected node binary. ``deps/``
entries say a CVE in a bundled dependency does not affect Node.js: NOT_AFFECTED with the reason kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vulnhound.advisories.feeds.common import TarballFeed, parse_when, read_json, score, snapshot_root
from vulnhound.advisories.feeds.requirements import (
    SEMVER,
    Interval,
    RequirementError,
    complement,
    intersect,
    npm_range,
    to_events,
)
from vulnhound.advisories.model import (
    Advisory,
    Affected,
    ParsedItem,
    Range,
    RangeType,
    Reference,
    Reject,
    Severity,
    VendorStatus,
)
from vulnhound.advisories.severity import vendor_rating

NAME = "nodejs-security-wg"
CORE_ECOSYSTEM = "Node.js"


def _ranges(vulnerable: Any, patched: Any) -> tuple[Range, ...]:
    """Affected = vulnerable ∖ patched (either may be missing); raises RequirementError."""
    affected: list[Interval] = [Interval(None, None)]
    if isinstance(vulnerable, str) and vulnerable.strip():
        affected = npm_range(vulnerable)
    if isinstance(patched, str) and patched.strip():
        affected = intersect(affected, complement(npm_range(patched), SEMVER), SEMVER)
    if not affected:
        raise RequirementError(f"no affected versions left from {vulnerable!r} minus {patched!r}")
    # One OSV range per interval keeps each event list trivially ordered.
    return tuple(Range(RangeType.SEMVER, to_events([iv], SEMVER)) for iv in affected)


def _cvss(doc: dict[str, Any], location: str) -> tuple[tuple[Severity, ...], list[Reject]]:
    vector = doc.get("cvss_vector") or doc.get("cvss")
    if not isinstance(vector, str) or not vector.startswith("CVSS:"):
        return (), []
    scored = score(vector, NAME, NAME, location)
    return ((), [scored]) if isinstance(scored, Reject) else ((scored,), [])


def parse_npm(doc: Any, location: str, num: str) -> list[ParsedItem]:
    if not isinstance(doc, dict) or not isinstance(doc.get("module_name"), str):
        return [Reject(NAME, location, "npm entry without module_name")]
    try:
        ranges = _ranges(doc.get("vulnerable_versions"), doc.get("patched_versions"))
    except RequirementError as exc:
        return [Reject(NAME, location, f"unparseable range: {exc}")]
    severities, rejects = _cvss(doc, location)
    name = doc["module_name"]
    return [
        Advisory(
            id=f"NSWG-ECO-{num}",
            source=NAME,
            aliases=tuple(c for c in doc.get("cves") or [] if isinstance(c, str)),
            summary=doc.get("title") or None,
            details="\n\n".join(p for p in (doc.get("overview"), doc.get("recommendation")) if p) or None,
            published=parse_when(doc.get("publish_date") or doc.get("created_at")),
            modified=parse_when(doc.get("updated_at")),
            references=tuple(Reference(u, "WEB") for u in doc.get("references") or [] if isinstance(u, str)),
            severities=severities,
            affected=[
                Affected(
                    ecosystem="npm",
                    name=name,
                    purl=f"pkg:npm/{name.replace('@', '%40')}",
                    ranges=ranges,
                    severities=severities,
                    database_specific={
                        "vulnerable_versions": doc.get("vulnerable_versions"),
                        "patched_versions": doc.get("patched_versions"),
                    },
                )
            ],
        ),
        *rejects,
    ]


def parse_core(doc: Any, location: str, num: str) -> list[ParsedItem]:
    if not isinstance(doc, dict):
        return [Reject(NAME, location, "core entry is not an object")]
    try:
        ranges = _ranges(doc.get("vulnerable"), doc.get("patched"))
    except RequirementError as exc:
        return [Reject(NAME, location, f"unparseable range: {exc}")]
    severities, rejects = _cvss(doc, location)
    if isinstance(doc.get("severity"), str) and doc["severity"].strip():
        severities += (vendor_rating(doc["severity"], NAME),)
    cves = doc.get("cve") or []
    return [
        Advisory(
            id=f"NSWG-COR-{num}",
            source=NAME,
            aliases=tuple(c for c in cves if isinstance(c, str)),
            summary=doc.get("description") or None,
            details=(doc.get("overview") or "").strip() or None,
            published=parse_when(doc.get("publish_date")),
            references=(Reference(doc["ref"], "ADVISORY"),) if isinstance(doc.get("ref"), str) else (),
            severities=severities,
            affected=[
                Affected(
                    ecosystem=CORE_ECOSYSTEM,
                    name="node",
                    purl="pkg:generic/node",
                    ranges=ranges,
                    severities=severities,
                    database_specific={
                        "vulnerable": doc.get("vulnerable"),
                        "patched": doc.get("patched"),
                        "affectedEnvironments": doc.get("affectedEnvironments"),
                    },
                )
            ],
        ),
        *rejects,
    ]


def parse_dep(doc: Any, location: str, num: str) -> list[ParsedItem]:
    if not isinstance(doc, dict) or not doc.get("cve"):
        return [Reject(NAME, location, "deps entry without cve")]
    return [
        Advisory(
            id=f"NSWG-DEP-{num}",
            source=NAME,
            aliases=tuple(c for c in doc["cve"] if isinstance(c, str)),
            summary=doc.get("description") or None,
            details=doc.get("overview") or None,
            references=(Reference(doc["ref"], "ADVISORY"),) if isinstance(doc.get("ref"), str) else (),
            affected=[
                Affected(
                    ecosystem=CORE_ECOSYSTEM,
                    name="node",
                    purl="pkg:generic/node",
                    status=VendorStatus.NOT_AFFECTED,
                    status_reason=doc.get("reason") or None,
                )
            ],
        )
    ]


_KINDS = {"npm": parse_npm, "core": parse_core, "deps": parse_dep}


class NodejsSecurityWgFeed(TarballFeed):
    """github.com/nodejs/security-wg (main tarball; only ``vuln/`` is read) or a checkout of it."""

    name = NAME
    url = "https://github.com/nodejs/security-wg/archive/refs/heads/main.tar.gz"

    def parse(self, snapshot: Path) -> Iterator[ParsedItem]:
        root = snapshot_root(snapshot, "vuln")
        for kind, parser in _KINDS.items():
            files = [p for p in (root / "vuln" / kind).glob("*.json") if p.stem.isdigit()]
            for path in sorted(files, key=lambda p: int(p.stem)):
                location = path.relative_to(root).as_posix()
                doc = read_json(path, NAME, location)
                if isinstance(doc, Reject):
                    yield doc
                else:
                    yield from parser(doc, location, path.stem)

    @classmethod
    def detect(cls, path: Path) -> bool:
        if not path.is_dir():
            return False
        # Strict (no look one level down): a corpus root holding a checkout must not be claimed whole.
        return (path / "vuln" / "npm").is_dir() and (path / "vuln" / "core").is_dir()
