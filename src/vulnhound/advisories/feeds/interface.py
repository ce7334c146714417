"""The plug-in axis for advisory feeds: fetch (raw bytes from upstream, conditional) and parse (pure) apart.

``fetch`` downloads a snapshot into a directory and reports "unchanged" on 304; ``parse`` turns a snapshot
(what fetch wrote, or the same layout found in a mirror directory) into normalized items and never does I/O
beyond reading that snapshot. Replaying a saved snapshot gives the same items.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from vulnhound.advisories.model import ParsedItem


@dataclass(slots=True)
class FetchState:
    """What the last successful fetch of this feed left: validators for conditional requests."""

    etag: str | None = None
    last_modified: str | None = None
    cursor: str | None = None  # feed-specific (NVD lastModStartDate, OSV modified_id high-water mark)
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class FetchResult:
    unchanged: bool
    snapshot: Path | None  # directory or file holding the raw bytes as upstream served them
    state: FetchState
    bytes_downloaded: int = 0
    description: str = ""  # e.g. the URL(s) and ETag, recorded on the update operation


class Feed(ABC):
    """One upstream advisory source."""

    name: str = ""  # stable source name recorded on every record: "osv:PyPI", "debian-tracker", "nvd", ...
    url: str = ""  # the real upstream URL

    @abstractmethod
    def fetch(self, client: httpx.Client, dest: Path, state: FetchState) -> FetchResult:
        """Download the feed's current snapshot into ``dest`` (conditional on ``state``)."""

    @abstractmethod
    def parse(self, snapshot: Path) -> Iterator[ParsedItem]:
        """Yield normalized items from a snapshot; malformed records become ``Reject`` items."""

    @classmethod
    def detect(cls, path: Path) -> bool:
        """Does ``path`` (a file or directory in a mirror) hold this feed's upstream format?"""
        return False
