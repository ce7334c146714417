"""Go binary and go.mod/go.sum catalogers: case folders (expected.json beside each ``root``) and binaries built
here with the installed Go toolchain (plain, stripped, with replaced and local dependencies, cut short)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from vulnhound.catalogers.golang.binary import GoBinaryCataloger
from vulnhound.catalogers.golang.gomod import GoModCataloger
from vulnhound.catalogers.golang.module import go_tag_to_semver
from vulnhound.catalogers.interface import CatalogContext
from vulnhound.catalogers.lockfile import dump_summary, summarize, summarize_dir
from vulnhound.inventory.build import catalog_view
from vulnhound.sources.directory import DirView

HERE = Path(__file__).parent
CASES = HERE / "cases"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_case(case: str) -> None:
    limit = CASES / case / "limit"
    got = summarize_dir(str(CASES / case / "root"), [GoBinaryCataloger(), GoModCataloger()],
                        int(limit.read_text()) if limit.exists() else None)
    if os.environ.get("VULNHOUND_UPDATE_EXPECTED"):
        (CASES / case / "expected.json").write_text(dump_summary(got))
    assert got == json.loads((CASES / case / "expected.json").read_text())


def test_gomod_metadata() -> None:
    inv = catalog_view(DirView(str(CASES / "gomod-normal" / "root")), [GoModCataloger()], CatalogContext())
    by_name = {p.name: p for p in inv.packages}
    assert by_name["golang.org/x/net"].metadata == {"indirect": True}
    assert "indirect" not in by_name["github.com/gin-gonic/gin"].metadata
    assert by_name["github.com/example/logrus"].metadata["replaces"] == "github.com/sirupsen/logrus@v1.9.3"
    assert by_name["golang.org/x/sys"].version == "v0.15.0"
    assert "github.com/google/uuid" not in by_name  # replaced by a local directory
    assert {p.package_manager for p in inv.packages} == {"GOMOD"}


@pytest.mark.parametrize(("tag", "semver"), [
    ("go1.22.3", "v1.22.3"), ("go1.21", "v1.21.0"), ("go1.21rc2", "v1.21.0-rc.2"), ("go1.19beta1", "v1.19.0-beta.1"),
    ("go1.22.3 X:boringcrypto", "v1.22.3"), ("devel go1.23-abcdef", None), ("", None),
])
def test_go_tag_to_semver(tag: str, semver: str | None) -> None:
    assert go_tag_to_semver(tag) == semver


def test_gomod_wants_skips_the_module_cache() -> None:
    c = GoModCataloger()
    assert c.wants("src/app/go.mod") and c.wants("go.sum") and not c.wants("src/app/notgo.mod")
    assert not c.wants("root/go/pkg/mod/github.com/pkg/errors@v0.9.1/go.mod")


@pytest.mark.parametrize(("path", "want"), [
    ("usr/local/bin/app", True), ("manager", True), ("ko-app/server", True), ("app/server.exe", True),
    ("node_modules/@esbuild/linux-x64/bin/esbuild", True), ("usr/share/doc/x/copyright", False),
    ("usr/lib/x86_64-linux-gnu/libc.so.6", False), ("app/LICENSE", False), ("node_modules/foo/README", False),
    ("etc/passwd", False), ("usr/lib/python3/dist-packages/x-1.0.dist-info/RECORD", False), ("app/main.go", False),
])
def test_wants_is_a_string_test(path: str, want: bool) -> None:
    assert GoBinaryCataloger().wants(path) is want


# --- binaries built by the installed toolchain -------------------------------------------------------------------

def _go_env(factory: pytest.TempPathFactory, out: Path, **extra: str) -> dict[str, str]:
    """Offline, reproducible builds. The user's build cache is kept (compiling the standard library dominates the
    cost and the cache is safe to share); only without a home directory does it go to a temporary one."""
    env = {**os.environ, "GOPROXY": "off", "GOTOOLCHAIN": "local", "CGO_ENABLED": "0", "GOPATH": str(out / "gopath"),
           **extra}
    if not (os.environ.get("GOCACHE") or os.environ.get("XDG_CACHE_HOME") or os.environ.get("HOME")):
        env["GOCACHE"] = str(factory.getbasetemp() / "gocache")
    return env


@pytest.fixture(scope="session")
def go_binaries(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Build the fixture modules once: (directory of binaries, toolchain version tag)."""
    go = shutil.which("go")
    if go is None:
        pytest.skip("the Go toolchain (Debian golang-go) is not installed")
    out = tmp_path_factory.mktemp("gobin")
    env = _go_env(tmp_path_factory, out, GOFLAGS="-mod=mod")
    builds = [("hello", "hello", []), ("hello-stripped", "hello", ["-ldflags=-s -w"]),
              ("withdeps", "withdeps", ["-mod=vendor"])]
    for name, src, flags in builds:
        subprocess.run([go, "build", "-trimpath", "-buildvcs=false", *flags, "-o", str(out / "bin" / name), "."],
                       cwd=HERE / "gosrc" / src, env=env, check=True, capture_output=True, timeout=300)
    tag = subprocess.run([go, "env", "GOVERSION"], env=env, check=True, capture_output=True, text=True).stdout
    return out / "bin", tag.strip()


