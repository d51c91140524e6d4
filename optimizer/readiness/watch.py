"""The continuous readiness check of ``optimizer serve``: a thread that warns when not ready.

Every ``interval_s`` it collects the model and runs the K-failure check; a
cluster that is not ready is logged as a warning naming the worst failure
set and how many instances it would strand, once per change of the answer
(and a recovery is logged at info), so a steady state does not flood the log.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from optimizer.models.snapshot import ClusterSnapshot
from optimizer.readiness.check import Readiness, check_readiness

LOG = logging.getLogger(__name__)


@dataclass
class ReadinessWatch:
    """Runs :func:`check_readiness` on ``collect()`` every ``interval_s`` until stopped."""

    collect: Callable[[], ClusterSnapshot]
    interval_s: float
    failures: int = 1
    by: str = "host"
    last: Readiness | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def check_once(self) -> Readiness:
        """One check, logged when its verdict or worst case differs from the last one."""
        result = check_readiness(self.collect(), self.failures, self.by)
        before, self.last = self.last, result
        if not result.ok:
            worst = result.worst
            if before is None or before.ok or before.worst != worst:
                LOG.warning(
                    "cluster NOT READY for %d %s failure(s): %d of %d sets fail; worst %s "
                    "strands %d instance(s), needs %d host(s) woken (%s)",
                    self.failures, self.by, result.failing_sets, result.sets_tried,
                    worst.label, len(worst.stranded), len(worst.hosts_to_wake), result.search)
        elif before is not None and not before.ok:
            LOG.info("cluster ready again for %d %s failure(s) (%s)", self.failures, self.by,
                     result.search)
        return result

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="readiness", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check_once()
            except Exception:  # a collector outage: try again at the next interval
                LOG.exception("readiness check failed")
            if self._stop.wait(self.interval_s):
                return
