"""End-to-end fixtures: the real Debian rootfs stages and the 3-layer image, built once (bench.targets.build).

Targets are cached in the targets dir; a file lock keeps pytest-xdist workers from building them twice at once.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # bench/ is a top-level folder of the repository, not an installed package
    sys.path.insert(0, str(REPO))

from bench.targets import build as targets_build  # noqa: E402
from bench.targets.image import LocalRegistry  # noqa: E402
from vulnhound.inventory.build import build_inventory  # noqa: E402
from vulnhound.inventory.model import Inventory  # noqa: E402
from vulnhound.sources.resolve import SourceOptions, open_source  # noqa: E402

TOOLS = ("debootstrap", "skopeo", "chroot", "dpkg-query")
FORMATS = ("oci-dir", "oci-archive", "docker-archive", "registry")


@dataclass(frozen=True)
class Targets:
    deb: targets_build.DebianTargets
    img: targets_build.ImageTargets


def _need_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        pytest.skip(f"e2e targets need {', '.join(missing)} (scripts/setup installs them)")
    if os.geteuid() != 0:
        pytest.skip("e2e targets need root (debootstrap, chroot)")


@pytest.fixture(scope="session")
def e2e_targets(targets_dir: Path) -> Targets:
    _need_tools()
    with open(targets_dir / ".e2e-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            deb = targets_build.debian_targets(targets_dir)
            img = targets_build.debian_image(targets_dir)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return Targets(deb, img)


@pytest.fixture(scope="session")
def registry_ref(e2e_targets: Targets, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry not installed (scripts/setup installs it)")
    with LocalRegistry(tmp_path_factory.mktemp("registry")) as reg:
        yield reg.push(e2e_targets.img.layout, e2e_targets.img.tag, "vulnhound/debian")


def scan(target: str, opts: SourceOptions | None = None) -> Inventory:
    with open_source(target, opts) as src:
        return build_inventory(src)


_IMAGE_CACHE: dict[str, Inventory] = {}


@pytest.fixture(scope="session")
def image_inventory(e2e_targets: Targets, request: pytest.FixtureRequest) -> Callable[[str], Inventory]:
    """A function fmt -> Inventory of the image in that format, scanned once per session."""

    def get(fmt: str) -> Inventory:
        if fmt not in _IMAGE_CACHE:
            img = e2e_targets.img
            if fmt == "registry":
                ref = request.getfixturevalue("registry_ref")
                _IMAGE_CACHE[fmt] = scan(f"registry:{ref}", SourceOptions(insecure=True))
            else:
                path = {"oci-dir": img.layout, "oci-archive": img.oci_archive,
                        "docker-archive": img.docker_archive}[fmt]
                _IMAGE_CACHE[fmt] = scan(f"{fmt}:{path}")
        return _IMAGE_CACHE[fmt]

    return get

