"""Packagist/Composer versions ordered as PHP's version_compare after Composer's 'v' stripping."""

from __future__ import annotations

import re

from vulnhound.matching.versions._common import CmpKey, check_text, isnum
from vulnhound.matching.versions.interface import Version

_SEPS = re.compile(r"[-_+]")
_ALPHA_DIGIT = re.compile(r"([^0-9.])([0-9])")
_DIGIT_ALPHA = re.compile(r"([0-9])([^0-9.])")
# version_compare's special forms in order; anything else ("foo") ranks with "dev"... below all of them.
_SPECIALS = ("dev", "a", "b", "rc", "#", "p")


def _canonical(s: str) -> tuple[str, ...]:
    s = s.removeprefix("v").removeprefix("V")
    s = _SEPS.sub(".", s)
    s = _ALPHA_DIGIT.sub(r"\1.\2", s)
    s = _DIGIT_ALPHA.sub(r"\1.\2", s)
    return tuple(s.split("."))


def _weight(part: str) -> int:
    if part.startswith("RC"):
        return 3
    for i, special in enumerate(_SPECIALS):
        if part.startswith(special):
            return i
    return 0


def _cmp_special(a: str, b: str) -> int:
    wa, wb = _weight(a), _weight(b)
    return (wa > wb) - (wa < wb)


def _cmp(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    for x, y in zip(a, b, strict=False):
        xn, yn = isnum(x), isnum(y)
        if xn and yn:
            d = (int(x) > int(y)) - (int(x) < int(y))
        elif not xn and not yn:
            d = _cmp_special(x, y)
        elif xn:
            d = _cmp_special("#", y)
        else:
            d = _cmp_special(x, "#")
        if d:
            return d
    if len(a) > len(b):
        return 1 if isnum(a[len(b)]) else _cmp(a[len(b) :], ("#",))
    if len(a) < len(b):
        return -1 if isnum(b[len(a)]) else _cmp(("#",), b[len(a) :])
    return 0


class ComposerVersion(Version):
    """A Packagist version: '1.0-dev' < '1.0a1' < '1.0b1' < '1.0RC1' < '1.0' < '1.0pl1'."""

    __slots__ = ()
    scheme = "composer"

    def _parse(self, raw: str) -> CmpKey:
        return CmpKey(_canonical(check_text(self.scheme, raw)), _cmp)
