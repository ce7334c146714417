"""Debian security tracker: the tracker JSON (``/tracker/data/json``) and, if cheap, the raw ``data/CVE/list``.

One Advisory per CVE (or TEMP id), one Affected per (source package, release) with ecosystem ``Debian:<version>``.
The tracker's states are kept distinct, never collapsed into fixed/unfixed:

====================================  ===========================================================
tracker JSON (per release)            VendorStatus (``status_reason`` keeps the tracker's words)
====================================  ===========================================================
resolved, fixed_version V             FIXED, range introduced 0 / fixed V
resolved, fixed_version "0"           NOT_AFFECTED (``<not-affected>`` in data/CVE/list)
open + nodsa, nodsa_reason ""         NO_DSA        (``<no-dsa>``)
open + nodsa, nodsa_reason ignored    IGNORED       (``<ignored>``)
open + nodsa, nodsa_reason postponed  POSTPONED     (``<postponed>``)
open, urgency "end-of-life"           END_OF_LIFE   (``<end-of-life>``)
open                                  UNFIXED       (``<unfixed>``; "unimportant" kept as reason)
undetermined                          UNDETERMINED  (``<undetermined>``)
====================================  ===========================================================

Open states carry the range introduced 0 (every version), so a matcher can test them and then read the status.
Urgency is kept verbatim (``high**`` included) as a VENDOR severity.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from debian.debian_support import Version as DebVersion

from vulnhound.advisories.debian_releases import SID, distro_releases, ecosystem_for
from vulnhound.advisories.feeds.common import SingleFileFeed, feed_purl, read_json
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
    VendorStatus,
)
from vulnhound.advisories.severity import vendor_rating

NAME = "debian-tracker"
FILENAME = "tracker.json"
# The release table lives in advisories/debian_releases.py (the matcher reads it without this feed).


def _valid_version(v: str) -> bool:
    try:
        DebVersion(v)
    except ValueError:
        return False
    return bool(v) and v[0].isalnum() and " " not in v


_ALL = (Range(RangeType.ECOSYSTEM, (Event(EventKind.INTRODUCED, "0"),)),)


def release_status(rel: dict[str, Any]) -> tuple[VendorStatus, str | None, tuple[Range, ...]]:
    """(status, reason, ranges) for one release entry of the tracker JSON; raises ValueError on a bad version."""
    status = rel.get("status")
    fixed = rel.get("fixed_version") or None
    urgency = rel.get("urgency") or None
    nodsa = rel.get("nodsa")
    nodsa_reason = rel.get("nodsa_reason") or ""
    if status == "resolved":
        if fixed is None:
            raise ValueError("resolved without fixed_version")
        if fixed == "0":
            return VendorStatus.NOT_AFFECTED, "<not-affected>", ()
        if not _valid_version(fixed):
            raise ValueError(f"invalid Debian version {fixed!r}")
        rng = Range(RangeType.ECOSYSTEM, (Event(EventKind.INTRODUCED, "0"), Event(EventKind.FIXED, fixed)))
        return VendorStatus.FIXED, None, (rng,)
    if status == "undetermined":
        return VendorStatus.UNDETERMINED, "<undetermined>", _ALL
    if status != "open":
        raise ValueError(f"unknown status {status!r}")
    if nodsa is not None:
        kind = {"ignored": VendorStatus.IGNORED, "postponed": VendorStatus.POSTPONED}.get(nodsa_reason)
        if kind is not None:
            return kind, f"<{nodsa_reason}> {nodsa}".rstrip(), _ALL
        return VendorStatus.NO_DSA, f"<no-dsa> {nodsa}".rstrip(), _ALL
    if urgency == "end-of-life":
        return VendorStatus.END_OF_LIFE, "<end-of-life>", _ALL
    return VendorStatus.UNFIXED, "<unfixed>" + (f" ({urgency})" if urgency == "unimportant" else ""), _ALL


class _Collector:
    """Advisories by id, built up package by package (the JSON is keyed by package first)."""

    def __init__(self) -> None:
        self.by_id: dict[str, Advisory] = {}

    def advisory(self, vid: str, description: str | None) -> Advisory:
        adv = self.by_id.get(vid)
        if adv is None:
            adv = Advisory(
                id=vid,
                source=NAME,
                aliases=(),
                details=description,
                references=(Reference(f"https://security-tracker.debian.org/tracker/{vid}", "ADVISORY"),),
            )
            self.by_id[vid] = adv
        elif description and not adv.details:
            adv.details = description
        return adv


def parse_json(doc: Any, location: str) -> Iterator[ParsedItem]:
    """The tracker JSON: {source package: {CVE or TEMP id: {scope, debianbug, description, releases}}}."""
    if not isinstance(doc, dict):
        yield Reject(NAME, location, "tracker JSON top level is not an object")
        return
    out = _Collector()
    for package, issues in doc.items():
        if not isinstance(issues, dict):
            yield Reject(NAME, f"{location}#{package}", "package entry is not an object")
            continue
        for vid, issue in issues.items():
            where = f"{location}#{package}/{vid}"
            releases = issue.get("releases") if isinstance(issue, dict) else None
            if not isinstance(releases, dict):
                # The live tracker writes "releases": [] for issues with no release data (e.g. removed packages).
                why = "issue has no releases" if releases == [] else "issue is not an object with releases"
                yield Reject(NAME, where, why)
                continue
            adv = out.advisory(vid, issue.get("description") or None)
            for codename, rel in releases.items():
                eco = ecosystem_for(codename)
                if eco is None:
                    yield Reject(NAME, f"{where}@{codename}", f"unknown Debian codename {codename!r}")
                    continue
                if not isinstance(rel, dict):
                    yield Reject(NAME, f"{where}@{codename}", "release entry is not an object")
                    continue
                try:
                    status, reason, ranges = release_status(rel)
                except ValueError as exc:
                    yield Reject(NAME, f"{where}@{codename}", str(exc))
                    continue
                urgency = rel.get("urgency")
                sev: tuple[Severity, ...] = (vendor_rating(urgency, "debian"),) if urgency else ()
                adv.affected.append(
                    Affected(
                        ecosystem=eco,
                        name=package,
                        purl=feed_purl("deb", package, "debian", {"arch": "source"}),
                        ranges=ranges,
                        status=status,
                        status_reason=reason,
                        severities=sev,
                        database_specific={
                            k: v
                            for k, v in {
                                "codename": codename,
                                "urgency": urgency,
                                "repositories": rel.get("repositories") or None,
                                "nodsa": rel.get("nodsa"),
                                "nodsa_reason": rel.get("nodsa_reason"),
                                "scope": issue.get("scope"),
                                "debianbug": issue.get("debianbug"),
                            }.items()
                            if v is not None
                        },
                    )
                )
    yield from distro_releases()
    yield from out.by_id.values()


# --- data/CVE/list ------------------------------------------------------------------------------------------------

_HEAD = re.compile(r"^(?P<id>CVE-\d{4}-(?:\d{4,}|XXXX))\s*(?P<desc>.*)$")
_PKG = re.compile(
    r"^\s+(?:\[(?P<rel>[a-z]+)\]\s+)?-\s+(?P<pkg>\S+)\s*(?P<ver><[a-z-]+>|[^\s(]+)?\s*(?:\((?P<note>.*)\))?\s*$"
)
_PKG_START = re.compile(r"^\s+(?:\[[a-z]+\]\s+)?-\s")
_LIST_STATES: dict[str, VendorStatus] = {
    "<unfixed>": VendorStatus.UNFIXED,
    "<no-dsa>": VendorStatus.NO_DSA,
    "<ignored>": VendorStatus.IGNORED,
    "<postponed>": VendorStatus.POSTPONED,
    "<end-of-life>": VendorStatus.END_OF_LIFE,
    "<not-affected>": VendorStatus.NOT_AFFECTED,
    "<undetermined>": VendorStatus.UNDETERMINED,
    "<removed>": VendorStatus.NOT_AFFECTED,
}


def _list_id(head: str, desc: str) -> str:
    # Unassigned "CVE-YYYY-XXXX" entries are not unique; name them by their description, stably.
    if not head.endswith("XXXX"):
        return head
    return f"{head[:-4]}TEMP-{hashlib.sha1(desc.encode()).hexdigest()[:8].upper()}"


def parse_cve_list(text: str, location: str) -> Iterator[ParsedItem]:
    """The raw tracker list. ``- pkg`` lines are sid; ``[release] - pkg`` lines are that release only.

    Releases without their own line are left out: deciding them needs the archive's Sources, which the JSON
    export has already done.
    """
    out = _Collector()
    current: Advisory | None = None
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        head = _HEAD.match(line)
        if head:
            desc = head.group("desc").strip().strip("()[]").strip()
            current = out.advisory(_list_id(head.group("id"), desc), desc or None)
            continue
        if current is None:
            yield Reject(NAME, f"{location}:{lineno}", "line outside any CVE entry")
            continue
        m = _PKG.match(line)
        if not m:
            if _PKG_START.match(line):
                yield Reject(NAME, f"{location}:{lineno}", f"malformed package line {line.strip()!r}")
            continue  # NOTE:, TODO:, NOT-FOR-US:, REJECTED, {DSA-...} lines carry no package state
        codename = m.group("rel") or SID
        eco = ecosystem_for(codename)
        if eco is None:
            yield Reject(NAME, f"{location}:{lineno}", f"unknown Debian codename {codename!r}")
            continue
        ver, note = m.group("ver"), (m.group("note") or "").strip()
        urgency = next((p.strip() for p in note.split(";") if p.strip() in _URGENCIES), None)
        ranges: tuple[Range, ...]
        if ver is None or ver in _LIST_STATES:
            status = _LIST_STATES.get(ver or "<unfixed>", VendorStatus.UNFIXED)
            reason: str | None = f"{ver or '<unfixed>'} {note}".strip()
            ranges = () if status is VendorStatus.NOT_AFFECTED else _ALL
        elif ver.startswith("<"):
            yield Reject(NAME, f"{location}:{lineno}", f"unknown tracker state {ver}")
            continue
        elif not _valid_version(ver):
            yield Reject(NAME, f"{location}:{lineno}", f"invalid Debian version {ver!r}")
            continue
        else:
            status, reason = VendorStatus.FIXED, None
            ranges = (Range(RangeType.ECOSYSTEM, (Event(EventKind.INTRODUCED, "0"), Event(EventKind.FIXED, ver))),)
        current.affected.append(
            Affected(
                ecosystem=eco,
                name=m.group("pkg"),
                purl=feed_purl("deb", m.group("pkg"), "debian", {"arch": "source"}),
                ranges=ranges,
                status=status,
                status_reason=reason,
                severities=(vendor_rating(urgency, "debian"),) if urgency else (),
                database_specific={"codename": codename, **({"note": note} if note else {})},
            )
        )
    yield from distro_releases()
    yield from (a for a in out.by_id.values() if a.affected)


_URGENCIES = {"unimportant", "low", "medium", "high", "end-of-life"}


def _looks_like_tracker_json(head: bytes) -> bool:
    return head.lstrip().startswith(b"{") and b'"releases"' in head and (b'"urgency"' in head or b'"status"' in head)


class DebianTrackerFeed(SingleFileFeed):
    name = NAME
    url = "https://security-tracker.debian.org/tracker/data/json"

    filename = FILENAME

    def parse(self, snapshot: Path) -> Iterator[ParsedItem]:
        if snapshot.is_dir() and (snapshot / "data" / "CVE" / "list").is_file():
            path = snapshot / "data" / "CVE" / "list"
            yield from parse_cve_list(path.read_text(encoding="utf-8", errors="replace"), "data/CVE/list")
            return
        files = [snapshot] if snapshot.is_file() else sorted(snapshot.glob("*.json"))
        for path in files:
            doc = read_json(path, NAME, path.name)
            if isinstance(doc, Reject):
                yield doc
            else:
                yield from parse_json(doc, path.name)

    @classmethod
    def detect(cls, path: Path) -> bool:
        if path.is_dir():
            if (path / "data" / "CVE" / "list").is_file():
                return True
            # A tracker snapshot holds one JSON file; a directory of many JSON records is something else.
            files: list[Path] = []
            with os.scandir(path) as it:
                for entry in it:
                    if entry.name.endswith(".json"):
                        files.append(Path(entry.path))
                        if len(files) > 3:
                            return False
            return any(cls.detect(p) for p in files)
        if not path.is_file():
            return False
        with path.open("rb") as fh:
            return _looks_like_tracker_json(fh.read(65536))
