"""npm catalogers over real lock files and node_modules trees: one folder per case, expected output checked in."""

from __future__ import annotations

from pathlib import Path

import pytest
from casekit import check_expected, scan_case

from vulnhound.catalogers import registry
from vulnhound.catalogers.npm import NodeModulesCataloger, PackageLockCataloger, PnpmLockCataloger, YarnLockCataloger
from vulnhound.catalogers.npm.installed import wants_manifest
from vulnhound.catalogers.npm.pnpm_lock import parse_key
from vulnhound.catalogers.npm.yarn_lock import real_name

CASES = Path(__file__).parent / "cases"

ALL = [PackageLockCataloger(), YarnLockCataloger(), PnpmLockCataloger(), NodeModulesCataloger()]
SAME_PROJECT = ["npm-lock-v1", "npm-lock-v2", "npm-lock-v3", "yarn-v1", "yarn-berry", "pnpm-v5", "pnpm-v6",
                "pnpm-v9", "node-modules"]


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if (p / "input").is_dir()))
def test_case(case: str) -> None:
    check_expected(CASES / case, scan_case(CASES / case / "input", ALL))


def test_every_format_sees_the_same_project() -> None:
    """One package.json locked by npm 6/11, yarn 1/4, pnpm 7/8/9 and installed: the same 8 name@version."""
    sets = {case: {(p[0], p[1]) for p in scan_case(CASES / case / "input", ALL)["packages"]} for case in SAME_PROJECT}
    want = {("@types/node", "10.0.0"), ("ansi-regex", "3.0.1"), ("debug", "2.6.8"), ("minimist", "0.0.8"),
            ("minimist", "1.2.0"), ("mkdirp", "0.5.1"), ("ms", "2.0.0"), ("strip-ansi", "4.0.0")}
    assert all(s == want for s in sets.values()), sets


def test_dev_flags_where_the_lock_knows() -> None:
    for case in ("npm-lock-v1", "npm-lock-v2", "npm-lock-v3", "pnpm-v5", "pnpm-v6", "pnpm-v9", "yarn-v1", "yarn-berry"):
        got = scan_case(CASES / case / "input", ALL)["packages"]
        assert {p[0] for p in got if p[2]} == {"debug", "ms"}, case


def test_workspaces_links_and_aliases() -> None:
    got = scan_case(CASES / "workspaces-aliases" / "input", [PackageLockCataloger()])
    pkgs = {(p[0], p[1]): p for p in got["packages"]}
    assert ("lodash", "4.17.4") in pkgs and pkgs[("lodash", "4.17.4")][6] == "pkg:npm/lodash@4.17.4"
    assert ("@acme/util", "0.2.0") in pkgs and pkgs[("@acme/util", "0.2.0")][6] == "pkg:npm/%40acme/util@0.2.0"
    assert pkgs[("chokidar", "2.1.8")][2] and pkgs[("typescript", "3.9.10")][2]
    assert not pkgs[("fsevents", "1.2.13")][2]  # optional, not dev
    assert ("glob-parent", "3.1.0") in pkgs and ("glob-parent", "5.1.2") in pkgs  # nested duplicate kept


def test_lock_wins_over_installed_tree_and_drops_uninstalled() -> None:
    got = scan_case(CASES / "installed-with-lock" / "input", ALL)
    assert [(p[0], p[3]) for p in got["packages"]] == [("left-pad", "npm-package-lock")]
    assert [i[2] for i in got["issues"]] == ["note"]  # fsevents left out: not installed


def test_path_rules() -> None:
    assert wants_manifest("node_modules/a/package.json")
    assert wants_manifest("app/node_modules/@s/a/node_modules/b/package.json")
    assert wants_manifest("node_modules/.pnpm/a@1.0.0/node_modules/a/package.json")
    assert not wants_manifest("node_modules/a/lib/package.json")
    assert not wants_manifest("node_modules/.bin/package.json")
    assert not wants_manifest("package.json")
    assert parse_key("/@scope/name/1.0.0_react@16.0.0", 5) == ("@scope/name", "1.0.0")
    assert parse_key("/@scope/name@1.0.0(react@16.0.0)", 6) == ("@scope/name", "1.0.0")
    assert real_name("alias@npm:@scope/real@^1.0.0") == "@scope/real"


def test_registered() -> None:
    names = {type(c).__name__ for c in registry.load() if type(c).__module__.startswith("vulnhound.catalogers.npm")}
    assert names == {type(c).__name__ for c in ALL}


def test_v1_lock_installed_without_dev() -> None:
    got = scan_case(CASES / "installed-with-lock-v1" / "input", ALL)
    assert [(p[0], p[1], p[3]) for p in got["packages"]] == [
        ("left-pad", "1.1.3", "npm-package-lock"), ("minimist", "0.0.8", "npm-package-lock"),
        ("mkdirp", "0.5.1", "npm-package-lock")]  # mocha (dev) was not installed: left out with a note
    assert [i[2] for i in got["issues"]] == ["note"]
