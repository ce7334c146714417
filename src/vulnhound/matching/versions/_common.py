"""Small helpers shared by the version schemes: digit tests and a comparison key built from a cmp function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vulnhound.matching.versions.interface import InvalidVersion, Version

# Real versions are far shorter; the cap also keeps digit runs below int()'s 4300-digit conversion limit.
MAX_LEN = 1024


def isnum(s: str) -> bool:
    """True for a non-empty run of ASCII digits (int() would also take '+1', ' 1' and '1_0')."""
    return s.isascii() and s.isdigit()


def check_text(scheme: str, raw: object) -> str:
    """Reject what no scheme accepts: non-strings, empty strings, whitespace and control characters."""
    if not isinstance(raw, str):
        raise InvalidVersion(f"{scheme}: version must be a string, got {type(raw).__name__}")
    if len(raw) > MAX_LEN:
        raise InvalidVersion(f"{scheme}: version longer than {MAX_LEN} characters: {raw[:40]!r}...")
    if not raw or any(c.isspace() or not c.isprintable() for c in raw):
        raise InvalidVersion(f"{scheme}: invalid version {raw!r}")
    return raw


class CmpKey:
    """A key for schemes whose order is defined pairwise (padding depends on the other side).

    Hashing is by scheme only, because equal versions can be spelled differently in ways that have no
    cheap canonical form; versions are compared far more often than hashed.
    """

    __slots__ = ("cmp", "data")

    def __init__(self, data: Any, cmp: Callable[[Any, Any], int]) -> None:
        self.data = data
        self.cmp = cmp

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CmpKey) and self.cmp(self.data, other.data) == 0

    def __hash__(self) -> int:
        return hash(self.cmp)

    def __lt__(self, other: CmpKey) -> bool:
        return self.cmp(self.data, other.data) < 0

    def __le__(self, other: CmpKey) -> bool:
        return self.cmp(self.data, other.data) <= 0

    def __gt__(self, other: CmpKey) -> bool:
        return self.cmp(self.data, other.data) > 0

    def __ge__(self, other: CmpKey) -> bool:
        return self.cmp(self.data, other.data) >= 0


def sign(n: int) -> int:
    return (n > 0) - (n < 0)


# Primitive comparison clauses as requirement parsers return them: (op, version).
OPS: dict[str, Callable[[Version, Version], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}
