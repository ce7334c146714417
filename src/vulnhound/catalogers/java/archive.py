"""Java archives (.jar/.war/.ear/.jpi/.hpi) and the archives nested in them (``WEB-INF/lib``, ``BOOT-INF/lib``,
ear modules), read as zips without extracting anything.

Naming: ``Package.name`` is ``groupId:artifactId`` as OSV's Maven ecosystem spells it, PURL
``pkg:maven/<groupId>/<artifactId>@<version>``. Every ``META-INF/maven/**/pom.properties`` is a package (shaded
jars carry several). Without one the package is named by the file name (Maven writes
``<artifactId>-<version>.jar``), else by ``MANIFEST.MF`` (Implementation-Title, Bundle-SymbolicName); the version
comes from Implementation-Version, Bundle-Version, else the file name; the group is
``Implementation-Vendor-Id`` when present, otherwise unknown and the name is the bare artifact. A nested archive
is located at the outer file; ``metadata["virtual_path"]`` says ``outer.war:WEB-INF/lib/inner.jar``.
Bounds: nesting depth, per-entry size and compression ratio (zip bombs are refused), total bytes inflated.
"""

from __future__ import annotations

import functools
import io
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult, WantHints
from vulnhound.catalogers.java.metadata import name_version_from_filename, parse_manifest, parse_properties
from vulnhound.catalogers.lockfile import is_symlink, lang_package
from vulnhound.inventory.model import MAVEN, CatalogIssue, Package
from vulnhound.inventory.purl import make_purl
from vulnhound.sources.interface import FileView

if TYPE_CHECKING:
    import zipfile

NAME = "java-archive"
SUFFIXES = (".jar", ".war", ".ear", ".jpi", ".hpi")
MAX_DEPTH = 4
MAX_META_SIZE = 1 << 20  # a manifest or pom.properties; real ones are a few KB
MAX_NESTED_SIZE = 256 << 20
MAX_RATIO = 100  # deflate rarely beats 10:1 on jars; 1000:1 is a bomb


@functools.cache
def _zip_errors() -> tuple[type[Exception], ...]:
    # zipfile (with pathlib) is imported on first use: it is ~4 ms of every scan's start-up, and most have no jar.
    import zipfile

    return (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError,
            OSError, ValueError, KeyError)


def _refused_or_zip_errors() -> tuple[type[Exception], ...]:
    return (_Refused, *_zip_errors())


_COORD = re.compile(r"^[A-Za-z0-9_.-]+$")  # Maven's id charset; others would make misleading PURLs


class _Refused(Exception):
    """An entry not read by policy (too big, too compressed, over budget)."""


@dataclass(slots=True)
class _Walk:
    path: str  # the view path of the outermost archive
    budget: int  # bytes still allowed to inflate for this archive
    result: CatalogResult
    seen: set[tuple[str, str, str]]


class JavaArchiveCataloger(Cataloger):
    name = NAME
    hints = WantHints(extensions=frozenset(SUFFIXES))

    def wants(self, path: str) -> bool:
        return path.lower().endswith(SUFFIXES)

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        import zipfile

        result = CatalogResult()
        for path in paths:
            if is_symlink(view, path):
                continue
            walk = _Walk(path, ctx.max_file_size, result, set())
            try:
                with view.open(path) as fh:
                    src: BinaryIO = fh if fh.seekable() else io.BytesIO(fh.read(ctx.max_file_size))
                    with zipfile.ZipFile(src) as zf:
                        _archive(zf, path.rsplit("/", 1)[-1], path, 0, walk)
            except _zip_errors() as exc:
                result.issues.append(CatalogIssue(NAME, path, f"not a readable zip archive: {exc}"))
        return result


