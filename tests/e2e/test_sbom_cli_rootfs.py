"""``vulnhound sbom`` (the installed entry point, in a subprocess) on the real rootfs in all four output formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Targets  # type: ignore[import-not-found]
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from spdx_tools.spdx.parser.json.json_parser import parse_from_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from vulnhound.exports.inventory_json import validate

pytestmark = pytest.mark.slow

VULNHOUND = [sys.executable, "-c", "from vulnhound.cli.main import run; run()"]


def sbom(target: str, fmt: str, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VULNHOUND, "sbom", target, "--format", fmt, "--output", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def native(e2e_targets: Targets, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("cli") / "inv.json"
    p = sbom(f"dir:{e2e_targets.deb.rootfs}", "json", out)
    assert p.returncode == 0, p.stderr
    doc: dict[str, object] = json.loads(out.read_text())
    return doc


def test_native_json_validates(native: dict[str, object]) -> None:
    assert validate(native) == []
    pkgs = native["packages"]
    assert isinstance(pkgs, list)
    debs = [p for p in pkgs if p["type"] == "deb"]
    assert len(debs) > 250
    # Without --include-files no file lists are printed, but OS ownership was still worked out from them.
    assert all("files" not in p or not p["files"] for p in pkgs)
    assert {p["osOwnedBy"] for p in pkgs if p["type"] == "pypi"} <= {p["name"] for p in debs} - {None}


def test_cyclonedx_validates(e2e_targets: Targets, tmp_path: Path, native: dict[str, object]) -> None:
    out = tmp_path / "bom.cdx.json"
    p = sbom(f"dir:{e2e_targets.deb.rootfs}", "cyclonedx", out)
    assert p.returncode == 0, p.stderr
    text = out.read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    purls = {c.get("purl") for c in json.loads(text)["components"]}
    assert {pkg["purl"] for pkg in native["packages"]} <= purls  # type: ignore[attr-defined]


def test_spdx_validates(e2e_targets: Targets, tmp_path: Path, native: dict[str, object]) -> None:
    out = tmp_path / "bom.spdx.json"
    p = sbom(f"dir:{e2e_targets.deb.rootfs}", "spdx-json", out)
    assert p.returncode == 0, p.stderr
    assert validate_full_spdx_document(parse_from_file(str(out))) == []
    doc = json.loads(out.read_text())
    assert doc["spdxVersion"] == "SPDX-2.3"
    assert len(doc["packages"]) >= len(native["packages"])  # type: ignore[arg-type]


def test_table(e2e_targets: Targets, tmp_path: Path) -> None:
    out = tmp_path / "inv.txt"
    p = sbom(f"dir:{e2e_targets.deb.rootfs}", "table", out)
    assert p.returncode == 0, p.stderr
    text = out.read_text()
    assert "libc6" in text and "2.36-9" in text
