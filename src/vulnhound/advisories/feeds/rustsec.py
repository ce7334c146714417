"""RustSec advisory database, native format: ``crates/<crate>/RUSTSEC-*.md`` (TOML front block + Markdown).

``[versions] patched/unaffected`` are Cargo requirements; ranges are their complement, converted exactly as
rustsec's own OSV export does (unbounded start → ``0.0.0-0``, inclusive bounds → next semver pre-release).
Advisories for the Rust toolchain (``rust/{std,cargo,rustdoc}``) get ecosystem ``Rust`` — not crates.io.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vulnhound.advisories.feeds.common import TarballFeed, feed_purl, parse_when, score, snapshot_root
from vulnhound.advisories.feeds.requirements import (
    SEMVER,
    RequirementError,
    cargo_requirement,
    complement,
    to_events,
)
from vulnhound.advisories.model import (
    Advisory,
    Affected,
    Event,
    ParsedItem,
    Range,
    RangeType,
    Reference,
    Reject,
    Severity,
)

NAME = "rustsec"
TOOLCHAIN_ECOSYSTEM = "Rust"  # std/cargo/rustdoc ship with the toolchain, not through crates.io
_FRONT = re.compile(r"\A\s*```toml\s*\n(?P<toml>.*?)\n```\s*\n?(?P<body>.*)\Z", re.S)


def ranges_for(patched: list[str], unaffected: list[str]) -> tuple[Event, ...]:
    """SEMVER events for the versions neither patched nor unaffected (rustsec OSV export semantics)."""
    safe = [cargo_requirement(r) for r in [*unaffected, *patched]]
    # No merging of abutting ranges: byte-for-byte the events rustsec's OSV export publishes.
    affected = complement(safe, SEMVER, merge_touching=False)
    return to_events(affected, SEMVER, zero="0.0.0-0", inclusive_end="successor")


def parse_markdown(text: str, location: str) -> list[ParsedItem]:
    """One advisory file → [Advisory, any Reject for a dropped rating], or [Reject] with the reason."""
    m = _FRONT.match(text)
    if not m:
        return [Reject(NAME, location, "no ```toml front block")]
    try:
        doc = tomllib.loads(m.group("toml"))
    except tomllib.TOMLDecodeError as exc:
        return [Reject(NAME, location, f"malformed TOML: {exc}")]
    adv: dict[str, Any] = doc.get("advisory") or {}
    versions: dict[str, Any] = doc.get("versions") or {}
    if not isinstance(adv.get("id"), str) or not isinstance(adv.get("package"), str):
        return [Reject(NAME, location, "missing advisory.id or advisory.package")]
    try:
        events = ranges_for(list(versions.get("patched") or []), list(versions.get("unaffected") or []))
    except RequirementError as exc:
        return [Reject(NAME, f"{location}#{adv['id']}", f"invalid version requirement: {exc}")]
    title, details = _title_and_details(m.group("body"))
    package: str = adv["package"]
    toolchain = "/rust/" in f"/{location}" and "/crates/" not in f"/{location}"
    ecosystem = TOOLCHAIN_ECOSYSTEM if toolchain else "crates.io"
    purl = feed_purl("generic", f"rust-{package}") if toolchain else feed_purl("cargo", package)
    severities: list[Severity] = []
    out: list[ParsedItem] = []
    if isinstance(adv.get("cvss"), str):
        scored = score(adv["cvss"], NAME, NAME, f"{location}#{adv['id']}")
        if isinstance(scored, Reject):
            out.append(scored)
        else:
            severities.append(scored)
    affected_tbl: dict[str, Any] = doc.get("affected") or {}
    affects = {
        "functions": sorted((affected_tbl.get("functions") or {}).keys()),
        "os": list(affected_tbl.get("os") or []),
        "arch": list(affected_tbl.get("arch") or []),
    }
    refs = [Reference(f"https://crates.io/crates/{package}", "PACKAGE")] if not toolchain else []
    refs.append(Reference(f"https://rustsec.org/advisories/{adv['id']}.html", "ADVISORY"))
    if isinstance(adv.get("url"), str):
        refs.append(Reference(adv["url"], "WEB"))
    refs.extend(Reference(u, "WEB") for u in adv.get("references") or [] if isinstance(u, str))
    affected = Affected(
        ecosystem=ecosystem,
        name=package,
        purl=purl,
        ranges=(Range(RangeType.SEMVER, events),),
        severities=tuple(severities),
        ecosystem_specific={"affects": affects},
        database_specific={
            "categories": list(adv.get("categories") or []),
            "informational": adv.get("informational"),
            "cvss": adv.get("cvss"),
        },
    )
    advisory = Advisory(
        id=adv["id"],
        source=NAME,
        aliases=tuple(adv.get("aliases") or ()),
        related=tuple(adv.get("related") or ()),
        summary=title,
        details=details,
        published=parse_when(adv.get("date")),
        withdrawn=parse_when(adv.get("withdrawn")),
        references=tuple(refs),
        severities=tuple(severities),
        affected=[affected],
        database_specific={
            "license": adv.get("license", "CC0-1.0"),
            "keywords": list(adv.get("keywords") or []),
            "informational": adv.get("informational"),
        },
    )
    return [advisory, *out]


def _title_and_details(body: str) -> tuple[str | None, str | None]:
    lines = body.strip().splitlines()
    if lines and lines[0].startswith("#"):
        return lines[0].lstrip("#").strip() or None, "\n".join(lines[1:]).strip() or None
    return None, body.strip() or None


class RustSecFeed(TarballFeed):
    """github.com/rustsec/advisory-db (main branch tarball) or a checkout/mirror of it."""

    name = NAME
    url = "https://github.com/rustsec/advisory-db/archive/refs/heads/main.tar.gz"

    def parse(self, snapshot: Path) -> Iterator[ParsedItem]:
        root = snapshot / "main" if (snapshot / "main" / "crates").is_dir() else snapshot_root(snapshot, "crates")
        files = sorted((root / "crates").glob("*/*.md")) + sorted((root / "rust").glob("*/*.md"))
        for path in files:
            location = path.relative_to(root).as_posix()
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                yield Reject(NAME, location, f"unreadable: {exc}")
                continue
            yield from parse_markdown(text, location)

    @classmethod
    def detect(cls, path: Path) -> bool:
        if not path.is_dir():
            return False
        # The checkout itself, or a directory holding it as its "main" branch beside the "osv" export branch (the
        # layout of a rustsec mirror); never a generic look one level down, which would claim a corpus root whole.
        return any(next((p / "crates").glob("*/RUSTSEC-*.md"), None) is not None for p in (path, path / "main"))
