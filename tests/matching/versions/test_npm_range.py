"""npm_satisfies against node-semver's own answers (expected.json), and malformed ranges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vulnhound.matching.versions.interface import InvalidVersion
from vulnhound.matching.versions.npm_range import npm_satisfies, parse_npm_range

CASES = Path(__file__).parent / "npm_range" / "expected.json"


def test_agrees_with_node_semver() -> None:
    data = json.loads(CASES.read_text())
    assert len(data["cases"]) > 20000
    bad = []
    for version, rng, plain, incpre in data["cases"]:
        got = (npm_satisfies(version, rng), npm_satisfies(version, rng, include_prerelease=True))
        if got != (plain, incpre):
            bad.append(f"{version!r} in {rng!r}: node {plain}/{incpre}, ours {got}")
    assert not bad, "\n".join(bad[:40])


@pytest.mark.parametrize(
    ("version", "rng", "want"),
    [
        ("1.2.3", "^1.2.3", True),
        ("2.0.0", "^1.2.3", False),
        ("0.2.9", "^0.2.3", True),
        ("0.3.0", "^0.2.3", False),
        ("1.2.9", "~1.2", True),
        ("3.4.0", ">=1.0.0 <2.0.0 || 3.x", True),
        ("2.5.0", ">=1.0.0 <2.0.0 || 3.x", False),
        ("2.3.4", "1.2.3 - 2.3.4", True),
        ("2.3.5", "1.2.3 - 2.3.4", False),
        ("1.2.4-beta", "<1.3.0", False),  # prerelease of another x.y.z is excluded
        ("1.2.3-beta.4", ">1.2.3-beta.2", True),
    ],
)
def test_documented_forms(version: str, rng: str, want: bool) -> None:
    assert npm_satisfies(version, rng) is want


@pytest.mark.parametrize("rng", ["^foo", ">=1.2.3 <", "1.2.3 - ", "~>x.y.z-", ">=1.a"])
def test_malformed_range_raises(rng: str) -> None:
    with pytest.raises(InvalidVersion):
        parse_npm_range(rng)


def test_malformed_version_raises() -> None:
    with pytest.raises(InvalidVersion, match="semver"):
        npm_satisfies("not-a-version", "^1.0.0")


@pytest.mark.parametrize("rng", ["9" * 5000, "^" + "1" * 300 + ".0.0", ">=1.2.3 " * 3000 + "x y"])
def test_hostile_ranges_raise_invalid(rng: str) -> None:
    with pytest.raises(InvalidVersion):
        npm_satisfies("1.0.0", rng)
