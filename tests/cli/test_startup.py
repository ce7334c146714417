"""Start-up cost of ``vulnhound sbom``: the console entry point's fast path (``vulnhound.__main__``) must behave
exactly like the Typer command, a plain scan must not import what it does not use, and the import-free stand-ins
(core-metadata headers, PEP 503 names) must agree with the libraries they replace."""

from __future__ import annotations

import email.parser
import email.policy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name as packaging_canonicalize
from typer.testing import CliRunner

from vulnhound.__main__ import _SBOM_OPTIONS, parse_sbom
from vulnhound.catalogers.python._common import canonicalize_name
from vulnhound.catalogers.python.installed import Headers
from vulnhound.cli.main import app

STATUS = "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\nSource: zlib\nVersion: 1:1.2.13-1\n"


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text('ID=debian\nVERSION_ID="12"\n')
    (root / "var" / "lib" / "dpkg").mkdir(parents=True)
    (root / "var" / "lib" / "dpkg" / "status").write_text(STATUS)
    site = root / "usr" / "lib" / "python3" / "dist-packages" / "Foo_Bar-1.0.dist-info"
    site.mkdir(parents=True)
    (site / "METADATA").write_text("Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\nLicense: MIT\n\nbody\n")
    return root


def fast(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vulnhound", *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "COLUMNS": "160"}, check=False, timeout=120)


def without_timings(text: str) -> object:
    doc = json.loads(text)
    doc.pop("stats")
    return doc


def test_fast_path_knows_exactly_the_typer_command_options() -> None:
    """An option only the fast path knew would bypass Typer's checks; one only Typer knows just goes to Typer."""
    import typer.main

    command = typer.main.get_command(app)
    sbom_command = command.commands["sbom"]  # type: ignore[attr-defined]
    typer_opts = {o for p in sbom_command.params if p.param_type_name == "option" for o in p.opts}
    assert set(_SBOM_OPTIONS) == typer_opts - {"--help"}


def test_parse_sbom_takes_the_common_forms() -> None:
    assert parse_sbom(["sbom", "dir:/x", "-f", "json", "-o", "out.json", "-q"]) == {
        "target": "dir:/x", "fmt": "json", "output": "out.json", "quiet": True, "layer": []}
    assert parse_sbom(["sbom", "--format=cyclonedx", "--layer", "a.zip", "function:f.zip", "--layer=b.zip",
                       "--runtime", "python3.12", "--no-verify", "--insecure", "--include-files",
                       "--platform", "linux/arm64"]) == {
        "target": "function:f.zip", "fmt": "cyclonedx", "layer": ["a.zip", "b.zip"], "runtime": "python3.12",
        "no_verify": True, "insecure": True, "include_files": True, "platform": "linux/arm64"}


@pytest.mark.parametrize("argv", [
    [], ["sbom"], ["--version"], ["scan", "dir:/x"], ["sbom", "--help"], ["sbom", "dir:/x", "-f", "xml"],
    ["sbom", "dir:/x", "dir:/y"], ["sbom", "dir:/x", "-qf", "json"], ["sbom", "dir:/x", "-f"],
    ["sbom", "dir:/x", "--quiet=1"], ["sbom", "--", "dir:/x"], ["sbom", "-"], ["sbom", "dir:/x", "-o", "-q"],
    ["sbom", "dir:/x", "--bogus"],
])
def test_anything_unusual_goes_to_typer(argv: list[str]) -> None:
    assert parse_sbom(argv) is None


@pytest.mark.parametrize("fmt", ["json", "cyclonedx", "table"])
def test_fast_path_output_equals_the_typer_command(rootfs: Path, fmt: str) -> None:
    via_typer = CliRunner().invoke(app, ["sbom", f"dir:{rootfs}", "-f", fmt])
    direct = fast("sbom", f"dir:{rootfs}", "-f", fmt)
    assert via_typer.exit_code == direct.returncode == 0, direct.stderr
    if fmt == "json":
        assert without_timings(direct.stdout) == without_timings(via_typer.stdout)
    elif fmt == "cyclonedx":  # serial number and timestamp differ per run
        a, b = json.loads(direct.stdout), json.loads(via_typer.stdout)
        assert [c.get("purl") for c in a["components"]] == [c.get("purl") for c in b["components"]]
        assert any(c.get("purl") for c in a["components"])
    else:
        assert direct.stdout == via_typer.stdout and "zlib1g" in direct.stdout


def test_fast_path_errors_and_exit_codes_equal_the_typer_command(tmp_path: Path, rootfs: Path) -> None:
    cases = [
        ["sbom", str(tmp_path / "missing")],  # SourceError: 2
        ["sbom", f"dir:{rootfs}", "-o", str(tmp_path / "no" / "dir" / "x.json")],  # cannot write: 1
        ["sbom", f"dir:{rootfs}", "-f", "xml"],  # usage error, from Typer on both paths: 2
    ]
    for argv in cases:
        via_typer = CliRunner().invoke(app, argv)
        direct = fast(*argv)
        assert direct.returncode == via_typer.exit_code != 0, argv
        assert direct.stdout == ""
        if argv[-1] != "xml":
            assert direct.stderr == via_typer.stderr, argv
        else:
            assert "unknown format 'xml'" in direct.stderr


def test_output_file_is_written_atomically_with_a_private_temp(rootfs: Path, tmp_path: Path) -> None:
    out = tmp_path / "inv.json"
    out.write_text("old")
    assert fast("sbom", f"dir:{rootfs}", "-f", "json", "-q", "-o", str(out)).returncode == 0
    assert json.loads(out.read_text())["packages"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inv.json", "root"]  # no temp file left


def test_a_plain_scan_imports_none_of_the_heavy_libraries(rootfs: Path) -> None:
    code = ("import sys; from vulnhound.__main__ import run; rc = run(sys.argv[1:]); "
            "print(' '.join(sorted(sys.modules)), file=sys.stderr); sys.exit(rc)")
    p = subprocess.run([sys.executable, "-c", code, "sbom", f"dir:{rootfs}", "-f", "json", "-q"],
                       capture_output=True, text=True, check=True, timeout=120)
    loaded = set(p.stderr.split())
    assert "vulnhound.catalogers.python.installed" in loaded  # the scan really ran the catalogers
    heavy = {"typer", "click", "rich", "pydantic", "sqlalchemy", "httpx", "jsonschema", "email.parser",
             "packaging.utils", "sqlite3", "tomllib", "zipfile", "tempfile", "importlib.resources", "yaml"}
    assert loaded & heavy == set()


def test_headers_read_real_metadata_as_email_does() -> None:
    paths = sorted(Path(sys.prefix).glob("lib/python3*/site-packages/*.dist-info/METADATA"))
    assert len(paths) > 20
    for path in paths:
        head = path.read_bytes().split(b"\n\n", 1)[0].decode("utf-8", errors="replace")
        _assert_same_headers(head)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["Name", "Version", ": ", ":", " ", "\t", "\r\n", "\n", "\r", "From ", "x", "é",
                                 "Classifier: License :: OSI", "License", "-", "Name:", "\n ", "::"]), max_size=30))
def test_headers_agree_with_email_on_odd_input(parts: list[str]) -> None:
    _assert_same_headers("".join(parts))


def _assert_same_headers(text: str) -> None:
    ref = email.parser.Parser(policy=email.policy.compat32).parsestr(text, headersonly=True)
    ours = Headers(text)
    for name in {"Name", "Version", "License", "Classifier", "Maintainer", "Author", *ref.keys()}:
        assert ours.get(name) == ref.get(name), (text, name)
        assert ours.get_all(name) == ref.get_all(name), (text, name)


@given(st.text(alphabet="aZ09_.- -", max_size=16))
def test_canonicalize_name_is_packagings(name: str) -> None:
    assert canonicalize_name(name) == packaging_canonicalize(name)
