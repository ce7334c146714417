"""OSV feeds: osv.dev per-ecosystem ``all.zip`` dumps (full, conditional, or incremental via ``modified_id.csv``)
and directories of OSV JSON/YAML records (PyPA, Go vulndb, RustSec's OSV export, AlmaLinux, GHSA, any other).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import yaml

from vulnhound.advisories.feeds.http import FetchError, download
from vulnhound.advisories.feeds.interface import Feed, FetchResult, FetchState
from vulnhound.advisories.model import (
    Advisory,
    Affected,
    Event,
    EventKind,
    ParsedItem,
    Range,
    RangeType,
    Reference,
    Reject,
    Severity,
)
from vulnhound.advisories.severity import InvalidSeverity, score_vector, vendor_rating

OSV_BASE = os.environ.get("VULNHOUND_OSV_BASE", "https://osv-vulnerabilities.storage.googleapis.com")

# osv-schema ecosystems.json (2026-07); the canonical spelling of each base ecosystem, keyed case-insensitively.
KNOWN_ECOSYSTEMS: tuple[str, ...] = (
    "AlmaLinux", "Alpaquita", "Alpine", "Android", "Azure Linux", "BellSoft Hardened Containers", "Bioconductor",
    "Bitnami", "Chainguard", "CleanStart", "ConanCenter", "CRAN", "crates.io", "Debian", "Docker Hardened Images",
    "Echo", "FreeBSD", "GHC", "GitHub Actions", "Go", "Hackage", "Hex", "Julia", "Kubernetes", "Linux", "Mageia",
    "Maven", "MinimOS", "npm", "NuGet", "opam", "openEuler", "openSUSE", "OSS-Fuzz", "Packagist", "Photon OS",
    "Pub", "PyPI", "Red Hat", "Rocky Linux", "Root", "RubyGems", "SUSE", "SwiftURL", "TuxCare", "Ubuntu", "VSCode",
    "Wolfi",
)
_CANONICAL = {e.lower(): e for e in KNOWN_ECOSYSTEMS}

# The dumps fetched by a plain `db update` (upstream); others can be named with --source osv:<Ecosystem>.
DEFAULT_DUMPS: tuple[str, ...] = (
    "PyPI", "npm", "Go", "crates.io", "RubyGems", "Maven", "NuGet", "Packagist", "Pub", "Hex",
    "Debian", "Alpine", "AlmaLinux", "Rocky Linux", "Ubuntu", "Red Hat", "SUSE", "openSUSE", "Wolfi", "Chainguard",
)


class UnknownEcosystem(ValueError):
    """An ecosystem string whose base is not an OSV ecosystem."""


def normalize_ecosystem(raw: str) -> str:
    """Canonical OSV spelling: base from the schema list, Alpine releases as ``v3.19``; unknown bases raise."""
    text = raw.strip()
    base, sep, rest = text.partition(":")
    canon = _CANONICAL.get(base.strip().lower())
    if canon is None:
        raise UnknownEcosystem(base.strip() or "<empty>")
    if not sep:
        return canon
    rest = rest.strip()
    if canon == "Alpine" and rest[:1].isdigit():
        rest = "v" + rest
    return f"{canon}:{rest}" if rest else canon


def _date(value: Any) -> datetime | None:
    if isinstance(value, datetime):  # YAML (PyPA) loads unquoted timestamps as datetimes
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _strs(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(v) for v in value if isinstance(v, str | int | float) and str(v))


def _severities(raw: Any, source: str, where: str, rejects: list[Reject]) -> tuple[Severity, ...]:
    out: list[Severity] = []
    for item in raw if isinstance(raw, list) else ():
        if not isinstance(item, dict) or not isinstance(item.get("score"), str):
            rejects.append(Reject(source, where, "invalid severity entry"))
            continue
        kind = str(item.get("type", ""))
        if kind in ("CVSS_V2", "CVSS_V3", "CVSS_V4"):
            try:
                out.append(score_vector(item["score"], source, kind))
            except InvalidSeverity:
                rejects.append(Reject(source, where, f"invalid {kind} vector"))
        else:
            # "Ubuntu" and other vendor types carry a word, not a vector.
            out.append(vendor_rating(item["score"], f"{source}:{kind.lower() or 'vendor'}"))
    return tuple(out)


def _ranges(raw: Any, source: str, where: str, rejects: list[Reject]) -> tuple[Range, ...]:
    out: list[Range] = []
    for r in raw if isinstance(raw, list) else ():
        if not isinstance(r, dict):
            rejects.append(Reject(source, where, "invalid range"))
            continue
        try:
            rtype = RangeType(str(r.get("type")))
        except ValueError:
            rejects.append(Reject(source, where, f"unknown range type {r.get('type')!r}"))
            continue
        events: list[Event] = []
        for ev in r.get("events") or ():
            if not isinstance(ev, dict) or len(ev) != 1:
                rejects.append(Reject(source, where, "invalid range event"))
                continue
            (key, value), = ev.items()
            try:
                events.append(Event(EventKind(key), str(value)))
            except ValueError:
                rejects.append(Reject(source, where, f"unknown event {key!r}"))
        if not events:
            rejects.append(Reject(source, where, "range without events"))
            continue
        if not any(e.kind is EventKind.INTRODUCED for e in events):
            # The schema requires one; without it a matcher cannot say where the range starts.
            rejects.append(Reject(source, where, "range without introduced event"))
            continue
        repo = r.get("repo")
        out.append(Range(rtype, tuple(events), repo if isinstance(repo, str) else None))
    return tuple(out)


def parse_record(doc: Any, source: str, location: str) -> list[ParsedItem]:
    """One OSV document → the ``Advisory`` (when valid) followed by any ``Reject``s for its parts."""
    if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or not doc["id"].strip():
        return [Reject(source, location, "not an OSV record (no id)")]
    vid = doc["id"].strip()
    where = f"{location}#{vid}"
    if "modified" not in doc:
        return [Reject(source, where, "not an OSV record (no modified)")]
    rejects: list[Reject] = []
    sev_source = f"osv:{vid.split('-', 1)[0]}"
    severities = list(_severities(doc.get("severity"), sev_source, where, rejects))
    dbs = doc.get("database_specific") if isinstance(doc.get("database_specific"), dict) else {}
    assert isinstance(dbs, dict)
    if isinstance(dbs.get("severity"), str) and dbs["severity"]:
        severities.append(vendor_rating(dbs["severity"], "ghsa" if vid.startswith("GHSA-") else sev_source))
    affected: list[Affected] = []
    for a in doc.get("affected") or ():
        if not isinstance(a, dict):
            rejects.append(Reject(source, where, "invalid affected entry"))
            continue
        pkg = a.get("package") if isinstance(a.get("package"), dict) else None
        if not pkg or not pkg.get("name") or not pkg.get("ecosystem"):
            rejects.append(Reject(source, where, "affected entry without package name/ecosystem"))
            continue
        try:
            eco = normalize_ecosystem(str(pkg["ecosystem"]))
        except UnknownEcosystem as exc:
            rejects.append(Reject(source, where, f"unknown ecosystem {exc}"))
            continue
        es = a.get("ecosystem_specific")
        ds = a.get("database_specific")
        affected.append(Affected(
            ecosystem=eco,
            name=str(pkg["name"]).strip(),
            purl=pkg.get("purl") if isinstance(pkg.get("purl"), str) else None,
            ranges=_ranges(a.get("ranges"), source, where, rejects),
            versions=_strs(a.get("versions")),
            severities=_severities(a.get("severity"), sev_source, where, rejects),
            ecosystem_specific=es if isinstance(es, dict) else {},
            database_specific=ds if isinstance(ds, dict) else {},
        ))
    refs = tuple(
        Reference(str(r["url"]), str(r.get("type", "WEB")))
        for r in doc.get("references") or () if isinstance(r, dict) and r.get("url")
    )
    adv = Advisory(
        id=vid,
        source=source,
        aliases=tuple(a for a in _strs(doc.get("aliases")) if a != vid),
        related=_strs(doc.get("related")),
        summary=doc.get("summary") if isinstance(doc.get("summary"), str) else None,
        details=doc.get("details") if isinstance(doc.get("details"), str) else None,
        published=_date(doc.get("published")),
        modified=_date(doc.get("modified")),
        withdrawn=_date(doc.get("withdrawn")),
        references=refs,
        cwes=_strs(dbs.get("cwe_ids")),
        severities=tuple(severities),
        affected=affected,
        database_specific=dbs,
    )
    return [adv, *rejects]


def _load(data: bytes, name: str) -> Any:
    if name.endswith((".yaml", ".yml")):
        return yaml.load(data, Loader=yaml.CSafeLoader)
    return json.loads(data)


def parse_bytes(data: bytes, name: str, source: str, location: str) -> list[ParsedItem]:
    """Decode one JSON/YAML file (a record, or a list of records as some exporters write) and parse it."""
    try:
        doc = _load(data, name)
    except (ValueError, yaml.YAMLError) as exc:
        kind = "YAML" if name.endswith((".yaml", ".yml")) else "JSON"
        return [Reject(source, location, f"malformed {kind}: {type(exc).__name__}")]
    if isinstance(doc, list):
        return [item for d in doc for item in parse_record(d, source, location)]
    return parse_record(doc, source, location)


_RECORD_SUFFIXES = (".json", ".yaml", ".yml")


def iter_zip(path: Path, source: str) -> Iterator[ParsedItem]:
    """Records of an ``all.zip`` dump; a corrupt archive yields one Reject and nothing else."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield Reject(source, path.name, f"corrupt zip: {exc}")
        return
    with zf:
        for info in zf.infolist():
            if info.is_dir() or not info.filename.endswith(_RECORD_SUFFIXES):
                continue
            try:
                data = zf.read(info)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
                yield Reject(source, f"{path.name}:{info.filename}", f"corrupt zip member: {exc}")
                continue
            yield from parse_bytes(data, info.filename, source, f"{path.name}:{info.filename}")


