"""Reads the OSV ordering fixtures (lines 'a < b', 'a = b', 'a > b'; '#' and '//' comments) from ../shared."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

SCALIBR = Path("osv-version-fixtures/scalibr-semantic/semantic/testdata")
OSVDEV = Path("osv-version-fixtures/osv.dev/osv/ecosystems/testdata")

# fixture file → the schemes that must satisfy every line of it
FILES: dict[Path, tuple[str, ...]] = {
    SCALIBR / "alpine-versions.txt": ("apk",),
    SCALIBR / "alpine-versions-generated.txt": ("apk",),
    SCALIBR / "debian-versions.txt": ("dpkg",),
    SCALIBR / "debian-versions-generated.txt": ("dpkg",),
    SCALIBR / "maven-versions.txt": ("maven",),
    SCALIBR / "maven-versions-generated.txt": ("maven",),
    SCALIBR / "nuget-versions.txt": ("nuget",),
    SCALIBR / "packagist-versions.txt": ("composer",),
    SCALIBR / "packagist-versions-generated.txt": ("composer",),
    OSVDEV / "packagist_test_cases.txt": ("composer",),
    SCALIBR / "pypi-versions.txt": ("pep440",),
    SCALIBR / "pypi-versions-generated.txt": ("pep440",),
    SCALIBR / "redhat-versions.txt": ("rpm",),
    SCALIBR / "rubygems-versions.txt": ("rubygems",),
    SCALIBR / "rubygems-versions-generated.txt": ("rubygems",),
    SCALIBR / "semver-versions.txt": ("semver", "cargo", "go"),
}


def read_cases(path: Path) -> Iterator[tuple[int, str, str, str]]:
    """(line number, left, operator, right) for every comparison line."""
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", "//")):
            continue
        for op in (" < ", " = ", " > "):
            if op in line:
                a, b = line.split(op, 1)
                yield n, a.strip(), op.strip(), b.strip()
                break
        else:
            raise ValueError(f"{path}:{n}: not a comparison: {line!r}")
