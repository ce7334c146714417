"""The plug-in axis for version schemes: one immutable class per scheme, one comparison key each.

Modelled on packaging.version.Version: parse in the constructor, compare by a precomputed key, raise a
typed error for what cannot be parsed so that the matcher can report "unmatched: unparseable version".
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class InvalidVersion(ValueError):
    """A version string this scheme cannot parse; the message names the scheme and the string."""


class Version(ABC):
    """An immutable, totally ordered version of one scheme."""

    __slots__ = ("_key", "_raw")
    scheme: str = ""

    def __init__(self, raw: str) -> None:
        self._raw = raw
        self._key = self._parse(raw)

    @abstractmethod
    def _parse(self, raw: str) -> Any:
        """Return the comparison key for ``raw`` or raise InvalidVersion."""

    @property
    def raw(self) -> str:
        return self._raw

    def __str__(self) -> str:
        return self._raw

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._raw!r}>"

    def __hash__(self) -> int:
        return hash((type(self), self._key))

    def _check(self, other: object) -> Version:
        if type(other) is not type(self):
            raise TypeError(f"cannot compare {type(self).__name__} with {type(other).__name__}")
        assert isinstance(other, Version)
        return other

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Version)
        return bool(self._key == other._key)

    def __lt__(self, other: Version) -> bool:
        return bool(self._key < self._check(other)._key)

    def __le__(self, other: Version) -> bool:
        return bool(self._key <= self._check(other)._key)

    def __gt__(self, other: Version) -> bool:
        return bool(self._key > self._check(other)._key)

    def __ge__(self, other: Version) -> bool:
        return bool(self._key >= self._check(other)._key)
