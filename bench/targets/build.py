"""Build named scan targets into the targets dir (``.targets/`` or ``$VULNHOUND_TARGETS``), once, idempotently.

    python -m bench.targets.build debian-rootfs debian-image
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.targets import debian, image

REPO = Path(__file__).resolve().parents[2]
IMAGE_TAG = "test"


def targets_dir() -> Path:
    d = Path(os.environ.get("VULNHOUND_TARGETS", REPO / ".targets"))
    d.mkdir(parents=True, exist_ok=True)
    return d


@dataclass(frozen=True)
class DebianTargets:
    base: Path  # minbase stage (layer 1)
    rootfs: Path  # + extra packages (layer 2)
    purged: Path  # + one package purged (layer 3): what the image's squashed view must equal
    distroless: Path  # rootfs's dpkg data as status.d/ files


@dataclass(frozen=True)
class ImageTargets:
    layout: Path
    oci_archive: Path
    docker_archive: Path
    tag: str = IMAGE_TAG


def debian_targets(root: Path | None = None) -> DebianTargets:
    root = root or targets_dir()
    rootfs = debian.build_rootfs(root / "debian-rootfs")
    return DebianTargets(
        base=root / "debian-rootfs-base",
        rootfs=rootfs,
        purged=debian.build_purged(rootfs, root / "debian-rootfs-purged"),
        distroless=debian.build_distroless(rootfs, root / "debian-rootfs-distroless"),
    )


def debian_image(root: Path | None = None) -> ImageTargets:
    root = root or targets_dir()
    t = debian_targets(root)
    layout = image.build_layout(
        [
            (t.base, "debootstrap --variant=minbase bookworm"),
            (t.rootfs, "apt-get install --no-install-recommends " + " ".join(debian.EXTRA_PACKAGES)),
            (t.purged, f"dpkg --purge {debian.PURGED_PACKAGE}"),
        ],
        root / "debian-image-oci",
        tag=IMAGE_TAG,
    )
    out = ImageTargets(layout, root / "debian-image.oci.tar", root / "debian-image.docker.tar")
    image.convert(layout, IMAGE_TAG, out.oci_archive, out.docker_archive)
    return out


BUILDERS = {"debian-rootfs": debian_targets, "debian-image": debian_image}


def main(names: list[str]) -> None:
    for name in names or list(BUILDERS):
        print(name, BUILDERS[name](), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
