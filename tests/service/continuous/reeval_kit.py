"""Shared by the re-evaluation tests and bench: a fresh service store, a knowledge base built from a temp mirror of
real PyPA records (edited to make a newer snapshot), inventories pushed and scanned through the domain layer."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from bench.pgtemp import service_store
from vulnhound.advisories.store import open_kb
from vulnhound.advisories.store.query import KnowledgeBase
from vulnhound.advisories.store.update import update_from_mirror
from vulnhound.exports.inventory_json import to_wire
from vulnhound.inventory.model import Inventory, Package, SourceInfo
from vulnhound.service.db.tables import events, finding_history, findings
from vulnhound.service.domain import resources, scans
from vulnhound.service.domain.accounts import authenticate, bootstrap
from vulnhound.service.domain.common import Actor
from vulnhound.service.server import KnowledgeBaseIndex

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def fresh_store(kind: str, tmp: Path, admin_url: str = PG_ADMIN) -> AbstractContextManager[sa.Engine]:
    """A migrated, empty service store of its own (the cursor and the key index are global to a store)."""
    return service_store(kind, tmp, "vh_reeval", admin_url)


def root_actor(engine: sa.Engine) -> Actor:
    with engine.begin() as conn:
        token = bootstrap(conn)
        assert token is not None
        actor = authenticate(conn, token)
    assert actor is not None
    return actor


class Mirror:
    """A temp PyPA-layout mirror (``pypa/vulns/<pkg>/<ID>.yaml``) of real records, editable between imports."""

    def __init__(self, root: Path, vulndata: Path) -> None:
        self.root, self.src = root, vulndata / "pypa-advisory-database" / "vulns"
        self.vulns = root / "pypa" / "vulns"

    def copy(self, package: str, record: str) -> None:
        (self.vulns / package).mkdir(parents=True, exist_ok=True)
        shutil.copy(self.src / package / f"{record}.yaml", self.vulns / package / f"{record}.yaml")

    def edit(self, package: str, record: str, **changes: Any) -> None:
        path = self.vulns / package / f"{record}.yaml"
        doc = yaml.safe_load(path.read_text())
        for key, value in changes.items():
            if value is None:
                doc.pop(key, None)
            else:
                doc[key] = value
        doc["modified"] = "2026-11-01T00:00:00Z"
        path.write_text(yaml.safe_dump(doc))

    def kev(self, vulndata: Path, cves: list[str]) -> None:
        """A KEV catalog naming ``cves``, built from the real catalog's first entry."""
        real = json.loads((vulndata / "cisa-kev" / "known_exploited_vulnerabilities.json").read_text())
        entries = [{**real["vulnerabilities"][0], "cveID": c} for c in cves]
        (self.root / "kev").mkdir(exist_ok=True)
        (self.root / "kev" / "known_exploited_vulnerabilities.json").write_text(json.dumps(
            {**real, "count": len(entries), "vulnerabilities": entries}))

    def update(self, kb: KnowledgeBase) -> list[int]:
        return [r.op_id for r in update_from_mirror(kb.engine, self.root) if r.op_id is not None]


# Resources the snapshot tests scan: the newer snapshot touches all but yaml-1.
FLEET = {
    "web-1": [("Jinja2", "2.10"), ("requests", "2.19.0")],
    "api-1": [("requests", "2.19.0")],
    "flask-1": [("Flask", "0.12")],
    "u3-1": [("urllib3", "1.22")],
    "yaml-1": [("PyYAML", "3.13")],
}
FIRST_SNAPSHOT = (("jinja2", "PYSEC-2019-217"), ("jinja2", "PYSEC-2021-66"), ("requests", "PYSEC-2018-28"),
                  ("requests", "PYSEC-2023-74"), ("urllib3", "PYSEC-2018-32"), ("pyyaml", "PYSEC-2018-49"))
CRITICAL = [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]


def first_snapshot(mirror: Mirror) -> None:
    for pkg, rec in FIRST_SNAPSHOT:
        mirror.copy(pkg, rec)


def newer_snapshot(mirror: Mirror) -> None:
    """One record added (flask), two modified (a urllib3 range, a requests severity), one withdrawn (jinja2)."""
    mirror.copy("flask", "PYSEC-2018-66")
    u3 = yaml.safe_load((mirror.vulns / "urllib3" / "PYSEC-2018-32.yaml").read_text())["affected"]
    u3[0]["ranges"][0]["events"][-1] = {"fixed": "1.20"}
    u3[0].pop("versions", None)
    mirror.edit("urllib3", "PYSEC-2018-32", affected=u3)
    mirror.edit("requests", "PYSEC-2023-74", severity=CRITICAL)
    mirror.edit("jinja2", "PYSEC-2019-217", withdrawn="2026-11-01T00:00:00Z")


def pypi(name: str, version: str) -> Package:
    return Package(name=name, version=version, type="pypi", purl=f"pkg:pypi/{name}@{version}", found_by="test",
                   package_manager="PIP")


def inventory(name: str, pkgs: list[tuple[str, str]]) -> Inventory:
    return Inventory(source=SourceInfo("dir", name), packages=[pypi(n, v) for n, v in pkgs])


def push_and_scan(engine: sa.Engine, actor: Actor, index: KnowledgeBaseIndex, name: str,
                  pkgs: list[tuple[str, str]]) -> str:
    with engine.begin() as conn:
        rid = resources.create(conn, actor, "HOST", name)["resourceId"]
        sid = scans.create_push(conn, actor, rid, to_wire(inventory(name, pkgs)))
    scans.run_scan(engine, index, sid)
    with engine.connect() as conn:
        assert scans.get(conn, actor, sid)["status"] == "COMPLETED"
    return str(rid)


@contextmanager
def open_kb_at(tmp: Path) -> Iterator[tuple[KnowledgeBase, KnowledgeBaseIndex]]:
    """The knowledge base (for updates and operations) and the server's index over the same file."""
    url = f"sqlite:///{tmp / 'kb.db'}"
    kb, index = open_kb(url), KnowledgeBaseIndex(url)
    try:
        yield kb, index
    finally:
        kb.engine.dispose()
        if isinstance(index._kb, KnowledgeBase):
            index._kb.engine.dispose()


def finding_rows(engine: sa.Engine, rid: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(findings)
    if rid:
        q = q.where(findings.c.resource_id == rid)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(q.order_by(findings.c.id)).mappings()]


def history_after(engine: sa.Engine, seq: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(finding_history).where(finding_history.c.seq > seq)
                                              .order_by(finding_history.c.seq)).mappings()]


def events_after(engine: sa.Engine, seq: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(events).where(events.c.seq > seq)
                                              .order_by(events.c.seq)).mappings()]


def last_seq(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        h = conn.execute(sa.select(sa.func.max(finding_history.c.seq))).scalar() or 0
        e = conn.execute(sa.select(sa.func.max(events.c.seq))).scalar() or 0
    return int(h), int(e)
