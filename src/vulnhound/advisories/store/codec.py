"""Advisory ↔ stored rows: JSON payloads, the content hash that detects modification, name keys for lookup."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from datetime import datetime
from typing import Any

from vulnhound.advisories.model import (
    Advisory,
    Affected,
    Event,
    EventKind,
    Range,
    RangeType,
    Reference,
    Severity,
    VendorStatus,
)

_PEP503 = re.compile(r"[-_.]+")


def name_key(ecosystem: str, name: str) -> str:
    """The lookup form of a package name: PEP 503 for PyPI (Flask_Login == flask-login), verbatim elsewhere."""
    if ecosystem == "PyPI" or ecosystem.endswith(":PyPI"):
        return _PEP503.sub("-", name).lower()
    return name


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, ensure_ascii=False, default=str)


def _sev(s: Severity) -> list[Any]:
    return [s.source, s.type, s.vector, s.score, s.rating]


def affected_json(a: Affected) -> str:
    return _dumps({
        "e": a.ecosystem, "n": a.name, "p": a.purl,
        "r": [[r.type.value, [[e.kind.value, e.version] for e in r.events], r.repo] for r in a.ranges],
        "v": list(a.versions), "s": a.status.value, "sr": a.status_reason,
        "sev": [_sev(s) for s in a.severities],
        "es": a.ecosystem_specific, "ds": a.database_specific,
    })


_EVENT_KINDS = {k.value: k for k in EventKind}
_RANGE_TYPES = {r.value: r for r in RangeType}
_STATUSES = {s.value: s for s in VendorStatus}
_EVENTS: dict[tuple[str, str], Event] = {}  # interned: the same (kind, version) recurs across thousands of rows


def _event(kind: str, version: str) -> Event:
    ev = _EVENTS.get((kind, version))
    if ev is None:
        if len(_EVENTS) > 500_000:
            _EVENTS.clear()
        ev = _EVENTS[(kind, version)] = Event(_EVENT_KINDS[kind], version)
    return ev


def decode_affected(text: str) -> Affected:
    d = json.loads(text)
    return Affected(
        d["e"], d["n"], d["p"],
        tuple(Range(_RANGE_TYPES[t], tuple([_event(k, v) for k, v in evs]), repo) for t, evs, repo in d["r"]),
        tuple(d["v"]), _STATUSES[d["s"]], d["sr"],
        tuple([Severity(*s) for s in d["sev"]]) if d["sev"] else (),
        d["es"], d["ds"],
    )


@dataclasses.dataclass(slots=True)
class EncodedAdvisory:
    row: dict[str, Any]  # vulns row without op_id
    affected: list[dict[str, Any]]  # affected rows
    keys: set[tuple[str, str]]  # (ecosystem, name) touched


def encode(adv: Advisory) -> EncodedAdvisory:
    doc = _dumps({
        "related": list(adv.related), "details": adv.details,
        "references": [[r.url, r.type] for r in adv.references], "cwes": list(adv.cwes),
        "severities": [_sev(s) for s in adv.severities], "database_specific": adv.database_specific,
        "cpe": adv.cpe_configurations,
    })
    aliases = _dumps(sorted(set(adv.aliases)))
    withdrawn = adv.withdrawn is not None
    aff_json = [affected_json(a) for a in adv.affected]
    h = hashlib.sha256()
    for part in (adv.id, adv.summary or "", _iso(adv.modified) or "", _iso(adv.published) or "",
                 _iso(adv.withdrawn) or "", aliases, doc, *aff_json):
        h.update(part.encode())
        h.update(b"\0")
    row = {
        "source": adv.source, "id": adv.id, "modified": _iso(adv.modified), "published": _iso(adv.published),
        "withdrawn": _iso(adv.withdrawn), "summary": adv.summary, "aliases": aliases, "doc": doc,
        "content_hash": h.hexdigest(),
    }
    aff_rows = [
        {"source": adv.source, "vuln_id": adv.id, "ecosystem": a.ecosystem, "name": a.name,
         "name_key": name_key(a.ecosystem, a.name), "withdrawn": withdrawn, "data": j}
        for a, j in zip(adv.affected, aff_json, strict=True)
    ]
    return EncodedAdvisory(row, aff_rows, {(a.ecosystem, a.name) for a in adv.affected})


def decode(row: Any, affected_rows: list[str]) -> Advisory:
    """An Advisory from a vulns row (mapping) and its affected rows' data."""
    doc = json.loads(row["doc"])
    return Advisory(
        id=row["id"], source=row["source"], aliases=tuple(json.loads(row["aliases"])),
        related=tuple(doc["related"]), summary=row["summary"], details=doc["details"],
        published=_dt(row["published"]), modified=_dt(row["modified"]), withdrawn=_dt(row["withdrawn"]),
        references=tuple(Reference(u, t) for u, t in doc["references"]), cwes=tuple(doc["cwes"]),
        severities=tuple(Severity(*s) for s in doc["severities"]),
        affected=[decode_affected(a) for a in affected_rows],
        database_specific=doc["database_specific"], cpe_configurations=doc["cpe"],
    )


def dumps(obj: Any) -> str:
    return _dumps(obj)
