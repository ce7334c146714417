"""Suppression inputs for ``vulnhound scan``: the ignore file (.vulnhoundignore.yaml) and VEX documents.

Ignore file::

    ignore:
      - id: CVE-2023-5678                   # the vulnerability id or any alias
        package: openssl                    # optional: a package name or a PURL (pkg:deb/debian/openssl)
        justification: code_not_reachable   # CycloneDX VEX vocabulary (see JUSTIFICATIONS)
        reason: only the CLI is shipped, never the TLS server
        expires: 2027-01-31                 # optional: the entry stops applying after this date

Errors name the line and the reason; a file with errors is refused as a whole (a silently half-applied ignore
file would hide findings nobody chose to hide).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from vulnhound.findings.model import Finding

# CycloneDX 1.6 impactAnalysisJustification.
JUSTIFICATIONS = frozenset({
    "code_not_present", "code_not_reachable", "requires_configuration", "requires_dependency",
    "requires_environment", "protected_by_compiler", "protected_at_runtime", "protected_at_perimeter",
    "protected_by_mitigating_control",
})
# OpenVEX justifications map onto the same idea.
OPENVEX_NOT_AFFECTED = "not_affected"


class SuppressionError(ValueError):
    """An ignore file or VEX document that cannot be used; the message names the file, line and reason."""


@dataclass(frozen=True, slots=True)
class Rule:
    vuln_id: str
    package: str | None  # name or PURL prefix; None = any package
    justification: str
    reason: str
    expires: dt.date | None
    origin: str  # "FILE:LINE" or "vex FILE statement N"

    def applies(self, f: Finding, today: dt.date) -> bool:
        if self.expires is not None and today > self.expires:
            return False
        d = f.package
        if d is None:
            return False
        if self.vuln_id != d.vulnerability_id and self.vuln_id not in d.aliases:
            return False
        if self.package is None:
            return True
        vp = d.vulnerable_packages[0]
        if self.package.startswith("pkg:"):
            return vp.purl == self.package or vp.purl.split("@", 1)[0] == self.package.split("@", 1)[0]
        # Names as people write them ("Plone", "plone.app.event") match the cataloged spelling (PEP 503 style).
        return _norm(self.package) == _norm(vp.name)

    def describe(self) -> str:
        until = f", until {self.expires.isoformat()}" if self.expires else ""
        return f"{self.justification}: {self.reason} ({self.origin}{until})"


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def load_ignore_file(path: Path) -> list[Rule]:
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        raise SuppressionError(f"{path}:{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise SuppressionError(f"{path}:1: expected a mapping with an 'ignore' list")
    entries = next((v for k, v in root.value if k.value == "ignore"), None)
    if entries is None:
        raise SuppressionError(f"{path}:1: missing the 'ignore' list")
    if not isinstance(entries, yaml.SequenceNode):
        raise SuppressionError(f"{path}:{entries.start_mark.line + 1}: 'ignore' must be a list")
    rules, errors = [], []
    for node in entries.value:
        line = node.start_mark.line + 1
        try:
            rules.append(_rule(yaml.safe_load(yaml.serialize(node)), f"{path}:{line}"))
        except SuppressionError as exc:
            errors.append(f"{path}:{line}: {exc}")
    if errors:
        raise SuppressionError("; ".join(errors))
    return rules


def _rule(entry: Any, origin: str) -> Rule:
    if not isinstance(entry, dict):
        raise SuppressionError("each entry must be a mapping with at least 'id' and 'justification'")
    unknown = set(entry) - {"id", "package", "purl", "justification", "reason", "expires"}
    if unknown:
        raise SuppressionError(f"unknown field(s) {', '.join(sorted(unknown))}")
    vid = entry.get("id")
    if not isinstance(vid, str) or not vid.strip():
        raise SuppressionError("'id' (a vulnerability id or alias) is required")
    just = entry.get("justification")
    if just not in JUSTIFICATIONS:
        raise SuppressionError(f"'justification' must be one of {', '.join(sorted(JUSTIFICATIONS))} (got {just!r})")
    exp = entry.get("expires")
    if exp is not None and not isinstance(exp, dt.date):
        try:
            exp = dt.date.fromisoformat(str(exp))
        except ValueError:
            raise SuppressionError(f"'expires' must be a date YYYY-MM-DD (got {exp!r})") from None
    pkg = entry.get("purl") or entry.get("package")
    return Rule(vid.strip(), str(pkg) if pkg else None, just, str(entry.get("reason") or ""), exp, origin)


def load_vex(path: Path) -> list[Rule]:
    """OpenVEX (``statements``) or CycloneDX VEX (``vulnerabilities[].analysis``): not_affected statements and
    CycloneDX ``false_positive``/``not_affected`` analyses become suppression rules."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SuppressionError(f"{path}: not a readable JSON VEX document ({exc})") from None
    rules: list[Rule] = []
    if isinstance(doc, dict) and "statements" in doc:
        for i, st in enumerate(doc["statements"]):
            if st.get("status") not in (OPENVEX_NOT_AFFECTED, "fixed"):
                continue
            vid = st.get("vulnerability", {}).get("name") if isinstance(st.get("vulnerability"), dict) \
                else st.get("vulnerability")
            if not vid:
                raise SuppressionError(f"{path}: statement {i}: no vulnerability name")
            for prod in st.get("products") or [None]:
                pid = prod.get("@id") if isinstance(prod, dict) else prod
                rules.append(Rule(vid, pid, st.get("justification") or st["status"],
                                  st.get("impact_statement") or "", None, f"vex {path.name} statement {i}"))
        return rules
    if isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX":
        refs = {c.get("bom-ref"): c.get("purl") for c in _components(doc.get("components", []))}
        for i, v in enumerate(doc.get("vulnerabilities", [])):
            state = (v.get("analysis") or {}).get("state")
            if state not in ("not_affected", "false_positive", "resolved"):
                continue
            for aff in v.get("affects") or [{}]:
                ref = aff.get("ref")
                rules.append(Rule(v["id"], refs.get(ref, ref), (v["analysis"].get("justification") or state),
                                  v["analysis"].get("detail") or "", None, f"vex {path.name} vulnerability {i}"))
        return rules
    raise SuppressionError(f"{path}: neither an OpenVEX document nor a CycloneDX VEX BOM")


def _components(comps: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for c in comps:
        yield c
        yield from _components(c.get("components", []))


def apply(findings: list[Finding], rules: list[Rule], today: dt.date | None = None) -> tuple[list[Finding],
                                                                                            list[Finding]]:
    """(kept, suppressed); suppressed findings carry the rule's description."""
    today = today or dt.date.today()
    kept, suppressed = [], []
    for f in findings:
        rule = next((r for r in rules if r.applies(f, today)), None)
        if rule is None:
            kept.append(f)
        else:
            f.status = "SUPPRESSED"
            f.suppressed_by = rule.describe()
            suppressed.append(f)
    return kept, suppressed
