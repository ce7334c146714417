"""Tiny OSV record loader for the range tests (the real store is built elsewhere): JSON/YAML → Affected entries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from vulnhound.advisories.model import Affected, Event, EventKind, Range, RangeType

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_record(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    data = yaml.load(text, Loader=_Loader) if path.suffix in (".yaml", ".yml") else json.loads(text)
    assert isinstance(data, dict)
    return data


def affected_entries(record: dict[str, Any]) -> Iterator[Affected]:
    for aff in record.get("affected") or ():
        pkg = aff.get("package") or {}
        ranges = tuple(
            Range(
                RangeType(r["type"]),
                tuple(Event(EventKind(k), str(v)) for ev in r.get("events", ()) for k, v in ev.items()),
                r.get("repo"),
            )
            for r in aff.get("ranges") or ()
            if r.get("type") in RangeType.__members__  # a range without a known type says nothing usable
        )
        yield Affected(
            ecosystem=str(pkg.get("ecosystem", "")),
            name=str(pkg.get("name", "")),
            purl=pkg.get("purl"),
            ranges=ranges,
            versions=tuple(str(v) for v in aff.get("versions") or ()),
            database_specific=aff.get("database_specific") or {},
        )
