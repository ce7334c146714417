"""Ruby gems: ``Gemfile.lock`` (Bundler; every GEM/GIT/PATH spec, platform suffix split off) and installed
``specifications/*.gemspec`` files (RubyGems; name and version read with regexes, the Ruby is never run)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult, WantHints
from vulnhound.catalogers.lockfile import lang_package, read_limited
from vulnhound.inventory.model import GEM, CatalogIssue, Package
from vulnhound.inventory.purl import make_purl
from vulnhound.sources.interface import FileView

LOCK_NAME = "ruby-gemfile-lock"
SPEC_NAME = "ruby-gemspec"
# Bundler's own lockfile pattern: a version never holds "-", so the first "-" starts the platform. Gem names are
# RubyGems' charset; anything else is refused rather than turned into a misleading PURL.
_SPEC_LINE = re.compile(r"^    (?! )(?P<name>[A-Za-z0-9._-]+) \((?P<version>[^-)\s]+)(?:-(?P<platform>[^)]+))?\)\s*$")
_GEM_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
_STR = r"""["']([^"']+)["'](?:\.freeze)?"""
_GEMSPEC_NAME = re.compile(r"^\s*\w+\.name\s*=\s*" + _STR, re.MULTILINE)
_GEMSPEC_VERSION = re.compile(r"^\s*\w+\.version\s*=\s*(?:Gem::Version\.new\(\s*)?" + _STR, re.MULTILINE)
_GEMSPEC_LICENSES = re.compile(r"^\s*\w+\.licen[cs]es?\s*=\s*\[?([^\n\]]*)", re.MULTILINE)


def gem_purl(name: str, version: str, platform: str | None = None) -> str:
    return make_purl(GEM, name, version, qualifiers={"platform": platform if platform != "ruby" else None})


class GemfileLockCataloger(Cataloger):
    name = LOCK_NAME
    hints = WantHints(basenames=frozenset({"Gemfile.lock", "gems.locked"}))

    def wants(self, path: str) -> bool:
        return path.endswith(("Gemfile.lock", "gems.locked")) and path.rsplit("/", 1)[-1] in ("Gemfile.lock",
                                                                                               "gems.locked")

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        result = CatalogResult()
        for path in paths:
            data = read_limited(view, path, ctx, LOCK_NAME, result)
            if data is not None:
                result.packages.extend(parse_gemfile_lock(data.decode("utf-8", errors="replace"), path, result))
        return result


def parse_gemfile_lock(text: str, path: str, result: CatalogResult) -> list[Package]:
    out: list[Package] = []
    section: str | None = None
    in_specs = False
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if not line.startswith(" "):
            section, in_specs = line.strip(), False
            continue
        if section not in ("GEM", "GIT", "PATH"):
            continue
        if line == "  specs:":
            in_specs = True
            continue
        if not in_specs or line.startswith("      "):
            continue  # remote:/revision: lines and dependency lines of a spec
        m = _SPEC_LINE.match(line)
        if m is None:
            result.issues.append(CatalogIssue(LOCK_NAME, path, f"unparsable spec line: {line.strip()[:80]!r}", n))
            continue
        name, version, platform = m.group("name"), m.group("version"), m.group("platform")
        out.append(lang_package(name, version, GEM, gem_purl(name, version, platform), LOCK_NAME, path, "BUNDLER",
                                platform=platform, source=section))
    return out


class GemspecCataloger(Cataloger):
    name = SPEC_NAME
    hints = WantHints(extensions=frozenset({".gemspec"}))

    def wants(self, path: str) -> bool:
        return path.endswith(".gemspec") and "specifications/" in path

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        result = CatalogResult()
        for path in paths:
            data = read_limited(view, path, ctx, SPEC_NAME, result, limit=min(ctx.max_file_size, 4 << 20))
            if data is None:
                continue
            text = data.decode("utf-8", errors="replace")
            name, version = _GEMSPEC_NAME.search(text), _GEMSPEC_VERSION.search(text)
            if name is None or version is None:
                result.issues.append(CatalogIssue(SPEC_NAME, path, "no name or version assignment found"))
                continue
            if not _GEM_NAME.match(name.group(1)):
                result.issues.append(CatalogIssue(SPEC_NAME, path, f"invalid gem name {name.group(1)[:80]!r}"))
                continue
            lic = _GEMSPEC_LICENSES.search(text)
            licenses = tuple(re.findall(_STR, lic.group(1))) if lic else ()
            pkg = lang_package(name.group(1), version.group(1), GEM, gem_purl(name.group(1), version.group(1)),
                               SPEC_NAME, path, "GEMSPEC")
            pkg.licenses = licenses
            result.packages.append(pkg)
        return result
