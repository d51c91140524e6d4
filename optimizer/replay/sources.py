"""Where a replay's data centre comes from besides a trace folder: a scenario, or the cloud.

* ``--scenario FILE``: a ``cluster-scenario/1`` file whose active instances
  carry ``cpu_util_series`` (``optimizer simulate --series-length N`` writes
  them), sampled every ``metrics_step_s``.
* ``--from-cloud --since 7d``: hosts, flavors, placement and server groups
  from the configured collector; each instance's CPU history over
  ``[now - since, now]`` from ``[replay] datasource``, one history query for
  all instances. Holes in a history are filled by linear interpolation
  between the samples either side (held at the nearest sample at the ends);
  an instance with no sample at all is held at the ``cpu_util`` the collector
  measured, so it still occupies its host. The run reports both.
"""
from __future__ import annotations

import math
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from optimizer.models.errors import UserError
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.replay.datacentre import DataCentre, snapshot_datacentre
from optimizer.replay.power import PowerTable

SIMULATED = "simulated"
_SINCE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
#: how many instance names a report lists
SHOWN = 5


def parse_since(text: str) -> int:
    """Seconds in ``7d``, ``12h``, ``30m``, ``90s`` or ``2w``; :class:`UserError` otherwise."""
    match = _SINCE.match(text or "")
    if not match:
        raise UserError(f"--since {text!r}: expected a number and a unit s, m, h, d or w "
                        "(e.g. 7d, 12h, 30m)")
    seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    if seconds < 1:
        raise UserError(f"--since {text!r}: must be at least one second")
    return int(round(seconds))


# ----- scenario files -----------------------------------------------------------


def scenario_datacentre(path: Path, duration_s: float | None,
                        tables: tuple[PowerTable, ...] | None,
                        tables_source: str = "--power-tables") -> tuple[DataCentre, float]:
    """The scenario's data centre and the replay's duration (the series' unless given)."""
    from optimizer.models.scenario import load_scenario

    where = f"scenario {path}"
    snapshot = load_scenario(path)
    active = np.array([s == "active" for s in snapshot.inst_state], dtype=bool)
    if not active.any():
        raise UserError(f"{where}: no active instance to replay")
    raw = snapshot.inst_series
    lengths = (np.zeros(snapshot.instance_count, dtype=int) if raw is None
               else (~np.isnan(raw)).sum(axis=1))
    lacking = np.flatnonzero(active & (lengths == 0))
    if lacking.size:
        raise UserError(f"{where}: instance {_name(snapshot, int(lacking[0]))!r} has no "
                        f"cpu_util_series ({lacking.size} of {int(active.sum())} active "
                        "instances lack one); a replay needs each active instance's CPU "
                        "series (optimizer simulate --series-length N writes them)")
    step = snapshot.metrics_step_s
    series = _hold_last(raw.astype(float))
    if duration_s is None:
        duration_s = float(lengths[active].max() * step)
    dc = snapshot_datacentre(snapshot, series, step, tables, tables_source)
    needed = dc.samples_for(duration_s)
    short = np.flatnonzero(active & (lengths < needed))
    if short.size:
        v = int(short[0])
        raise UserError(f"{where}: instance {_name(snapshot, v)!r}: cpu_util_series has "
                        f"{int(lengths[v])} samples; a replay of {duration_s:g} s at {step} s "
                        f"steps needs {needed} ({short.size} of {int(active.sum())} active "
                        f"instances are short; --duration {lengths[active].min() * step} "
                        "replays what all of them cover)")
    return dc, duration_s


def _hold_last(series: np.ndarray) -> np.ndarray:
    """Each row's trailing NaN (a series shorter than the longest) set to its last value."""
    out = series.copy()
    for v in np.flatnonzero(np.isnan(out).any(axis=1)):
        row = out[v]
        present = np.flatnonzero(~np.isnan(row))
        if present.size:
            row[present[-1] + 1:] = row[present[-1]]
        else:
            row[:] = 0.0  # an instance that is not active: it uses no CPU
    return out


def _name(snapshot: ClusterSnapshot, i: int) -> str:
    return snapshot.inst_names[i] or snapshot.inst_uuids[i]


# ----- the operator's cloud -----------------------------------------------------


@dataclass(frozen=True)
class HistoryReport:
    """Which active instances lacked CPU history, and how the replay treated them."""

    instances: int
    without: tuple[str, ...]
    with_holes: tuple[str, ...]
    missing_samples: int
    samples: int

    def to_json(self) -> dict:
        return {
            "instances": self.instances,
            "samples_per_instance": self.samples,
            "without_history": len(self.without),
            "without_history_first": list(self.without[:SHOWN]),
            "without_history_treatment": "held at the cpu_util the collector measured",
            "with_holes": len(self.with_holes),
            "with_holes_first": list(self.with_holes[:SHOWN]),
            "missing_samples": self.missing_samples,
            "holes_treatment": "filled by linear interpolation between the samples either "
                               "side; held at the nearest sample at either end",
        }

    def summary(self) -> str:
        """One line for the table output."""
        parts = []
        if self.without:
            parts.append(f"{len(self.without)} of {self.instances} instances have no CPU "
                         f"history ({_first(self.without)}): held at their measured cpu_util")
        if self.with_holes:
            parts.append(f"{len(self.with_holes)} have holes ({self.missing_samples} of "
                         f"{len(self.with_holes) * self.samples} samples, "
                         f"{_first(self.with_holes)}): filled by interpolation")
        return "; ".join(parts) or f"all {self.instances} instances have a full CPU history"


