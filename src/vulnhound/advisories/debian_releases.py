"""Debian releases (codename, version, end of security support): shared by the tracker feed and the matcher.

Kept apart from the feed so that a scan's end-of-life check does not import the feed's parser and HTTP client.
"""

from __future__ import annotations

from collections.abc import Iterator

from vulnhound.advisories.model import DistroRelease

SID = "sid"

# codename → (version, end of the last security support incl. LTS, ISO date; None while supported).
RELEASES: dict[str, tuple[str, str | None]] = {
    "squeeze": ("6", "2016-02-29"),
    "wheezy": ("7", "2018-05-31"),
    "jessie": ("8", "2020-06-30"),
    "stretch": ("9", "2022-06-30"),
    "buster": ("10", "2024-06-30"),
    "bullseye": ("11", "2026-08-31"),
    "bookworm": ("12", "2028-06-30"),
    "trixie": ("13", "2030-06-30"),
    "forky": ("14", None),
    "duke": ("15", None),
    SID: ("unstable", None),
}


def ecosystem_for(codename: str) -> str | None:
    rel = RELEASES.get(codename)
    return f"Debian:{rel[0]}" if rel else None


def distro_releases() -> Iterator[DistroRelease]:
    for codename, (version, eol) in RELEASES.items():
        yield DistroRelease("debian", version, codename, eol, f"Debian:{version}")
