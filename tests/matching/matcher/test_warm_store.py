"""A warm knowledge base: the schema stamp check at open, and decoded records kept by content hash across scans."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from vulnhound.advisories.model import Advisory, Affected, Event, EventKind, Range, RangeType
from vulnhound.advisories.store import KnowledgeBase, import_items, open_engine
from vulnhound.advisories.store.engine import HEAD, create_engine, head_revision, schema_stamp
from vulnhound.cli.scan import KnowledgeBaseMissing, check_schema, open_index


def _adv(vid: str, summary: str, fixed: str = "2.0") -> Advisory:
    rng = Range(RangeType.ECOSYSTEM, (Event(EventKind.INTRODUCED, "0"), Event(EventKind.FIXED, fixed)))
    return Advisory(id=vid, source="test", summary=summary, aliases=("CVE-2099-0001",) if vid == "GHSA-a" else (),
                    affected=[Affected("PyPI", "demo", ranges=(rng,))])


def test_head_constant_is_the_newest_migration() -> None:
    assert head_revision() == HEAD


def test_stamp_is_read_in_one_query(tmp_path: Path) -> None:
    engine = open_engine(str(tmp_path / "kb.db"))
    try:
        assert schema_stamp(engine) == HEAD
    finally:
        engine.dispose()
    sqlite3.connect(tmp_path / "empty.db").close()
    empty = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert schema_stamp(empty) is None
    finally:
        empty.dispose()


def test_open_index_checks_and_opens_with_one_engine(tmp_path: Path) -> None:
    db = tmp_path / "kb.db"
    engine = open_engine(str(db))
    import_items(engine, "test", [_adv("GHSA-a", "one")])
    engine.dispose()
    check_schema(f"sqlite:///{db}")  # at the head: nothing to say
    index, facts, _ = open_index(str(db))
    assert facts["sources"]["test"]["records"] == 1
    assert index.candidates({("PyPI", "demo")})[("PyPI", "demo")][0].advisory.id == "GHSA-a"
    with pytest.raises(KnowledgeBaseMissing, match="no knowledge base"):
        open_index(str(tmp_path / "missing.db"))


def test_records_are_decoded_once_and_refreshed_when_rewritten(tmp_path: Path) -> None:
    engine = open_engine(str(tmp_path / "kb.db"))
    try:
        import_items(engine, "test", [_adv("GHSA-a", "first"), _adv("GHSA-b", "other")])
        kb = KnowledgeBase(engine)
        (a1, op1), (b1, _) = sorted(kb.records(["GHSA-a", "GHSA-b"]), key=lambda r: r[0].id)
        assert a1.summary == "first" and op1 >= 1
        (a2, _), = kb.records(["GHSA-a"])
        assert a2 is a1  # unchanged row: the decoded record is reused
        import_items(engine, "test", [_adv("GHSA-a", "second"), _adv("GHSA-b", "other")])
        recs = {a.id: (a, op) for a, op in kb.records(["GHSA-a", "GHSA-b"])}
        assert recs["GHSA-a"][0].summary == "second" and recs["GHSA-a"][1] > op1  # rewritten: decoded afresh
        assert recs["GHSA-b"][0] is b1
    finally:
        engine.dispose()
