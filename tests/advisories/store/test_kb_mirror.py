"""Mirror discovery over ../shared/vulndata as it is: which feed reads which directory, what is skipped."""

from __future__ import annotations

from pathlib import Path

from vulnhound.advisories.mirror import REFERENCE_DIRS, discover


def test_shared_corpus_layout(vulndata: Path) -> None:
    plan = discover(vulndata)
    found = {feed.name: path.relative_to(vulndata).as_posix() for feed, path in plan.entries}
    # OSV sources always; other feeds (KEV, distro trackers, native databases) add theirs when registered.
    assert {k: v for k, v in found.items() if k in {
        "pypa-advisory-database", "go-vulndb", "rustsec-osv", "almalinux-osv", "osv-dir:osv-fixture-harvest"}} == {
        "pypa-advisory-database": "pypa-advisory-database", "go-vulndb": "golang-vulndb",
        "rustsec-osv": "rustsec-advisory-db", "almalinux-osv": "almalinux-osv",
        "osv-dir:osv-fixture-harvest": "osv-fixture-harvest",
    }
    skipped = {p.name for p, why in plan.skipped if "reference" in why}
    assert skipped == set(REFERENCE_DIRS)
    assert not any(Path(p).parts[0] in REFERENCE_DIRS for p in found.values())


def test_empty_mirror(tmp_path: Path) -> None:
    plan = discover(tmp_path)
    assert plan.entries == [] and plan.skipped == []
