"""Go module identity shared by the Go catalogers: PURLs and the toolchain version as the ``stdlib`` module.

The Go vulnerability database (OSV ecosystem "Go") gives the standard library as module ``stdlib`` with SEMVER
ranges, and converts toolchain tags the way ``GoTagToSemver`` does: ``go1.21`` → ``1.21.0``, ``go1.21rc2`` →
``1.21.0-rc.2``. Packages here carry Go's own ``v`` prefix (``v1.21.0``, as modules do and as Trivy writes the
stdlib); the version scheme strips it before comparing with OSV events.
"""

from __future__ import annotations

import re

from vulnhound.inventory.model import GOLANG
from vulnhound.inventory.purl import make_purl

# Module path charset (golang.org/x/mod/module.CheckPath, loosened to any case); "." and ".." elements refused.
_PATH = re.compile(r"^[A-Za-z0-9._~+-]+(/[A-Za-z0-9._~+-]+)*$")
_GO_TAG = re.compile(r"^go(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:(rc|beta)(\d+))?$")


def valid_module_path(path: str) -> bool:
    """A path that can name a module (and make a PURL): no empty, "." or ".." elements, no odd characters."""
    return bool(_PATH.match(path)) and not any(e in (".", "..") for e in path.split("/"))


def go_purl(module_path: str, version: str | None) -> str:
    """``pkg:golang/github.com/foo/bar@v1.2.3`` (namespace = all path elements but the last)."""
    namespace, _, name = module_path.rpartition("/")
    return make_purl(GOLANG, name, version or None, namespace or None)


def go_tag_to_semver(tag: str) -> str | None:
    """``go1.22.3`` → ``v1.22.3``; experiments after a space (``go1.22.3 X:boringcrypto``) are ignored;
    None for development toolchains (``devel go1.23-abc``) that have no release version."""
    m = _GO_TAG.match(tag.split(" ", 1)[0])
    if m is None:
        return None
    major, minor, patch, pre, pre_n = m.groups()
    out = f"v{major}.{minor or 0}.{patch or 0}"
    return f"{out}-{pre}.{pre_n}" if pre else out
