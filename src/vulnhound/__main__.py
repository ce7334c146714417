"""The ``vulnhound`` console entry point (also ``python -m vulnhound``): a fast path for the common ``sbom`` call,
Typer for everything else.

Building the Typer app (typer, click and every command module) costs ~60 ms, half of a small scan. ``run`` parses
a plain ``sbom TARGET [options]`` itself and calls the command's body directly; any argument it does not know
(help, a typo, an unknown ``--format``, ``-qf json`` bundles, ``--``) goes to the Typer app, so every usage error
and help text stays exactly Typer's.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

# option → (keyword of vulnhound.cli.sbom.sbom, takes a value)
_SBOM_OPTIONS: dict[str, tuple[str, bool]] = {
    "--format": ("fmt", True), "-f": ("fmt", True),
    "--output": ("output", True), "-o": ("output", True),
    "--quiet": ("quiet", False), "-q": ("quiet", False),
    "--include-files": ("include_files", False),
    "--platform": ("platform", True),
    "--insecure": ("insecure", False),
    "--layer": ("layer", True),
    "--runtime": ("runtime", True),
    "--no-verify": ("no_verify", False),
}


def parse_sbom(argv: Sequence[str]) -> dict[str, Any] | None:
    """Keyword arguments for ``sbom`` from ``argv`` (after the program name), or None when Typer must decide."""
    if len(argv) < 2 or argv[0] != "sbom":
        return None
    kwargs: dict[str, Any] = {}
    layers: list[str] = []
    target: str | None = None
    args = list(argv[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-") or arg == "-":
            if target is not None or arg == "-":
                return None  # a second argument, or stdin: Typer says what is wrong
            target = arg
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        spec = _SBOM_OPTIONS.get(name)
        if spec is None:
            return None
        key, takes_value = spec
        if not takes_value:
            if eq:
                return None
            kwargs[key] = True
            continue
        if not eq:
            if i >= len(args) or args[i].startswith("-"):
                return None
            value = args[i]
            i += 1
        if key == "layer":
            layers.append(value)
        else:
            kwargs[key] = value
    from vulnhound.exports.inventory_formats import FORMATS  # light: the scan needs the inventory model anyway

    if target is None or kwargs.get("fmt", "table") not in FORMATS:
        return None
    kwargs["target"] = target
    kwargs["layer"] = layers
    return kwargs


def run(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    kwargs = parse_sbom(args)
    if kwargs is None:
        from vulnhound.cli.main import app

        if argv is None:
            app()  # exits; program name and arguments as Click finds them in sys.argv
        else:
            app(args=args, prog_name="vulnhound")
        return 0
    from vulnhound.cli.sbom import Exit, sbom

    # What Click's standalone mode would do around the command: exit codes, Ctrl-C, a closed pipe.
    try:
        sbom(**kwargs)
    except Exit as exc:
        return exc.code
    except (KeyboardInterrupt, EOFError):
        sys.stderr.write("\nAborted!\n")
        return 1
    except BrokenPipeError:
        import os

        # no second error when the interpreter flushes the dead pipe at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(run())
