"""rpm cataloger: installed packages from the rpm database (sqlite, NDB or BerkeleyDB), pure Python, no librpm.

One database per root, as rpm itself reads one: ``usr/lib/sysimage/rpm`` (Fedora ≥ 36, SUSE) before
``var/lib/rpm``, and in a directory ``rpmdb.sqlite`` before ``Packages.db`` before ``Packages`` (a migrated system
can keep the old file). Other databases found are named in a note.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult, WantHints
from vulnhound.catalogers.rpm import header as h
from vulnhound.catalogers.rpm.backends import Blob, read_bdb, read_ndb, read_sqlite
from vulnhound.inventory.model import RPM, CatalogIssue, Location, OSInfo, Package
from vulnhound.inventory.purl import rpm_purl
from vulnhound.sources.interface import FileView, ViewError, normalize

DB_DIRS = ("usr/lib/sysimage/rpm/", "var/lib/rpm/")
DB_FILES = ("rpmdb.sqlite", "Packages.db", "Packages")
DB_PATHS = tuple(d + f for d in DB_DIRS for f in DB_FILES)


class RpmCataloger(Cataloger):
    """Red Hat family, SUSE, Mariner, Amazon Linux packages from the rpm database."""

    name = "rpm"
    hints = WantHints(prefixes=DB_PATHS)

    def wants(self, path: str) -> bool:
        return path in DB_PATHS

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        result = CatalogResult()
        present = [p for p in DB_PATHS if p in paths]
        if not present:
            return result
        chosen, skipped = present[0], present[1:]
        for other in skipped:
            result.issues.append(CatalogIssue(self.name, other, f"not read: {chosen} is the database in use",
                                              severity="note"))
        self.catalog_db(view, chosen, ctx, result)
        return result

    def catalog_db(self, view: FileView, path: str, ctx: CatalogContext, result: CatalogResult) -> None:
        """Every package of one database file into ``result``."""
        tags = h.PACKAGE_TAGS | h.FILE_TAGS if ctx.include_files else h.PACKAGE_TAGS
        for blob in self._blobs(view, path, ctx):
            if blob.error is not None:
                result.issues.append(CatalogIssue(self.name, path, blob.error, offset=blob.offset))
                continue
            try:
                hdr = h.parse_header(blob.data, tags)
                pkg = self._package(hdr, path, ctx.os)
                files = [normalize(f) for f in hdr.files()] if ctx.include_files else []
            except h.HeaderError as exc:
                result.issues.append(CatalogIssue(self.name, path, f"bad header blob: {exc}", offset=blob.offset))
                continue
            if pkg is None:
                result.issues.append(CatalogIssue(self.name, path, "header without NAME or VERSION",
                                                  offset=blob.offset))
                continue
            if files:
                pkg.files = tuple(files)
                for f in files:
                    result.owned_files.setdefault(f, pkg.name)
            result.packages.append(pkg)

    def _blobs(self, view: FileView, path: str, ctx: CatalogContext) -> Iterator[Blob]:
        try:
            if path.endswith(".sqlite"):
                with view.local_path(path) as local:
                    yield from read_sqlite(local)
                return
            data = view.read_bytes(path, max_size=ctx.max_file_size)
        except (OSError, ViewError) as exc:
            yield Blob(0, error=f"cannot read: {exc}")
            return
        yield from (read_ndb(data) if path.endswith(".db") else read_bdb(data))

    def _package(self, hdr: h.Header, path: str, os: OSInfo | None) -> Package | None:
        name, version = hdr.string(h.NAME), hdr.string(h.VERSION)
        if not name or not version:
            return None
        release = hdr.string(h.RELEASE)
        epoch = hdr.integer(h.EPOCH)
        arch = hdr.string(h.ARCH)
        full = f"{version}-{release}" if release else version
        if epoch is not None:
            full = f"{epoch}:{full}"
        source_rpm = hdr.string(h.SOURCERPM)
        source_rpm = None if source_rpm == "(none)" else source_rpm  # what rpm --import writes for keys
        source_name, source_version = split_source_rpm(source_rpm) if source_rpm else (None, None)
        meta: dict[str, object] = {}
        if source_rpm:
            meta["sourcerpm"] = source_rpm
        if label := hdr.string(h.MODULARITYLABEL):
            meta["modularitylabel"] = label
        size = hdr.integer(h.LONGSIZE) or hdr.integer(h.SIZE)
        if size is not None:
            meta["size"] = size
        if name == "gpg-pubkey":
            meta["pseudo_package"] = True  # an imported signing key; rpm -qa lists it
        lic = hdr.string(h.LICENSE)
        return Package(
            name=name, version=full, type=RPM, purl=rpm_purl(os, name, version, release, epoch, arch, source_rpm),
            found_by=self.name, locations=[Location(path)], arch=arch, epoch=epoch, release=release,
            source_name=source_name, source_version=source_version, package_manager="OS",
            vendor=hdr.string(h.VENDOR), licenses=(lic,) if lic else (), metadata=meta,
        )


def split_source_rpm(filename: str) -> tuple[str | None, str | None]:
    """``openssl-3.0.7-27.el9.src.rpm`` → ("openssl", "3.0.7-27.el9"); (None, None) when it does not parse."""
    stem = filename
    for suffix in (".src.rpm", ".nosrc.rpm"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    else:
        return None, None
    parts = stem.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return None, None
    return parts[0], f"{parts[1]}-{parts[2]}"
