"""The matcher: inventory × knowledge base → findings, each carrying the reason it matched.

Prefilter by (ecosystem, name) through the index, then an authoritative check of every candidate range with
the ecosystem's version scheme — compiled per name (``compiled.py``), with ``ranges.evaluate`` as the reference for
anything out of the ordinary. One finding per (vulnerability group, package instance).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from vulnhound.advisories.model import Advisory, EpssScore, KevEntry, Severity, VendorStatus
from vulnhound.findings.model import (
    CvssEntry,
    Finding,
    FindingType,
    FixAvailable,
    PackageVulnerabilityDetails,
    Provenance,
    SeverityLevel,
    Unmatched,
    VulnerablePackage,
)
from vulnhound.findings.remediation import remediation_for
from vulnhound.findings.scoring import choose_severity, level_of, risk_score
from vulnhound.inventory.model import Inventory, Package
from vulnhound.matching.compiled import NameTable, table_for
from vulnhound.matching.gcpause import gc_paused
from vulnhound.matching.index import AdvisoryIndex, Candidate
from vulnhound.matching.keys import LookupKey, Unsupported, distro_ecosystems, keys_for
from vulnhound.matching.ranges import evaluate
from vulnhound.matching.support import OS_TYPES, check_support
from vulnhound.matching.versions.interface import InvalidVersion
from vulnhound.matching.versions.registry import UnknownEcosystem, parse, scheme_for

UNFIXED_STATUSES = frozenset(
    {VendorStatus.UNFIXED, VendorStatus.NO_DSA, VendorStatus.IGNORED, VendorStatus.POSTPONED,
     VendorStatus.WONT_FIX, VendorStatus.END_OF_LIFE, VendorStatus.UNDETERMINED}
)
DISTRO_SOURCES_PREFIXES = ("debian", "ubuntu", "alpine", "osv:Debian", "osv:Ubuntu", "osv:Alpine", "osv:AlmaLinux",
                           "osv:Rocky", "almalinux", "rocky")


@dataclass(slots=True)
class Match:
    package: Package
    key: LookupKey
    candidate: Candidate
    reason: str
    fixed_version: str | None
    package_id: str  # ``Package.id`` hashes on every call: computed once per package


@dataclass(slots=True)
class MatchResult:
    findings: list[Finding] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)


def match_inventory(inv: Inventory, index: AdvisoryIndex, resource_id: str = "",
                    today: dt.date | None = None) -> MatchResult:
    """Every finding of ``inv``; undecidable package × advisory pairs land in ``unmatched`` with the reason."""
    result, matches = find_matches(inv, index, resource_id, today)
    result.findings += build_findings(matches, index, resource_id)
    result.stats["findings"] = len(result.findings)
    return result


def find_matches(inv: Inventory, index: AdvisoryIndex, resource_id: str = "",
                 today: dt.date | None = None) -> tuple[MatchResult, list[Match]]:
    """The prefilter (index lookup by ecosystem and name) and the authoritative range check; no findings yet."""
    with gc_paused():
        return _find_matches(inv, index, resource_id, today)


def _find_matches(inv: Inventory, index: AdvisoryIndex, resource_id: str,
                  today: dt.date | None) -> tuple[MatchResult, list[Match]]:
    result = MatchResult()
    has_os_packages = any(p.type in OS_TYPES for p in inv.packages)
    releases = index.distro_releases() if has_os_packages else []
    if has_os_packages:
        ecos = distro_ecosystems(inv.os, releases) if inv.os is not None else []
        support = check_support(inv.os, ecos, {e for e in ecos if index.has_ecosystem(e)}, releases, resource_id,
                                today)
        result.warnings += support.warnings
        result.findings += support.findings
    pkg_keys: list[tuple[Package, str, LookupKey]] = []
    owned = 0
    for pkg in inv.packages:
        if pkg.os_owned_by and pkg.type not in OS_TYPES:
            owned += 1  # the owning OS package carries the distro's (backported) fixes; it is matched itself
            continue
        try:
            pid = pkg.id
            pkg_keys.extend((pkg, pid, key) for key in keys_for(pkg, inv.os, releases))
        except Unsupported as exc:
            if pkg.type not in OS_TYPES:  # OS packages of an unsupported release: one warning says it above
                result.unmatched.append(Unmatched(pkg.id, pkg.name, pkg.version, str(exc)))
    cands = index.candidates({(k.ecosystem, k.name) for _, _, k in pkg_keys})
    matches: list[Match] = []
    tables: dict[tuple[str, str], NameTable] = {}
    for pkg, pid, key in pkg_keys:
        cl = cands.get((key.ecosystem, key.name))
        if not cl:
            continue
        table = tables.get((key.ecosystem, key.name))
        if table is None:
            table = tables[(key.ecosystem, key.name)] = table_for(key.ecosystem, key.name, [c.affected for c in cl])
        hits = table.hits(key.version)
        if hits is None:  # the version is out of the ordinary for this name: the reference evaluator decides
            matches += [m for _, m in _evaluate_each(pkg, pid, key, cl, range(len(cl)), result.unmatched)]
        elif not table.slow:
            matches += [Match(pkg, key, cl[h.index], h.reason(key.version), h.fixed, pid) for h in hits]
        else:  # keep candidate order: a finding's provenance and primary record follow it
            found = [(h.index, Match(pkg, key, cl[h.index], h.reason(key.version), h.fixed, pid)) for h in hits]
            found += _evaluate_each(pkg, pid, key, cl, table.slow, result.unmatched)
            matches += [m for _, m in sorted(found, key=lambda im: im[0])]
    result.stats = {"packages": len(inv.packages), "lookups": len(pkg_keys), "osOwnedSkipped": owned,
                    "candidates": sum(len(v) for v in cands.values()), "matches": len(matches),
                    "unmatched": len(result.unmatched)}
    return result, matches


def _evaluate_each(pkg: Package, pid: str, key: LookupKey, cands: Sequence[Candidate], which: Iterable[int],
                   unmatched: list[Unmatched]) -> list[tuple[int, Match]]:
    """``ranges.evaluate`` on the candidates at ``which``: (index, match) pairs; undecided ones go to ``unmatched``."""
    out = []
    for i in which:
        cand = cands[i]
        verdict = evaluate(cand.affected, key.version, key.ecosystem)
        if verdict.affected is None:
            unmatched.append(Unmatched(pid, pkg.name, key.version, verdict.reason, cand.advisory.id))
        elif verdict.affected:
            out.append((i, Match(pkg, key, cand, verdict.reason, verdict.fixed_version, pid)))
    return out


def build_findings(matches: Sequence[Match], index: AdvisoryIndex, resource_id: str) -> list[Finding]:
    """One finding per (vulnerability group, package instance), with the group's records merged into it."""
    with gc_paused():
        return _build_findings(matches, index, resource_id)


