"""Run by test_kb_atomic.py in a subprocess: import a big source and announce when to be killed."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from vulnhound.advisories.feeds.osv import OsvDirectoryFeed
from vulnhound.advisories.model import ParsedItem
from vulnhound.advisories.store import import_items, open_engine


def announced(items: Iterator[ParsedItem], at: str) -> Iterator[ParsedItem]:
    for n, item in enumerate(items, 1):
        if at == "parse" and n == 300:
            print("KILL-ME", flush=True)  # mid-parse: nothing written yet
        yield item


def main() -> None:
    db, src, at = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    engine = open_engine(db)
    inserts = 0

    def on_execute(_conn: Any, _cur: Any, statement: str, *_args: Any) -> None:
        nonlocal inserts
        if at == "write" and statement.lstrip().upper().startswith("INSERT INTO AFFECTED"):
            inserts += 1
            if inserts == 1:
                # A modified record's old rows are deleted and new rows written, all uncommitted.
                print("KILL-ME", flush=True)
                time.sleep(30)

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    feed = OsvDirectoryFeed("go-vulndb", src)
    import_items(engine, feed.name, announced(feed.parse(src), at), description="doomed")
    print("FINISHED", flush=True)


if __name__ == "__main__":
    main()
