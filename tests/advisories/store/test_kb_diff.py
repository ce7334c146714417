"""Update operations: an older then a newer copy of real PyPA records gives exactly the expected diff."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from vulnhound.advisories.feeds.osv import OsvDirectoryFeed
from vulnhound.advisories.store import KnowledgeBase, import_items

A = "jinja2/PYSEC-2014-8.yaml"  # unchanged
B = "requests/PYSEC-2023-74.yaml"  # older copy edited: earlier `modified`, different fix → modified
C = "scipy/PYSEC-2019-156.yaml"  # deleted from the newer snapshot → withdrawn (gone)
D = "cryptography/PYSEC-2021-63.yaml"  # withdrawn field set in the newer snapshot → withdrawn
E = "aiohttp/PYSEC-2023-120.yaml"  # only in the newer snapshot → added


def _copy(vulndata: Path, root: Path, rels: tuple[str, ...]) -> None:
    for rel in rels:
        dest = root / "vulns" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(vulndata / "pypa-advisory-database/vulns" / rel, dest)


def _edit(path: Path, change: Any) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def _older(doc: dict[str, Any]) -> None:
    doc["modified"] = "2020-01-01T00:00:00Z"
    for rng in doc["affected"][0]["ranges"]:
        for ev in rng["events"]:
            if "fixed" in ev:
                ev["fixed"] = "0.0.1"


def _withdraw(doc: dict[str, Any]) -> None:
    doc["withdrawn"] = "2024-06-01T00:00:00Z"
    doc["modified"] = "2024-06-01T00:00:00Z"


def _import(kb: KnowledgeBase, root: Path, partial: bool = False):  # type: ignore[no-untyped-def]
    feed = OsvDirectoryFeed("pypa-advisory-database", root)
    return import_items(kb.engine, feed.name, feed.parse(root), partial=partial, description=str(root.name))


def test_older_then_newer_gives_exact_diff(kb: KnowledgeBase, vulndata: Path, tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    _copy(vulndata, old, (A, B, C, D))
    _edit(old / "vulns" / B, _older)
    _copy(vulndata, new, (A, B, D, E))
    _edit(new / "vulns" / D, _withdraw)

    first = _import(kb, old)
    assert sorted(first.added) == ["PYSEC-2014-8", "PYSEC-2019-156", "PYSEC-2021-63", "PYSEC-2023-74"]
    assert set(kb.affected_for("PyPI", "requests")[0].affected.fixed_versions()) == {"0.0.1"}

    second = _import(kb, new)
    assert second.added == ["PYSEC-2023-120"]
    assert second.modified == ["PYSEC-2023-74"]
    assert sorted(second.withdrawn) == ["PYSEC-2019-156", "PYSEC-2021-63"]
    assert second.counts["unchanged"] == 1 and second.counts["records"] == 4
    assert second.keys == {("PyPI", "requests"), ("PyPI", "scipy"), ("PyPI", "cryptography"), ("PyPI", "aiohttp")}

    op = kb.operation(second.op_id or -1)
    assert op is not None and op.mode == "full" and op.source == "pypa-advisory-database"
    assert (op.added, op.modified, sorted(op.withdrawn)) == (second.added, second.modified,
                                                              sorted(second.withdrawn))
    assert sorted(op.keys) == sorted(second.keys)
    assert [o.id for o in kb.operations(since_op=first.op_id or 0)] == [second.op_id]

    # The matcher sees the newer state: fix restored, deleted and withdrawn records out of matching.
    assert "2.31.0" in kb.affected_for("PyPI", "requests")[0].affected.fixed_versions()
    assert kb.affected_for("PyPI", "scipy") == []
    assert kb.affected_for("PyPI", "cryptography") == []
    assert [r.vuln_id for r in kb.affected_for("PyPI", "cryptography", include_withdrawn=True)] == ["PYSEC-2021-63"]
    assert kb.advisory("PYSEC-2019-156") == []

    third = _import(kb, new)  # same content again: an empty diff
    assert (third.added, third.modified, third.withdrawn, third.keys) == ([], [], [], set())


def test_partial_snapshot_never_removes(kb: KnowledgeBase, vulndata: Path, tmp_path: Path) -> None:
    full, inc = tmp_path / "full", tmp_path / "inc"
    _copy(vulndata, full, (A, B))
    _copy(vulndata, inc, (E,))
    _import(kb, full)
    res = _import(kb, inc, partial=True)
    assert (res.mode, res.added, res.withdrawn) == ("partial", ["PYSEC-2023-120"], [])
    assert res.counts["records"] == 3
