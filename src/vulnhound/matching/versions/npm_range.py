"""npm (node-semver) ranges: '^1.2.3', '~1.2', '>=1.0.0 <2.0.0 || 3.x', '1.2 - 2.3', x-ranges, prerelease rule.

Used for advisories that carry node-semver ranges (nodejs-security-wg ``vulnerable_versions``).
"""

from __future__ import annotations

import re
from functools import lru_cache

from vulnhound.matching.versions._common import OPS
from vulnhound.matching.versions.interface import InvalidVersion
from vulnhound.matching.versions.semver import SemverVersion

_PARTIAL = re.compile(
    r"^(?P<op><=|>=|<|>|=|~>|~|\^)?v?=?(?P<M>\*|[xX]|\d{1,256})(?:\.(?P<m>\*|[xX]|\d{1,256})(?:\.(?P<p>\*|[xX]|\d{1,256})"
    r"(?:-?(?P<pre>[0-9A-Za-z][0-9A-Za-z.-]*))?(?:\+[0-9A-Za-z.-]+)?)?)?$"
)
_HYPHEN = re.compile(r"^\s*(\S+)\s+-\s+(\S+)\s*$")
_OP_SPACE = re.compile(r"(<=|>=|<|>|=|~>|~|\^)\s+")
_Comparator = tuple[str, SemverVersion]


def _wild(p: str | None) -> bool:
    return p is None or p in ("*", "x", "X")


def _v(s: str) -> SemverVersion:
    return SemverVersion(s)


def _desugar(token: str, incpre: bool) -> list[_Comparator]:
    m = _PARTIAL.match(token)
    if m is None:
        raise InvalidVersion(f"npm: malformed range comparator {token!r}")
    op = m.group("op") or "="
    if _wild(m.group("M")):
        return [] if op in ("=", ">=", "<=", "~", "~>", "^") else [("<", _v("0.0.0-0"))]
    x = int(m.group("M"))
    y = None if _wild(m.group("m")) else int(m.group("m"))
    z = None if _wild(m.group("p")) else int(m.group("p"))
    pre = f"-{m.group('pre')}" if m.group("pre") else ""
    if y is None or z is None:
        # A partial version is the range it covers: [lo, hi).
        lo = f"{x}.{y or 0}.0"
        hi = f"{x + 1}.0.0-0" if y is None else f"{x}.{y + 1}.0-0"
        if op == "^" and y is not None:
            hi = f"{x + 1}.0.0-0" if x else f"0.{y + 1}.0-0"
        # With includePrerelease node-semver opens partial ranges at the lowest prerelease.
        low = _v(lo + "-0" if incpre else lo)
        if op in ("=", "~", "~>", "^"):
            return [(">=", low), ("<", _v(hi))]
        nxt = _v(hi if incpre else hi.removesuffix("-0"))
        return {">": [(">=", nxt)], ">=": [(">=", low)], "<": [("<", _v(lo + "-0"))], "<=": [("<", _v(hi))]}[op]
    full = _v(f"{x}.{y}.{z}{pre}")
    if op in ("~", "~>"):
        return [(">=", full), ("<", _v(f"{x}.{y + 1}.0-0"))]
    if op == "^":
        hi = f"{x + 1}.0.0-0" if x else (f"0.{y + 1}.0-0" if y else f"0.0.{z + 1}-0")
        return [(">=", full), ("<", _v(hi))]
    return [(op, full)]


def _hyphen(lo: str, hi: str, incpre: bool) -> list[_Comparator]:
    for end in (lo, hi):
        m = _PARTIAL.match(end)
        if m is None or m.group("op"):
            raise InvalidVersion(f"npm: malformed hyphen range end {end!r}")
    lower = [(">=", c[1]) for c in _desugar(lo, incpre) if c[0] in (">=", "=")]
    if incpre and lower and not lower[0][1].prerelease:
        lower = [(">=", _v(str(lower[0][1]) + "-0"))]
    # An incomplete upper end covers its whole partial range ("1.2.3 - 2.3" is <2.4.0-0).
    upper = [("<=", c[1]) if c[0] == "=" else c for c in _desugar(hi, incpre) if c[0] in ("<", "=")]
    return lower + upper


@lru_cache(maxsize=8192)
def parse_npm_range(rng: str, include_prerelease: bool = False) -> tuple[tuple[_Comparator, ...], ...]:
    """The range as OR-ed sets of AND-ed primitive comparators; raises InvalidVersion when malformed."""
    sets: list[tuple[_Comparator, ...]] = []
    for part in rng.split("||"):
        h = _HYPHEN.match(part)
        if h:
            sets.append(tuple(_hyphen(h.group(1), h.group(2), include_prerelease)))
            continue
        comps: list[_Comparator] = []
        for token in _OP_SPACE.sub(r"\1", part.strip()).split():
            comps += _desugar(token, include_prerelease)
        sets.append(tuple(comps))
    return tuple(sets)


def npm_satisfies(version: str, rng: str, include_prerelease: bool = False) -> bool:
    """node-semver's satisfies(): a prerelease only matches a set naming a prerelease of the same x.y.z."""
    v = SemverVersion(version)
    for comps in parse_npm_range(rng, include_prerelease):
        if not all(OPS[op](v, b) for op, b in comps):
            continue
        if not v.prerelease or include_prerelease:
            return True
        if any(b.prerelease and b.release_tuple == v.release_tuple for _, b in comps):
            return True
    return False
