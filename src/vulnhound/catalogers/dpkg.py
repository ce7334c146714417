"""dpkg cataloger: ``var/lib/dpkg/status`` and distroless ``status.d/*``, with installed files from ``info/*.list``.

A package counts when its files are on disk: the dpkg state (third word of ``Status:``) is anything but
``not-installed`` or ``config-files`` — i.e. ``dpkg-query -W`` output minus the ``?n``/``?c`` rows. That keeps held
(``hi``), to-be-removed (``ri``), trigger-pending (``iW``/``it``) and half-done (``iU``/``iF``/``iH``) packages,
whose binaries are still there to be exploited, and drops removed packages whose config files linger (``rc``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult, WantHints
from vulnhound.catalogers.os_db import read_db_text
from vulnhound.inventory.model import DEB, CatalogIssue, Location, OSInfo, Package
from vulnhound.inventory.purl import deb_purl
from vulnhound.sources.interface import FileView, ViewError, normalize

STATUS = "var/lib/dpkg/status"
STATUS_D = "var/lib/dpkg/status.d/"
INFO = "var/lib/dpkg/info/"

NOT_ON_DISK = frozenset({"not-installed", "config-files"})
_FIELDS = frozenset({"package", "status", "version", "architecture", "source", "maintainer"})
# deb822 paragraphs are separated by lines that are empty or hold only spaces/tabs (and CR: CRLF files).
_SEPARATOR = re.compile(r"\n(?:[ \t\r]*\n)+")
# dpkg's own rule for package names (lib/dpkg/parsehelp.c pkg_name_is_illegal), a little looser on case.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+.\-]*$")
_VERSION = re.compile(r"^\S+$")
_SOURCE = re.compile(r"^(\S+)(?:\s*\((\S+)\))?\s*$")


@dataclass(slots=True)
class Stanza:
    """One paragraph's interesting fields, the line it starts on, and its first malformed line (if any)."""

    fields: dict[str, str]
    line: int
    bad_line: int | None = None


def iter_stanzas(text: str) -> Iterator[Stanza]:
    """Split a deb822 text into paragraphs, keeping only the fields the cataloger reads (fast path for 1000s)."""
    line = 1
    pos = 0
    for sep in _SEPARATOR.finditer(text):
        yield from _one(text[pos : sep.start()], line)
        line += text.count("\n", pos, sep.end())
        pos = sep.end()
    yield from _one(text[pos:], line)


def _one(chunk: str, line: int) -> Iterator[Stanza]:
    if not chunk.strip():
        return
    fields: dict[str, str] = {}
    bad: int | None = None
    for i, raw in enumerate(chunk.split("\n")):
        if not raw or raw[0] in " \t":
            continue  # continuation lines (Description, Conffiles) carry nothing we read
        key, sep, value = raw.partition(":")
        if not sep or not key or " " in key:
            if bad is None and raw.strip():
                bad = line + i
            continue
        key = key.lower()
        if key in _FIELDS:
            fields.setdefault(key, value.strip())  # dpkg rejects duplicates; the first one stands
    yield Stanza(fields, line, bad)


