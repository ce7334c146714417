"""What the native-format feeds share: URL-configurable fetch bases, timestamps, CVSS scoring and purls that never
raise."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

from vulnhound.advisories.feeds.http import fetch_file, fetch_tarball
from vulnhound.advisories.feeds.interface import Feed, FetchResult, FetchState
from vulnhound.advisories.model import Reject, Severity
from vulnhound.advisories.severity import InvalidSeverity, score_vector
from vulnhound.inventory.purl import make_purl


class UrlFeed(Feed):
    """A feed read from one upstream URL; pass another (a mirror, a test server) to the constructor."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or type(self).url


class SingleFileFeed(UrlFeed):
    """Upstream is one file (KEV JSON, EPSS csv.gz, tracker JSON), saved as ``filename`` in the snapshot."""

    filename: str = ""

    def fetch(self, client: httpx.Client, dest: Path, state: FetchState) -> FetchResult:
        dest.mkdir(parents=True, exist_ok=True)
        result = fetch_file(client, self.url, dest / self.filename, state)
        if not result.unchanged:
            result.snapshot = dest
        return result


class TarballFeed(UrlFeed):
    """Upstream is a git repository, fetched as its branch tarball and unpacked (top directory stripped)."""

    def fetch(self, client: httpx.Client, dest: Path, state: FetchState) -> FetchResult:
        return fetch_tarball(client, self.url, dest, state)


def parse_when(value: object) -> datetime | None:
    """An ISO date or datetime (with or without zone, YAML may hand us a ``date``) → aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def score(vector: str, source: str, feed: str, location: str, type_: str | None = None) -> Severity | Reject:
    """Score a vector; an invalid one becomes a Reject (the record is kept, that rating is dropped)."""
    try:
        return score_vector(vector, source, type_)
    except InvalidSeverity as exc:
        return Reject(feed, location, f"invalid-cvss: {exc} (record kept without this rating)")


def feed_purl(type_: str, name: str, namespace: str | None = None,
              qualifiers: dict[str, str | None] | None = None) -> str | None:
    """The package's purl, or None for a name no purl can carry (empty): the record keeps everything else."""
    try:
        return make_purl(type_, name, namespace=namespace, qualifiers=qualifiers)
    except ValueError:
        return None


def read_json(path: Path, feed: str, location: str) -> Any:
    """The file's JSON document, or a Reject (to yield in its place) when it cannot be read or parsed."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        return Reject(feed, location, f"malformed JSON: {exc}")


def snapshot_root(snapshot: Path, marker: str) -> Path:
    """The directory holding ``marker`` (e.g. "crates"): the snapshot itself or one level down (tarball top dir)."""
    if (snapshot / marker).exists():
        return snapshot
    for child in sorted(p for p in snapshot.iterdir() if p.is_dir()) if snapshot.is_dir() else []:
        if (child / marker).exists():
            return child
    return snapshot
