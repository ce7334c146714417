"""RubyGems versions as Gem::Version orders them (letters start a prerelease), and gem requirement parsing."""

from __future__ import annotations

import re

from vulnhound.matching.versions._common import CmpKey, check_text, isnum
from vulnhound.matching.versions.interface import InvalidVersion, Version

_Seg = int | str
_SCAN = re.compile(r"[0-9]+|[A-Za-z]+")
_REQ = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*([0-9A-Za-z.\-+]+)\s*$")


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
        if not re.fullmatch(r"[0-9A-Za-z.\-]+", s) or not s[0].isalnum():
            raise InvalidVersion(f"{self.scheme}: malformed version number string {raw!r}")
        return CmpKey(_segments(s), _cmp)

    @property
    def prerelease(self) -> bool:
        return any(c.isalpha() for c in self.raw)


def parse_gem_req(req: str) -> list[tuple[str, str]]:
    """'>= 1.2, < 2' (comma separated, as advisories write them) → [('>=', '1.2'), ('<', '2')]; no op means '='."""
    out: list[tuple[str, str]] = []
    for part in req.split(","):
        if not part.strip():
            continue
        m = _REQ.match(part)
        if m is None:
            raise InvalidVersion(f"rubygems: malformed requirement {part.strip()!r}")
        out.append((m.group(1) or "=", m.group(2)))
    return out


def _bump(bound: str) -> str:
    # Gem::Version#bump: drop prerelease parts, drop the last part (when there are two or more), increment.
    segs = [p for p in _SCAN.findall(bound.replace("-", ".pre.")) if isnum(p) or p == ""]
    nums: list[str] = []
    for p in _SCAN.findall(bound.replace("-", ".pre.")):
        if not isnum(p):
            break
        nums.append(p)
    del segs
    if len(nums) > 1:
        nums.pop()
    nums[-1] = str(int(nums[-1]) + 1)
    return ".".join(nums)


def _release(v: RubyGemsVersion) -> RubyGemsVersion:
    nums: list[str] = []
    for p in _SCAN.findall(v.raw.replace("-", ".pre.")):
        if not isnum(p):
            break
        nums.append(p)
    return RubyGemsVersion(".".join(nums)) if nums and len(nums) < len(_SCAN.findall(v.raw)) else v


def gem_satisfies(version: RubyGemsVersion, op: str, bound: str) -> bool:
    """One requirement clause as Gem::Requirement checks it; '~> 1.2.3' means >= 1.2.3 and release < 1.3."""
    b = RubyGemsVersion(bound)
    if op == "~>":
        return version >= b and _release(version) < RubyGemsVersion(_bump(bound))
    return {
        "=": version == b,
        "!=": version != b,
        ">": version > b,
        "<": version < b,
        ">=": version >= b,
        "<=": version <= b,
    }[op]
