"""FIRST EPSS daily scores (``epss_scores-*.csv[.gz]``) → ``EpssScore``, streamed row by row (~300k rows a day)."""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from vulnhound.advisories.feeds.common import SingleFileFeed
from vulnhound.advisories.model import EpssScore, ParsedItem, Reject

NAME = "epss"
FILENAME = "epss_scores-current.csv.gz"
_CVE = re.compile(r"^CVE-\d{4}-\d{4,}$")


def _open_text(path: Path) -> IO[str]:
    with path.open("rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return path.open("r", encoding="utf-8", newline="")


def _header_fields(line: str) -> dict[str, str]:
    """``#model_version:v2023.03.01,score_date:2025-02-20T00:00:00+0000`` → {model_version: ..., score_date: ...}."""
    out: dict[str, str] = {}
    for part in line.lstrip("#").strip().split(","):
        key, sep, value = part.partition(":")
        if sep:
            out[key.strip()] = value.strip()
    return out


def parse_csv(path: Path, location: str) -> Iterator[ParsedItem]:
    try:
        fh = _open_text(path)
        with fh:
            first = fh.readline()
            meta: dict[str, str] = {}
            if first.startswith("#"):
                meta = _header_fields(first)
                first = fh.readline()
            columns = [c.strip() for c in first.strip().split(",")]
            if columns[:3] != ["cve", "epss", "percentile"]:
                yield Reject(NAME, location, f"unexpected header {first.strip()!r} (need cve,epss,percentile)")
                return
            model, day = meta.get("model_version"), meta.get("score_date")
            for lineno, row in enumerate(csv.reader(fh), start=3 if meta else 2):
                if len(row) < 3 or not _CVE.match(row[0]):
                    yield Reject(NAME, f"{location}:{lineno}", f"bad row {row!r}")
                    continue
                try:
                    score, pct = float(row[1]), float(row[2])
                except ValueError:
                    yield Reject(NAME, f"{location}:{lineno}", f"non-numeric score in {row!r}")
                    continue
                if not (0.0 <= score <= 1.0 and 0.0 <= pct <= 1.0):
                    yield Reject(NAME, f"{location}:{lineno}", f"score out of [0, 1] in {row!r}")
                    continue
                yield EpssScore(row[0], score, pct, model, day)
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile, csv.Error) as exc:
        yield Reject(NAME, location, f"unreadable EPSS file: {exc}")


def _is_epss(path: Path) -> bool:
    try:
        with _open_text(path) as fh:
            first = fh.readline()
            if first.startswith("#model_version"):
                return True
            return first.strip().startswith("cve,epss")
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile):
        return False


class EpssFeed(SingleFileFeed):
    name = NAME
    url = "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz"

    filename = FILENAME

    def parse(self, snapshot: Path) -> Iterator[ParsedItem]:
        files = [snapshot] if snapshot.is_file() else sorted(
            p for p in snapshot.iterdir() if p.name.endswith((".csv", ".csv.gz")) and _is_epss(p)
        )
        for path in files:
            yield from parse_csv(path, path.name)

    @classmethod
    def detect(cls, path: Path) -> bool:
        if path.is_file():
            return path.name.endswith((".csv", ".csv.gz")) and _is_epss(path)
        return path.is_dir() and any(p.name.endswith((".csv", ".csv.gz")) and _is_epss(p) for p in path.iterdir())
