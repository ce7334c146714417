"""feed_purl: the spellings the feeds emitted before they used make_purl, and no raise on a hostile name."""

from __future__ import annotations

import pytest

from vulnhound.advisories.feeds.common import feed_purl


@pytest.mark.parametrize(("args", "want"), [
    (("apk", "xorg-server", "alpine", {"arch": "source"}), "pkg:apk/alpine/xorg-server?arch=source"),
    (("deb", "389-ds-base", "debian", {"arch": "source"}), "pkg:deb/debian/389-ds-base?arch=source"),
    (("gem", "actionpack"), "pkg:gem/actionpack"),
    (("generic", "rust-std"), "pkg:generic/rust-std"),
    (("cargo", "tokio"), "pkg:cargo/tokio"),
])
def test_same_spelling_as_the_hand_built_purls(args: tuple, want: str) -> None:
    assert feed_purl(*args) == want


@pytest.mark.parametrize("name", ["", "  ", "/"])
def test_a_name_no_purl_can_carry_gives_none(name: str) -> None:
    assert feed_purl("gem", name) is None
