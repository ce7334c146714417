"""Alpine secdb: ``v3.NN/{main,community}.json`` (secdb.alpinelinux.org) and the legacy YAML of the same shape.

``secfixes: {version: [ids]}`` says each id is fixed in that version of the *origin* package. Records are keyed
like osv.dev's Alpine import — id ``ALPINE-<first token>`` ("ALPINE-CVE-2023-46850", "ALPINE-XSA-207") with the
upstream ids as aliases — one Advisory per id, one Affected per (release, package). Ecosystem is ``Alpine:v3.16``
(``Alpine:edge`` for edge). A fixed version of ``0`` means that release was never affected (NOT_AFFECTED).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml

from vulnhound.advisories.feeds.common import feed_purl
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
    Reject,
    VendorStatus,
)

NAME = "alpine-secdb"
REPOS = ("main", "community")
_APK_VERSION = re.compile(r"^\d+(\.\d+)*[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*(-r\d+)?$")
_ID = re.compile(r"^(CVE-\d{4}-\d{4,}|[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9][A-Za-z0-9._:-]*)$")
_BASE_LOADER: type[yaml.BaseLoader] = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
_RELEASE = re.compile(r"v\d+\.\d+|edge")
_RELEASE_DIR = re.compile(r'href="(v\d+\.\d+|edge)/"')


def _load(path: Path) -> Any:
    raw = path.read_bytes()
    if path.suffix in (".yaml", ".yml"):
        # BaseLoader: every scalar stays a string, so "1.10" is not read as the float 1.1.
        return yaml.load(raw, Loader=_BASE_LOADER)
    return json.loads(raw)


def parse_secdb(doc: Any, location: str, into: dict[str, Advisory]) -> Iterator[Reject]:
    """Add one secdb document's fixes to ``into`` (advisories by id); yield Rejects for what is skipped."""
    if not isinstance(doc, dict) or "packages" not in doc:
        yield Reject(NAME, location, "not a secdb document (no packages key)")
        return
    packages = doc.get("packages") or []  # an empty repository is written as "packages:" (null) in YAML
    if not isinstance(packages, list):
        yield Reject(NAME, location, "packages is not a list")
        return
    release = str(doc.get("distroversion") or "").strip()
    if not _RELEASE.fullmatch(release):
        yield Reject(NAME, location, f"bad distroversion {release!r}")
        return
    ecosystem = f"Alpine:{release}"
    repo = doc.get("reponame")
    for i, entry in enumerate(packages):
        pkg = entry.get("pkg") if isinstance(entry, dict) else None
        if not isinstance(pkg, dict):
            yield Reject(NAME, f"{location}#packages[{i}]", "entry without pkg mapping")
            continue
        name = pkg.get("name")
        if not isinstance(name, str) or not name:
            yield Reject(NAME, f"{location}#packages[{i}]", "package without a name")
            continue
        secfixes = pkg.get("secfixes") or {}
        if not isinstance(secfixes, dict):
            yield Reject(NAME, f"{location}#{name}", "secfixes is not a mapping")
            continue
        for version, ids in secfixes.items():
            version = str(version).strip()
            where = f"{location}#{name}@{version}"
            if version != "0" and not _APK_VERSION.match(version):
                yield Reject(NAME, where, f"invalid apk version {version!r}")
                continue
            for text in ids or []:
                # "CVE-2017-8904 XSA-214": the first well-formed token names the record, the rest are aliases.
                tokens = [t for t in str(text).split() if _ID.match(t)]
                if not tokens:
                    yield Reject(NAME, where, f"unrecognised id {text!r}")
                    continue
                vid = f"ALPINE-{tokens[0]}"
                adv = into.get(vid)
                if adv is None:
                    adv = into[vid] = Advisory(id=vid, source=NAME, aliases=(tokens[0],))
                adv.aliases += tuple(t for t in tokens[1:] if t not in adv.aliases)
                status = VendorStatus.NOT_AFFECTED
                ranges: tuple[Range, ...] = ()
                if version != "0":
                    status = VendorStatus.FIXED
                    events = (Event(EventKind.INTRODUCED, "0"), Event(EventKind.FIXED, version))
                    ranges = (Range(RangeType.ECOSYSTEM, events),)
                adv.affected.append(
                    Affected(
                        ecosystem=ecosystem,
                        name=name,
                        purl=feed_purl("apk", name, "alpine", {"arch": "source"}),
                        ranges=ranges,
                        status=status,
                        database_specific={"repository": repo} if repo else {},
                    )
                )


def secdb_files(snapshot: Path) -> list[Path]:
    """``<release>/{main,community}.{json,yaml}`` (release = v3.NN or edge), or one release directory's repo files."""
    if snapshot.is_file():
        return [snapshot]
    if not snapshot.is_dir():
        return []
    names = [f"{repo}{ext}" for repo in REPOS for ext in (".json", ".yaml", ".yml")]
    dirs = [snapshot]
    with os.scandir(snapshot) as it:
        dirs += [Path(e.path) for e in it if _RELEASE.fullmatch(e.name) and e.is_dir()]
    return sorted(d / n for d in dirs for n in names if (d / n).is_file())


class AlpineSecdbFeed(Feed):
    name = NAME
    url = "https://secdb.alpinelinux.org/"

    def __init__(self, url: str | None = None) -> None:
        self.url = (url or type(self).url).rstrip("/") + "/"

    def fetch(self, client: httpx.Client, dest: Path, state: FetchState) -> FetchResult:
        index = download(client, self.url, dest / "index.html")
        assert index.path is not None
        releases = sorted(set(_RELEASE_DIR.findall(index.path.read_text(encoding="utf-8", errors="replace"))))
        index.path.unlink()
        if not releases:
            raise FetchError(self.url, "no release directories in the index")
        targets = [(f"{self.url}{rel}/{repo}.json", dest / rel / f"{repo}.json") for rel in releases for repo in REPOS]
        etags: dict[str, str] = {}
        total, unchanged = 0, []
        for url, path in targets:
            got = download(client, url, path, etag=state.extra.get(url))
            if got.unchanged:
                unchanged.append((url, path))
            total += got.bytes_downloaded
            if got.etag:
                etags[url] = got.etag
        if len(unchanged) == len(targets):
            return FetchResult(True, None, state, total, f"{self.url}: {len(targets)} files unchanged")
        for url, path in unchanged:  # a snapshot is complete: fetch again what 304 skipped
            got = download(client, url, path)
            total += got.bytes_downloaded
            if got.etag:
                etags[url] = got.etag
        new_state = FetchState(state.etag, state.last_modified, state.cursor, etags)
        return FetchResult(False, dest, new_state, total, f"{self.url}: {len(targets)} files, {len(releases)} releases")

    def parse(self, snapshot: Path) -> Iterator[ParsedItem]:
        advisories: dict[str, Advisory] = {}
        for path in secdb_files(snapshot):
            location = path.relative_to(snapshot).as_posix() if snapshot.is_dir() else path.name
            try:
                doc = _load(path)
            except (OSError, ValueError, yaml.YAMLError) as exc:
                yield Reject(NAME, location, f"malformed {path.suffix.lstrip('.').upper()}: {exc}")
                continue
            yield from parse_secdb(doc, location, advisories)
        yield from advisories.values()

    @classmethod
    def detect(cls, path: Path) -> bool:
        for file in secdb_files(path)[:4]:
            with file.open("rb") as fh:
                head = fh.read(4096)
            if b"distroversion" in head and b"packages" in head:
                return True
        return False
