"""Pause the cyclic garbage collector while the matcher builds many acyclic objects (verdicts, findings).

A warm knowledge base keeps about a million objects alive; every full collection walks them all, and building
100 k findings triggers several — more time than building them. Nothing built here forms a cycle, so reference
counting frees it all the same. Nested and concurrent pauses are counted: the last one out restores the state.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holds = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _holds, _was_enabled
    with _lock:
        if _holds == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holds += 1
    try:
        yield
    finally:
        with _lock:
            _holds -= 1
            if _holds == 0 and _was_enabled:
                gc.enable()


def _after_fork_in_child() -> None:
    # Only the forking thread lives on in the child: pauses held by other threads would never end there.
    global _lock, _holds
    _lock = threading.Lock()
    if _holds and _was_enabled:
        gc.enable()
    _holds = 0


os.register_at_fork(after_in_child=_after_fork_in_child)
