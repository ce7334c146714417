"""CISA Known Exploited Vulnerabilities catalog (JSON) → one ``KevEntry`` per listed CVE."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vulnhound.advisories.feeds.common import SingleFileFeed, read_json
from vulnhound.advisories.model import KevEntry, ParsedItem, Reject

NAME = "cisa-kev"
FILENAME = "known_exploited_vulnerabilities.json"


def _text(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def parse_catalog(doc: Any, location: str) -> Iterator[ParsedItem]:
    if not isinstance(doc, dict) or not isinstance(doc.get("vulnerabilities"), list):
        yield Reject(NAME, location, "not a KEV catalog (no vulnerabilities list)")
        return
    for i, item in enumerate(doc["vulnerabilities"]):
        where = f"{location}#{i}"
        if not isinstance(item, dict):
            yield Reject(NAME, where, "entry is not an object")
            continue
        cve, added = _text(item.get("cveID")), _text(item.get("dateAdded"))
        if not cve or not cve.startswith("CVE-") or not added:
            yield Reject(NAME, where, "entry without cveID or dateAdded")
            continue
        yield KevEntry(
            cve_id=cve,
            vendor_project=_text(item.get("vendorProject")),
            product=_text(item.get("product")),
            name=_text(item.get("vulnerabilityName")),
            date_added=added,
            due_date=_text(item.get("dueDate")),
            ransomware_use=_text(item.get("knownRansomwareCampaignUse")),
            required_action=_text(item.get("requiredAction")),
            notes=_text(item.get("notes")),
        )


class KevFeed(SingleFileFeed):
    name = NAME
    url = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"

    filename = FILENAME

    def parse(self, snapshot: Path) -> Iterator[ParsedItem]:
        path = snapshot / FILENAME if snapshot.is_dir() else snapshot
        doc = read_json(path, NAME, path.name)
        if isinstance(doc, Reject):
            yield doc
        else:
            yield from parse_catalog(doc, path.name)

    @classmethod
    def detect(cls, path: Path) -> bool:
        file = path / FILENAME if path.is_dir() else path
        if not file.is_file():
            return False
        with file.open("rb") as fh:
            head = fh.read(4096)
        return b'"catalogVersion"' in head
