"""Maven versions ordered as ComparableVersion: '.'/'-'/digit-letter tokens, qualifier order, null padding."""

from __future__ import annotations

import re

from vulnhound.matching.versions._common import CmpKey, check_text, isnum
from vulnhound.matching.versions.interface import Version

_SPLIT = re.compile(r"([.-])")
_TRANSITION = re.compile(r"(?<=[^0-9])(?=[0-9])|(?<=[0-9])(?=[^0-9])")
_KEYWORDS = {k: i for i, k in enumerate(("alpha", "beta", "milestone", "rc", "snapshot", "", "sp"))}
_ALIASES = {"cr": "rc", "ga": "", "final": "", "release": ""}
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}
# A token is (prefix, value, is_null); value is an int for numbers.
_Token = tuple[str, int | str, bool]


def _tokens(s: str) -> tuple[_Token, ...]:
    raw = _SPLIT.split(s)
    toks: list[_Token] = []
    for i in range(0, len(raw), 2):
        prefix = raw[i - 1] if i else ""
        pieces = _TRANSITION.split(raw[i])
        for j, piece in enumerate(pieces):
            if j:
                prefix = "-"  # a digit/letter switch counts as a hyphen
            cur = piece.lower() or "0"
            cur = _ALIASES.get(cur, cur)
            if j < len(pieces) - 1:
                cur = _SHORT.get(cur, cur)  # a/b/m only abbreviate when a number follows
            toks.append((prefix, int(cur) if isnum(cur) else cur, False))
    # Trailing nulls (0, "", final, ga) are trimmed, then again before each remaining hyphen, end to start.
    i = len(toks) - 1
    while i > 0:
        if toks[i][1] in (0, ""):
            del toks[i]
            i -= 1
            continue
        while i >= 0 and toks[i][0] != "-":
            i -= 1
        i -= 1
    return tuple(toks)


def _null(other: _Token) -> _Token:
    if other[0] == "-":
        return ("-", "", True)
    # "sp" is the one qualifier that sorts after the empty value, so pad it with "" rather than 0.
    return (".", "" if other[1] == "sp" else 0, True)


def _prefix_rank(t: _Token) -> int:
    # ".qualifier" < "-qualifier" < "-number" < ".number"
    if isinstance(t[1], int):
        return 2 if t[0] == "-" else 3
    return 1 if t[0] == "-" else 0


def _token_lt(a: _Token, b: _Token) -> bool:
    if a[0] != b[0]:
        return _prefix_rank(a) < _prefix_rank(b)
    av, bv = a[1], b[1]
    if isinstance(av, int) and isinstance(bv, int):
        return av < bv
    if isinstance(av, int) and not a[2]:
        return False
    if isinstance(bv, int) and not b[2]:
        return True
    ka, kb = _KEYWORDS.get(str(av), len(_KEYWORDS)), _KEYWORDS.get(str(bv), len(_KEYWORDS))
    if ka == kb == len(_KEYWORDS):
        return str(av) < str(bv)
    return ka < kb


def _cmp(v: tuple[_Token, ...], w: tuple[_Token, ...]) -> int:
    if v == w:
        return 0
    for i in range(max(len(v), len(w))):
        a = v[i] if i < len(v) else _null(w[i])
        b = w[i] if i < len(w) else _null(v[i])
        if a[:2] == b[:2]:
            continue
        return -1 if _token_lt(a, b) else 1
    return 0


class MavenVersion(Version):
    """A Maven version: '1.0-alpha-1' < '1.0-SNAPSHOT' < '1.0' = '1.0.0' = '1-ga' < '1.0-sp1' < '1.0-1'."""

    __slots__ = ()
    scheme = "maven"

    def _parse(self, raw: str) -> CmpKey:
        return CmpKey(_tokens(check_text(self.scheme, raw)), _cmp)
