"""Service test fixtures: a store on SQLite and on the machine's PostgreSQL, an index of real advisories, targets.

PostgreSQL gets a fresh database per session (dropped afterwards); it is skipped when 127.0.0.1:5432 is down.
"""

from __future__ import annotations

import secrets
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bench.pgtemp import temp_database
from vulnhound.advisories.feeds.osv import parse_bytes
from vulnhound.advisories.model import Advisory
from vulnhound.matching.index import MemoryIndex
from vulnhound.service.api.app import create_app
from vulnhound.service.api.deps import Settings
from vulnhound.service.db.engine import open_store
from vulnhound.service.domain.accounts import bootstrap

DATA = Path(__file__).with_name("data")
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

DPKG_STANZA = """Package: intel-microcode
Status: install ok installed
Priority: standard
Section: non-free-firmware/admin
Installed-Size: 13000
Maintainer: Debian Intel Microcode Maintainers <team+intel-microcode@tracker.debian.org>
Architecture: amd64
Version: {version}
Depends: iucode-tool (>= 1.0)
Description: Processor microcode firmware for Intel CPUs

Package: iucode-tool
Status: install ok installed
Priority: optional
Section: utils
Installed-Size: 100
Maintainer: Henrique de Moraes Holschuh <hmh@debian.org>
Architecture: amd64
Version: 2.3.1-3
Depends: libc6 (>= 2.34)
Description: Intel processor microcode tool
"""
OS_RELEASE = """PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
"""
VULNERABLE = "3.20230512.1"
FIXED = "3.20230808.1~deb12u1"


def dist_info(name: str, version: str) -> tuple[str, str]:
    return f"{name}-{version}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n"


def write_rootfs(root: Path, microcode: str = VULNERABLE) -> Path:
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc/os-release").write_text(OS_RELEASE)
    (root / "var/lib/dpkg").mkdir(parents=True, exist_ok=True)
    (root / "var/lib/dpkg/status").write_text(DPKG_STANZA.format(version=microcode))
    site = root / "usr/local/lib/python3.11/dist-packages"
    path, text = dist_info("Jinja2", "2.10")
    (site / path).parent.mkdir(parents=True, exist_ok=True)
    (site / path).write_text(text)
    return root


def write_function_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("lambda_function.py", "import requests\n")
        for name, version in (("requests", "2.19.0"), ("Trac", "0.9")):
            member, text = dist_info(name, version)
            zf.writestr(member, text)
    return path


@pytest.fixture(scope="session")
def advisories() -> list[Advisory]:
    out = []
    for f in sorted((DATA / "advisories").iterdir()):
        if f.suffix in (".json", ".yaml"):
            out += [i for i in parse_bytes(f.read_bytes(), f.name, "osv", f.name) if isinstance(i, Advisory)]
    assert len(out) == 7
    return out


def _pg_database() -> Iterator[str]:
    with temp_database("vh_service", PG_ADMIN, pytest.skip) as url:
        yield url


POSTGRES = pytest.param("postgresql", marks=[pytest.mark.services, pytest.mark.slow])


@pytest.fixture(scope="session", params=["sqlite", POSTGRES])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('svc') / 'service.db'}"
    else:
        yield from _pg_database()


class Api:
    """A TestClient speaking as one API key."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client, self.token = client, token

    def __call__(self, method: str, url: str, **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kw)

    def ok(self, method: str, url: str, status: int = 200, **kw: Any) -> Any:
        r = self(method, url, **kw)
        assert r.status_code == status, (r.status_code, r.text)
        return r.json() if r.headers.get("content-type", "").split(";")[0].endswith("json") else r.text

    def as_key(self, token: str) -> Api:
        return Api(self.client, token)


class IndexHolder:
    """The advisory index the app matches against; a test may swap it (and must put it back)."""

    index: MemoryIndex


@pytest.fixture(scope="session")
def holder() -> IndexHolder:
    return IndexHolder()


@pytest.fixture(scope="session")
def service(db_url: str, advisories: list[Advisory], holder: IndexHolder, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[tuple[Api, sa.Engine, Path]]:
    """(root admin client, engine, scan root) on a fresh store; one per backend per session."""
    engine = open_store(db_url)
    with engine.begin() as conn:
        token = bootstrap(conn)
    assert token is not None
    root = tmp_path_factory.mktemp("scanroot")
    holder.index = MemoryIndex(advisories)
    app = create_app(Settings(engine=engine, index=lambda: holder.index, scan_roots=(root,),
                              max_upload=2 * 1024 * 1024))
    with TestClient(app) as client:
        yield Api(client, token), engine, root
    engine.dispose()


@pytest.fixture
def new_account(service: tuple[Api, sa.Engine, Path]) -> Callable[[str], Api]:
    """An admin client of a fresh account, named uniquely."""
    api = service[0]

    def make(prefix: str = "acct") -> Api:
        body = api.ok("POST", "/v1/accounts", 201, json={"name": f"{prefix}-{secrets.token_hex(4)}"})
        return api.as_key(body["adminKey"]["token"])

    return make
