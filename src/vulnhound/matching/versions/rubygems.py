"""RubyGems versions as Gem::Version orders them (letters start a prerelease)."""

from __future__ import annotations

import re

from vulnhound.matching.versions._common import CmpKey, check_text, isnum
from vulnhound.matching.versions.interface import InvalidVersion, Version

_Seg = int | str
_SCAN = re.compile(r"[0-9]+|[A-Za-z]+")
# Gem::Version's own check, minus its leading/trailing whitespace allowance (callers strip).
# Written without nested optional parts so that hostile input cannot make it backtrack.
_VALID = re.compile(r"[0-9][0-9A-Za-z]*(?:\.[0-9A-Za-z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?")


def _segments(s: str) -> tuple[_Seg, ...]:
    # Gem::Version splits on dots and on every digit/letter switch ("1.0a1" is 1, 0, "a", 1).
    out: list[_Seg] = [int(p) if isnum(p) else p for p in _SCAN.findall(s.replace("-", ".pre."))]
    numbers: list[_Seg] = []
    for i, p in enumerate(out):
        if not isinstance(p, int):
            numbers, rest = out[:i], out[i:]
            break
    else:
        numbers, rest = out, []
    # Trailing zeros of the release part and of the prerelease part do not count.
    while numbers and numbers[-1] == 0:
        numbers.pop()
    while rest and rest[-1] == 0:
        rest.pop()
    return (*numbers, *rest)


def _cmp(a: tuple[_Seg, ...], b: tuple[_Seg, ...]) -> int:
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else 0
        y = b[i] if i < len(b) else 0
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return -1 if x < y else 1
        if isinstance(x, str) and isinstance(y, str):
            return -1 if x < y else 1
        return 1 if isinstance(x, int) else -1
    return 0


class RubyGemsVersion(Version):
    """A gem version; '1.0.a' < '1.0', '1.0.0' = '1'."""

    __slots__ = ()
    scheme = "rubygems"

    def _parse(self, raw: str) -> CmpKey:
        s = check_text(self.scheme, raw)
        if not _VALID.fullmatch(s):
            raise InvalidVersion(f"{self.scheme}: malformed version number string {raw!r}")
        return CmpKey(_segments(s), _cmp)

    @property
    def prerelease(self) -> bool:
        return any(c.isalpha() for c in self.raw)
