"""The Rich table: grouped by type, OS line, summary with counts per type and issues; golden text for stability."""

from __future__ import annotations

import os
from pathlib import Path

from vulnhound.exports.inventory_formats import render
from vulnhound.exports.table import render_table, short_layer, summary_line
from vulnhound.inventory.model import Inventory

CASES = Path(__file__).parent / "cases"


def test_normal_matches_golden(normal_inventory: Inventory) -> None:
    text = render_table(normal_inventory, width=200)
    path = CASES / "normal" / "expected-table.txt"
    if os.environ.get("VULNHOUND_REGEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_content(normal_inventory: Inventory) -> None:
    text = render(normal_inventory, "table")
    lines = text.splitlines()
    assert lines[0] == "Target: oci-dir:app-image (oci-dir)"
    assert lines[1] == "OS: Debian GNU/Linux 12 (bookworm)"
    assert lines[-1] == summary_line(normal_inventory)
    assert lines[-1] == "11 packages (apk 1, deb 3, golang 1, maven 1, npm 2, pypi 2, rpm 1); 1 issue"
    assert "\x1b[" not in text
    # deb rows come before pypi rows: grouped by type.
    assert text.index("zlib1g") < text.index("requests")
    assert "111111111111" in text and "sha256:" not in text
    assert "src:zlib" in text and "os:python3-six" in text


def test_empty_and_unsupported_os(empty_inventory: Inventory, hostile_inventory: Inventory) -> None:
    assert render_table(empty_inventory).splitlines() == [
        "Target: dir:empty (dir)", "OS: none detected", "0 packages (none); 0 issues"]
    assert "no advisory source" in render_table(hostile_inventory)


def test_color_only_when_asked(normal_inventory: Inventory) -> None:
    assert "\x1b[" in render_table(normal_inventory, color=True)


def test_short_layer() -> None:
    assert short_layer("sha256:" + "ab" * 32) == "ab" * 6
    assert short_layer(None) == ""