def _scan(root: Path) -> tuple[list[list[object]], list[str]]:
    inv = catalog_view(DirView(str(root)), [GoBinaryCataloger()], CatalogContext())
    return summarize(inv.packages), [f"{i.path}: {i.severity}" for i in inv.issues]


def test_built_binaries(go_binaries: tuple[Path, str]) -> None:
    bindir, tag = go_binaries
    std = go_tag_to_semver(tag)
    assert std is not None
    rows, issues = _scan(bindir)
    stdlib = ["stdlib", std, "golang", f"pkg:golang/stdlib@{std}", False]
    hello = ["example.com/hello", "(devel)", "golang", "pkg:golang/example.com/hello", False]
    assert rows == sorted([
        stdlib, stdlib, stdlib, hello, hello,
        ["example.com/withdeps", "(devel)", "golang", "pkg:golang/example.com/withdeps", False],
        ["example.com/fork", "v1.2.4", "golang", "pkg:golang/example.com/fork@v1.2.4", False],
        ["example.com/local", "v0.0.0", "golang", "pkg:golang/example.com/local@v0.0.0", False],
    ])
    assert issues == []


def test_built_binary_metadata(go_binaries: tuple[Path, str]) -> None:
    bindir, tag = go_binaries
    inv = catalog_view(DirView(str(bindir)), [GoBinaryCataloger()], CatalogContext())
    mine = {(p.path, p.name): p for p in inv.packages}
    main = mine[("withdeps", "example.com/withdeps")]
    assert main.metadata["main"] and main.metadata["devel"] and main.metadata["go_version"] == tag
    assert main.metadata["build"]["-trimpath"] == "true" and main.arch == main.metadata["build"]["GOARCH"]
    assert mine[("withdeps", "example.com/fork")].metadata["replaces"] == "example.com/lib@v1.2.3"
    assert mine[("withdeps", "example.com/local")].metadata["replaced_by_dir"] == "./local"
    assert {p.package_manager for p in inv.packages} == {"GOBINARY"}


def test_cut_binaries(go_binaries: tuple[Path, str], tmp_path: Path) -> None:
    """Go's linker writes the section table near the start: a binary cut after the build info still yields its
    packages; one cut inside or before it (the section says where it should be) yields an error naming the file.
    The first 8 KB alone hold neither the section table nor the magic: nothing says Go, nothing is reported."""
    bindir, _ = go_binaries
    data = (bindir / "withdeps").read_bytes()
    magic = data.index(b"\xff Go buildinf:")
    (tmp_path / "after").write_bytes(data[: magic + 4096])
    (tmp_path / "inside").write_bytes(data[: magic + 40])
    (tmp_path / "before").write_bytes(data[: magic - 16])
    (tmp_path / "head").write_bytes(data[:8192])
    rows, issues = _scan(tmp_path)
    assert sorted({r[0] for r in rows}) == ["example.com/fork", "example.com/local", "example.com/withdeps", "stdlib"]
    assert sorted(issues) == ["before: error", "inside: error"]


def test_binary_without_section_table_is_scanned(go_binaries: tuple[Path, str], tmp_path: Path) -> None:
    """With e_shoff zeroed (section headers stripped) the 16-aligned magic is found by scanning, with a note."""
    bindir, _ = go_binaries
    data = bytearray((bindir / "hello-stripped").read_bytes())
    data[0x28:0x30] = bytes(8)
    (tmp_path / "noshdr").write_bytes(bytes(data))
    rows, issues = _scan(tmp_path)
    assert [r[0] for r in rows] == ["example.com/hello", "stdlib"]
    assert issues == ["noshdr: note"]


@pytest.fixture(scope="session")
def go_cross_binaries(go_binaries: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``withdeps`` for windows/amd64 (PE) and darwin/arm64 (Mach-O); compiling two standard libraries is slow."""
    out = tmp_path_factory.mktemp("gocross")
    for goos, goarch, name in (("windows", "amd64", "withdeps.exe"), ("darwin", "arm64", "withdeps-darwin")):
        env = _go_env(tmp_path_factory, out, GOFLAGS="-mod=vendor", GOOS=goos, GOARCH=goarch)
        subprocess.run(["go", "build", "-trimpath", "-buildvcs=false", "-o", str(out / "bin" / name), "."],
                       cwd=HERE / "gosrc" / "withdeps", env=env, check=True, capture_output=True, timeout=600)
    return out / "bin"


@pytest.mark.slow
def test_pe_and_macho_binaries(go_cross_binaries: Path) -> None:
    inv = catalog_view(DirView(str(go_cross_binaries)), [GoBinaryCataloger()], CatalogContext())
    got = {(p.path, p.name, p.version, p.arch) for p in inv.packages if p.name != "stdlib"}
    assert got == {(path, name, version, arch)
                   for path, arch in (("withdeps.exe", "amd64"), ("withdeps-darwin", "arm64"))
                   for name, version in (("example.com/withdeps", "(devel)"), ("example.com/fork", "v1.2.4"),
                                         ("example.com/local", "v0.0.0"))}
    assert not inv.issues  # PE build info is found by scanning, which is normal there: no note
