"""Python catalogers over real files: one folder per case under cases/, expected output checked in."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from casekit import check_expected, scan_case

from vulnhound.catalogers import registry
from vulnhound.catalogers.python import (
    PipfileLockCataloger,
    PoetryLockCataloger,
    PylockCataloger,
    PythonInstalledCataloger,
    RequirementsCataloger,
    UvLockCataloger,
)
from vulnhound.catalogers.python.requirements import logical_lines

CASES = Path(__file__).parent / "cases"

ALL = [PythonInstalledCataloger(), RequirementsCataloger(), PoetryLockCataloger(), PipfileLockCataloger(),
       UvLockCataloger(), PylockCataloger()]


def materialize(case: Path, tmp_path: Path) -> Path:
    """Copy the case input, renaming *.egg-info.d folders (stored so because .gitignore hides *.egg-info/)."""
    root = tmp_path / "input"
    shutil.copytree(case / "input", root)
    for d in sorted(root.rglob("*.egg-info.d"), reverse=True):
        d.rename(d.with_name(d.name[: -len(".d")]))
    return root


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if (p / "input").is_dir()))
def test_case(case: str, tmp_path: Path) -> None:
    check_expected(CASES / case, scan_case(materialize(CASES / case, tmp_path), ALL))


def test_installed_normalizes_names_and_versions(tmp_path: Path) -> None:
    got = scan_case(materialize(CASES / "installed", tmp_path), [PythonInstalledCataloger()])
    by_name = {p[0]: p for p in got["packages"]}
    assert by_name["django"][6] == "pkg:pypi/django@3.2"
    assert by_name["legacy-pkg"][1] == "1.0rc1"  # PEP 440 normal form, as pip reports it
    assert by_name["python-apt"][4].endswith("python_apt-2.0.0.egg-info")
    assert by_name["pyyaml"][7] == ["MIT"]
    assert all(p[5] == "PYTHONPKG" for p in got["packages"])


def test_requirements_counts_every_skipped_line(tmp_path: Path) -> None:
    got = scan_case(CASES / "requirements" / "input", [RequirementsCataloger()])
    top = [p for p in got["packages"] if p[4] == "requirements.txt"]
    assert sorted((p[0], p[1]) for p in top) == [
        ("django", "3.2"), ("jinja2", "2.10"), ("pyyaml", "5.3"), ("requests", "2.20.0"), ("urllib3", "1.24.1")]
    skipped_top = [i for i in got["issues"] if i[1] == "requirements.txt"]
    # --index-url, flask>=, itsdangerous, click~=, werkzeug==0.15.*, -e, URL, garbage
    assert len(skipped_top) == 8 and all(i[2] == "note" for i in skipped_top)
    # deploy/base.txt is included by both files but read once, so six is reported once.
    assert sorted(p[4] for p in got["packages"] if p[0] == "six") == ["deploy/base.txt"]


def test_logical_lines_join_continuations() -> None:
    text = "a==1 \\\n  --hash=sha256:x\n# c\nb==2  # trailing\n\\\n"
    assert list(logical_lines(text)) == [(1, "a==1 --hash=sha256:x"), (4, "b==2")]


def test_huge_file_is_skipped_with_a_note() -> None:
    got = scan_case(CASES / "requirements" / "input", [RequirementsCataloger()], max_file_size=64)
    assert got["packages"] == []
    assert {i[2] for i in got["issues"]} == {"note"}


def test_dev_flags_from_locks() -> None:
    got = scan_case(CASES / "poetry-2.1" / "input", [PoetryLockCataloger()])
    dev = {p[0] for p in got["packages"] if p[2]}
    assert "pytest" in dev and "requests" not in dev
    got = scan_case(CASES / "uv" / "input", [UvLockCataloger()])
    assert {p[0] for p in got["packages"] if p[2]} == dev  # same project, uv agrees with poetry
    assert "demo" not in {p[0] for p in got["packages"]}  # the project itself is not a dependency


def test_registered() -> None:
    names = {type(c).__name__ for c in registry.load() if type(c).__module__.startswith("vulnhound.catalogers.py")}
    assert names == {type(c).__name__ for c in ALL}
