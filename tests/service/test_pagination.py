"""Keyset cursors: paging while other writers insert and delete findings never skips or repeats a row."""

from __future__ import annotations

import random
from typing import Any

import pytest
import sqlalchemy as sa

from vulnhound.service.db.tables import findings
from vulnhound.service.domain.common import new_id

LEVELS = ["LOW", "MEDIUM", "HIGH", "CRITICAL"]


def _rows(account: str, rid: str, n: int, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for _ in range(n):
        level = rng.choice(LEVELS)
        stamp = f"2026-01-{rng.randint(1, 28):02d}T00:00:00.000000Z"
        out.append({"id": new_id(), "account_id": account, "resource_id": rid, "resource_type": "HOST",
                    "type": "PACKAGE_VULNERABILITY", "status": "ACTIVE", "title": "t", "severity": level,
                    "severity_rank": LEVELS.index(level) + 2, "vulnerability_id": f"CVE-2026-{rng.randint(1, 50)}",
                    "vulnerability_source": "test", "package_name": rng.choice(["a", "b", "c"]),
                    "package_version": "1", "layer_hash": None, "fix_available": "YES", "exploit_available": False,
                    "epss_score": rng.choice([-1.0, 0.1, 0.5]), "risk_score": float(rng.randint(0, 10)),
                    "first_observed_at": stamp, "last_observed_at": stamp, "updated_at": stamp,
                    "closed_at": None, "closed_reason": None, "suppressed_by": None,
                    "detail": {"type": "PACKAGE_VULNERABILITY"}})
    return out


@pytest.mark.parametrize("sort", [("SEVERITY", "DESC"), ("RISK_SCORE", "ASC"), ("LAST_OBSERVED_AT", "DESC"),
                                  ("EPSS_SCORE", "DESC"), ("VULNERABILITY_ID", "ASC")])
def test_pages_under_concurrent_writes(service: Any, new_account: Any, sort: tuple[str, str]) -> None:
    engine: sa.Engine = service[1]
    api = new_account("pages")
    account = api.ok("GET", "/v1/account")["accountId"]
    rid = api.ok("POST", "/v1/resources", 201, json={"type": "HOST", "name": "many"})["resourceId"]
    rng = random.Random(7)
    with engine.begin() as conn:
        conn.execute(findings.insert(), _rows(account, rid, 120, rng))
        original = {r.id for r in conn.execute(sa.select(findings.c.id).where(findings.c.account_id == account))}
    seen: list[str] = []
    deleted: set[str] = set()
    token = None
    body: dict[str, Any] = {"sortCriteria": {"field": sort[0], "sortOrder": sort[1]}, "maxResults": 9}
    while True:
        page = api.ok("POST", "/v1/findings/list", json={**body, **({"nextToken": token} if token else {})})
        seen += [f["findingId"] for f in page["findings"]]
        token = page["nextToken"]
        if not token:
            break
        with engine.begin() as conn:  # another writer: new rows everywhere in the order, some old rows gone
            conn.execute(findings.insert(), _rows(account, rid, 3, rng))
            victim = rng.choice(sorted(original - deleted - set(seen)) or [""])
            conn.execute(findings.delete().where(findings.c.id == victim))
            deleted.add(victim)
    assert len(seen) == len(set(seen)), "a row was returned twice"
    assert original - deleted <= set(seen), "a row present throughout was skipped"
    assert len(deleted - {""}) >= 5, "the concurrent writer did not get to delete anything"


def test_order_is_by_sort_key_then_id(service: Any, new_account: Any) -> None:
    engine: sa.Engine = service[1]
    api = new_account("order")
    account = api.ok("GET", "/v1/account")["accountId"]
    rid = api.ok("POST", "/v1/resources", 201, json={"type": "HOST", "name": "o"})["resourceId"]
    with engine.begin() as conn:
        conn.execute(findings.insert(), _rows(account, rid, 40, random.Random(3)))
        expected = [r.id for r in conn.execute(sa.select(findings.c.id).where(findings.c.account_id == account)
                                                .order_by(findings.c.risk_score.desc(), findings.c.id.desc()))]
    got, token = [], None
    while True:
        page = api.ok("POST", "/v1/findings/list", json={"sortCriteria": {"field": "RISK_SCORE"}, "maxResults": 6,
                                                        **({"nextToken": token} if token else {})})
        got += [f["findingId"] for f in page["findings"]]
        if not (token := page["nextToken"]):
            break
    assert got == expected
