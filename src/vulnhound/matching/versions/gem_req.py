"""RubyGems requirement strings ('>= 1.2, < 2', '~> 1.2.3') as primitive (op, version) clauses, and a checker."""

from __future__ import annotations

import re

from vulnhound.matching.versions._common import OPS, isnum
from vulnhound.matching.versions.interface import InvalidVersion
from vulnhound.matching.versions.rubygems import RubyGemsVersion

_CLAUSE = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*v?([0-9][0-9A-Za-z.\-]*)\s*$")
_SCAN = re.compile(r"[0-9]+|[A-Za-z]+")


def _bump(bound: str) -> str:
    # Gem::Version#bump: drop prerelease parts, drop the last part when there are two or more, increment.
    nums: list[str] = []
    for p in _SCAN.findall(bound.replace("-", ".pre.")):
        if not isnum(p):
            break
        nums.append(p)
    if len(nums) > 1:
        nums.pop()
    nums[-1] = str(int(nums[-1]) + 1)
    return ".".join(nums)


def parse_gem_req(req: str) -> list[tuple[str, str]]:
    """'>= 1.2, < 2' → [('>=', '1.2'), ('<', '2')]; no operator means '='; '~> 1.2.3' → ('>=', '1.2.3'), ('<', '1.3').

    Clauses are ANDed. Raises InvalidVersion for a clause that is not a gem requirement.
    """
    out: list[tuple[str, str]] = []
    for part in req.split(","):
        if not part.strip():
            continue
        m = _CLAUSE.match(part)
        if m is None:
            raise InvalidVersion(f"rubygems: malformed requirement {part.strip()!r}")
        op, ver = m.group(1) or "=", m.group(2)
        RubyGemsVersion(ver)  # validate now rather than at match time
        if op == "~>":
            out += [(">=", ver), ("<", _bump(ver))]
        else:
            out.append((op, ver))
    return out


def gem_satisfies(version: str, req: str) -> bool:
    """True when ``version`` meets every clause of ``req``."""
    v = RubyGemsVersion(version)
    return all(OPS[op](v, RubyGemsVersion(b)) for op, b in parse_gem_req(req))
