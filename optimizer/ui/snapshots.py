"""The cluster the console shows, collected at most once every few seconds.

Collecting a 10,000-host cloud takes a second or two; the cluster page and
every plan's before / after picture want it, often within moments of each
other, and the console only reads it.
"""
from __future__ import annotations

import threading
import time

from optimizer.models.snapshot import ClusterSnapshot

FRESH_S = 5.0
_lock = threading.Lock()


def current_snapshot(app_state, fresh_s: float = FRESH_S) -> ClusterSnapshot:
    """The collector's snapshot, reused while younger than ``fresh_s`` seconds."""
    with _lock:  # one collection at a time: a second caller waits for the first's result
        kept = getattr(app_state, "console_snapshot", None)
        if kept is not None and time.monotonic() - kept[0] < fresh_s:
            return kept[1]
        snapshot = app_state.ctx.collector.collect()
        app_state.console_snapshot = (time.monotonic(), snapshot)
        return snapshot
