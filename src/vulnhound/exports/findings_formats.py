"""Scan report formats beside the native JSON: table, SARIF 2.1.0, CycloneDX 1.6 VDR, OpenVEX, CSV."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from vulnhound import __version__
from vulnhound.exports.cyclonedx_out import build_bom
from vulnhound.exports.findings_json import render as render_json_doc
from vulnhound.exports.findings_json import report
from vulnhound.findings.model import Finding, SeverityLevel, Unmatched
from vulnhound.inventory.model import Inventory

FORMATS = ("table", "json", "sarif", "cyclonedx", "openvex", "csv")


class ScanReport:
    """Everything one ``vulnhound scan`` produced, ready to render."""

    def __init__(self, inv: Inventory, findings: list[Finding], unmatched: list[Unmatched], warnings: list[str],
                 suppressed: list[Finding], knowledge_base: dict[str, Any]) -> None:
        self.inv, self.findings, self.unmatched, self.warnings = inv, findings, unmatched, warnings
        self.suppressed, self.knowledge_base = suppressed, knowledge_base


def render(rep: ScanReport, fmt: str, show_suppressed: bool = False) -> str:
    renderers: dict[str, Callable[[ScanReport], str]] = {
        "json": lambda r: render_json_doc(report(r.inv, r.findings, r.unmatched, r.warnings, r.suppressed,
                                                 r.knowledge_base)),
        "table": lambda r: render_table(r, show_suppressed),
        "sarif": render_sarif,
        "cyclonedx": render_cyclonedx_vdr,
        "openvex": render_openvex,
        "csv": render_csv,
    }
    if fmt not in renderers:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    return renderers[fmt](rep)


# ---- table -------------------------------------------------------------------------------------------------

def render_table(rep: ScanReport, show_suppressed: bool = False, width: int = 160) -> str:
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, highlight=False)
    by_pkg: dict[str, list[Finding]] = {}
    platform = [f for f in rep.findings if f.package is None]
    for f in rep.findings:
        if f.package is None:
            continue
        vp = f.package.vulnerable_packages[0]
        # One group per package instance: two copies of one version (two venvs, two images' layers) stay apart.
        where = f"\n{vp.file_path}" if vp.file_path else ""
        by_pkg.setdefault(f"{vp.name} {vp.version}{where}", []).append(f)
    table = Table(show_lines=False, expand=False)
    for col in ("Package", "Vulnerability", "Severity", "Score", "Status", "Fixed in", "Aliases"):
        table.add_column(col, overflow="fold")
    for pkg in sorted(by_pkg):
        for i, f in enumerate(by_pkg[pkg]):
            assert f.package is not None
            vp = f.package.vulnerable_packages[0]
            table.add_row(pkg if i == 0 else "", f.package.vulnerability_id, f.severity.value, f"{f.risk_score:.1f}",
                          f.package.vendor_status, vp.fixed_in_version or "", ", ".join(f.package.aliases[:4]))
    if by_pkg:
        console.print(table)
    for f in platform:
        console.print(f"{f.severity.value}: {f.title} — {f.remediation}")
    for w in rep.warnings:
        console.print(f"warning: {w}")
    if show_suppressed and rep.suppressed:
        console.print("Suppressed:")
        for f in rep.suppressed:
            console.print(f"  {f.title}: {f.suppressed_by}")
    counts = {lvl: 0 for lvl in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNTRIAGED")}
    for f in rep.findings:
        counts[f.severity.value] += 1
    parts = ", ".join(f"{k}: {v}" for k, v in counts.items())
    console.print(f"{len(rep.findings)} findings in {len(by_pkg)} packages ({len(rep.inv.packages)} scanned) — "
                  f"{parts}; {len(rep.suppressed)} suppressed; {len(rep.unmatched)} unmatched")
    return buf.getvalue()


# ---- SARIF 2.1.0 -------------------------------------------------------------------------------------------

_SARIF_LEVEL = {SeverityLevel.CRITICAL: "error", SeverityLevel.HIGH: "error", SeverityLevel.MEDIUM: "warning",
                SeverityLevel.LOW: "note", SeverityLevel.INFORMATIONAL: "note", SeverityLevel.UNTRIAGED: "warning"}
_SECURITY_SEVERITY = {SeverityLevel.CRITICAL: "9.5", SeverityLevel.HIGH: "8.0", SeverityLevel.MEDIUM: "5.5",
                      SeverityLevel.LOW: "2.0", SeverityLevel.INFORMATIONAL: "0.0", SeverityLevel.UNTRIAGED: "5.0"}


def render_sarif(rep: ScanReport) -> str:
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for f in rep.findings:
        d = f.package
        if d is None:
            results.append(_sarif_platform(f, rules, rep.inv.source.target))
            continue
        vp = d.vulnerable_packages[0]
        rule_id = d.vulnerability_id
        rules.setdefault(rule_id, {
            "id": rule_id,
            "name": rule_id.replace("-", ""),
            "shortDescription": {"text": f.title[:1000]},
            "fullDescription": {"text": (f.description or f.title)[:3000]},
            "helpUri": d.source_url or f"https://osv.dev/vulnerability/{rule_id}",
            "help": {"text": f.remediation, "markdown": f"**Remediation:** {f.remediation}"},
            "properties": {"security-severity": f"{f.risk_score:.1f}" if f.risk_score else
                           _SECURITY_SEVERITY[f.severity], "tags": ["security", "vulnerability", f.severity.value]},
        })
        results.append({
            "ruleId": rule_id,
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f"{vp.name} {vp.version} is affected by {rule_id} ({f.severity.value}); "
                                f"fixed in {vp.fixed_in_version}. {d.provenance[0].rule if d.provenance else ''}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": vp.file_path or rep.inv.source.target}}}],
            "partialFingerprints": {"vulnhound/findingId": f.id},
            "properties": {"purl": vp.purl, "fixAvailable": f.fix_available.value, "aliases": list(d.aliases)},
        })
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "vulnhound", "version": __version__,
                                "informationUri": "https://github.com/vulnhound/vulnhound",
                                "rules": list(rules.values())}},
            "results": results,
        }],
    }
    return json.dumps(doc, indent=2) + "\n"


def _sarif_platform(f: Finding, rules: dict[str, dict[str, Any]], target: str) -> dict[str, Any]:
    rule_id = str(f.details.get("checkId") or f.type.value)
    rules.setdefault(rule_id, {
        "id": rule_id, "name": rule_id.replace("-", ""), "shortDescription": {"text": f.title[:1000]},
        "fullDescription": {"text": f.description[:3000]}, "help": {"text": f.remediation},
        "properties": {"security-severity": f"{f.risk_score:.1f}", "tags": ["security", f.type.value]},
    })
    return {"ruleId": rule_id, "level": _SARIF_LEVEL[f.severity], "message": {"text": f.description},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": target}}}],
            "partialFingerprints": {"vulnhound/findingId": f.id}}


# ---- CycloneDX 1.6 VDR -------------------------------------------------------------------------------------

_CDX_SEVERITY = {SeverityLevel.CRITICAL: "critical", SeverityLevel.HIGH: "high", SeverityLevel.MEDIUM: "medium",
                 SeverityLevel.LOW: "low", SeverityLevel.INFORMATIONAL: "info", SeverityLevel.UNTRIAGED: "unknown"}


def render_cyclonedx_vdr(rep: ScanReport) -> str:
    bom = build_bom(rep.inv)
    ref_of = {c.get("bom-ref"): c.get("bom-ref") for c in bom["components"]}
    by_vuln: dict[str, dict[str, Any]] = {}
    for f in [*rep.findings, *rep.suppressed]:
        d = f.package
        if d is None:
            continue  # a VDR speaks of components; platform findings are in the json/sarif/table reports
        vp = d.vulnerable_packages[0]
        v = by_vuln.get(d.vulnerability_id)
        if v is None:
            ratings = [{"source": {"name": c.source}, "score": c.base_score, "method": _cvss_method(c.version),
                        "vector": c.vector} for c in d.cvss]
            ratings.append({"source": {"name": "vulnhound"}, "severity": _CDX_SEVERITY[f.severity],
                            "method": "other", "score": f.risk_score})
            v = {
                "bom-ref": f"vuln-{d.vulnerability_id}",
                "id": d.vulnerability_id,
                "source": {"name": d.source, **({"url": d.source_url} if d.source_url else {})},
                # Aliases as references, as the CycloneDX spec intends for the same vulnerability elsewhere.
                "references": [{"id": a, "source": {"name": _alias_source(a)}} for a in d.aliases],
                "ratings": ratings,
                "cwes": [int(c.split("-")[1]) for c in d.cwes if c.startswith("CWE-") and c[4:].isdigit()],
                "description": f.description,
                "recommendation": f.remediation,
                "advisories": [{"url": u} for u in d.reference_urls[:20]],
                "affects": [],
            }
            if f.suppressed_by:
                v["analysis"] = {"state": "not_affected", "detail": f.suppressed_by}
            by_vuln[d.vulnerability_id] = v
        ref = ref_of.get(vp.package_id) or vp.purl
        v["affects"].append({"ref": ref, "versions": [{"version": vp.version, "status": "affected"}]})
    bom["vulnerabilities"] = list(by_vuln.values())
    return json.dumps(bom, indent=2, ensure_ascii=False) + "\n"


def _cvss_method(version: str) -> str:
    return {"2.0": "CVSSv2", "3.0": "CVSSv3", "3.1": "CVSSv31", "4.0": "CVSSv4"}.get(version, "other")


def _alias_source(alias: str) -> str:
    prefix = alias.split("-", 1)[0]
    return {"CVE": "NVD", "GHSA": "GitHub Advisories", "PYSEC": "PyPA", "GO": "Go Vulnerability Database",
            "RUSTSEC": "RustSec"}.get(prefix, "OSV")


# ---- OpenVEX ------------------------------------------------------------------------------------------------

def render_openvex(rep: ScanReport) -> str:
    now = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    statements = []
    for f in [*rep.findings, *rep.suppressed]:
        d = f.package
        if d is None:
            continue  # VEX statements are about products (packages) and vulnerabilities
        vp = d.vulnerable_packages[0]
        st: dict[str, Any] = {
            "vulnerability": {"name": d.vulnerability_id, "aliases": list(d.aliases)},
            "products": [{"@id": vp.purl}],
        }
        if f.suppressed_by:
            st["status"] = "not_affected"
            st["justification"] = _vex_justification(f.suppressed_by)
            st["impact_statement"] = f.suppressed_by
        elif vp.fixed_in_version and vp.fixed_in_version != "NotAvailable":
            st["status"] = "affected"
            st["action_statement"] = f.remediation
        else:
            st["status"] = "affected"
            st["action_statement"] = f"No fix available ({d.vendor_status})"
        statements.append(st)
    ident = hashlib.sha256(json.dumps(statements, sort_keys=True).encode()).hexdigest()[:16]
    doc = {"@context": "https://openvex.dev/ns/v0.2.0", "@id": f"https://vulnhound.dev/vex/{ident}",
           "author": f"vulnhound {__version__}", "timestamp": now, "version": 1, "statements": statements}
    return json.dumps(doc, indent=2) + "\n"


_VEX_JUSTIFICATIONS = ("component_not_present", "vulnerable_code_not_present", "vulnerable_code_not_in_execute_path",
                       "vulnerable_code_cannot_be_controlled_by_adversary", "inline_mitigations_already_exist")


def _vex_justification(text: str) -> str:
    for j in _VEX_JUSTIFICATIONS:
        if j in text:
            return j
    return "vulnerable_code_not_in_execute_path"


# ---- CSV ------------------------------------------------------------------------------------------------------

CSV_COLUMNS = ("findingId", "vulnerabilityId", "aliases", "severity", "riskScore", "status", "package", "version",
               "packageManager", "purl", "filePath", "layer", "fixedInVersion", "fixAvailable", "exploitAvailable",
               "epss", "vendorStatus", "title")


def render_csv(rep: ScanReport) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for f in [*rep.findings, *rep.suppressed]:
        d = f.package
        if d is None:
            w.writerow([f.id, f.details.get("checkId", ""), "", f.severity.value, f"{f.risk_score:.1f}", f.status,
                        "", "", "", "", "", "", "", f.fix_available.value, "NO", "", "", f.title])
            continue
        vp = d.vulnerable_packages[0]
        w.writerow([f.id, d.vulnerability_id, " ".join(d.aliases), f.severity.value, f"{f.risk_score:.1f}",
                    f.status, vp.name, vp.version, vp.package_manager or "", vp.purl, vp.file_path or "",
                    vp.source_layer_hash or "", vp.fixed_in_version or "", f.fix_available.value,
                    "YES" if f.exploit_available else "NO", "" if f.epss is None else f.epss["score"],
                    d.vendor_status, f.title])
    return buf.getvalue()
