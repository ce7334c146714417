"""``vulnhound sbom``: formats, --output, --quiet, source options, and clear errors with the right exit codes."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from typer.testing import CliRunner

from vulnhound.cli import sbom as sbom_cli
from vulnhound.cli.main import app
from vulnhound.exports.inventory_json import validate
from vulnhound.sources.resolve import SourceOptions

SBOM_CASES = Path(__file__).resolve().parents[1] / "sources" / "sbom" / "cases"
SYFT_DEBIAN = SBOM_CASES / "syft-debian-cyclonedx" / "input.json"

STATUS = """\
Package: zlib1g
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 168
Maintainer: Mark Brown <broonie@debian.org>
Architecture: amd64
Multi-Arch: same
Source: zlib
Version: 1:1.2.13.dfsg-1
Depends: libc6 (>= 2.14)
Description: compression library - runtime

Package: bash
Status: install ok installed
Priority: required
Section: shells
Installed-Size: 7164
Maintainer: Matthias Klose <doko@debian.org>
Architecture: amd64
Version: 5.2.15-2+b8
Description: GNU Bourne Again SHell
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def rootfs(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text('ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'
                                             'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')
    (root / "var" / "lib" / "dpkg").mkdir(parents=True)
    (root / "var" / "lib" / "dpkg" / "status").write_text(STATUS)
    return root


def run(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, ["sbom", *args])


def test_directory_to_json(runner: CliRunner, rootfs: Path) -> None:
    result = run(runner, f"dir:{rootfs}", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert validate(doc) == []
    assert doc["source"]["kind"] == "dir"
    assert doc["os"]["id"] == "debian" and doc["os"]["versionId"] == "12"
    names = {(p["name"], p["version"], p["type"]) for p in doc["packages"]}
    assert {("zlib1g", "1:1.2.13.dfsg-1", "deb"), ("bash", "5.2.15-2+b8", "deb")} <= names


def test_default_table(runner: CliRunner, rootfs: Path) -> None:
    result = run(runner, str(rootfs))
    assert result.exit_code == 0, result.output
    assert "OS: Debian GNU/Linux 12 (bookworm)" in result.stdout
    assert "zlib1g" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("2 packages (deb 2)")


def test_output_file(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "bom.json"
    result = run(runner, f"sbom:{SYFT_DEBIAN}", "-f", "cyclonedx", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    text = out.read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    assert len([c for c in json.loads(text)["components"] if c["type"] == "library"]) == 9
    assert [p.name for p in tmp_path.iterdir()] == ["bom.json"], "no temporary file left behind"


def test_output_to_a_fifo_writes_through_and_keeps_it(runner: CliRunner, rootfs: Path, tmp_path: Path) -> None:
    # --output /dev/null (or any device or pipe) must be written to, never renamed over: an atomic replace of
    # /dev/null turned the machine's null device into a regular file once.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = run(runner, f"dir:{rootfs}", "-f", "json", "-o", str(fifo))
    reader.join(10)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert json.loads(got[0])["packages"][0]["name"] == "bash"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe", "root"], "no temporary file left behind"


def test_spdx_format(runner: CliRunner) -> None:
    result = run(runner, f"sbom:{SYFT_DEBIAN}", "-f", "spdx-json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["spdxVersion"] == "SPDX-2.3"
    assert len(doc["packages"]) == 9 + 2  # packages + the OS + the described source


def test_unknown_format_is_a_usage_error(runner: CliRunner, rootfs: Path) -> None:
    result = run(runner, str(rootfs), "--format", "xml")
    assert result.exit_code == 2
    assert "unknown format 'xml'" in result.output
    assert "cyclonedx" in result.output


def test_bad_target(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, str(tmp_path / "missing"))
    assert result.exit_code == 2
    assert "cannot tell what kind of source" in result.stderr
    assert result.stdout == ""


def test_malformed_sbom_names_the_file(runner: CliRunner) -> None:
    bad = SBOM_CASES / "bad-not-json" / "input.json"
    result = run(runner, f"sbom:{bad}", "-f", "json")
    assert result.exit_code == 2
    assert str(bad) in result.stderr and "not a JSON SBOM" in result.stderr


def test_unwritable_output(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, f"sbom:{SYFT_DEBIAN}", "-o", str(tmp_path / "no" / "such" / "dir.json"))
    assert result.exit_code == 1
    assert "cannot write" in result.stderr


def test_issues_warned_unless_quiet(runner: CliRunner) -> None:
    hostile = f"sbom:{SBOM_CASES / 'hostile-components' / 'input.json'}"
    loud = run(runner, hostile, "-f", "json")
    assert loud.exit_code == 0
    assert "3 issue(s)" in loud.stderr
    quiet = run(runner, hostile, "-f", "json", "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert json.loads(quiet.stdout)["stats"]["issues"] == 3


def test_source_options_reach_the_source(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[SourceOptions] = []
    real = sbom_cli.open_source

    def spy(target: str, opts: SourceOptions | None = None) -> Any:
        assert opts is not None
        seen.append(opts)
        return real(target, opts)

    monkeypatch.setattr(sbom_cli, "open_source", spy)
    result = run(runner, f"sbom:{SYFT_DEBIAN}", "-q", "--platform", "linux/arm64", "--insecure",
                 "--layer", "a.zip", "--layer", "b.zip", "--runtime", "python3.12")
    assert result.exit_code == 0, result.output
    (opts,) = seen
    assert (opts.platform, opts.insecure, opts.layers, opts.runtime) == (
        "linux/arm64", True, ["a.zip", "b.zip"], "python3.12")


def test_native_json_reads_back_as_sbom(runner: CliRunner, rootfs: Path, tmp_path: Path) -> None:
    first = tmp_path / "inv.json"
    assert run(runner, f"dir:{rootfs}", "-f", "json", "-o", str(first), "--include-files").exit_code == 0
    again = run(runner, f"sbom:{first}", "-f", "json", "--include-files")
    assert again.exit_code == 0, again.output
    a, b = json.loads(first.read_text()), json.loads(again.stdout)
    assert b["source"]["kind"] == "sbom" and b["source"]["metadata"]["subjectKind"] == "dir"
    assert a["packages"] == b["packages"] and a["os"] == b["os"]


def test_invalid_native_json_is_rejected(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "inv.json"
    bad.write_text(json.dumps({"schemaVersion": 1, "packages": [{"name": "x"}]}))
    result = run(runner, f"sbom:{bad}")
    assert result.exit_code == 2
    assert str(bad) in result.stderr and "invalid vulnhound inventory JSON" in result.stderr
