"""The plug-in axis for catalogers: which files a cataloger wants, and a pure parser over a read-only view.

A cataloger never opens files outside the view and never learns where the bytes come from (a directory,
an image layer, a zip). One module per package database or ecosystem; all are listed in ``registry``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from vulnhound.inventory.model import CatalogIssue, OSInfo, Package
from vulnhound.sources.interface import FileView

# Files larger than this are skipped with a note unless a cataloger says otherwise (decompression bombs,
# accidental multi-GB blobs); package databases are far smaller.
DEFAULT_MAX_FILE_SIZE = 256 << 20


@dataclass(slots=True)
class CatalogContext:
    """What a cataloger may know besides the files: the OS (identified first) and scan options."""

    os: OSInfo | None = None
    source_kind: str = "dir"
    include_files: bool = True  # collect installed-file lists where cheap (dpkg info/*.list, rpm file names)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    # Per-scan scratch space shared by catalogers that read the same files (the Go and Rust binary catalogers
    # share one parse of each executable's section table); keyed by a name the owning module chooses.
    shared: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WantHints:
    """A superset of the paths a cataloger wants, stated as data so that the engine can index it: a path is
    passed to ``wants`` only if its basename is in ``basenames``, or its basename's last extension (lower-cased,
    with the dot) is in ``extensions``, or its basename has no dot and ``no_extension`` is set, or it starts with
    one of ``prefixes``. Hints may over-approximate ``wants``; they must never miss a path it accepts."""

    basenames: frozenset[str] = frozenset()
    extensions: frozenset[str] = frozenset()
    no_extension: bool = False
    prefixes: tuple[str, ...] = ()


@dataclass(slots=True)
class CatalogResult:
    """Packages found, problems met, and files owned by OS packages (path → owning package name)."""

    packages: list[Package] = field(default_factory=list)
    issues: list[CatalogIssue] = field(default_factory=list)
    owned_files: dict[str, str] = field(default_factory=dict)

    def extend(self, other: CatalogResult) -> None:
        self.packages.extend(other.packages)
        self.issues.extend(other.issues)
        self.owned_files.update(other.owned_files)


class Cataloger(ABC):
    """One package database or ecosystem."""

    name: str = ""
    # None: the engine asks ``wants`` about every path (always correct, slower on big trees).
    hints: ClassVar[WantHints | None] = None

    @abstractmethod
    def wants(self, path: str) -> bool:
        """Cheap test on a view path ("var/lib/dpkg/status"): does this cataloger read that file?

        Called for the paths that ``hints`` admit (every path when there are none), so keep it to string tests
        (endswith / basename / prefix). Keep ``hints`` a superset when changing this."""

    @abstractmethod
    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        """Parse the wanted ``paths`` (those for which ``wants`` was true). Never raises for bad content:
        a malformed file or record becomes a CatalogIssue naming the file and offset; the rest goes on."""
