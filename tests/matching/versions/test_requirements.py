"""Cargo and RubyGems requirement strings → primitive (op, version) clauses."""

from __future__ import annotations

import pytest

from vulnhound.matching.versions.cargo_req import cargo_satisfies, parse_cargo_req
from vulnhound.matching.versions.gem_req import gem_satisfies, parse_gem_req
from vulnhound.matching.versions.interface import InvalidVersion


@pytest.mark.parametrize(
    ("req", "want"),
    [
        (">= 1.8.1", [(">=", "1.8.1")]),
        ("^0.9.2", [(">=", "0.9.2"), ("<", "0.10.0-0")]),
        ("^1.2.3", [(">=", "1.2.3"), ("<", "2.0.0-0")]),
        ("^0.0.3", [(">=", "0.0.3"), ("<", "0.0.4-0")]),
        ("0.3", [(">=", "0.3.0"), ("<", "0.4.0-0")]),
        ("~1.2.3", [(">=", "1.2.3"), ("<", "1.3.0-0")]),
        ("~1", [(">=", "1.0.0"), ("<", "2.0.0-0")]),
        ("1.*", [(">=", "1.0.0"), ("<", "2.0.0-0")]),
        ("*", []),
        (">= 1.2.0, < 1.5.3", [(">=", "1.2.0"), ("<", "1.5.3")]),
        ("=1.0.0-alpha.1", [("=", "1.0.0-alpha.1")]),
        ("< 0.3", [("<", "0.3.0")]),
        ("<= 0.3", [("<", "0.4.0-0")]),
        ("> 0.3", [(">=", "0.4.0")]),
    ],
)
def test_parse_cargo_req(req: str, want: list[tuple[str, str]]) -> None:
    assert parse_cargo_req(req) == want


def test_cargo_satisfies() -> None:
    assert cargo_satisfies("0.9.5", "^0.9.2")
    assert not cargo_satisfies("0.10.0", "^0.9.2")
    assert cargo_satisfies("1.3.0", ">= 1.2.0, < 1.5.3")
    # Cargo requires the same major (minor for ~ and 0.x) first, so the next version's prereleases are outside.
    assert not cargo_satisfies("2.0.0-alpha", "^1.2.3")
    assert not cargo_satisfies("1.3.0-rc.1", "~1.2.3")
    assert cargo_satisfies("1.9.9-rc.1", "^1.2.3")
    with pytest.raises(InvalidVersion, match="cargo"):
        parse_cargo_req(">= banana")


@pytest.mark.parametrize(
    ("req", "want"),
    [
        (">= 1.2, < 2", [(">=", "1.2"), ("<", "2")]),
        ("~> 1.2.3", [(">=", "1.2.3"), ("<", "1.3")]),
        ("~> 1.2", [(">=", "1.2"), ("<", "2")]),
        ("~> 4.2.5.1", [(">=", "4.2.5.1"), ("<", "4.2.6")]),
        ("1.0.0", [("=", "1.0.0")]),
        ("!= 3.0.0.beta", [("!=", "3.0.0.beta")]),
    ],
)
def test_parse_gem_req(req: str, want: list[tuple[str, str]]) -> None:
    assert parse_gem_req(req) == want


def test_gem_satisfies() -> None:
    assert gem_satisfies("1.2.9", "~> 1.2.3")
    assert not gem_satisfies("1.3.0", "~> 1.2.3")
    assert gem_satisfies("5.2.4.3", ">= 5.2.4.3, < 6.0")
    with pytest.raises(InvalidVersion, match="rubygems"):
        parse_gem_req(">= one point two")
