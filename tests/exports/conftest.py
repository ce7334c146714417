"""Hand-made inventories for the export tests (normal: an image with every package type; empty; hostile; huge)."""

from __future__ import annotations

import pytest

from vulnhound.inventory.model import (
    CatalogIssue,
    Inventory,
    LayerInfo,
    Location,
    OSInfo,
    Package,
    SourceInfo,
)

L1 = "sha256:" + "1" * 64
L2 = "sha256:" + "2" * 64


def normal() -> Inventory:
    source = SourceInfo(
        kind="oci-dir", target="oci-dir:app-image", digest="sha256:" + "d" * 64, platform="linux/amd64",
        repo_tags=("example/app:1.0",),
        layers=[LayerInfo(L1, "sha256:" + "a" * 64, "application/vnd.oci.image.layer.v1.tar+gzip", 1234,
                          "ADD rootfs.tar /"),
                LayerInfo(L2, "sha256:" + "b" * 64, "application/vnd.oci.image.layer.v1.tar+gzip", 99,
                          "RUN pip install requests")],
    )
    os_ = OSInfo(id="debian", version_id="12", version_codename="bookworm", name="Debian GNU/Linux",
                 pretty_name="Debian GNU/Linux 12 (bookworm)", source_file="etc/os-release")
    dpkg = [Location("var/lib/dpkg/status", L1)]
    packages = [
        Package("zlib1g", "1:1.2.13.dfsg-1", "deb", "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12",
                "dpkg", dpkg, arch="amd64", epoch=1, release="1", source_name="zlib", source_version="1:1.2.13.dfsg-1",
                package_manager="OS", maintainer="Mark Brown <broonie@debian.org>", licenses=("Zlib",),
                files=("usr/lib/x86_64-linux-gnu/libz.so.1",)),
        Package("libssl3", "3.0.11-1~deb12u2", "deb",
                "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12", "dpkg", dpkg, arch="amd64",
                release="1~deb12u2", source_name="openssl", source_version="3.0.11-1~deb12u2", package_manager="OS"),
        Package("python3-six", "1.16.0-4", "deb", "pkg:deb/debian/python3-six@1.16.0-4?arch=all&distro=debian-12",
                "dpkg", dpkg, arch="all", release="4", source_name="six", source_version="1.16.0-4",
                package_manager="OS"),
        Package("six", "1.16.0", "pypi", "pkg:pypi/six@1.16.0", "python-installed",
                [Location("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", L1)],
                package_manager="PYTHONPKG", licenses=("MIT",), os_owned_by="python3-six"),
        Package("requests", "2.20.0", "pypi", "pkg:pypi/requests@2.20.0", "python-installed",
                [Location("usr/local/lib/python3.11/site-packages/requests-2.20.0.dist-info/METADATA", L2)],
                package_manager="PYTHONPKG", licenses=("Apache-2.0",)),
        Package("lodash", "4.17.15", "npm", "pkg:npm/lodash@4.17.15", "npm-lock",
                [Location("app/package-lock.json", L2)], package_manager="NPM", licenses=("MIT",)),
        Package("@types/node", "20.1.0", "npm", "pkg:npm/%40types/node@20.1.0", "npm-lock",
                [Location("app/package-lock.json", L2)], package_manager="NPM", dev=True),
        Package("org.apache.logging.log4j:log4j-core", "2.14.1", "maven",
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1", "java-archive",
                [Location("app/lib/log4j-core-2.14.1.jar", L2), Location("app/lib/fat.jar", L2)],
                package_manager="JAR", licenses=("Apache-2.0",), metadata={"sha1": "abc"}),
        Package("golang.org/x/net", "v0.7.0", "golang", "pkg:golang/golang.org/x/net@v0.7.0", "go-binary",
                [Location("usr/local/bin/app", L2)], package_manager="GOBINARY"),
    ]
    issues = [CatalogIssue("python-installed", "usr/lib/python3/dist-packages/broken.dist-info/METADATA",
                           "no Name: header", offset=0)]
    return Inventory(source=source, os=os_, packages=packages, issues=issues,
                     stats={"total_seconds": 0.5, "packages_by_cataloger": {"dpkg": 3}})


def rpm_alpine() -> list[Package]:
    return [
        Package("openssl-libs", "1:3.0.7-25.el9_3", "rpm",
                "pkg:rpm/almalinux/openssl-libs@3.0.7-25.el9_3?arch=x86_64&epoch=1&distro=almalinux-9.3", "rpm",
                [Location("var/lib/rpm/rpmdb.sqlite")], arch="x86_64", epoch=1, release="25.el9_3",
                source_name="openssl", source_version="1:3.0.7-25.el9_3", package_manager="OS",
                vendor="AlmaLinux", licenses=("ASL 2.0",)),
        Package("musl", "1.2.4_git20230717-r4", "apk", "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64",
                "apk", [Location("lib/apk/db/installed")], arch="x86_64", source_name="musl",
                source_version="1.2.4_git20230717-r4", package_manager="OS", licenses=("MIT",)),
    ]


def empty() -> Inventory:
    return Inventory(source=SourceInfo(kind="dir", target="dir:empty"))


def hostile() -> Inventory:
    """Odd but possible content: unicode, control characters, duplicates, a malformed purl, odd licences."""
    same = Package("dup", "1.0", "npm", "pkg:npm/dup@1.0", "npm-lock", [Location("a/package-lock.json")])
    twin = Package("dup", "1.0", "npm", "pkg:npm/dup@1.0", "npm-lock", [Location("a/package-lock.json")])
    return Inventory(
        source=SourceInfo(kind="dir", target="dir:/weird path/ünïcødé"),
        os=OSInfo(id="wolfi", supported=False),
        packages=[
            same, twin,
            Package("naïve-ünïcødé", "1.0.0+💥", "pypi", "pkg:pypi/na%C3%AFve-%C3%BCn%C3%AFc%C3%B8d%C3%A9@1.0.0",
                    "python-installed", [Location("x/\u202eevil\nname.dist-info/METADATA")],
                    licenses=("GPL-2+ with exceptions", "public domain", "MIT"),
                    metadata={"tags": {"b", "a"}, "raw": b"\xff\x00", "nested": {"t": (1, 2)}}),
            Package("broken", "1", "generic", "not a purl at all", "manual"),
        ],
        issues=[CatalogIssue("npm-lock", "a/package-lock.json", "line\nbreak \x1b[31m in message", 17, "note")],
    )


def huge(n: int = 2000) -> Inventory:
    packages = [Package(f"pkg{i}", f"1.{i}-1", "deb", f"pkg:deb/debian/pkg{i}@1.{i}-1?arch=amd64", "dpkg",
                        [Location("var/lib/dpkg/status")], arch="amd64", source_name=f"src{i // 10}",
                        package_manager="OS")
                for i in range(n)]
    return Inventory(source=SourceInfo(kind="dir", target="dir:big"), os=OSInfo(id="debian", version_id="12"),
                     packages=packages)


@pytest.fixture
def normal_inventory() -> Inventory:
    inv = normal()
    inv.packages += rpm_alpine()
    return inv


@pytest.fixture
def empty_inventory() -> Inventory:
    return empty()


@pytest.fixture
def hostile_inventory() -> Inventory:
    return hostile()


@pytest.fixture(scope="session")
def huge_inventory() -> Inventory:
    return huge()


@pytest.fixture(params=["normal", "empty", "hostile"])
def any_inventory(request: pytest.FixtureRequest) -> Inventory:
    inv: Inventory = request.getfixturevalue(f"{request.param}_inventory")
    return inv
