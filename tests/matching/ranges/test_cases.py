"""The hand-written range cases under cases/: one OSV affected entry, the verdicts expected for some versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from osv_records import affected_entries

from vulnhound.advisories.model import Affected, VendorStatus
from vulnhound.matching.ranges import Verdict, evaluate

CASES = Path(__file__).parent / "cases"


def _affected(case: Path) -> Affected:
    raw: dict[str, Any] = json.loads((case / "affected.json").read_text())
    (aff,) = affected_entries({"affected": [raw]})
    if "status" in raw:
        aff.status = VendorStatus(raw["status"])
        aff.status_reason = raw.get("status_reason")
    return aff


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_case(case: str) -> None:
    aff = _affected(CASES / case)
    expected = json.loads((CASES / case / "expected.json").read_text())
    assert expected
    for want in expected:
        got = evaluate(aff, want["version"])
        assert isinstance(got, Verdict)
        where = f"{case}: {want['version']!r} → {got}"
        assert got.affected is want["affected"], where
        assert got.matched_rule == want["rule"], where
        assert got.fixed_version == want["fixed"], where
        if want["reason"] is not None:
            assert want["reason"] in got.reason, where
        assert got.reason, where


def test_package_ecosystem_picks_the_scheme() -> None:
    # A Debian record stored as plain "Debian" is evaluated with the package's release ecosystem.
    aff = _affected(CASES / "debian-introduced-zero")
    aff.ecosystem = "Debian"
    assert evaluate(aff, "3.0.9-1", "Debian:12").affected is True
    aff.ecosystem = "SomethingElse"
    assert evaluate(aff, "3.0.9-1").affected is None
    assert evaluate(aff, "3.0.9-1", "Debian:12").affected is True
