"""A real debootstrap'ed Debian 12 rootfs (and its purged and distroless variants) against dpkg-query's own answer."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import Targets, scan  # type: ignore[import-not-found]
from packageurl import PackageURL

from bench.oracles import Row, distroless_admindir, dpkg_installed, pip_list_chroot
from vulnhound.inventory.model import Inventory

pytestmark = pytest.mark.slow



def oracle(admindir: Path) -> set[Row]:
    rows = dpkg_installed(admindir)
    assert len(rows) > 50, f"dpkg-query found too little in {admindir}"
    return rows


def ours(inv: Inventory) -> set[Row]:
    debs = [p for p in inv.packages if p.type == "deb"]
    rows = {(p.name, p.version, p.arch or "", p.source_name or p.name, p.source_version or p.version) for p in debs}
    assert len(rows) == len(debs), "a Debian package was reported twice"
    return rows


@pytest.fixture(scope="module")
def rootfs_inv(e2e_targets: Targets) -> Inventory:
    return scan(f"dir:{e2e_targets.deb.rootfs}")


def test_rootfs_equals_dpkg_query(e2e_targets: Targets, rootfs_inv: Inventory) -> None:
    expected = oracle(e2e_targets.deb.rootfs / "var/lib/dpkg")
    assert len(expected) > 250
    assert ours(rootfs_inv) == expected
    assert rootfs_inv.os is not None and (rootfs_inv.os.id, rootfs_inv.os.version_id) == ("debian", "12")
    assert not [i for i in rootfs_inv.issues if i.cataloger == "dpkg"]


def test_rootfs_purls_carry_distro_and_arch(rootfs_inv: Inventory) -> None:
    libc = next(p for p in rootfs_inv.packages if p.name == "libc6")
    purl = PackageURL.from_string(libc.purl)
    assert (purl.type, purl.namespace, purl.name, purl.version) == ("deb", "debian", "libc6", libc.version)
    assert purl.qualifiers == {"arch": "amd64", "distro": "debian-12", "upstream": "glibc"}


def test_purged_stage_equals_dpkg_query(e2e_targets: Targets) -> None:
    expected = oracle(e2e_targets.deb.purged / "var/lib/dpkg")
    got = ours(scan(f"dir:{e2e_targets.deb.purged}"))
    assert got == expected
    assert "rsync" not in {row[0] for row in got}
    assert len(oracle(e2e_targets.deb.rootfs / "var/lib/dpkg") - expected) == 1


def test_distroless_equals_dpkg_query(e2e_targets: Targets, tmp_path: Path) -> None:
    statusd = e2e_targets.deb.distroless / "var/lib/dpkg/status.d"
    expected = oracle(distroless_admindir(statusd, tmp_path / "admin"))
    inv = scan(f"dir:{e2e_targets.deb.distroless}")
    assert ours(inv) == expected == oracle(e2e_targets.deb.rootfs / "var/lib/dpkg")
    assert {loc.path for p in inv.packages for loc in p.locations} <= {f"var/lib/dpkg/status.d/{f.name}"
                                                                      for f in statusd.iterdir()}


def test_python_packages_are_dpkg_owned(rootfs_inv: Inventory, e2e_targets: Targets) -> None:
    debs = {p.name for p in rootfs_inv.packages if p.type == "deb"}
    pypi = [p for p in rootfs_inv.packages if p.type == "pypi"]
    assert pypi, "Debian's python3-* packages install dist-packages metadata"
    unowned = [(p.name, p.locations[0].path) for p in pypi if p.os_owned_by not in debs]
    assert not unowned
    # the owner is the Debian package whose file list holds the metadata directory
    pyyaml = next(p for p in pypi if p.name == "pyyaml")
    assert pyyaml.os_owned_by == "python3-yaml"


@pytest.fixture(scope="module")
def pip_list(e2e_targets: Targets) -> set[tuple[str, str]]:
    """``pip list`` run by the rootfs's own Python inside a chroot: what the interpreter there sees installed."""
    if shutil.which("chroot") is None:
        pytest.skip("chroot missing")
    return pip_list_chroot(e2e_targets.deb.rootfs)


def test_python_set_equals_pip_list(rootfs_inv: Inventory, pip_list: set[tuple[str, str]]) -> None:
    # cryptography ships both a dist-info and a stale egg-info: Python sees one distribution, so must we
    pypi = [(p.name, p.version) for p in rootfs_inv.packages if p.type == "pypi"]
    assert len(pypi) == len(set(pypi))
    assert set(pypi) == pip_list
