"""Every line of the OSV ordering fixtures (scalibr semantic + osv.dev) must hold for its ecosystem's scheme."""

from __future__ import annotations

from pathlib import Path

import pytest
from version_fixture_files import FILES, SCALIBR, read_cases

from vulnhound.matching.versions.interface import Version
from vulnhound.matching.versions.registry import SCHEMES

# Fixture files for ecosystems we have no scheme for (yet); listed so that a new file is noticed.
NOT_IMPLEMENTED = {"cran-versions.txt", "cran-versions-generated.txt", "hackage-versions.txt", "pub-versions.txt"}

CASES = [(rel, scheme) for rel, schemes in FILES.items() for scheme in schemes]


def _holds(a: Version, op: str, b: Version) -> bool:
    if op == "<":
        return a < b and b > a and a != b and a <= b and not a >= b
    if op == ">":
        return a > b and b < a and a != b and a >= b and not a <= b
    return a == b and b == a and not a < b and not a > b and a <= b and a >= b


@pytest.mark.parametrize(("rel", "scheme"), CASES, ids=[f"{s}:{r.name}" for r, s in CASES])
def test_every_fixture_line(vulndata: Path, rel: Path, scheme: str) -> None:
    cls = SCHEMES[scheme]
    failures = []
    cases = list(read_cases(vulndata / rel))
    assert cases, f"{rel} has no comparison lines"
    for n, a, op, b in cases:
        if not _holds(cls(a), op, cls(b)):
            failures.append(f"{rel.name}:{n}: {a} {op} {b}")
    assert not failures, "\n".join(failures[:50])


def test_all_fixture_files_accounted_for(vulndata: Path) -> None:
    present = {p.name for p in (vulndata / SCALIBR).glob("*.txt")}
    covered = {r.name for r in FILES}
    assert present - covered == NOT_IMPLEMENTED
