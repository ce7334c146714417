"""Atomicity: SIGKILL an import mid-way (really, in a subprocess) and the previous state is fully usable."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from vulnhound.advisories.feeds.osv import OsvDirectoryFeed
from vulnhound.advisories.store import KnowledgeBase, import_items, open_engine

HELPER = Path(__file__).with_name("kill_helper.py")
BASELINE = ("GO-2023-1268.json", "GO-2022-0969.json", "GO-2021-0113.json")


@pytest.fixture(scope="session")
def go_subset(vulndata: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """800 real Go vulndb records in the upstream layout: big enough to be killed mid-import, quick to redo."""
    root = tmp_path_factory.mktemp("go-subset")
    osv = root / "data" / "osv"
    osv.mkdir(parents=True)
    for f in sorted((vulndata / "golang-vulndb/data/osv").glob("GO-*.json"))[:800]:
        shutil.copy(f, osv / f.name)
    for name in BASELINE:
        shutil.copy(vulndata / "golang-vulndb/data/osv" / name, osv / name)
    # One baseline record changes, so the doomed import also deletes and rewrites existing rows.
    changed = json.loads((osv / BASELINE[0]).read_text(encoding="utf-8"))
    changed["summary"] = "edited by the test"
    (osv / BASELINE[0]).write_text(json.dumps(changed), encoding="utf-8")
    return root


def _baseline(kb: KnowledgeBase, vulndata: Path, tmp: Path) -> None:
    small = tmp / "go-small" / "data" / "osv"
    small.mkdir(parents=True)
    for name in BASELINE:
        shutil.copy(vulndata / "golang-vulndb/data/osv" / name, small / name)
    feed = OsvDirectoryFeed("go-vulndb", small.parents[1])
    import_items(kb.engine, feed.name, feed.parse(small.parents[1]), description="baseline")


def _snapshot(kb: KnowledgeBase) -> tuple[dict[str, int], list[tuple[str, str]]]:
    go_rows = sorted((r.vuln_id, r.group_id) for rows in kb.affected_for_many(
        [("Go", "stdlib"), ("Go", "golang.org/x/text")]).values() for r in rows)
    return kb.counts(), go_rows


@pytest.mark.slow  # spawns a Python subprocess per case
@pytest.mark.parametrize("at", ["parse", "write"])
def test_sigkill_mid_import_keeps_previous_state(kb: KnowledgeBase, db_url: str, vulndata: Path, tmp_path: Path,
                                                 go_subset: Path, at: str) -> None:
    if at == "parse" and "://" in db_url:
        pytest.skip("PostgreSQL: the mid-write kill covers it; nothing is written during parsing")
    _baseline(kb, vulndata, tmp_path)
    before = _snapshot(kb)
    assert before[0]["vulns"] == 3
    kb.engine.dispose()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, str(HELPER), db_url, str(go_subset), at],
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line == "KILL-ME", line
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL

    engine = open_engine(db_url)
    try:
        after = KnowledgeBase(engine)
        assert _snapshot(after) == before
        assert [s.record_count for s in after.status()] == [3]
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                assert conn.execute(sa.text("PRAGMA integrity_check")).scalar_one() == "ok"
        # ... and the next update goes through.
        feed = OsvDirectoryFeed("go-vulndb", go_subset)
        res = import_items(engine, feed.name, feed.parse(go_subset))
        assert res.counts["records"] >= 800 and res.counts["unchanged"] == 2
        assert res.modified == [BASELINE[0].removesuffix(".json")]
    finally:
        engine.dispose()
