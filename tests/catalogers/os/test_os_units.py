"""Unit tests: PURL helpers, OS identification rules, the dpkg stanza splitter on big input, registry wiring."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packageurl import PackageURL

from vulnhound.catalogers import registry
from vulnhound.catalogers.apk import ApkCataloger
from vulnhound.catalogers.dpkg import DpkgCataloger, iter_stanzas
from vulnhound.catalogers.interface import CatalogContext
from vulnhound.catalogers.os_release import _parse_debian_version, identify_os
from vulnhound.inventory.build import build_inventory
from vulnhound.inventory.model import OSInfo
from vulnhound.inventory.purl import apk_purl, deb_purl, distro_qualifier, make_purl, os_purl, rpm_purl
from vulnhound.sources.interface import BytesView
from vulnhound.sources.resolve import open_source

CASES = Path(__file__).parent / "cases"
DEB12 = OSInfo(id="debian", version_id="12", version_codename="bookworm")


@pytest.mark.parametrize(("purl", "expected"), [
    (make_purl("pypi", "requests", "2.31.0"), "pkg:pypi/requests@2.31.0"),
    (make_purl("npm", "node", "20.1.0", namespace="@types"), "pkg:npm/%40types/node@20.1.0"),
    (make_purl("maven", "log4j-core", "2.14.1", "org.apache.logging.log4j"),
     "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"),
    (make_purl("golang", "net", "v0.1.0", "golang.org/x"), "pkg:golang/golang.org/x/net@v0.1.0"),
    (make_purl("generic", "thing", None, qualifiers={"b": "2", "a": "1", "c": None}), "pkg:generic/thing?a=1&b=2"),
    (deb_purl(DEB12, "libssl3", "3.0.11-1~deb12u2", "amd64", "openssl"),
     "pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl"),
    (deb_purl(DEB12, "openssl", "3.0.11-1~deb12u2", "amd64", "openssl"),
     "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"),
    (deb_purl(DEB12, "bash", "5.2.15-2+b2", "amd64", "bash", "5.2.15-2"),
     "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2"),
    (deb_purl(None, "zlib1g", "1:1.2.13.dfsg-1", "amd64"), "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64"),
    (rpm_purl(OSInfo(id="rhel", version_id="9.4"), "openssl", "3.0.7", "27.el9", 1, "x86_64"),
     "pkg:rpm/rhel/openssl@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1"),
    (rpm_purl(OSInfo(id="rhel", version_id="9.4"), "openssl-libs", "3.0.7", "27.el9", 1, "x86_64",
              "openssl-3.0.7-27.el9.src.rpm"),
     "pkg:rpm/rhel/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1"
     "&upstream=openssl-3.0.7-27.el9.src.rpm"),
    (apk_purl(OSInfo(id="alpine", version_id="3.19.1"), "libcrypto3", "3.1.4-r5", "x86_64", "openssl"),
     "pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl"),
    (rpm_purl(None, "gpg-pubkey", "f7fbd505", "6b07bf5f", None, None), "pkg:rpm/gpg-pubkey@f7fbd505-6b07bf5f"),
    (rpm_purl(None, "x", "1", "1", 0, "noarch"), "pkg:rpm/x@1-1?arch=noarch&epoch=0"),
    (apk_purl(OSInfo(id="alpine", version_id="3.19.1"), "musl", "1.2.4-r2", "x86_64"),
     "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1"),
])
def test_purls(purl: str, expected: str) -> None:
    assert purl == expected


def test_distro_qualifier_for_sid() -> None:
    assert distro_qualifier(OSInfo(id="debian", version_codename="trixie")) == "debian-trixie"
    assert distro_qualifier(OSInfo(id="arch")) == "arch"
    assert distro_qualifier(None) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("12.5\n", ("12", "bookworm")), ("11.9", ("11", "bullseye")), ("10", ("10", "buster")),
    ("trixie/sid\n", (None, "trixie")), ("bookworm/sid", (None, "bookworm")), ("", (None, None)),
    ("\x00\x01garbage", (None, None)),
])
def test_debian_version_file(text: str, expected: tuple[str | None, str | None]) -> None:
    assert _parse_debian_version(text) == expected


@pytest.mark.parametrize(("files", "expected"), [
    ({"etc/redhat-release": b"Red Hat Enterprise Linux release 8.9 (Ootpa)\n"}, ("rhel", "8.9", True)),
    ({"etc/redhat-release": b"Rocky Linux release 9.3 (Blue Onyx)\n"}, ("rocky", "9.3", True)),
    ({"etc/redhat-release": b"AlmaLinux release 9.4 (Seafoam Ocelot)\n"}, ("almalinux", "9.4", True)),
    ({"etc/redhat-release": b"Fedora release 39 (Thirty Nine)\n"}, ("fedora", "39", False)),
    ({"etc/system-release": b"Amazon Linux release 2 (Karoo)\n"}, ("amzn", "2", False)),
    ({"etc/os-release": b'ID="sles"\nVERSION_ID="15.5"\n'}, ("sles", "15.5", False)),
    ({"etc/os-release": b"ID=mariner\nVERSION_ID=2.0\n"}, ("mariner", "2.0", False)),
    ({"etc/os-release": b"ID=Ubuntu\nVERSION_ID='24.04'\n"}, ("ubuntu", "24.04", True)),
    ({"etc/os-release": b"NAME=nothing\n", "etc/alpine-release": b"3.18.4\n"}, ("alpine", "3.18.4", True)),
    ({"etc/os-release": b"ID=debian\n", "etc/debian_version": b"12.7\n"}, ("debian", "12", True)),
])
def test_identify_os(files: dict[str, bytes], expected: tuple[str, str, bool]) -> None:
    info = identify_os(BytesView(files))
    assert info is not None
    assert (info.id, info.version_id, info.supported) == expected


def test_debian_minimal_os_release_gets_codename() -> None:
    info = identify_os(BytesView({"etc/os-release": b"ID=debian\nVERSION_ID=11\n"}))
    assert info is not None and info.version_codename == "bullseye"


def _status(n: int) -> bytes:
    stanza = ("Package: pkg{i}\nStatus: install ok installed\nPriority: optional\nInstalled-Size: 12\n"
              "Maintainer: Someone <a@example.org>\nArchitecture: amd64\nSource: src{i} (1.{i}-1)\n"
              "Version: 1.{i}-1+b1\nDepends: libc6 (>= 2.34)\nDescription: package {i}\n long text\n .\n more\n")
    return "\n".join(stanza.format(i=i) for i in range(n)).encode()


def test_dpkg_huge_status_file() -> None:
    n = 5000
    view = BytesView({"var/lib/dpkg/status": _status(n)})
    r = DpkgCataloger().catalog(view, ["var/lib/dpkg/status"], CatalogContext(os=DEB12))
    assert r.issues == []
    assert len(r.packages) == n
    last = r.packages[-1]
    assert (last.name, last.version, last.source_name, last.source_version) == (
        f"pkg{n - 1}", f"1.{n - 1}-1+b1", f"src{n - 1}", f"1.{n - 1}-1")


def test_stanza_line_numbers() -> None:
    text = "Package: a\nVersion: 1\n\n\n \t\nPackage: b\nbroken line\nVersion: 2\n"
    stanzas = list(iter_stanzas(text))
    assert [(s.fields["package"], s.line, s.bad_line) for s in stanzas] == [("a", 1, None), ("b", 6, 7)]


def test_dpkg_file_too_big_is_a_note() -> None:
    view = BytesView({"var/lib/dpkg/status": _status(10)})
    r = DpkgCataloger().catalog(view, ["var/lib/dpkg/status"], CatalogContext(max_file_size=100))
    assert r.packages == [] and r.issues[0].severity == "note"


def test_apk_without_file_lists() -> None:
    data = (CASES / "apk-normal/root/lib/apk/db/installed").read_bytes()
    r = ApkCataloger().catalog(BytesView({"lib/apk/db/installed": data}), ["lib/apk/db/installed"],
                               CatalogContext(include_files=False))
    assert len(r.packages) == 4 and r.owned_files == {} and all(p.files == () for p in r.packages)


def test_registry_lists_os_catalogers_first() -> None:
    assert registry.CATALOGERS[:3] == ("vulnhound.catalogers.dpkg:DpkgCataloger",
                                       "vulnhound.catalogers.rpm:RpmCataloger",
                                       "vulnhound.catalogers.apk:ApkCataloger")


def test_build_inventory_end_to_end() -> None:
    with open_source(f"dir:{CASES / 'dpkg-normal' / 'root'}") as src:
        inv = build_inventory(src)
    assert inv.os is not None and inv.os.id == "debian"
    debs = [p for p in inv.packages if p.type == "deb"]
    assert len(debs) == 9
    assert inv.stats["packages_by_cataloger"]["dpkg"] == 9


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)


@settings(max_examples=150, deadline=None)
@given(type=st.sampled_from(["deb", "rpm", "apk"]), name=_TEXT, version=_TEXT,
       arch=st.one_of(st.none(), _TEXT), os_id=st.one_of(st.none(), st.sampled_from(["debian", "Alpine", "r h"])),
       upstream=st.one_of(st.none(), _TEXT))
def test_os_purl_fast_path_equals_library(type: str, name: str, version: str, arch: str | None, os_id: str | None,
                                          upstream: str | None) -> None:
    os = OSInfo(id=os_id, version_id="1.2") if os_id else None
    ns = os_id or "ns"
    quals = {"arch": arch, "distro": distro_qualifier(os), "upstream": upstream}
    try:
        expected = make_purl(type, name, version, ns, quals)
    except ValueError:
        with pytest.raises(ValueError):
            os_purl(type, os, name, version, arch, "ns", upstream=upstream)
        return
    assert os_purl(type, os, name, version, arch, "ns", upstream=upstream) == expected


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2048) | st.text(alphabet="PVAoFRm:\n /.\r\x00abc-1", max_size=400).map(str.encode))
def test_text_databases_never_raise(data: bytes) -> None:
    dpkg = DpkgCataloger().catalog(BytesView({"var/lib/dpkg/status": data}), ["var/lib/dpkg/status"],
                                   CatalogContext())
    apk = ApkCataloger().catalog(BytesView({"lib/apk/db/installed": data}), ["lib/apk/db/installed"],
                                 CatalogContext())
    for r in (dpkg, apk):
        assert all(p.name and p.version and not p.name.startswith("/") for p in r.packages)
        assert all(not f.startswith("/") and ".." not in f.split("/") for p in r.packages for f in p.files)


def test_apk_reads_one_database_per_root() -> None:
    data = (CASES / "apk-normal/root/lib/apk/db/installed").read_bytes()
    view = BytesView({"usr/lib/apk/db/installed": data, "lib/apk/db/installed": b"P:x\nV:1-r0\n"})
    r = ApkCataloger().catalog(view, ["usr/lib/apk/db/installed", "lib/apk/db/installed"], CatalogContext())
    assert [p.name for p in r.packages] == ["x"]
    r = ApkCataloger().catalog(view, ["usr/lib/apk/db/installed"], CatalogContext())
    assert len(r.packages) == 4 and r.packages[0].locations[0].path == "usr/lib/apk/db/installed"


@pytest.mark.parametrize(("type", "name", "quals"), [("pypi", "", None), ("", "x", None), ("npm", "x", {"1bad": "v"})])
def test_make_purl_rejects_invalid(type: str, name: str, quals: dict[str, str] | None) -> None:
    with pytest.raises(ValueError):
        make_purl(type, name, "1.0", qualifiers=quals)


@settings(max_examples=200, deadline=None)
@given(type=st.sampled_from(["deb", "rpm", "apk", "pypi", "npm", "golang", "maven", "gem", "cargo", "nuget"]),
       name=_TEXT, version=st.one_of(st.none(), _TEXT), namespace=st.one_of(st.none(), _TEXT),
       arch=st.one_of(st.none(), _TEXT))
def test_make_purl_equals_packageurl(type: str, name: str, version: str | None, namespace: str | None,
                                     arch: str | None) -> None:
    quals = {"arch": arch} if arch and arch.strip() else None
    try:
        expected = PackageURL(type=type, namespace=namespace, name=name, version=version, qualifiers=quals).to_string()
    except (ValueError, TypeError):  # the library refuses (or trips over) some names: so must we
        with pytest.raises(ValueError):
            make_purl(type, name, version, namespace, quals)
        return
    assert make_purl(type, name, version, namespace, quals) == expected


def test_owned_files_first_package_wins() -> None:
    status = b"Package: a\nVersion: 1\n\nPackage: b\nVersion: 2\n"
    view = BytesView({"var/lib/dpkg/status": status, "var/lib/dpkg/info/a.list": b"/.\n/usr\n/usr/bin/a\n",
                      "var/lib/dpkg/info/b.list": b"/.\n/usr\n/usr/bin/b\n"})
    paths = ["var/lib/dpkg/info/a.list", "var/lib/dpkg/info/b.list", "var/lib/dpkg/status"]
    r = DpkgCataloger().catalog(view, paths, CatalogContext())
    assert r.owned_files == {"usr": "a", "usr/bin/a": "a", "usr/bin/b": "b"}
