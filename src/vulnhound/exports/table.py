"""The human table (``--format table``): packages grouped by type, an OS line and a summary, rendered with Rich."""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console
from rich.table import Table
from rich.text import Text

from vulnhound.exports.inventory_json import sort_key
from vulnhound.inventory.model import Inventory, OSInfo, Package


def render_table(inv: Inventory, width: int = 160, color: bool = False) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=color, no_color=not color, highlight=False,
                      soft_wrap=False)
    target = inv.source.target or "-"
    console.print(Text.assemble(("Target: ", "bold"), f"{target} ({inv.source.kind})"))
    console.print(Text.assemble(("OS: ", "bold"), os_line(inv.os)))
    packages = sorted(inv.packages, key=sort_key)
    if packages:
        console.print(_table(packages))
    console.print(summary_line(inv))
    if color:
        return out.getvalue()
    # Rich pads every cell to the column width; plain text in files and diffs reads better without it.
    return "".join(line.rstrip() + "\n" for line in out.getvalue().splitlines())


def os_line(os_: OSInfo | None) -> str:
    if os_ is None:
        return "none detected"
    text = os_.pretty_name or " ".join(x for x in (os_.name or os_.id, os_.version_id) if x)
    return text if os_.supported else f"{text} (no advisory source: OS packages are not matched)"


def summary_line(inv: Inventory) -> str:
    counts = Counter(p.type for p in inv.packages)
    per_type = ", ".join(f"{t} {n}" for t, n in sorted(counts.items()))
    issues = len(inv.issues)
    return f"{len(inv.packages)} packages ({per_type or 'none'}); {issues} issue{'s' if issues != 1 else ''}"


def short_layer(diff_id: str | None) -> str:
    if not diff_id:
        return ""
    return diff_id.partition(":")[2][:12] or diff_id[:12]


def _arch_source(p: Package) -> str:
    parts = [p.arch] if p.arch else []
    if p.source_name and p.source_name != p.name:
        parts.append(f"src:{p.source_name}")
    if p.os_owned_by:
        parts.append(f"os:{p.os_owned_by}")
    if p.dev:
        parts.append("dev")
    return " ".join(parts)


def _table(packages: list[Package]) -> Table:
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    table.add_column("Name", overflow="fold")
    table.add_column("Version", overflow="fold")
    table.add_column("Type")
    table.add_column("Arch/Source", overflow="fold")
    table.add_column("Layer")
    table.add_column("Path", overflow="fold")
    previous = None
    for p in packages:
        if previous is not None and p.type != previous:
            table.add_section()
        previous = p.type
        table.add_row(p.name, p.version, p.type, _arch_source(p), short_layer(p.layer), p.path or "")
    return table
