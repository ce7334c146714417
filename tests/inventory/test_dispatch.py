"""The engine's path routing: the hint index must pick exactly the catalogers whose ``wants`` accepts a path."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vulnhound.catalogers import registry
from vulnhound.catalogers.interface import Cataloger
from vulnhound.inventory.dispatch import Dispatcher
from vulnhound.sources.directory import DirView

CATS = registry.load()
DISPATCH = Dispatcher(CATS)
TESTS = Path(__file__).resolve().parents[1]

# Names and directories the catalogers care about, and near misses, to build paths from.
FRAGMENTS = [
    "var", "lib", "dpkg", "status", "status.d", "info", "libc6.list", "libc6:amd64.list", "x.md5sums", "rpm",
    "sysimage", "Packages", "Packages.db", "rpmdb.sqlite", "apk", "db", "installed", "usr", "bin", "sbin",
    "share", "doc", "node_modules", "@scope", "package.json", "package-lock.json", "npm-shrinkwrap.json",
    "yarn.lock", "pnpm-lock.yaml", "site-packages", "dist-packages", "requests-2.0.dist-info", "METADATA",
    "PKG-INFO", "foo.egg-info", "requirements.txt", "requirements-dev.txt", "dev-requirements.TXT",
    "poetry.lock", "Pipfile.lock", "uv.lock", "pylock.toml", "pylock.dev.toml", "Cargo.lock", "go.mod",
    "go.sum", "pkg", "mod", "app.jar", "APP.JAR", "x.war", "y.hpi", "Gemfile.lock", "gems.locked",
    "specifications", "rake-13.gemspec", "composer.lock", "vendor", "composer", "installed.json",
    "app.deps.json", "packages.lock.json", "tool.exe", "TOOL.EXE", "LICENSE", "README", "Makefile", ".git",
    "__pycache__", "man", ".hidden", "a.b.c", "", "etc", "os-release", "noext", "x.",
]


def expected(path: str) -> list[Cataloger]:
    return [c for c in CATS if c.wants(path)]


def corpus() -> list[str]:
    """Every file path of the test tree, both repo-relative and relative to each case's ``root``."""
    out = []
    for p in TESTS.rglob("*"):
        rel = p.relative_to(TESTS).as_posix()
        out.append(rel)
        if "/root/" in rel:
            out.append(rel.split("/root/", 1)[1])
    return out


def test_every_builtin_cataloger_is_indexed() -> None:
    assert [c.name for c in CATS if c.hints is None] == []


def test_routes_match_wants_on_the_test_tree() -> None:
    paths = corpus()
    assert len(paths) > 500
    wrong = [p for p in paths if DISPATCH.route(p) != expected(p)]
    assert wrong == []
    assert sum(1 for p in paths if DISPATCH.route(p)) > 50  # the corpus exercises real routes


@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=7))
def test_routes_match_wants_on_generated_paths(parts: list[str]) -> None:
    path = "/".join(parts)
    assert DISPATCH.route(path) == expected(path)
    assert DISPATCH.wanted(path) == bool(expected(path))


@pytest.mark.parametrize("path,names", [
    ("var/lib/dpkg/status", ["dpkg"]),
    ("var/lib/dpkg/info/libc6:amd64.list", ["dpkg"]),
    ("usr/bin/ls", ["go-binary", "rust-cargo-auditable"]),
    ("app/lib/x.JAR", ["java-archive"]),
    ("srv/vendor/composer/installed.json", ["php-composer"]),
    ("usr/share/doc/README", []),
])
def test_known_routes(path: str, names: list[str]) -> None:
    assert [c.name for c in DISPATCH.route(path)] == names == [c.name for c in expected(path)]


class _NoHints(Cataloger):
    name = "no-hints"

    def wants(self, path: str) -> bool:
        return path.endswith("z")

    def catalog(self, view, paths, ctx):  # type: ignore[no-untyped-def]
        raise NotImplementedError


def test_catalogers_without_hints_see_every_path() -> None:
    d = Dispatcher([*CATS, _NoHints()])
    assert [c.name for c in d.route("usr/bin/xyz")] == ["go-binary", "rust-cargo-auditable", "no-hints"]
    assert [c.name for c in d.route("a.z")] == ["no-hints"]
    buckets = d.buckets(["a.z", "var/lib/dpkg/status", "b"])
    assert buckets["no-hints"] == ["a.z"] and buckets["dpkg"] == ["var/lib/dpkg/status"]


def test_dir_iter_paths_lists_what_iter_files_lists(tmp_path: Path) -> None:
    import os

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "f.txt").write_text("x")
    (tmp_path / "top").write_bytes(b"")
    os.symlink("a/b/f.txt", tmp_path / "link")
    os.symlink("missing", tmp_path / "dangling")
    os.symlink("a", tmp_path / "dirlink")
    os.mkfifo(tmp_path / "fifo")
    view = DirView(str(tmp_path))
    paths = sorted(view.iter_paths())
    assert paths == sorted(m.path for m in view.iter_files())
    assert paths == ["a/b/f.txt", "dangling", "dirlink", "link", "top"]
