"""The native JSON report of a scan: Inspector-style camelCase findings, documented in docs/scan-json.md."""

from __future__ import annotations

import json
from typing import Any

from vulnhound.findings.model import Finding, Unmatched
from vulnhound.inventory.model import Inventory

SCHEMA_VERSION = "1"


def finding_to_wire(f: Finding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "findingId": f.id,
        "type": f.type.value,
        "title": f.title,
        "description": f.description,
        "severity": f.severity.value,
        "severitySource": f.severity_source,
        "severityRatings": f.severity_ratings,
        "riskScore": f.risk_score,
        "status": f.status,
        "fixAvailable": f.fix_available.value,
        "exploitAvailable": "YES" if f.exploit_available else "NO",
        "kev": f.kev,
        "epss": f.epss,
        "remediation": {"recommendation": {"text": f.remediation}},
    }
    if f.suppressed_by:
        out["suppressedBy"] = f.suppressed_by
    d = f.package
    if d is not None:
        out["packageVulnerabilityDetails"] = {
            "vulnerabilityId": d.vulnerability_id,
            "source": d.source,
            "aliases": list(d.aliases),
            "relatedVulnerabilities": list(d.related),
            "sourceUrl": d.source_url,
            "referenceUrls": list(d.reference_urls),
            "cwes": list(d.cwes),
            "vendorSeverity": d.vendor_severity,
            "vendorStatus": d.vendor_status,
            "vendorCreatedAt": d.vendor_created_at,
            "vendorUpdatedAt": d.vendor_updated_at,
            "cvss": [{"source": c.source, "version": c.version, "scoringVector": c.vector, "baseScore": c.base_score}
                     for c in d.cvss],
            "vulnerablePackages": [{
                "name": p.name, "version": p.version, "epoch": p.epoch, "release": p.release, "arch": p.arch,
                "packageManager": p.package_manager, "purl": p.purl, "filePath": p.file_path,
                "sourceLayerHash": p.source_layer_hash, "fixedInVersion": p.fixed_in_version,
                "remediation": p.remediation, "packageId": p.package_id,
            } for p in d.vulnerable_packages],
            "provenance": [{
                "advisoryId": p.advisory_id, "advisorySource": p.advisory_source, "ecosystem": p.ecosystem,
                "packageName": p.package_name, "installedVersion": p.installed_version, "rule": p.rule,
                "vendorStatus": p.vendor_status, "vendorStatusReason": p.vendor_status_reason,
                "updateOperation": p.update_operation,
            } for p in d.provenance],
        }
    if f.details:
        out["details"] = f.details
    return out


def report(
    inv: Inventory, findings: list[Finding], unmatched: list[Unmatched], warnings: list[str],
    suppressed: list[Finding], knowledge_base: dict[str, Any],
) -> dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "source": {"kind": inv.source.kind, "target": inv.source.target, "digest": inv.source.digest,
                   "platform": inv.source.platform},
        "os": None if inv.os is None else {"id": inv.os.id, "versionId": inv.os.version_id,
                                           "codename": inv.os.version_codename, "supported": inv.os.supported},
        "knowledgeBase": knowledge_base,
        "summary": summary(findings, len(inv.packages)),
        "findings": [finding_to_wire(f) for f in findings],
        "suppressed": [finding_to_wire(f) for f in suppressed],
        "unmatched": [{"packageId": u.package_id, "name": u.name, "version": u.version, "reason": u.reason,
                       "advisoryId": u.advisory_id} for u in unmatched],
        "warnings": warnings,
    }


def summary(findings: list[Finding], packages: int) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.severity.value] = counts.get(f.severity.value, 0) + 1
    return {"packages": packages, "findings": len(findings), "bySeverity": counts,
            "fixAvailable": sum(1 for f in findings if f.fix_available.value != "NO"),
            "exploitAvailable": sum(1 for f in findings if f.exploit_available)}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=False) + "\n"
