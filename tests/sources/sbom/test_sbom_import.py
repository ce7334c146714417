"""SBOM import: real Trivy and Syft SBOMs (CycloneDX and SPDX), edge cases and malformed files, one folder per case.

Each ``cases/NAME/input.json`` has ``expected.json`` (the normalized inventory) or ``expected-error.txt`` (a fragment
of the SourceError message). Regenerate expectations with ``VULNHOUND_REGEN=1`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from vulnhound.exports.inventory_json import issue_to_wire, os_to_wire, package_to_wire, sort_key
from vulnhound.inventory.build import build_inventory
from vulnhound.inventory.model import Inventory
from vulnhound.sources.interface import SourceError
from vulnhound.sources.resolve import open_source
from vulnhound.sources.sbom import SbomSource, load_sbom

CASES = Path(__file__).parent / "cases"
GOOD = sorted(p.name for p in CASES.iterdir() if p.is_dir() and not p.name.startswith("bad-"))
BAD = sorted(p.name for p in CASES.iterdir() if p.is_dir() and p.name.startswith("bad-"))
REGEN = os.environ.get("VULNHOUND_REGEN") == "1"


def normalized(inv: Inventory) -> dict[str, Any]:
    return {
        "os": os_to_wire(inv.os) if inv.os else None,
        "packages": [package_to_wire(p) for p in sorted(inv.packages, key=sort_key)],
        "issues": [{**issue_to_wire(i), "path": Path(i.path).name} for i in inv.issues],
    }


@pytest.mark.parametrize("case", GOOD)
def test_import_matches_expected(case: str) -> None:
    inv = load_sbom(str(CASES / case / "input.json"))
    got = normalized(inv)
    expected_file = CASES / case / "expected.json"
    if REGEN:
        expected_file.write_text(json.dumps(got, indent=2, ensure_ascii=False) + "\n")
    assert got == json.loads(expected_file.read_text())
    assert inv.source.kind == "sbom"
    assert inv.source.digest and inv.source.digest.startswith("sha256:")


@pytest.mark.parametrize("case", BAD)
def test_malformed_sbom_is_a_clear_error(case: str) -> None:
    path = str(CASES / case / "input.json")
    with pytest.raises(SourceError) as err:
        load_sbom(path)
    message = str(err.value)
    assert message.startswith(path), "the error names the file"
    fragment = (CASES / case / "expected-error.txt")
    if REGEN:
        fragment.write_text(message.removeprefix(path + ": ") + "\n")
    assert fragment.read_text().strip() in message


def test_trivy_and_syft_agree_on_debian_packages() -> None:
    """The same rootfs through both tools and both formats yields the same OS package identities."""
    def key(case: str) -> set[tuple[str, str, str, str | None, str | None]]:
        inv = load_sbom(str(CASES / case / "input.json"))
        return {(p.name, p.version, p.type, p.arch, p.source_name) for p in inv.packages if p.type == "deb"}

    reference = key("trivy-debian-cyclonedx")
    assert len(reference) == 6
    for case in ("trivy-debian-spdx", "syft-debian-cyclonedx", "syft-debian-spdx"):
        assert key(case) == reference, case


def test_epoch_and_source_fields_from_purl_and_properties() -> None:
    trivy = {p.name: p for p in load_sbom(str(CASES / "trivy-debian-cyclonedx" / "input.json")).packages}
    zlib = trivy["zlib1g"]
    # Trivy keeps the epoch in a qualifier, outside the purl version; the package version must carry it.
    assert (zlib.version, zlib.epoch, zlib.source_name, zlib.source_version) == (
        "1:1.2.13.dfsg-1", 1, "zlib", "1:1.2.13.dfsg-1")
    rpm = load_sbom(str(CASES / "syft-rpm-cyclonedx" / "input.json"))
    (uuid,) = rpm.packages
    assert (uuid.source_name, uuid.source_version, uuid.release, uuid.arch) == (
        "util-linux", "2.32.1-42.el8_8", "42.el8_8", "x86_64")
    assert rpm.os is not None and (rpm.os.id, rpm.os.version_id) == ("almalinux", "8.9")


def test_os_guessed_from_distro_qualifier_when_no_os_component() -> None:
    inv = load_sbom(str(CASES / "syft-debian-spdx" / "input.json"))
    assert inv.os is not None and (inv.os.id, inv.os.version_id) == ("debian", "12")


def test_hostile_components_become_issues_and_safe_paths() -> None:
    inv = load_sbom(str(CASES / "hostile-components" / "input.json"))
    assert {i.offset for i in inv.issues} == {0, 1, 2}
    for p in inv.packages:
        for loc in p.locations:
            assert not loc.path.startswith(("/", "..")), loc.path


def test_open_source_and_build_inventory_use_the_sbom() -> None:
    target = "sbom:" + str(CASES / "syft-alpine-cyclonedx" / "input.json")
    with open_source(target) as src:
        assert isinstance(src, SbomSource)
        inv = build_inventory(src)
    assert inv.source.kind == "sbom"
    assert inv.source.metadata["tools"] == ["syft 1.18.1"]
    assert sorted(p.name for p in inv.packages) == ["libcrypto3", "musl"]
    assert inv.os is not None and inv.os.id == "alpine"


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such SBOM file"):
        load_sbom(str(tmp_path / "nope.json"))
    with pytest.raises(SourceError, match="is a directory"):
        load_sbom(str(tmp_path))


def test_many_components_import(tmp_path: Path) -> None:
    """A big SBOM (20k components) imports completely; built in the test, not committed."""
    comps = [{"type": "library", "name": f"p{i}", "version": f"1.{i}", "purl": f"pkg:npm/p{i}@1.{i}"}
             for i in range(20_000)]
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": comps}))
    inv = load_sbom(str(path))
    assert len(inv.packages) == 20_000
    assert not inv.issues