def iter_files(files: Iterable[Path], root: Path, source: str) -> Iterator[ParsedItem]:
    for f in files:
        try:
            data = f.read_bytes()
        except OSError as exc:
            yield Reject(source, f.relative_to(root).as_posix(), f"unreadable: {exc.strerror}")
            continue
        yield from parse_bytes(data, f.name, source, f.relative_to(root).as_posix())


def verify_zip(path: Path) -> str | None:
    """None when the archive is whole (every member's CRC checks), else what is wrong."""
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        return f"corrupt zip: {exc}"
    return f"corrupt zip member {bad}" if bad else None


PARTIAL_MARKER = ".partial"  # in a snapshot directory: only changed records, do not treat missing ones as gone


class OsvDumpFeed(Feed):
    """One osv.dev ecosystem dump: ``<base>/<ECOSYSTEM>/all.zip`` plus ``modified_id.csv`` for increments."""

    def __init__(self, ecosystem: str = "PyPI", base_url: str | None = None, full_every_days: int = 7) -> None:
        self.ecosystem = ecosystem
        self.name = f"osv:{ecosystem}"
        self.base_url = (base_url or OSV_BASE).rstrip("/")
        self.url = f"{self.base_url}/{quote(ecosystem)}/all.zip"
        self.full_every_days = full_every_days
        self.http: dict[str, Any] = {}  # extra download() keywords (retry policy, progress, sleep) set by callers

    def _full_due(self, state: FetchState) -> bool:
        last = _date(state.extra.get("full_at"))
        return last is None or (datetime.now(UTC) - last).days >= self.full_every_days

    def fetch(self, client: httpx.Client, dest: Path, state: FetchState) -> FetchResult:
        dest.mkdir(parents=True, exist_ok=True)
        if state.cursor and not self._full_due(state):
            inc = self._fetch_incremental(client, dest, state)
            if inc is not None:
                return inc
        target = dest / "all.zip"
        got = download(client, self.url, target, etag=state.etag, last_modified=state.last_modified, **self.http)
        if got.unchanged:
            return FetchResult(True, None, state, 0, f"{self.url} (304 not modified)")
        problem = verify_zip(target)
        if problem:
            target.unlink(missing_ok=True)
            raise FetchError(self.url, f"{problem}; previous data kept")
        new = FetchState(got.etag, got.last_modified, self._high_water(client, dest) or state.cursor,
                         {**state.extra, "full_at": datetime.now(UTC).isoformat()})
        return FetchResult(False, target, new, got.bytes_downloaded, f"{self.url} etag={got.etag}")

    def _modified_ids(self, client: httpx.Client, dest: Path) -> list[tuple[str, str]]:
        """(timestamp, id) rows of the ecosystem's modified_id.csv, newest first; FetchError when unavailable."""
        csv_path = dest / "modified_id.csv"
        download(client, f"{self.base_url}/{quote(self.ecosystem)}/modified_id.csv", csv_path, **self.http)
        try:
            rows = []
            for line in csv_path.read_text(encoding="utf-8").splitlines():
                stamp, _, vid = line.strip().partition(",")
                if vid:
                    rows.append((stamp, vid.rsplit("/", 1)[-1]))
            return rows
        finally:
            csv_path.unlink(missing_ok=True)

    def _high_water(self, client: httpx.Client, dest: Path) -> str | None:
        try:
            rows = self._modified_ids(client, dest)
        except FetchError:
            return None
        return rows[0][0] if rows else None

    def _fetch_incremental(self, client: httpx.Client, dest: Path, state: FetchState) -> FetchResult | None:
        base = f"{self.base_url}/{quote(self.ecosystem)}"
        try:
            rows = self._modified_ids(client, dest)
        except FetchError:
            return None  # fall back to the full dump
        assert state.cursor is not None
        changed: list[tuple[str, str]] = []
        for stamp, vid in rows:
            if stamp <= state.cursor:
                break  # newest first: everything below is already imported
            changed.append((stamp, vid))
        if not changed:
            return FetchResult(True, None, state, 0, f"{base}/modified_id.csv (no change since {state.cursor})")
        snap = dest / "records"
        snap.mkdir(parents=True, exist_ok=True)
        (snap / PARTIAL_MARKER).write_text(state.cursor, encoding="utf-8")
        size = 0
        for _stamp, vid in changed:
            got = download(client, f"{base}/{quote(vid)}.json", snap / f"{vid}.json", **self.http)
            size += got.bytes_downloaded
        new = FetchState(state.etag, state.last_modified, changed[0][0], dict(state.extra))
        return FetchResult(False, snap, new, size, f"{base}/modified_id.csv: {len(changed)} changed since "
                                                   f"{state.cursor}")

    def parse(self, snapshot: Path) -> Iterator[ParsedItem]:
        if snapshot.is_file():
            yield from iter_zip(snapshot, self.name)
            return
        files = sorted(p for p in snapshot.rglob("*") if p.suffix in _RECORD_SUFFIXES and p.is_file())
        zips = sorted(snapshot.rglob("*.zip"))
        for z in zips:
            yield from iter_zip(z, self.name)
        yield from iter_files(files, snapshot, self.name)

    @classmethod
    def detect(cls, path: Path) -> bool:
        if not (path.is_file() and path.suffix == ".zip"):
            return False
        try:
            with zipfile.ZipFile(path) as zf:
                names = [n for n in zf.namelist()[:5] if n.endswith(".json")]
                return bool(names) and _looks_osv(zf.read(names[0]), names[0])
        except (zipfile.BadZipFile, OSError, EOFError, KeyError, zlib.error):
            return False

    @classmethod
    def from_mirror(cls, path: Path) -> OsvDumpFeed:
        # <mirror>/<ECOSYSTEM>/all.zip as gsutil rsync lays it out; a bare all.zip names itself after its records.
        eco = path.parent.name if path.name == "all.zip" else path.stem
        try:
            eco = normalize_ecosystem(eco)
        except UnknownEcosystem:
            eco = _zip_ecosystem(path) or eco
        return cls(eco)


