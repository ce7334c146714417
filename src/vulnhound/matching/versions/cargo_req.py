"""Cargo version requirements ('^1.2', '~0.3', '>= 1.8.1, < 2', '1.*') as primitive (op, version) clauses.

RustSec's ``patched``/``unaffected`` lists use this syntax. Cargo's prerelease-matching rule is a resolver rule, not
an advisory one, so it is not applied.
"""

from __future__ import annotations

import re

from vulnhound.matching.versions._common import OPS
from vulnhound.matching.versions.interface import InvalidVersion
from vulnhound.matching.versions.semver import CargoVersion

_CLAUSE = re.compile(
    r"^\s*(\^|~|=|>=|<=|>|<)?\s*(\*|[xX]|\d{1,256})(?:\.(\*|[xX]|\d{1,256}))?(?:\.(\*|[xX]|\d{1,256}))?"
    r"(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?\s*$"
)


def _wild(p: str | None) -> bool:
    return p is None or p in ("*", "x", "X")


def _clause(text: str) -> list[tuple[str, str]]:
    m = _CLAUSE.match(text)
    if m is None:
        raise InvalidVersion(f"cargo: malformed requirement {text.strip()!r}")
    op, major, minor, patch, pre = m.group(1) or "^", m.group(2), m.group(3), m.group(4), m.group(5) or ""
    if _wild(major):
        return []
    x = int(major)
    if _wild(minor):
        lo, hi = f"{x}.0.0", f"{x + 1}.0.0"  # "1", "1.*", "=1", "^1", "~1": the whole major
        return {">": [(">=", hi)], ">=": [(">=", lo)], "<": [("<", lo)], "<=": [("<", hi)]}.get(
            op, [(">=", lo), ("<", hi)]
        )
    y = int(str(minor))
    if _wild(patch):
        lo, hi = f"{x}.{y}.0", f"{x}.{y + 1}.0"
        if op == "^":
            hi = f"{x + 1}.0.0" if x else f"0.{y + 1}.0"
        return {">": [(">=", hi)], ">=": [(">=", lo)], "<": [("<", lo)], "<=": [("<", hi)]}.get(
            op, [(">=", lo), ("<", hi)]
        )
    z = int(str(patch))
    full = f"{x}.{y}.{z}{pre}"
    if op == "^":
        hi = f"{x + 1}.0.0" if x else (f"0.{y + 1}.0" if y else f"0.0.{z + 1}")
        return [(">=", full), ("<", hi)]
    if op == "~":
        return [(">=", full), ("<", f"{x}.{y + 1}.0")]
    return [(op, full)]


def parse_cargo_req(req: str) -> list[tuple[str, str]]:
    """'^0.9.2' → [('>=', '0.9.2'), ('<', '0.10.0')]; '>= 1.8.1' → [('>=', '1.8.1')]; '*' → []. Clauses are ANDed."""
    out: list[tuple[str, str]] = []
    for part in req.split(","):
        if part.strip():
            out += _clause(part)
    return out


def cargo_satisfies(version: str, req: str) -> bool:
    """True when ``version`` meets every clause of ``req``."""
    v = CargoVersion(version)
    return all(OPS[op](v, CargoVersion(b)) for op, b in parse_cargo_req(req))
