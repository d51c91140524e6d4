"""The live cluster model: the latest full snapshot plus the events since.

Events are queued as they arrive and applied in batches — one copy of each
array a batch touches, then scalar writes per event — so applying costs a
few microseconds per event, not a snapshot rebuild. Each instance and host
remembers the time of the last event applied to it; an older event (or one
older than the last full resync) arrived out of order and is skipped with
a log line, as is one that cannot apply (an unknown host, a new instance
without a flavor) and one with a field of the wrong kind. Each event is
judged on its own: a bad one never costs the others of its batch.

An event stamped more than ``max_clock_skew_s`` after the model's clock
(a sender whose clock runs ahead, a garbled time) is refused, not clamped:
accepted, it would make every true event about its instance or host look
out of order until the sender's time came. What it said reaches the model
with the next resync.

A :class:`LiveModel` is a collector (``name``, ``collect()``), so the
decision engine can audit on it directly.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from optimizer.listener.nova import InstanceEvent, ServiceEvent, event_problem
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.observability import current_metrics

LOG = logging.getLogger(__name__)
Event = InstanceEvent | ServiceEvent
# Senders' clocks may run ahead of ours by this much (NTP keeps them far closer).
DEFAULT_MAX_CLOCK_SKEW_S = 300.0


@dataclass
class ApplyCounts:
    """Events applied and skipped since the model was made."""

    applied: int = 0
    skipped: int = 0
    batches: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, message: str, *args) -> None:
        self.skipped += 1
        self.reasons[reason] = self.reasons.get(reason, 0) + 1
        current_metrics().notification_skipped(reason)
        LOG.warning("notification skipped (%s): " + message, reason, *args)


class LiveModel:
    """A snapshot kept current by events; safe to feed and read from several threads."""

    name = "live"

    def __init__(self, snapshot: ClusterSnapshot, taken_at: float | None = None, *,
                 max_clock_skew_s: float = DEFAULT_MAX_CLOCK_SKEW_S,
                 clock: Callable[[], float] = time.time):
        if not max_clock_skew_s >= 0:
            raise ValueError(f"max_clock_skew_s must be zero or more, got {max_clock_skew_s!r}")
        self._lock = threading.Lock()
        self._pending: list[Event] = []
        self.counts = ApplyCounts()
        self.max_clock_skew_s = max_clock_skew_s
        self._clock = clock
        self._reset(snapshot, clock() if taken_at is None else taken_at)

    def _reset(self, snapshot: ClusterSnapshot, taken_at: float) -> None:
        self._snapshot = snapshot
        self._floor = taken_at
        self.as_of = taken_at  # when the model last heard of the cloud (time.time())
        self._seen: dict[str, float] = {}  # instance uuid or "host:<name>" -> last event time

    # ----- feeding ------------------------------------------------------------

    def submit(self, events: Iterable[Event]) -> None:
        """Queue events; they are applied at the next :meth:`apply_pending` or read."""
        with self._lock:
            self._pending.extend(events)

    def resync(self, snapshot: ClusterSnapshot, taken_at: float) -> None:
        """Replace the model by a full collection made at ``taken_at``.

        Queued events stay queued: those newer than the collection still apply.
        """
        with self._lock:
            self._reset(snapshot, taken_at)
        LOG.info("live model resynced: %d hosts, %d instances", snapshot.host_count,
                 snapshot.instance_count)

    # ----- reading ---------------------------------------------------------------

    def snapshot(self) -> ClusterSnapshot:
        """The current model, with every queued event applied."""
        self.apply_pending()
        return self._snapshot

    collect = snapshot

    @property
    def pending(self) -> int:
        return len(self._pending)

    # ----- applying --------------------------------------------------------------

    def apply_pending(self) -> int:
        """Apply the queued events in time order; returns how many applied."""
        with self._lock:
            events, self._pending = self._pending, []
            if not events:
                return 0
            events = [e for e in events if self._well_formed(e)]
            events.sort(key=lambda e: e.timestamp)
            batch = _Batch(self._snapshot)
            latest = self._clock() + self.max_clock_skew_s
            applied = 0
            for event in events:
                applied += self._apply(batch, event, latest)
            self._snapshot = batch.build()
            self.counts.applied += applied
            self.counts.batches += 1
            if applied:
                self.as_of = self._clock()
            return applied

    def _well_formed(self, event: Event) -> bool:
        problem = (event_problem(event) if isinstance(event, InstanceEvent | ServiceEvent)
                   else f"not an event: {type(event).__name__}")
        if problem:
            self.counts.skip("malformed", "%s: %s", _describe(event), problem)
        return not problem

    def _apply(self, batch: _Batch, event: Event, latest: float) -> int:
        key = event.uuid if isinstance(event, InstanceEvent) else f"host:{event.host}"
        if event.timestamp > latest:
            self.counts.skip("from the future", "%s at %.6f is more than %gs ahead of this "
                             "clock (%.6f)", key, event.timestamp, self.max_clock_skew_s,
                             latest - self.max_clock_skew_s)
            return 0
        last = self._seen.get(key, self._floor)
        if event.timestamp < last:
            self.counts.skip("out of order", "%s at %.6f is older than the state applied "
                             "(%.6f)", key, event.timestamp, last)
            return 0
        try:
            problem = (batch.instance(event) if isinstance(event, InstanceEvent)
                       else batch.service(event))
        except Exception as exc:  # whatever slips past the checks costs this event only
            LOG.exception("notification skipped (cannot apply): %s", key)
            problem = f"{type(exc).__name__}: {exc}"
        if problem:
            self.counts.skip("cannot apply", "%s: %s", key, problem)
            return 0
        self._seen[key] = event.timestamp
        return 1


class _Batch:
    """Mutable copies of one snapshot's arrays while a batch of events is applied."""

    def __init__(self, snapshot: ClusterSnapshot):
        self.base = snapshot
        self.hosts = dict(snapshot.host_ids)
        self.instances = dict(snapshot.instance_ids)
        self.inst_host = snapshot.inst_host.copy()
        self.inst_size = snapshot.inst_size.copy()
        self.inst_state = list(snapshot.inst_state)
        self.inst_names = list(snapshot.inst_names)
        self.host_up = snapshot.host_up.copy()
        self.host_enabled = snapshot.host_enabled.copy()
        self.host_reason = list(snapshot.host_disabled_reason)
        self.removed: set[int] = set()
        self.added: dict[str, list] = {}  # uuid -> [host index, size, state, name]

    def instance(self, event: InstanceEvent) -> str | None:
        host = None
        if event.host is not None:
            host = self.hosts.get(event.host)
            if host is None:
                return f"unknown host {event.host!r}"
        i = self.instances.get(event.uuid)
        if event.removed:
            if i is not None:
                self.removed.add(i)
                del self.instances[event.uuid]
            else:
                self.added.pop(event.uuid, None)
            return None
        if i is None:
            return self._add(event, host)
        if host is not None:
            self.inst_host[i] = host
        if event.state is not None:
            self.inst_state[i] = event.state
        if event.flavor is not None:
            self.inst_size[i] = event.flavor
        if event.name is not None:
            self.inst_names[i] = event.name
        return None

    def _add(self, event: InstanceEvent, host: int | None) -> str | None:
        known = self.added.get(event.uuid)
        if known is None:
            if host is None or event.flavor is None:
                return "a new instance needs its host and flavor"
            self.added[event.uuid] = [host, event.flavor, event.state or "active", event.name]
            return None
        for k, value in enumerate((host, event.flavor, event.state, event.name)):
            if value is not None:
                known[k] = value
        return None

    def service(self, event: ServiceEvent) -> str | None:
        h = self.hosts.get(event.host)
        if h is None:
            return f"unknown host {event.host!r}"
        self.host_enabled[h] = event.enabled
        self.host_up[h] = event.up
        self.host_reason[h] = None if event.enabled else event.reason
        return None

    def build(self) -> ClusterSnapshot:
        """A new read-only snapshot with the batch's changes."""
        s = self.base
        fields = dict(
            host_up=_frozen(self.host_up), host_enabled=_frozen(self.host_enabled),
            host_disabled_reason=tuple(self.host_reason),
            inst_host=self.inst_host, inst_size=self.inst_size,
            inst_state=self.inst_state, inst_names=self.inst_names,
            inst_uuids=s.inst_uuids, inst_cpu_util=s.inst_cpu_util,
            inst_memory_util=s.inst_memory_util, inst_series=s.inst_series,
            inst_group=s.inst_group, inst_pinned=s.inst_pinned)
        if self.removed or self.added:
            fields = self._resize(fields)
        for key in ("inst_state", "inst_names", "inst_uuids"):
            fields[key] = tuple(fields[key])
        for key in ("inst_host", "inst_size", "inst_cpu_util", "inst_memory_util",
                    "inst_group"):
            fields[key] = _frozen(fields[key])
        new = replace(s, _index={}, **fields)
        new._index.update(hosts=self.hosts, groups=s._index.get("groups", {}),
                          instances={u: k for k, u in enumerate(new.inst_uuids)}
                          if self.removed or self.added else self.instances)
        return new

    def _resize(self, f: dict) -> dict:
        keep = np.ones(len(f["inst_uuids"]), dtype=bool)
        keep[list(self.removed)] = False
        index = np.flatnonzero(keep)
        add = list(self.added.items())
        n = len(add)

        def cat(array: np.ndarray, extra) -> np.ndarray:
            return np.concatenate([array[index], np.asarray(extra, dtype=array.dtype)
                                   .reshape((n, *array.shape[1:]))])

        f["inst_host"] = cat(f["inst_host"], [a[0] for _, a in add])
        f["inst_size"] = cat(f["inst_size"], [a[1] for _, a in add])
        f["inst_cpu_util"] = cat(f["inst_cpu_util"], [0.0] * n)
        f["inst_memory_util"] = cat(f["inst_memory_util"], [1.0] * n)
        f["inst_group"] = cat(f["inst_group"], [-1] * n)
        if f["inst_series"] is not None:
            f["inst_series"] = _frozen(cat(f["inst_series"],
                                           np.full((n, f["inst_series"].shape[1]), np.nan)))
        if f["inst_pinned"] is not None:
            f["inst_pinned"] = _frozen(cat(f["inst_pinned"], [False] * n))
        for key, k in (("inst_state", 2), ("inst_names", 3)):
            f[key] = [f[key][i] for i in index] + [a[k] for _, a in add]
        f["inst_uuids"] = [f["inst_uuids"][i] for i in index] + [u for u, _ in add]
        return f


def _describe(event: object) -> str:
    for key in ("uuid", "host"):
        value = getattr(event, key, None)
        if isinstance(value, str):
            return f"{type(event).__name__} {value}"
    return type(event).__name__


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