def _zip_ecosystem(path: Path) -> str | None:
    for item in iter_zip(path, "probe"):
        if isinstance(item, Advisory) and item.affected:
            return item.affected[0].ecosystem.split(":", 1)[0]
    return None


def _looks_osv(data: bytes, name: str) -> bool:
    try:
        doc = _load(data, name)
    except (ValueError, yaml.YAMLError):
        return False
    return isinstance(doc, dict) and isinstance(doc.get("id"), str) and "modified" in doc and (
        "affected" in doc or "withdrawn" in doc or "aliases" in doc)


@dataclass(frozen=True, slots=True)
class _Layout:
    name: str  # source name given to records found this way
    roots: tuple[str, ...]  # where records live below the detected directory (first existing wins)
    marker: str  # glob below a root that must match for the layout to apply


# Known upstream repository layouts; the generic "directory of OSV files" comes last.
_LAYOUTS: tuple[_Layout, ...] = (
    _Layout("pypa-advisory-database", ("vulns",), "*/PYSEC-*.yaml"),
    _Layout("go-vulndb", ("data/osv",), "GO-*.json"),
    _Layout("rustsec-osv", ("crates", "osv/crates"), "RUSTSEC-*.json"),
    _Layout("almalinux-osv", ("advisories",), "almalinux*/AL*.json"),
    _Layout("ghsa", ("advisories",), "github-reviewed/*/*/GHSA-*/GHSA-*.json"),
)