def _build_findings(matches: Sequence[Match], index: AdvisoryIndex, resource_id: str) -> list[Finding]:
    ids = {m.candidate.advisory.id for m in matches}
    group_of = index.group_of(ids)
    by_group: dict[tuple[str, str], list[Match]] = {}
    for m in matches:
        aid = m.candidate.advisory.id
        by_group.setdefault((group_of.get(aid, aid), m.package_id), []).append(m)
    gids = {g for g, _ in by_group}
    records = index.group_records(gids)
    cves = {i for g in gids for r in records.get(g, []) for i in (r.id, *r.aliases) if i.startswith("CVE-")}
    cves |= {g for g in gids if g.startswith("CVE-")}
    kev = index.kev(cves)
    epss = index.epss(cves)
    # Many packages match the same records the same way (a fleet, versions of one package): what depends only on
    # the group and the matched entries is worked out once per distinct combination and shared by its findings.
    parts: dict[tuple[object, ...], _GroupPart] = {}
    fixes: dict[tuple[str, ...], str | None] = {}
    out = []
    for (gid, _), ms in by_group.items():
        pkg = ms[0].package
        # A candidate is one (record, affected entry) and lives as long as the matches: its id stands for both.
        key = (gid, pkg.type in _OS_TYPES, *[id(m.candidate) for m in ms])
        part = parts.get(key)
        if part is None:
            part = parts[key] = _group_part(gid, ms, records.get(gid, []), kev, epss, pkg)
        out.append(_finding(gid, ms, part, resource_id, index, fixes))
    out.sort(key=lambda f: (-_RANK[f.severity], -f.risk_score, f.title))
    return out


_OS_TYPES = ("deb", "rpm", "apk")
_RANK = {lvl: lvl.rank for lvl in SeverityLevel}
_STATUS_VALUE = {s: s.value for s in VendorStatus}