class DpkgCataloger(Cataloger):
    """Debian/Ubuntu packages from the dpkg database."""

    name = "dpkg"
    hints = WantHints(prefixes=(STATUS, STATUS_D, INFO))

    def wants(self, path: str) -> bool:
        if path == STATUS:
            return True
        if path.startswith(STATUS_D):
            return True
        return path.startswith(INFO) and path.endswith(".list")

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        result = CatalogResult()
        wanted = set(paths)
        for path in paths:
            if path == STATUS or (path.startswith(STATUS_D) and not path.endswith(".md5sums")):
                self._catalog_db(view, path, wanted, ctx, result)
        # the first package listing a path owns it (shared directories such as "usr/bin" included), as with rpm
        # and apk; filling in reverse with dict.update is that rule at C speed
        for pkg in reversed(result.packages):
            result.owned_files.update(dict.fromkeys(pkg.files, pkg.name))
        return result

    def _catalog_db(self, view: FileView, path: str, wanted: set[str], ctx: CatalogContext,
                    result: CatalogResult) -> None:
        text = read_db_text(view, path, ctx, self.name, result)
        if text is None:
            return
        if "\x00" in text:
            result.issues.append(CatalogIssue(self.name, path, "binary data (NUL bytes) in dpkg database",
                                              offset=text.count("\n", 0, text.index("\x00")) + 1))
        for st in iter_stanzas(text):
            pkg = self._package(st, path, ctx.os, result)
            if pkg is None:
                continue
            if ctx.include_files:
                self._files(view, pkg, path, wanted, ctx, result)
            result.packages.append(pkg)

    def _package(self, st: Stanza, path: str, os: OSInfo | None, result: CatalogResult) -> Package | None:
        f = st.fields
        name, version = f.get("package", ""), f.get("version", "")
        status = f.get("status", "install ok installed").split()
        # distroless status.d stanzas have no Status: every one of them is installed
        if len(status) == 3 and status[2] in NOT_ON_DISK:
            return None
        if not name or not version:
            missing = "Package" if not name else "Version"
            also = f" (malformed line {st.bad_line})" if st.bad_line is not None else ""
            result.issues.append(CatalogIssue(self.name, path, f"stanza without {missing} field{also}",
                                              offset=st.line))
            return None
        if st.bad_line is not None:
            result.issues.append(CatalogIssue(self.name, path, f"malformed line ignored in stanza {name!r}",
                                              offset=st.bad_line))
        if not _NAME.match(name) or not _VERSION.match(version):
            result.issues.append(CatalogIssue(self.name, path, f"invalid package name or version: {name!r} "
                                              f"{version!r}", offset=st.line))
            return None
        source_name, source_version = name, version
        purl_source: tuple[str | None, str | None] = (None, None)
        if src := f.get("source"):
            m = _SOURCE.match(src)
            if m:
                source_name, source_version = m.group(1), m.group(2) or version
                purl_source = (m.group(1), m.group(2))
        arch = f.get("architecture") or None
        epoch = None
        if ":" in version:
            head = version.split(":", 1)[0]
            epoch = int(head) if head.isdigit() else None
        upstream_rev = version.split(":", 1)[-1]
        release = upstream_rev.rsplit("-", 1)[1] if "-" in upstream_rev else None
        meta: dict[str, str] = {}
        if len(status) != 3 or status[2] != "installed":
            meta["dpkg_status"] = " ".join(status)
        return Package(
            name=name, version=version, type=DEB, purl=deb_purl(os, name, version, arch, *purl_source),
            found_by=self.name, locations=[Location(path)], arch=arch, epoch=epoch, release=release,
            source_name=source_name, source_version=source_version, package_manager="OS",
            maintainer=f.get("maintainer") or None, metadata=meta,
        )

    def _files(self, view: FileView, pkg: Package, db_path: str, wanted: set[str], ctx: CatalogContext,
               result: CatalogResult) -> None:
        if db_path.startswith(STATUS_D):
            # distroless ships "<pkg>.md5sums" (md5, two spaces, relative path) instead of info/*.list
            candidates = [f"{db_path}.md5sums", f"{STATUS_D}{pkg.name}.md5sums"]
        else:
            candidates = [f"{INFO}{pkg.name}:{pkg.arch}.list", f"{INFO}{pkg.name}.list"]
        for cand in candidates:
            if cand not in wanted:
                continue
            try:
                text = view.read_bytes(cand, max_size=ctx.max_file_size).decode("utf-8", errors="replace")
            except (OSError, ViewError) as exc:
                result.issues.append(CatalogIssue(self.name, cand, f"cannot read: {exc}", severity="note"))
                return
            files = _md5sums_paths(text) if cand.endswith(".md5sums") else _list_paths(text)
            pkg.files = tuple(files)
            return


def _list_paths(text: str) -> list[str]:
    lines = [line for line in text.split("\n") if line and line != "/."]
    return _clean(lines)


def _md5sums_paths(text: str) -> list[str]:
    return _clean([rest for _, sep, rest in (line.partition("  ") for line in text.split("\n")) if sep and rest])


def _clean(paths: list[str]) -> list[str]:
    """Root-relative paths without a leading slash. dpkg writes clean absolute paths, so a cheap per-entry test
    picks the fast path; anything odd ("//", "." or ".." components, a trailing "/") is normalized carefully."""
    out: list[str] = []
    for p in paths:
        if p[0] == "/" and "/." not in p and "//" not in p and p[-1] != "/":
            out.append(p[1:])
        elif n := normalize(p):
            out.append(n)
    return out