def _first_match(root: Path, pattern: str) -> Path | None:
    return next(iter(root.glob(pattern)), None)


def _layout_of(path: Path) -> tuple[str, Path] | None:
    if not path.is_dir():
        return None
    for lay in _LAYOUTS:
        for sub in lay.roots:
            root = path / sub
            if root.is_dir() and _first_match(root, lay.marker) is not None:
                return lay.name, root
    # Generic: OSV files directly inside, or one directory down (osv-fixture-harvest/<Ecosystem>/<ID>.json).
    # A few broken files must not hide a directory of records (they become rejects), so most samples must pass.
    samples = sorted(p for pattern in ("*.json", "*/*.json", "*.yaml", "*/*.yaml") for p in path.glob(pattern)
                     if p.is_file())[:5]
    good = sum(_looks_osv(p.read_bytes(), p.name) for p in samples)
    if good and good * 2 >= len(samples):
        return f"osv-dir:{path.name}", path
    return None


class OsvDirectoryFeed(Feed):
    """A directory of OSV records in a mirror (git checkout or unpacked tarball); mirror-only, no upstream URL."""

    def __init__(self, name: str = "osv-dir", root: Path | None = None) -> None:
        self.name = name
        self.root = root
        self.url = ""

    def fetch(self, client: httpx.Client, dest: Path, state: FetchState) -> FetchResult:
        raise FetchError(self.name, "read from a mirror directory only (db update --mirror DIR)")

    def parse(self, snapshot: Path) -> Iterator[ParsedItem]:
        found = _layout_of(snapshot)
        root = found[1] if found else snapshot
        files = sorted(p for p in root.rglob("*") if p.suffix in _RECORD_SUFFIXES and p.is_file())
        yield from iter_files(files, root, self.name)

    @classmethod
    def detect(cls, path: Path) -> bool:
        return _layout_of(path) is not None

    @classmethod
    def from_mirror(cls, path: Path) -> OsvDirectoryFeed:
        found = _layout_of(path)
        return cls(found[0] if found else f"osv-dir:{path.name}", path)


def osv_dump_feeds() -> list[Feed]:
    """The osv.dev ecosystem dumps a plain ``db update`` fetches."""
    return [OsvDumpFeed(eco) for eco in DEFAULT_DUMPS]


def zip_records(records: Iterable[tuple[str, bytes]]) -> bytes:
    """Build an ``all.zip`` the way osv.dev does (one ``<ID>.json`` per member, deflated); for tests and bundles."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in records:
            zf.writestr(name, data)
    return buf.getvalue()
