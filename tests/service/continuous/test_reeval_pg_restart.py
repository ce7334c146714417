"""Fault test: the PostgreSQL server dies (immediate stop, then restart with crash recovery) in the middle of one
resource's re-evaluation transaction. That resource is not half-applied, the job fails, and its retry reaches the
same end state as an undisturbed run: every finding, history row and event exactly once, the cursor advanced.

The machine's PostgreSQL is shared, so this starts a private cluster (initdb + pg_ctl as the postgres user).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from reeval_kit import Mirror, events_after, finding_rows, fresh_store, open_kb_at, push_and_scan, root_actor

from vulnhound.advisories.store.query import KnowledgeBase
from vulnhound.matching.index import AdvisoryIndex
from vulnhound.service.continuous.reevaluate import cursor, full, handle_incremental
from vulnhound.service.db.tables import finding_history

pytestmark = [pytest.mark.services, pytest.mark.slow]
RESOURCES = 12
KILL_AT = 5  # the 5th resource's history insert


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    def __init__(self, bindir: Path, base: Path, port: int) -> None:
        self.bindir, self.base, self.port = bindir, base, port
        self.data = base / "data"

    def _pg(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(self.bindir / args[0]), *args[1:]], check=True,
                       capture_output=True, timeout=120)

    def init(self) -> None:
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.base / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found or os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("needs PostgreSQL server binaries and root (to run them as the postgres user)")
    base = Path(tempfile.mkdtemp(prefix="vh-pgfault-"))
    shutil.chown(base, "postgres")
    c = Cluster(Path(found[-1]).parent, base, _free_port())
    try:
        c.init()
        c.start()
        yield c
    finally:
        try:
            c.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(base, ignore_errors=True)


@dataclass
class Ctx:
    """The job context the handlers see (engine, index factory, knowledge-base factory)."""

    engine: sa.Engine
    index: Callable[[], AdvisoryIndex]
    kb: Callable[[], KnowledgeBase]


def test_postgres_restart_mid_reevaluation(cluster: Cluster, tmp_path: Path, vulndata: Path) -> None:
    mirror = Mirror(tmp_path / "mirror", vulndata)
    mirror.copy("requests", "PYSEC-2018-28")
    with open_kb_at(tmp_path) as (kb, index), fresh_store("postgresql", tmp_path, cluster.url) as engine:
        mirror.update(kb)
        actor = root_actor(engine)
        rids = sorted(push_and_scan(engine, actor, index, f"host-{i}", [("requests", "2.19.0")])
                      for i in range(RESOURCES))
        ctx = Ctx(engine, index, lambda: kb)
        handle_incremental(ctx, {})
        with engine.connect() as conn:
            start_cursor = cursor(conn)
            hseq = int(conn.execute(sa.select(sa.func.max(finding_history.c.seq))).scalar() or 0)
        eseq = max(e["seq"] for e in events_after(engine, 0))
        mirror.copy("requests", "PYSEC-2023-74")  # a new advisory for every resource
        mirror.update(kb)

        inserts = {"n": 0}

        def crash(conn: Any, cur: Any, statement: str, *args: Any) -> None:
            if statement.startswith("INSERT INTO finding_history"):
                inserts["n"] += 1
                if inserts["n"] == KILL_AT:
                    cluster.stop("immediate")  # the server dies with this transaction open
                    cluster.start()

        sa.event.listen(engine, "before_cursor_execute", crash)
        with pytest.raises(sa.exc.OperationalError):
            handle_incremental(ctx, {})
        sa.event.remove(engine, "before_cursor_execute", crash)

        def applied() -> list[tuple[int, int, int]]:
            """Per resource: (new findings, their history rows, their events)."""
            evs = Counter(e["subject"] for e in events_after(engine, eseq) if e["type"] == "vulnhound.finding.created")
            with engine.connect() as conn:
                hist = Counter(r for (r,) in conn.execute(sa.select(finding_history.c.resource_id).where(
                    finding_history.c.seq > hseq, finding_history.c.cause == "ADVISORY_ADDED")))
            return [(sum(f["vulnerability_id"] == "CVE-2023-32681" for f in finding_rows(engine, rid)), hist[rid],
                     evs[rid]) for rid in rids]

        # the resources before the crash are done, the one in flight and the rest have nothing: no half state
        assert sorted(applied(), reverse=True) == [(1, 1, 1)] * (KILL_AT - 1) + [(0, 0, 0)] * (RESOURCES - KILL_AT + 1)
        with engine.connect() as conn:
            assert cursor(conn) == start_cursor
        assert not [e for e in events_after(engine, eseq) if e["type"] == "vulnhound.knowledgebase.updated"]

        retry = handle_incremental(ctx, {})  # the job's retry
        assert retry["resourcesReevaluated"] == RESOURCES and retry["causes"] == {
            "ADVISORY_ADDED": RESOURCES - KILL_AT + 1}
        assert applied() == [(1, 1, 1)] * RESOURCES
        with engine.connect() as conn:
            assert cursor(conn) == start_cursor + 1
        kb_events = [e for e in events_after(engine, eseq) if e["type"] == "vulnhound.knowledgebase.updated"]
        assert len(kb_events) == 1 and kb_events[0]["data"]["resourcesReevaluated"] == RESOURCES
        assert full(engine, index).changed == 0
