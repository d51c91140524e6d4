"""Pausing Python's cyclic garbage collector while an audit builds millions of objects.

An audit of 100,000 hosts makes millions of small objects (the parsed
scenario, a dict per action, tuples for the database) that live until it
ends and hold no reference cycles. The cyclic collector, started every few
hundred allocations, walks all of them again and again: at 10,000 hosts a
third of the planner's and the store's time, at 100,000 more, and growing
faster than the cluster. Paused for the audit and resumed afterwards, it
collects whatever cycles there were then. Pauses nest and may overlap across
threads: the collector runs again once the last one ends.
"""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0


@contextmanager
def gc_paused() -> Iterator[None]:
    """Run the body without cyclic garbage collection (unless it was off already)."""
    global _pauses
    with _lock:
        was_enabled = gc.isenabled() or _pauses > 0
        _pauses += 1
        gc.disable()
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and was_enabled:
                gc.enable()
