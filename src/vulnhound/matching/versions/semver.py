"""SemVer 2 versions as OSV tools compare them: optional 'v', missing parts are 0, prerelease rules, build ignored."""

from __future__ import annotations

import re

from vulnhound.matching.versions._common import check_text, isnum
from vulnhound.matching.versions.interface import InvalidVersion, Version

_Pre = tuple[tuple[int, int | str], ...]
# A release sorts after all its prereleases: (1,) > (0, ...).
_RELEASE: tuple[int, _Pre] = (1, ())
# After the numbers only a prerelease ('-...') or build ('+...') may follow.
_TAIL = re.compile(r"[-+][0-9A-Za-z.+-]*")
# Go toolchain tags: go1.21, go1.21.3, go1.21rc2, go1.9beta1 (golang.org/x/vuln maps them the same way).
_GO_TAG = re.compile(r"go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?")


def split_semver_like(s: str) -> tuple[list[int], str]:
    """Leading dot-separated numbers, then the rest (prerelease/build) starting at the first other character."""
    comps: list[int] = []
    cur = ""
    for i, c in enumerate(s):
        if "0" <= c <= "9":
            cur += c
            continue
        if cur:
            comps.append(int(cur))
            cur = ""
        if c != ".":
            return comps, s[i:]
    if cur:
        comps.append(int(cur))
    return comps, ""


def prerelease_key(tail: str, lower: bool = False) -> tuple[int, _Pre]:
    """Order of the part after the numbers: build metadata dropped, one leading '-' dropped, SemVer §11 rules."""
    pre = tail.split("+", 1)[0]
    pre = pre.removeprefix("-")
    if lower:
        pre = pre.lower()
    if not pre:
        return _RELEASE
    # Numeric identifiers sort before alphanumeric ones; more identifiers win a tie.
    return (0, tuple((0, int(p)) if isnum(p) else (1, p) for p in pre.split(".")))


def semver_like_key(scheme: str, raw: str, width: int, strip: tuple[str, ...] = ("v",)) -> tuple[object, ...]:
    """Key for 'width' numeric components; extra components move to the tail as OSV's semver-like parser does."""
    s = check_text(scheme, raw)
    for p in strip:
        if s.startswith(p):
            s = s[len(p) :]
            break
    comps, tail = split_semver_like(s)
    if not comps:
        raise InvalidVersion(f"{scheme}: no numeric version at the start of {raw!r}")
    if tail and not _TAIL.fullmatch(tail):
        raise InvalidVersion(f"{scheme}: {tail!r} is neither a prerelease nor build metadata in {raw!r}")
    if len(comps) > width:
        tail += "".join(f".{c}" for c in comps[width:])
        comps = comps[:width]
    comps += [0] * (width - len(comps))
    return (*comps, prerelease_key(tail, lower=scheme == "nuget"))


class SemverVersion(Version):
    """npm and other SemVer ecosystems; lenient like OSV's parser ('v1.2', '1.2.3.4' are accepted)."""

    __slots__ = ()
    scheme = "semver"

    def _parse(self, raw: str) -> tuple[object, ...]:
        return semver_like_key(self.scheme, raw, 3)

    @property
    def prerelease(self) -> bool:
        return bool(self._key[-1][0] == 0)

    @property
    def release_tuple(self) -> tuple[int, int, int]:
        major, minor, patch = self._key[:3]
        return (major, minor, patch)


class CargoVersion(SemverVersion):
    """crates.io versions: SemVer 2."""

    __slots__ = ()
    scheme = "cargo"


class GoVersion(SemverVersion):
    """Go module versions: 'v1.2.3', pseudo-versions (ordered as prereleases), '+incompatible' (build, ignored).

    OSV writes Go ranges without the 'v' and the toolchain as '1.21.3'; 'go1.21.3' is accepted too.
    """

    __slots__ = ()
    scheme = "go"

    def _parse(self, raw: str) -> tuple[object, ...]:
        tag = _GO_TAG.fullmatch(raw)
        if tag:
            major, minor, patch, pre, n = tag.groups()
            return semver_like_key(self.scheme, f"{major}.{minor}.{patch or 0}" + (f"-{pre}.{n}" if pre else ""), 3)
        return semver_like_key(self.scheme, raw, 3)


class NugetVersion(Version):
    """NuGet versions: up to four numeric parts, case-insensitive prerelease, build metadata ignored."""

    __slots__ = ()
    scheme = "nuget"

    def _parse(self, raw: str) -> tuple[object, ...]:
        return semver_like_key(self.scheme, raw, 4)