def _first(names: tuple[str, ...]) -> str:
    more = f", ... {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def fill_history(values: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                    np.ndarray]:
    """(series without holes, rows that had none, rows that had some) from NaN-holed rows."""
    values = np.asarray(values, dtype=float)
    present = ~np.isnan(values)
    empty = ~present.any(axis=1)
    holed = present.any(axis=1) & ~present.all(axis=1)
    out = np.where(present, values, 0.0)
    grid = np.arange(values.shape[1])
    for v in np.flatnonzero(holed):
        out[v] = np.interp(grid, grid[present[v]], values[v, present[v]])
    out[empty] = np.asarray(current, dtype=float)[empty, None]
    return out, empty, holed


def cloud_datacentre(settings, since_s: int, step_s: int,
                     tables: tuple[PowerTable, ...] | None,
                     tables_source: str = "--power-tables",
                     clock: Callable[[], float] = time.time) -> tuple[DataCentre, dict]:
    """The configured cloud with each instance's CPU history over the last ``since_s``.

    Returns the data centre and what to report about the source (collector,
    datasource, time range, ``missing_history``).
    """
    from optimizer.collectors.base import open_collector

    collector = open_collector(settings)
    snapshot = collector.collect()
    if not snapshot.instance_count:
        raise UserError(f"collector {collector.name!r}: the cloud has no instance to replay")
    end = math.floor(clock() / step_s) * step_s  # on the step, so a server can cache it
    start = end - since_s
    source = open_history(settings, snapshot)
    history = source.history("instance_cpu_util", list(snapshot.inst_uuids), start, end, step_s)
    series, empty, holed = fill_history(history.values, snapshot.inst_cpu_util)
    active = np.array([s == "active" for s in snapshot.inst_state], dtype=bool)
    without = np.flatnonzero(empty & active)
    holes = np.flatnonzero(holed & active)
    report = HistoryReport(
        instances=int(active.sum()),
        without=tuple(_name(snapshot, int(v)) for v in without),
        with_holes=tuple(_name(snapshot, int(v)) for v in holes),
        missing_samples=int(np.isnan(history.values[holes]).sum()),
        samples=int(history.values.shape[1]))
    dc = snapshot_datacentre(snapshot, series, step_s, tables, tables_source)
    about = {"collector": collector.name, "datasource": source.name,
             "history_start": start, "history_end": end,
             "missing_history": report.to_json(), "history_summary": report.summary()}
    if history.errors:
        about["history_errors"] = list(history.errors[:SHOWN])
    return dc, about


def open_history(settings, snapshot: ClusterSnapshot):
    """The datasource named by ``[replay] datasource``; it must answer histories."""
    from optimizer.datasources.base import DATASOURCE_GROUP, DatasourceError, HistoryDatasource
    from optimizer.plugins import load_group

    name = settings.replay_datasource
    if name == SIMULATED:
        return SimulatedHistory(snapshot)
    plugins = load_group(DATASOURCE_GROUP)
    if name not in plugins.loaded:
        known = ", ".join([SIMULATED, *sorted(plugins.loaded)])
        raise DatasourceError(f"[replay] datasource {name!r} is not installed (choose from "
                              f"{known})")
    source = plugins.loaded[name](settings)
    if not isinstance(source, HistoryDatasource):
        raise DatasourceError(f"[replay] datasource {name!r} keeps no history")
    return source


class SimulatedHistory:
    """A seeded CPU history for a cloud without monitoring (the simulated one).

    Each instance swings daily around the ``cpu_util`` the collector gave it,
    with its own phase, amplitude and noise, all drawn from its uuid and the
    sample's time: the same instance over the same hours always gives the
    same history.
    """

    name = SIMULATED

    def __init__(self, snapshot: ClusterSnapshot):
        self.level = dict(zip(snapshot.inst_uuids, snapshot.inst_cpu_util.tolist(),
                              strict=True))

    def history(self, metric: str, keys, start: float, end: float, step_s: int):
        from optimizer.datasources.base import MetricHistory
        from optimizer.datasources.prometheus import time_grid

        times = time_grid(start, end, step_s)
        values = np.empty((len(keys), times.size))
        for i, key in enumerate(keys):
            seed = zlib.crc32(key.encode())
            shape = np.random.default_rng(seed).uniform(size=2)
            level = self.level.get(key, 0.0)
            wave = level * (1 + 0.5 * shape[0] * np.sin(2 * np.pi * (times / 86400 + shape[1])))
            values[i] = np.clip(wave + 0.03 * _hashed_noise(seed, times), 0.0, 1.0)
        return MetricHistory(metric, tuple(keys), times, values)


def _hashed_noise(seed: int, times: np.ndarray) -> np.ndarray:
    """Noise of unit spread that depends only on ``seed`` and each time (no RNG state)."""
    mixed = np.sin(times * 12.9898e-3 + (seed % 100003) * 78.233) * 43758.5453
    return (mixed - np.floor(mixed) - 0.5) * math.sqrt(12)
