"""Cargo version requirements ('^1.2', '~0.3', '>= 1.8.1, < 2', '1.*') as primitive (op, version) clauses.

RustSec's ``patched``/``unaffected`` lists use this syntax. Cargo's prerelease-matching rule is a resolver rule, not
an advisory one, so it is not applied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vulnhound.matching.versions._common import OPS
from vulnhound.matching.versions.interface import InvalidVersion
from vulnhound.matching.versions.semver import CargoVersion

_CLAUSE = re.compile(
    r"^\s*(\^|~|=|>=|<=|>|<)?\s*(\*|[xX]|\d{1,256})(?:\.(\*|[xX]|\d{1,256}))?(?:\.(\*|[xX]|\d{1,256}))?"
    r"(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?\s*$"
)


@dataclass(frozen=True, slots=True)
class Comparator:
    """One comma-separated part as written: operator ('^' when omitted), numbers (None for missing or wildcard)."""

    op: str
    major: int | None
    minor: int | None
    patch: int | None
    pre: str  # '' or '-alpha.1'

    @property
    def zero_filled(self) -> str:
        """The version with missing parts as zeros ('1.2' → '1.2.0'), build metadata dropped."""
        return f"{self.major or 0}.{self.minor or 0}.{self.patch or 0}{self.pre}"


def _num(p: str | None) -> int | None:
    return None if p is None or p in ("*", "x", "X") else int(p)


def parse_comparator(text: str) -> Comparator:
    """Parse one part; a wildcard also blanks the parts after it ('1.*.3' is '1.*'). Raises InvalidVersion."""
    m = _CLAUSE.match(text)
    if m is None:
        raise InvalidVersion(f"cargo: malformed requirement {text.strip()!r}")
    major, minor, patch = _num(m.group(2)), _num(m.group(3)), _num(m.group(4))
    if major is None:
        minor = None
    if minor is None:
        patch = None
    return Comparator(m.group(1) or "^", major, minor, patch, m.group(5) or "")


def comparator_clauses(c: Comparator) -> list[tuple[str, str]]:
    """Cargo's meaning of one comparator as ANDed primitive clauses."""
    x, y, z = c.major, c.minor, c.patch
    if x is None:
        return []
    # Upper bounds are the next version's lowest prerelease: Cargo compares major (and minor) for equality, so
    # "^1.2" does not take 2.0.0-alpha.
    if y is None:
        lo, hi = f"{x}.0.0", f"{x + 1}.0.0-0"  # "1", "1.*", "=1", "^1", "~1": the whole major
        return {">": [(">=", f"{x + 1}.0.0")], ">=": [(">=", lo)], "<": [("<", lo)], "<=": [("<", hi)]}.get(
            c.op, [(">=", lo), ("<", hi)]
        )
    if z is None:
        lo, hi = f"{x}.{y}.0", f"{x}.{y + 1}.0-0"
        if c.op == "^":
            hi = f"{x + 1}.0.0-0" if x else f"0.{y + 1}.0-0"
        return {">": [(">=", f"{x}.{y + 1}.0")], ">=": [(">=", lo)], "<": [("<", lo)], "<=": [("<", hi)]}.get(
            c.op, [(">=", lo), ("<", hi)]
        )
    full = c.zero_filled
    if c.op == "^":
        hi = f"{x + 1}.0.0" if x else (f"0.{y + 1}.0" if y else f"0.0.{z + 1}")
        return [(">=", full), ("<", f"{hi}-0")]
    if c.op == "~":
        return [(">=", full), ("<", f"{x}.{y + 1}.0-0")]
    return [(c.op, full)]


def parse_comparators(req: str) -> list[Comparator]:
    """The comma-separated parts of ``req`` (blank parts skipped); raises InvalidVersion."""
    return [parse_comparator(part) for part in req.split(",") if part.strip()]


def parse_cargo_req(req: str) -> list[tuple[str, str]]:
    """'^0.9.2' → [('>=', '0.9.2'), ('<', '0.10.0-0')]; '>= 1.8.1' → [('>=', '1.8.1')]; '*' → []. Clauses are ANDed."""
    return [clause for c in parse_comparators(req) for clause in comparator_clauses(c)]


def cargo_satisfies(version: str, req: str) -> bool:
    """True when ``version`` meets every clause of ``req``."""
    v = CargoVersion(version)
    return all(OPS[op](v, CargoVersion(b)) for op, b in parse_cargo_req(req))
