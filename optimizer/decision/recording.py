"""Writing an audit's outcome through a database outage: retried with backoff, bounded.

A PostgreSQL restart or a dropped connection makes a write fail for some
seconds. An audit that already did its work must not end there: each write
of its outcome (the plan, the final state) is tried again, waiting a little
longer each time, for a bounded time. When the database is still gone at the
end, :class:`OutcomeNotRecorded` tells the caller to keep the audit claimed
and run it again later, rather than forget it.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from optimizer.db.errors import DatabaseError

LOG = logging.getLogger(__name__)
T = TypeVar("T")


class OutcomeNotRecorded(Exception):
    """The database stayed unreachable while an audit's outcome was written."""


def unreachable(exc: BaseException) -> bool:
    """True for errors of a database that is down or restarting (worth trying again)."""
    if isinstance(exc, (OperationalError, InterfaceError, DatabaseError)):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


@dataclass(frozen=True)
class RecordRetry:
    """How long and how often a write is tried again while the database is unreachable."""

    window_s: float = 60.0      # give up after this long
    first_wait_s: float = 0.5   # doubled after each failure ...
    max_wait_s: float = 5.0     # ... up to this

    def run(self, what: str, write: Callable[[], T], *,
            sleep: Callable[[float], None] = time.sleep,
            clock: Callable[[], float] = time.monotonic) -> T:
        """``write()``, tried again on database outages; OutcomeNotRecorded after the window.

        ``write`` must be safe to repeat: an attempt whose commit went through
        but whose answer was lost is tried again.
        """
        deadline = clock() + self.window_s
        wait, attempt = self.first_wait_s, 1
        while True:
            try:
                return write()
            except Exception as exc:
                if not unreachable(exc):
                    raise
                left = deadline - clock()
                if left <= 0:
                    raise OutcomeNotRecorded(
                        f"{what}: the database stayed unreachable for {self.window_s:g} s "
                        f"({type(exc).__name__}: {_first_line(exc)})") from exc
                LOG.warning("%s failed (attempt %d, %s); trying again in %.1f s", what,
                            attempt, _first_line(exc), min(wait, left))
                sleep(min(wait, left))
                wait, attempt = min(wait * 2, self.max_wait_s), attempt + 1


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
