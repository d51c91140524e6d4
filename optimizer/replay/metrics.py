"""Energy, SLA and migration metrics of a replay, in both published definitions.

CloudSim's (what its ``Helper.printResults`` prints, ratios of sums):

* SLATAH = sum over hosts of the active time during which the host got less
  CPU than its VMs requested / sum over hosts of active time;
* PDM = sum over VMs of the CPU requested but not allocated while the VM was
  migrating out / sum over VMs of the CPU requested (both integrated over time);
* SLAV = SLATAH x PDM; ESV = energy (kWh) x SLAV.

The paper's (Beloglazov & Buyya 2012, means of ratios): SLATAH = mean over
hosts of (time short of CPU / active time); PDM = mean over VMs of (10 % of the
CPU requested while migrating / CPU requested). Host states are piecewise
constant between updates.

Time above target: a host is above target while its requested CPU exceeds
``target_load`` x its capacity (the strategy's ``target_cpu_load`` when it
has one, else 1.0, i.e. short of CPU); each such spell is timed from the
update that first saw it to the update that no longer does, and the result
gives the spells' mean and 99th percentile (spells still open at the end
count up to the last update).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DEFINITIONS = {
    "cloudsim": "SLATAH = sum_h(active time with allocated < requested CPU) / sum_h(active "
                "time); PDM = sum_v(integral of requested - allocated CPU while migrating out) "
                "/ sum_v(integral of requested CPU); SLAV = SLATAH * PDM; ESV = energy_kWh * "
                "SLAV (CloudSim 3.0.3 Helper.printResults, ratios of sums)",
    "paper": "SLATAH = mean_h(time with allocated < requested CPU / active time); PDM = "
             "mean_v(0.1 * integral of requested CPU while migrating / integral of requested "
             "CPU); SLAV = SLATAH * PDM; ESV = energy_kWh * SLAV (Beloglazov & Buyya 2012, "
             "eqs. 21-22 and 39, means of ratios)",
}

ABOVE_TARGET = ("spells during which a host's requested CPU exceeds target_cpu_load x its "
                "capacity (the strategy's target_cpu_load parameter, else 1.0): their count, "
                "mean and 99th percentile in seconds, timed between updates")
ROUNDS = ("audits: rounds whose audit ran; plans_started: plans the applier ran; "
          "plans_held: plans a guard rail kept from starting, held_by_rail: how often each "
          "rail did; plans_superseded: held plans replaced by the next round's plan; "
          "rounds_skipped: rounds whose audit did not run because the previous plan was "
          "still running; actions: final states of every action the applier ran")


class MetricsRecorder:
    """Accumulates host and VM states; a state holds until the next update time."""

    def __init__(self, hosts: int, vms: int, target_load: float = 1.0):
        self.t = None
        self.target_load = target_load
        self.above_since = np.full(hosts, np.nan)
        self.spells: list[np.ndarray] = []
        self.load = None
        self.state = None
        self.host_active = np.zeros(hosts)
        self.host_short = np.zeros(hosts)
        self.vm_req = np.zeros(vms)
        self.vm_alloc = np.zeros(vms)
        self.vm_mig_short = np.zeros(vms)
        self.vm_mig_req = np.zeros(vms)
        self.short_ratio_sum = 0.0
        self.short_count = 0
        self.prev_active = np.ones(hosts, bool)
        self.shutdowns = 0

    def record(self, t: float, active, short, vm_req, vm_alloc, vm_inmig, _alive=None,
               load=None) -> None:
        """The state at ``t``; a second state at the same time replaces the first.

        ``load`` is each host's requested CPU over its capacity, for the time
        above target.
        """
        if self.t is not None and t != self.t:
            self._close(t - self.t)
            self._track_target(self.t, self.load)
        self.t = t
        self.state = (active, short, vm_req, vm_alloc, vm_inmig)
        self.load = load

    def _track_target(self, t: float, load) -> None:
        """Open and close the spells above target with the state that held from ``t``."""
        if load is None:
            return
        above = load > self.target_load + 1e-9
        open_ = ~np.isnan(self.above_since)
        ended = open_ & ~above
        if ended.any():
            self.spells.append(t - self.above_since[ended])
            self.above_since[ended] = np.nan
        self.above_since[above & ~open_] = t
    def _close(self, dt: float | None) -> None:
        active, short, vm_req, vm_alloc, vm_inmig = self.state
        if dt is not None:
            self.host_active += np.where(active, dt, 0.0)
            self.host_short += np.where(active & short, dt, 0.0)
            self.vm_req += vm_req * dt
            self.vm_alloc += vm_alloc * dt
            lack = vm_req - vm_alloc
            lacking = vm_alloc < vm_req
            self.vm_mig_short += np.where(lacking & vm_inmig, lack * dt, 0.0)
            self.vm_mig_req += np.where(vm_inmig, vm_req * dt, 0.0)
            if lacking.any():
                self.short_ratio_sum += float((lack[lacking] / vm_req[lacking]).sum())
                self.short_count += int(lacking.sum())
        self.shutdowns += int(np.count_nonzero(self.prev_active & ~active))
        self.prev_active = active

    def finish(self) -> None:
        """Close the last state (it counts for shutdowns, not for time)."""
        if self.state is not None:
            self._close(None)
            self._track_target(self.t, self.load)
            still = ~np.isnan(self.above_since)
            if still.any():
                self.spells.append(self.t - self.above_since[still])
            self.state = None

    def above_target(self) -> dict:
        """Spells of hosts above target: count, mean and p99 seconds."""
        spells = np.concatenate(self.spells) if self.spells else np.zeros(0)
        spells = spells[spells > 0]
        return {"target_cpu_load": self.target_load, "spells": int(len(spells)),
                "mean_s": round(float(spells.mean()), 1) if len(spells) else 0.0,
                "p99_s": round(float(np.percentile(spells, 99)), 1) if len(spells) else 0.0}

    def result(self, *, energy_kwh: float, migrations: int, timeline: dict, wall: float,
               vms: int, hosts: int, loop: dict | None = None) -> ReplayResult:
        total_active = float(self.host_active.sum())
        slatah = float(self.host_short.sum()) / total_active if total_active else 0.0
        total_req = float(self.vm_req.sum())
        pdm = float(self.vm_mig_short.sum()) / total_req if total_req else 0.0
        used = self.host_active > 0
        slatah_p = float(np.mean(self.host_short[used] / self.host_active[used])) \
            if used.any() else 0.0
        asked = self.vm_req > 0
        pdm_p = float(np.mean(0.1 * self.vm_mig_req[asked] / self.vm_req[asked])) \
            if asked.any() else 0.0
        overall = (total_req - float(self.vm_alloc.sum())) / total_req if total_req else 0.0
        average = self.short_ratio_sum / self.short_count if self.short_count else 0.0
        return ReplayResult(
            energy_kwh=energy_kwh, migrations=migrations, slatah=slatah, pdm=pdm,
            slatah_paper=slatah_p, pdm_paper=pdm_p, host_shutdowns=self.shutdowns,
            overall_sla_violation=overall, average_sla_violation=average,
            overloaded_host_seconds=float(self.host_short.sum()),
            active_host_seconds=total_active, wall_seconds=wall, vms=vms, hosts=hosts,
            timeline=timeline, above_target=self.above_target(), loop=dict(loop or {}))


@dataclass
class ReplayResult:
    """A replay's figures; fractions unless the name says ``_pct``."""

    energy_kwh: float
    migrations: int
    slatah: float
    pdm: float
    slatah_paper: float
    pdm_paper: float
    host_shutdowns: int
    overall_sla_violation: float
    average_sla_violation: float
    overloaded_host_seconds: float
    active_host_seconds: float
    wall_seconds: float
    vms: int
    hosts: int
    timeline: dict = field(default_factory=dict)
    #: spells of hosts above their target CPU load (see the module's docstring)
    above_target: dict = field(default_factory=dict)
    #: what the rounds did: plans run, held (by guard rail), superseded, rounds skipped
    loop: dict = field(default_factory=dict)

    @property
    def slav(self) -> float:
        return self.slatah * self.pdm

    @property
    def esv(self) -> float:
        return self.energy_kwh * self.slav

    def to_json(self, **extra) -> dict:
        """The ``--format json`` object (CloudSim's definitions at the top level)."""
        slav_p = self.slatah_paper * self.pdm_paper
        out = {
            **extra,
            "energy_kwh": round(self.energy_kwh, 4),
            "migrations": self.migrations,
            "slatah_pct": round(100 * self.slatah, 4),
            "pdm_pct": round(100 * self.pdm, 5),
            "slav": self.slav,
            "slav_pct": round(100 * self.slav, 7),
            "esv": self.esv,
            "host_shutdowns": self.host_shutdowns,
            "overall_sla_violation_pct": round(100 * self.overall_sla_violation, 4),
            "average_sla_violation_pct": round(100 * self.average_sla_violation, 4),
            "overloaded_host_hours": round(self.overloaded_host_seconds / 3600, 3),
            "active_host_hours": round(self.active_host_seconds / 3600, 3),
            "hosts": self.hosts,
            "vms": self.vms,
            "wall_seconds": round(self.wall_seconds, 3),
            "paper_metrics": {
                "slatah_pct": round(100 * self.slatah_paper, 4),
                "pdm_pct": round(100 * self.pdm_paper, 5),
                "slav": slav_p,
                "esv": self.energy_kwh * slav_p,
            },
            "above_target": self.above_target,
            "rounds": self.loop,
            "metric_definitions": {**DEFINITIONS, "above_target": ABOVE_TARGET,
                                   "rounds": ROUNDS},
            "timeline": self.timeline,
        }
        return out
