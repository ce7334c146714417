"""Alpine apk versions: number{.number}[letter]{_suffix[number]}[~hash][-rN], ordered as apk-tools orders them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vulnhound.matching.versions._common import CmpKey, check_text, sign
from vulnhound.matching.versions.interface import Version

_NUMBERS = re.compile(r"^(?:\d+\.?)*")
_SUFFIX = re.compile(r"_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d*)")
_HASH = re.compile(r"^~[0-9a-f]+")
_BUILD = re.compile(r"^-r(\d*)")
# Suffix weights in apk order; "" (no suffix) sits between rc and cvs, "p" is highest.
_WEIGHT = {s: i for i, s in enumerate(("alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p"))}
_NO_SUFFIX = (_WEIGHT[""], 0)


@dataclass(frozen=True, slots=True)
class _Apk:
    original: str
    numbers: tuple[str, ...]
    letter: str
    suffixes: tuple[tuple[int, int], ...]
    build: int
    remainder: str
    invalid: bool


def _parse(s: str) -> _Apk:
    nums = _NUMBERS.match(s)
    sub = nums.group(0) if nums else ""
    numbers = tuple(sub.split(".")) if sub else ()
    rest = s[len(sub) :]
    letter = ""
    if rest[:1] and "a" <= rest[0] <= "z":
        letter, rest = rest[0], rest[1:]
    suffixes: list[tuple[int, int]] = []
    # apk-tools scans suffixes anywhere in what is left and strips only those found at the front.
    for m in _SUFFIX.finditer(rest):
        suffixes.append((_WEIGHT[m.group(1)], int(m.group(2) or 0)))
        if rest.startswith(m.group(0)):
            rest = rest[len(m.group(0)) :]
    h = _HASH.match(rest)
    if h:
        rest = rest[h.end() :]
    build, invalid = 0, False
    if rest:
        b = _BUILD.match(rest)
        if b is None:
            invalid = True
        else:
            build, rest = int(b.group(1) or 0), rest[b.end() :]
    return _Apk(s, numbers, letter, tuple(suffixes), build, rest, invalid)


def _cmp_number(a: str, ai: int, b: str, bi: int) -> int:
    # Leading zeros after the first component compare as strings ("1.02" < "1.1"), as apk does.
    if ai != 0 and bi != 0 and (a[:1] == "0" or b[:1] == "0"):
        return sign((a > b) - (a < b))
    return sign(int(a or 0) - int(b or 0))


def _cmp(v: _Apk, w: _Apk) -> int:
    if v.invalid and w.invalid:
        return (v.original > w.original) - (v.original < w.original)
    for i in range(max(len(v.numbers), len(w.numbers))):
        a = v.numbers[i] if i < len(v.numbers) else "0"
        b = w.numbers[i] if i < len(w.numbers) else "0"
        ai = i if i < len(v.numbers) else 0
        bi = i if i < len(w.numbers) else 0
        if d := _cmp_number(a, ai, b, bi):
            return d
    if v.letter != w.letter:
        if not v.letter or not w.letter:
            return -1 if not v.letter else 1
        return -1 if v.letter < w.letter else 1
    for i in range(max(len(v.suffixes), len(w.suffixes))):
        sa = v.suffixes[i] if i < len(v.suffixes) else _NO_SUFFIX
        sb = w.suffixes[i] if i < len(w.suffixes) else _NO_SUFFIX
        if sa != sb:
            return -1 if sa < sb else 1
    if v.build != w.build:
        return -1 if v.build < w.build else 1
    if bool(v.remainder) != bool(w.remainder):
        return -1 if v.remainder else 1
    return 0


class ApkVersion(Version):
    """An Alpine package version (also Wolfi/Chainguard); '~hash' is ignored, junk after -rN sorts lower."""

    __slots__ = ()
    scheme = "apk"

    def _parse(self, raw: str) -> CmpKey:
        return CmpKey(_parse(check_text(self.scheme, raw)), _cmp)

    @property
    def valid(self) -> bool:
        """False when text was left over after -rN; such versions order by plain string among themselves only,
        which is what apk does and is not a total order against valid ones."""
        data: _Apk = self._key.data
        return not (data.invalid or data.remainder)