@dataclass(slots=True)
class _GroupPart:
    """The parts of a finding that depend on its group and matched entries only, not on the package instance."""

    source: str
    aliases: tuple[str, ...]
    related: tuple[str, ...]
    source_url: str | None
    reference_urls: tuple[str, ...]
    cwes: tuple[str, ...]
    vendor_severity: str | None
    cvss: list[CvssEntry]
    ratings: list[dict[str, object]]
    level: SeverityLevel
    severity_source: str
    risk_score: float
    kev: KevEntry | None
    epss: EpssScore | None
    status: str
    created_at: str | None
    updated_at: str | None
    description: str


def _group_part(gid: str, ms: list[Match], group: list[Advisory], kev: dict[str, KevEntry],
                epss: dict[str, EpssScore], pkg: Package) -> _GroupPart:
    full = {(a.source, a.id): a for a in group}
    # Candidates may carry light records (id and source only); the group's full records replace them.
    matched = [full.get((m.candidate.advisory.source, m.candidate.advisory.id), m.candidate.advisory) for m in ms]
    all_records = {(a.source, a.id): a for a in [*matched, *group]}.values()
    aliases = sorted({i for a in all_records for i in (a.id, *a.aliases)} - {gid})
    related = sorted({i for a in all_records for i in a.related})
    cve_ids = [i for i in (gid, *aliases) if i.startswith("CVE-")]

    buckets: dict[str, list[Severity]] = {"vendor": [], "ghsa": [], "nvd": [], "other": []}
    vendor, ghsa, nvd, other = buckets["vendor"], buckets["ghsa"], buckets["nvd"], buckets["other"]
    for a in all_records:
        sevs = [*a.severities, *(s for m in ms if (m.candidate.advisory.source, m.candidate.advisory.id) ==
                                 (a.source, a.id) for s in m.candidate.affected.severities)]
        for s in dict.fromkeys(sevs):
            buckets[_bucket(a, s, pkg)].append(s)
    chosen = choose_severity(vendor, ghsa, nvd, other)
    k = next((kev[c] for c in cve_ids if c in kev), None)
    e = max((epss[c] for c in cve_ids if c in epss), key=lambda s: s.score, default=None)
    status = _strongest_status({m.candidate.affected.status for m in ms})
    primary = _primary_record(gid, matched, group)
    rated = [*vendor, *ghsa, *nvd, *other]
    return _GroupPart(
        source=primary.source,
        aliases=tuple(aliases),
        related=tuple(related),
        source_url=primary.references[0].url if primary.references else None,
        reference_urls=tuple(sorted({r.url for a in all_records for r in a.references}))[:50],
        cwes=tuple(sorted({c for a in all_records for c in a.cwes})),
        vendor_severity=next((s.rating for s in vendor if s.rating), None),
        cvss=[CvssEntry(s.source, _cvss_version(s), s.vector or "", s.score or 0.0)
              for s in rated if s.vector and s.score is not None],
        ratings=[{"source": s.source, "type": s.type, "vector": s.vector, "score": s.score, "rating": s.rating,
                  "level": (lvl.value if (lvl := level_of(s)) else None)} for s in rated],
        level=chosen.level,
        severity_source=chosen.source,
        risk_score=risk_score(chosen.base_score, chosen.level, e, k),
        kev=k,
        epss=e,
        status=status.value,
        created_at=primary.published.isoformat() if primary.published else None,
        updated_at=primary.modified.isoformat() if primary.modified else None,
        description=(primary.summary or primary.details or _first_text(all_records) or "")[:4000],
    )


