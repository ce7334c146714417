"""PyPI versions: PEP 440 via packaging.version, with a setuptools-style fallback for legacy (pre-PEP 440) strings."""

from __future__ import annotations

import re
from typing import Any

from packaging.version import InvalidVersion as _PackagingInvalid
from packaging.version import Version as _PEP440

from vulnhound.matching.versions._common import check_text
from vulnhound.matching.versions.interface import Version

_LEGACY_PART = re.compile(r"\d+|[a-z]+|\.|-")
_LEGACY_REPLACE = {"pre": "c", "preview": "c", "-": "final-", "rc": "c", "dev": "@"}


def _legacy_key(s: str) -> str:
    """pkg_resources' old parse_version: zero-padded numbers, '*'-marked words, trailing zeros dropped."""
    parts: list[str] = []
    for part in [*_LEGACY_PART.findall(s.lower()), "final"]:
        if part == ".":
            continue
        part = _LEGACY_REPLACE.get(part, part)
        part = part.zfill(8) if part[0].isdigit() else "*" + part
        if part.startswith("*"):
            if part < "*final":
                while parts and parts[-1] == "*final-":
                    parts.pop()
            while parts and parts[-1] == "00000000":
                parts.pop()
        parts.append(part)
    return "".join(parts)


class Pep440Version(Version):
    """A PEP 440 version; strings PEP 440 rejects are "legacy" and sort below every PEP 440 version."""

    __slots__ = ()
    scheme = "pep440"

    def _parse(self, raw: str) -> tuple[int, Any]:
        s = check_text(self.scheme, raw)
        try:
            return (1, _PEP440(s)._key)
        except _PackagingInvalid:
            return (0, _legacy_key(s))

    @property
    def legacy(self) -> bool:
        """True when the string is not PEP 440 and only ordered best-effort (ranges treat it as undecidable)."""
        return bool(self._key[0] == 0)