def _archive(zf: zipfile.ZipFile, filename: str, virtual: str, depth: int, walk: _Walk) -> None:
    import zipfile

    infos = zf.infolist()
    poms = [i for i in infos if i.filename.startswith("META-INF/maven/") and i.filename.endswith("/pom.properties")]
    found = False
    for info in poms:
        try:
            props = parse_properties(_read(zf, info, MAX_META_SIZE, walk).decode("utf-8", errors="replace"))
        except _refused_or_zip_errors() as exc:
            walk.result.issues.append(CatalogIssue(NAME, walk.path, f"{virtual}:{info.filename}: {exc}"))
            continue
        group, artifact, version = props.get("groupId"), props.get("artifactId"), props.get("version")
        if not (group and artifact and version and _COORD.match(group) and _COORD.match(artifact)):
            walk.result.issues.append(CatalogIssue(
                NAME, walk.path, f"{virtual}:{info.filename}: groupId, artifactId or version missing or invalid"))
            continue
        found = True
        _add(walk, group, artifact, version, virtual, pom_properties=info.filename)
    if not found:
        _from_manifest(zf, filename, virtual, walk)
    for info in infos:
        if not info.filename.lower().endswith(SUFFIXES) or info.is_dir():
            continue
        inner = f"{virtual}:{info.filename}"
        if depth + 1 > MAX_DEPTH:
            walk.result.issues.append(CatalogIssue(NAME, walk.path, f"{inner}: nested deeper than {MAX_DEPTH}",
                                                   severity="note"))
            continue
        try:
            data = _read(zf, info, MAX_NESTED_SIZE, walk)
            with zipfile.ZipFile(io.BytesIO(data)) as nested:
                _archive(nested, info.filename, inner, depth + 1, walk)
        except _Refused as exc:
            walk.result.issues.append(CatalogIssue(NAME, walk.path, f"{inner}: refused: {exc}", severity="note"))
        except _zip_errors() as exc:
            walk.result.issues.append(CatalogIssue(NAME, walk.path, f"{inner}: not a readable zip archive: {exc}"))


def _from_manifest(zf: zipfile.ZipFile, filename: str, virtual: str, walk: _Walk) -> None:
    attrs: dict[str, str] = {}
    try:
        info = zf.getinfo("META-INF/MANIFEST.MF")
        attrs = parse_manifest(_read(zf, info, MAX_META_SIZE, walk).decode("utf-8", errors="replace"))
    except KeyError:
        pass
    except _refused_or_zip_errors() as exc:
        walk.result.issues.append(CatalogIssue(NAME, walk.path, f"{virtual}:META-INF/MANIFEST.MF: {exc}"))
    file_name, file_version = name_version_from_filename(filename)
    symbolic = attrs.get("Bundle-SymbolicName", "").split(";", 1)[0].strip()
    # The file name is usually "<artifactId>[-<version>]"; titles are prose ("Apache Commons CLI") and symbolic
    # names are OSGi ids ("com.google.inject.assistedinject"), both further from the Maven artifactId.
    artifact = file_name or attrs.get("Implementation-Title") or symbolic
    version = attrs.get("Implementation-Version") or attrs.get("Bundle-Version") or file_version
    if not artifact or not version:
        walk.result.issues.append(CatalogIssue(NAME, walk.path, f"{virtual}: no pom.properties and no version in "
                                               "MANIFEST.MF or file name", severity="note"))
        return
    _add(walk, attrs.get("Implementation-Vendor-Id"), artifact, version, virtual, from_manifest=True,
         bundle_symbolic_name=symbolic or None, implementation_title=attrs.get("Implementation-Title"))


def _add(walk: _Walk, group: str | None, artifact: str, version: str, virtual: str, **metadata: Any) -> None:
    name = f"{group}:{artifact}" if group else artifact
    key = (name, version, virtual)
    if key in walk.seen:
        return
    walk.seen.add(key)
    pkg: Package = lang_package(name, version, MAVEN, make_purl(MAVEN, artifact, version, group), NAME, walk.path,
                                "JAR", virtual_path=virtual if virtual != walk.path else None, **metadata)
    walk.result.packages.append(pkg)


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, walk: _Walk) -> bytes:
    """An entry's bytes within the size, ratio and budget bounds; the declared size is not trusted."""
    if info.file_size > limit:
        raise _Refused(f"{info.file_size} bytes is over the {limit} byte limit")
    if info.file_size > (1 << 20) and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise _Refused(f"compression ratio over {MAX_RATIO}:1 (zip bomb?)")
    cap = min(limit, walk.budget)
    with zf.open(info) as fh:
        data = fh.read(cap + 1)
    if len(data) > cap:
        raise _Refused(f"inflates past {cap} bytes")
    walk.budget -= len(data)
    return data
