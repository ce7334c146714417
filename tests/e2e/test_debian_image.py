"""The purged rootfs packed as a 3-layer image, read in every format (and pulled from a local registry).

Layer 1 is the minbase tree, layer 2 adds the extra packages (and rewrites dpkg's status file), layer 3 purges
rsync: whiteouts for its files and a status file without it. The squashed inventory must equal the purged rootfs's;
each package must name the layer that introduced it, not the layer that last rewrote the shared status file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FORMATS, Targets, scan  # type: ignore[import-not-found]

from bench.oracles import dpkg_installed
from vulnhound.inventory.model import Inventory

pytestmark = pytest.mark.slow

Key = tuple[str, str, str, str]  # type, name, version, arch


def keys(inv: Inventory) -> set[Key]:
    return {(p.type, p.name, p.version, p.arch or "") for p in inv.packages}


@pytest.fixture(scope="module")
def purged_inv(e2e_targets: Targets) -> Inventory:
    return scan(f"dir:{e2e_targets.deb.purged}")


def _installed(admindir: Path) -> set[tuple[str, str, str]]:
    return {(name, version, arch) for name, version, arch, *_ in dpkg_installed(admindir)}


# One test per format (not one per property): under pytest-xdist each worker scans the images it is given, so
# splitting the properties of one format across workers would scan it twice.
@pytest.mark.parametrize("fmt", FORMATS)
def test_image_format(fmt: str, image_inventory: Callable[[str], Inventory], purged_inv: Inventory,
                      e2e_targets: Targets) -> None:
    inv = image_inventory(fmt)
    check_equals_purged_rootfs(inv, purged_inv)
    check_layer_attribution(inv, _installed(e2e_targets.deb.base / "var/lib/dpkg"))


def check_equals_purged_rootfs(inv: Inventory, purged_inv: Inventory) -> None:
    assert keys(inv) == keys(purged_inv)
    assert len(inv.packages) == len(purged_inv.packages)
    assert "rsync" not in {p.name for p in inv.packages}
    assert inv.os is not None and inv.os.id == "debian"
    assert len(inv.source.layers) == 3


def check_layer_attribution(inv: Inventory, base: set[tuple[str, str, str]]) -> None:
    layer1, layer2, layer3 = (layer.diff_id for layer in inv.source.layers)
    # dpkg rewrote var/lib/dpkg/status in layers 2 and 3, yet a base package still comes from layer 1: the layer
    # from which its exact (name, version, arch) stanza stayed in the image. One whose version changed in layer 2
    # would belong to layer 2 (here none did: apt installed only new packages).
    wrong = []
    for p in inv.packages:
        layers = {loc.layer for loc in p.locations}
        # minbase has no Python: every dist-packages distribution arrived with layer 2
        expected = layer1 if p.type == "deb" and (p.name, p.version, p.arch) in base else layer2
        if layers != {expected}:
            wrong.append((p.type, p.name, sorted(str(x) for x in layers)))
    assert not wrong
    by_layer = {lid: sum(1 for p in inv.packages if p.locations[0].layer == lid) for lid in (layer1, layer2, layer3)}
    assert by_layer[layer1] == len(base)
    assert by_layer[layer3] == 0  # the purge layer introduced nothing


def test_purge_layer_whites_out_the_files(e2e_targets: Targets) -> None:
    from vulnhound.sources.resolve import open_source

    listed = (e2e_targets.deb.rootfs / "var/lib/dpkg/info/rsync.list").read_text().split()
    binaries = [p.lstrip("/") for p in listed if p.startswith("/usr/bin/")]
    assert binaries
    with open_source(f"docker-archive:{e2e_targets.img.docker_archive}") as src:
        view = src.open_view(lambda path: False)
        assert not any(view.exists(b) for b in binaries)
        assert not view.exists("var/lib/dpkg/info/rsync.list")
        assert view.exists("usr/bin/curl") and view.exists("var/lib/dpkg/status")
        assert view.layer_of("usr/bin/curl") == src.info().layers[1].diff_id
