"""Ecosystem → scheme mapping, the cached parse, and how each scheme rejects garbage."""

from __future__ import annotations

import pytest

from vulnhound.matching.versions.interface import InvalidVersion
from vulnhound.matching.versions.registry import SCHEMES, UnknownEcosystem, parse, scheme_for


@pytest.mark.parametrize(
    ("ecosystem", "range_type", "scheme"),
    [
        ("PyPI", None, "pep440"),
        ("npm", None, "semver"),
        ("Go", None, "go"),
        ("crates.io", None, "cargo"),
        ("RubyGems", None, "rubygems"),
        ("Maven", None, "maven"),
        ("NuGet", None, "nuget"),
        ("Packagist", None, "composer"),
        ("Debian:12", None, "dpkg"),
        ("Ubuntu:22.04:LTS", None, "dpkg"),
        ("Alpine:v3.19", None, "apk"),
        ("AlmaLinux:9", None, "rpm"),
        ("Rocky Linux:8", None, "rpm"),
        ("Red Hat:rhel_eus:9.2::appstream", None, "rpm"),
        ("SUSE:Linux Enterprise Server 12", None, "rpm"),
        ("Mariner", None, "rpm"),
        ("Root:Alpine:3.18", None, "apk"),
        ("Maven", "SEMVER", "semver"),
        ("PyPI", "SEMVER", "semver"),
    ],
)
def test_scheme_for(ecosystem: str, range_type: str | None, scheme: str) -> None:
    assert scheme_for(ecosystem, range_type).scheme == scheme


@pytest.mark.parametrize("ecosystem", ["Hackage", "CRAN", "", "Android", "pypi"])
def test_unknown_ecosystem(ecosystem: str) -> None:
    with pytest.raises(UnknownEcosystem, match="no version scheme"):
        scheme_for(ecosystem)


def test_parse_is_cached() -> None:
    assert parse("dpkg", "1.2-3") is parse("dpkg", "1.2-3")


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
@pytest.mark.parametrize("bad", ["", " ", "1.0 beta", "1.0\n", "\x00"])
def test_every_scheme_rejects_blank_and_control(scheme: str, bad: str) -> None:
    with pytest.raises(InvalidVersion, match=scheme):
        SCHEMES[scheme](bad)


@pytest.mark.parametrize(
    ("scheme", "bad"),
    [("dpkg", "x:1.0"), ("dpkg", "-1"), ("semver", "latest"), ("go", "master"), ("rubygems", "1.0$"), ("nuget", "abc")],
)
def test_scheme_specific_rejects(scheme: str, bad: str) -> None:
    with pytest.raises(InvalidVersion) as err:
        SCHEMES[scheme](bad)
    assert scheme in str(err.value) and repr(bad) in str(err.value)


def test_cross_scheme_compare_is_an_error() -> None:
    with pytest.raises(TypeError):
        _ = parse("dpkg", "1.0") < parse("rpm", "1.0")


@pytest.mark.parametrize(
    ("scheme", "low", "high"),
    [
        ("go", "v0.0.0-20191109021931-daa7c04131f5", "v0.0.1"),
        ("go", "0.0.0-20191109021931-daa7c04131f5", "v0.0.0-20200101000000-aaaaaaaaaaaa"),
        ("go", "v2.0.0+incompatible", "2.0.1"),
        ("go", "go1.21.3", "1.21.4"),
        ("maven", "1.0-SNAPSHOT", "1.0"),
        ("maven", "1.0", "1.0-sp1"),
        ("rpm", "1.0~rc1", "1.0"),
        ("rpm", "1.0", "1.0^git1"),
        ("apk", "1.2_rc1", "1.2"),
        ("apk", "1.2", "1.2_p1"),
        ("composer", "1.0-dev", "1.0RC1"),
        ("nuget", "1.0.0-beta", "1.0.0.1"),
        ("pep440", "1.0.dev0", "1.0a1"),
    ],
)
def test_scheme_specifics(scheme: str, low: str, high: str) -> None:
    assert SCHEMES[scheme](low) < SCHEMES[scheme](high)
    assert SCHEMES["go"]("v2.0.0+incompatible") == SCHEMES["go"]("2.0.0")


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_hostile_lengths_are_rejected_not_crashing(scheme: str) -> None:
    # 5000 digits would overflow int()'s conversion limit; a plain ValueError would escape the matcher.
    with pytest.raises(InvalidVersion, match="longer than"):
        SCHEMES[scheme]("9" * 5000)
    v = SCHEMES[scheme]("1." + "0." * 400 + "1")
    assert v == v
