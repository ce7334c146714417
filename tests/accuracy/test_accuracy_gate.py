"""Accuracy gate: the whole matcher (Package → keys → index → ranges → finding) against labels from real records.

Positives are the versions records enumerate; negatives every other version the corpus knows for the package
(other records' enumerations and every fixed version). Precision and recall must be 100 % once documented data
errors are set aside: a "false positive" is accepted only when an independent check shows the record's OWN ranges
cover the version and only its enumeration leaves it out (see ACCURACY.md). The CI set is a deterministic sample;
the full corpora run with the slow set.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from accuracy_labels import (
    PACKAGE_TYPE,
    LabelSet,
    Score,
    build_labels,
    iter_labels,
    load_advisories,
    range_only_affected,
    score,
)

from vulnhound.advisories.model import Advisory
from vulnhound.matching.index import MemoryIndex

LANGUAGE = set(PACKAGE_TYPE)


def _sample(every: int) -> Callable[[str, str], bool]:
    # A stable hash of the package, so the CI sample is the same on every run and machine.
    return lambda eco, name: zlib.crc32(f"{eco}/{name}".encode()) % every == 0


def _gate(advisories: list[Advisory], labels: LabelSet, index: MemoryIndex, name: str) -> Score:
    explain = range_only_affected(advisories, index)
    result = score(labels, index, {})
    print("\n" + result.line(f"{name} (raw)"))
    unexplained = {lbl for lbl in result.false_positives if explain(lbl) is None}
    data_errors = result.false_positives - unexplained
    result = dataclasses.replace(result, fp=len(unexplained), tn=result.tn, false_positives=unexplained)
    print(result.line(f"{name} (data errors set aside: {len(data_errors)})"))
    for lbl in sorted(data_errors)[:10]:
        print("  data error:", explain(lbl))
    assert not unexplained, "\n".join(list(iter_labels(unexplained))[:20])
    assert not result.false_negatives, "\n".join(list(iter_labels(result.false_negatives))[:20])
    assert result.precision == 1.0 and result.recall == 1.0
    return result


@pytest.fixture(scope="module")
def pypa(vulndata: Path) -> tuple[Path, list[Path]]:
    root = vulndata / "pypa-advisory-database" / "vulns"
    return root, sorted(root.glob("*/*.yaml"))


def test_pypa_sample(pypa: tuple[Path, list[Path]]) -> None:
    root, files = pypa
    keep = _sample(10)
    from packaging.utils import canonicalize_name

    picked = [f for f in files if keep("PyPI", canonicalize_name(f.parent.name))]
    advisories = load_advisories(root, "pypa", picked)
    index = MemoryIndex(advisories)
    labels = build_labels(advisories, index, {"PyPI"}, keep)
    assert len(labels.positives) > 2000 and len(labels.negatives) > 1000
    _gate(advisories, labels, index, "PyPA sample (1/10 of packages)")


def test_harvest_sample(vulndata: Path) -> None:
    root = vulndata / "osv-fixture-harvest"
    advisories = load_advisories(root, "harvest")
    index = MemoryIndex(advisories)
    keep_maven = _sample(20)
    labels = build_labels(advisories, index, LANGUAGE, lambda eco, name: eco != "Maven" or keep_maven(eco, name))
    ecosystems = {e for _, e, _, _ in labels.positives}
    assert {"Maven", "PyPI", "RubyGems", "NuGet", "Packagist", "npm"} <= ecosystems
    _gate(advisories, labels, index, "OSV harvest sample (all but Maven; Maven 1/20)")


@pytest.mark.slow
def test_pypa_full(pypa: tuple[Path, list[Path]]) -> None:
    root, files = pypa
    advisories = load_advisories(root, "pypa", files)
    index = MemoryIndex(advisories)
    labels = build_labels(advisories, index, {"PyPI"})
    assert len(labels.positives) > 130_000
    _gate(advisories, labels, index, "PyPA full")


@pytest.mark.slow
def test_harvest_full(vulndata: Path) -> None:
    root = vulndata / "osv-fixture-harvest"
    advisories = load_advisories(root, "harvest")
    index = MemoryIndex(advisories)
    labels = build_labels(advisories, index, LANGUAGE)
    assert len(labels.positives) > 40_000
    _gate(advisories, labels, index, "OSV harvest full")
