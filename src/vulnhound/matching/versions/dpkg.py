"""Debian package versions ([epoch:]upstream[-revision]) ordered as dpkg's verrevcmp orders them."""

from __future__ import annotations

from vulnhound.matching.versions._common import check_text, isnum
from vulnhound.matching.versions.interface import InvalidVersion, Version

_Group = tuple[tuple[int, ...], int]
# What dpkg compares once a string is used up: an empty non-digit run (order 0) and the number 0.
_END: _Group = ((0,), 0)


def _order(c: str) -> int:
    # dpkg: '~' sorts before everything, even the end of the string; letters before other symbols.
    if c == "~":
        return -1
    if c.isascii() and c.isalpha():
        return ord(c)
    return ord(c) + 256


def part_key(s: str) -> tuple[_Group, ...]:
    """Alternating (non-digit run, number) groups, padded the way verrevcmp pads a shorter string."""
    groups: list[_Group] = []
    i, n = 0, len(s)
    while i < n:
        j = i
        while j < n and not ("0" <= s[j] <= "9"):
            j += 1
        k = j
        while k < n and "0" <= s[k] <= "9":
            k += 1
        groups.append(((*(_order(c) for c in s[i:j]), 0), int(s[j:k]) if k > j else 0))
        i = k
    while groups and groups[-1] == _END:
        groups.pop()
    # Two ENDs: only a first group can equal END, so no key is then a proper prefix of another.
    return (*groups, _END, _END)


class DpkgVersion(Version):
    """A dpkg version; the key is (epoch, upstream groups, revision groups)."""

    __slots__ = ()
    scheme = "dpkg"

    def _parse(self, raw: str) -> tuple[int, tuple[_Group, ...], tuple[_Group, ...]]:
        s = check_text(self.scheme, raw)
        epoch = 0
        if ":" in s:
            e, s = s.split(":", 1)
            if not isnum(e):
                raise InvalidVersion(f"{self.scheme}: epoch {e!r} is not a number in {raw!r}")
            epoch = int(e)
        upstream, sep, revision = s.rpartition("-")
        if not sep:
            upstream, revision = s, ""
        if not upstream:
            raise InvalidVersion(f"{self.scheme}: empty upstream version in {raw!r}")
        return (epoch, part_key(upstream), part_key(revision))