def _finding(gid: str, ms: list[Match], part: _GroupPart, resource_id: str, index: AdvisoryIndex,
             best_fix: dict[tuple[str, ...], str | None]) -> Finding:
    pkg = ms[0].package
    fixes = [m.fixed_version for m in ms]
    present = (ms[0].key.ecosystem, *[f for f in fixes if f])
    fixed = best_fix.get(present, "")
    if fixed == "":  # not worked out yet for these fixes (None is a valid answer)
        fixed = best_fix[present] = _best_fix(list(present[1:]), present[0])
    fix_available = FixAvailable.YES if all(fixes) else (FixAvailable.PARTIAL if any(fixes) else FixAvailable.NO)
    title_pkg = pkg.name if not pkg.source_name or pkg.source_name == pkg.name else f"{pkg.name}, {pkg.source_name}"
    remediation = remediation_for(pkg, fixed)
    fid = hashlib.sha256(f"{resource_id}\x00{gid}\x00{ms[0].package_id}".encode()).hexdigest()[:32]
    loc = pkg.locations[0] if pkg.locations else None
    details = PackageVulnerabilityDetails(
        vulnerability_id=gid,
        source=part.source,
        aliases=part.aliases,
        related=part.related,
        source_url=part.source_url,
        reference_urls=part.reference_urls,
        cwes=part.cwes,
        vendor_severity=part.vendor_severity,
        cvss=list(part.cvss),
        vulnerable_packages=[VulnerablePackage(
            name=pkg.name, version=pkg.version, epoch=pkg.epoch, release=pkg.release, arch=pkg.arch,
            package_manager=pkg.package_manager, purl=pkg.purl, file_path=loc.path if loc else None,
            source_layer_hash=loc.layer if loc else None, fixed_in_version=fixed or "NotAvailable",
            remediation=remediation, package_id=ms[0].package_id)],
        provenance=[Provenance(
            m.candidate.advisory.id, m.candidate.advisory.source, m.key.ecosystem, m.key.name, m.key.version,
            m.reason, _STATUS_VALUE[m.candidate.affected.status], m.candidate.affected.status_reason,
            m.candidate.operation or index.operation_of(m.candidate.advisory.source, m.candidate.advisory.id))
            for m in ms],
        vendor_status=part.status,
        vendor_created_at=part.created_at,
        vendor_updated_at=part.updated_at,
    )
    k, e = part.kev, part.epss
    return Finding(
        id=fid,
        type=FindingType.PACKAGE_VULNERABILITY,
        title=f"{gid} - {title_pkg}",
        description=part.description,
        severity=part.level,
        severity_source=part.severity_source,
        severity_ratings=[dict(r) for r in part.ratings],  # findings are mutable: none shares another's dicts
        risk_score=part.risk_score,
        fix_available=fix_available,
        exploit_available=k is not None,
        kev=None if k is None else {"cveId": k.cve_id, "dateAdded": k.date_added, "dueDate": k.due_date,
                                    "ransomwareUse": k.ransomware_use, "requiredAction": k.required_action},
        epss=None if e is None else {"score": e.score, "percentile": e.percentile, "date": e.score_date,
                                     "modelVersion": e.model_version},
        remediation=remediation,
        package=details,
    )


def _bucket(adv: Advisory, sev: Severity, pkg: Package) -> str:
    src = (sev.source or adv.source).lower()
    if pkg.type in _OS_TYPES and (src.startswith(DISTRO_SOURCES_PREFIXES) or
                                             adv.source.startswith(DISTRO_SOURCES_PREFIXES)):
        return "vendor"
    if "ghsa" in src or adv.id.startswith("GHSA-"):
        return "ghsa"
    if src.startswith("nvd") or adv.source == "nvd":
        return "nvd"
    return "other"


def _cvss_version(s: Severity) -> str:
    if s.vector and s.vector.startswith("CVSS:"):
        return s.vector.split("/", 1)[0][5:]
    return {"CVSS_V2": "2.0", "CVSS_V3": "3.1", "CVSS_V4": "4.0"}.get(s.type, "")


def _best_fix(fixes: list[str], ecosystem: str) -> str | None:
    """The lowest fix by the ecosystem's version scheme: the first version that leaves every matched range."""
    if not fixes:
        return None
    try:
        scheme = scheme_for(ecosystem).scheme
        return min(set(fixes), key=lambda f: parse(scheme, f))
    except (UnknownEcosystem, InvalidVersion):
        return sorted(set(fixes))[0]  # a bound the scheme cannot read already made the match undecided


def _strongest_status(statuses: set[VendorStatus]) -> VendorStatus:
    order = [VendorStatus.AFFECTED, VendorStatus.FIXED, VendorStatus.UNFIXED, VendorStatus.UNDETERMINED,
             VendorStatus.POSTPONED, VendorStatus.NO_DSA, VendorStatus.IGNORED, VendorStatus.WONT_FIX,
             VendorStatus.END_OF_LIFE]
    for s in order:
        if s in statuses:
            return s
    return next(iter(statuses))


def _primary_record(gid: str, matched: list[Advisory], group: list[Advisory]) -> Advisory:
    """The record that speaks for the finding: the matched record, else the group's namesake (for its text)."""
    texty = [a for a in matched if a.summary or a.details]
    return texty[0] if texty else next((a for a in group if a.id == gid and (a.summary or a.details)), matched[0])


def _first_text(records: Iterable[Advisory]) -> str | None:
    for a in records:
        if a.summary or a.details:
            return a.summary or a.details
    return None


__all__ = ["Match", "MatchResult", "SeverityLevel", "build_findings", "find_matches", "match_inventory"]
