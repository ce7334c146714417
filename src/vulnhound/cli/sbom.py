"""``vulnhound sbom TARGET``: print or write the inventory of a source (table, native JSON, CycloneDX, SPDX)."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from vulnhound.exports.inventory_formats import FORMATS, check_format
from vulnhound.sources.interface import SourceError, ViewError
from vulnhound.sources.resolve import SourceOptions, open_source

if TYPE_CHECKING:
    import typer

    from vulnhound.inventory.model import Inventory

TARGET_HELP = ("dir:PATH, host:, oci-dir:PATH, oci-archive:TAR, docker-archive:TAR, registry:REF, zip:ZIP, "
               "function:ZIP, sbom:FILE, or a bare path.")


class Exit(Exception):
    """End the command with this exit status (the message, if any, is already on stderr)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _err(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def sbom(target: str, fmt: str = "table", output: str | None = None, quiet: bool = False,
         include_files: bool = False, platform: str = "linux/amd64", insecure: bool = False,
         layer: list[str] | None = None, runtime: str | None = None, no_verify: bool = False) -> None:
    """Inventory TARGET: every installed package, with PURLs and provenance.

    Plain Python (no Typer): the command-line fast path (``vulnhound.__main__``) and the Typer command both call it;
    errors are written to stderr and raised as ``Exit``."""
    check_format(fmt)
    opts = SourceOptions(platform=platform, insecure=insecure, layers=list(layer or ()), runtime=runtime,
                         verify_digests=not no_verify)
    try:
        with _progress(f"Cataloging {target}", enabled=not quiet and sys.stderr.isatty()):
            # file lists are always read: they decide which language packages the OS owns (osOwnedBy)
            inv = scan(target, opts, include_files=True)
    except SourceError as exc:
        _err(f"error: {exc}")
        raise Exit(2) from None
    except (ViewError, OSError) as exc:
        _err(f"error: {target}: {exc}")
        raise Exit(1) from None
    _emit(inv, fmt, output, include_files)
    if not quiet and inv.issues:
        where = "the JSON output's 'issues'" if fmt == "json" else "--format json for details"
        _err(f"warning: {len(inv.issues)} issue(s) while cataloging; see {where}")


def scan(target: str, opts: SourceOptions, include_files: bool = False) -> Inventory:
    from vulnhound.inventory.build import build_inventory

    with open_source(target, opts) as src:
        return build_inventory(src, include_files=include_files)


def _emit(inv: Inventory, fmt: str, output: str | None, include_files: bool) -> None:
    from vulnhound.exports.inventory_formats import render

    to_terminal = output is None and sys.stdout.isatty()
    width = 160
    if to_terminal:
        import shutil  # (with tempfile below) imported when needed: ~5 ms of start-up

        width = shutil.get_terminal_size().columns
    text = render(inv, fmt, include_files=include_files, color=to_terminal and fmt == "table", width=width)
    if output is None:
        sys.stdout.write(text)
        return
    try:
        _write_atomic(output, text)
    except OSError as exc:
        _err(f"error: cannot write {output}: {exc.strerror or exc}")
        raise Exit(1) from None


def _write_atomic(path: str, text: str) -> None:
    # A failed or interrupted run must not leave half a document where the previous one was.
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        # /dev/null, /dev/stdout, a FIFO: write through; renaming over them would replace the device itself.
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = _mkstemp(directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _mkstemp(directory: str) -> tuple[int, str]:
    """``tempfile.mkstemp(prefix=".vulnhound-", dir=directory)`` without importing tempfile, which (through
    random → hashlib → OpenSSL) is ~4 ms of every ``sbom -o FILE`` run."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        tmp = os.path.join(directory, f".vulnhound-{os.urandom(6).hex()}")
        try:
            return os.open(tmp, flags, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")


@contextlib.contextmanager
def _progress(message: str, enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    from rich.console import Console

    with Console(stderr=True).status(message):
        yield


def register(app: typer.Typer) -> None:
    import typer

    from vulnhound.exports.inventory_formats import UnknownFormat

    def _format(value: str) -> str:
        try:
            return check_format(value)
        except UnknownFormat as exc:
            raise typer.BadParameter(str(exc)) from None

    def command(
        target: str = typer.Argument(..., help=TARGET_HELP),
        fmt: str = typer.Option("table", "--format", "-f", callback=_format, help="|".join(FORMATS)),
        output: str | None = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress or warnings on stderr."),
        include_files: bool = typer.Option(False, "--include-files", help="List each package's files (json only)."),
        platform: str = typer.Option("linux/amd64", "--platform", help="Platform to pick from a multi-platform image."),
        insecure: bool = typer.Option(False, "--insecure", help="Plain HTTP / unverified TLS for registries."),
        layer: list[str] = typer.Option([], "--layer", help="Extra function layer zip (repeatable)."),
        runtime: str | None = typer.Option(None, "--runtime", help="Function runtime, e.g. python3.12."),
        no_verify: bool = typer.Option(False, "--no-verify", help="Skip sha256 checks of image layers (faster "
                                                                 "on big local archives; a tampered layer goes "
                                                                 "unnoticed)."),
    ) -> None:
        """Inventory TARGET: every installed package, with PURLs and provenance."""
        try:
            sbom(target, fmt, output, quiet, include_files, platform, insecure, layer, runtime, no_verify)
        except Exit as exc:
            raise typer.Exit(exc.code) from None

    app.command("sbom")(command)
