"""The replay's simulated cloud: hosts, VMs following traces, migrations in simulated time.

Event-driven like CloudSim's power package: every host is updated at each
round (every ``interval`` seconds, at ``k * interval + tick_offset``) and
whenever migrations complete. At an update each VM requests its trace's
utilisation (linear between samples) times its capacity; each host shares its
cores (a VM gets at most one core; an over-subscribed host scales everyone
down and rounds to whole MIPS); a migrating VM gets 90 % of its share on the
source while the target holds 10 % for it; energy is the trapezoid of host
power between updates. After the round's update a consolidation round runs the
production way (:mod:`optimizer.replay.loop`: strategy plugin, planner, guard
rails, the applier's executor); the executor starts migrations through
:class:`~optimizer.replay.actuator.ReplayActuator`, each lasting RAM /
(bandwidth x share) seconds, and its sleeps move simulated time on
(:meth:`Replay.advance_to`), so a plan may still run at the next round.
"""
from __future__ import annotations

import dataclasses
import math
import time as _time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from optimizer.replay.datacentre import DataCentre, planetlab_datacentre
from optimizer.replay.fidelity import Fidelity
from optimizer.replay.metrics import MetricsRecorder, ReplayResult
from optimizer.replay.policies import PolicySpec
from optimizer.replay.power import BUILTIN, PowerTable
from optimizer.replay.traces import SAMPLE_STEP_S, Traces
from optimizer.strategies.power_aware_consolidation import interpolate_power

#: CloudSim's VM types (High-CPU Medium, Extra Large, Small, Micro): MIPS and RAM (MB)
VM_TYPES = ((2500, 870), (2000, 1740), (1000, 1740), (500, 613))


@dataclass(frozen=True)
class Setup:
    """The simulated data centre: host count and models, VM types, bandwidth, timing."""

    hosts: int = 800
    models: tuple[PowerTable, ...] = BUILTIN
    host_ram_mb: float = 4096.0
    host_bw_mbit: float = 1000.0
    vm_types: tuple[tuple[float, float], ...] = VM_TYPES
    interval_s: float = 300.0
    duration_s: float = 86400.0

    @property
    def samples(self) -> int:
        """Trace samples the replay reads (CloudSim: 288 for a day)."""
        return int(math.ceil(self.duration_s / SAMPLE_STEP_S))


@dataclass
class _Migration:
    vm: int
    target: int
    end: float
    seq: int
    pos: int


class Rounds(Protocol):
    """Decides and carries out the consolidation round at each tick."""

    def start(self, replay: Replay) -> None:
        """Called once, before the first tick."""

    def __call__(self, replay: Replay, t: float) -> int:
        """The round at ``t``; may move simulated time on. Returns the hosts it saw overloaded."""


@dataclass
class _State:
    """Per-host results of one update."""

    util: np.ndarray          # (H,) fraction, as CloudSim's getUtilizationOfCpu
    alloc_mips: np.ndarray    # (H,) allocated (source share counted at 100 %)
    req_mips: np.ndarray      # (H,) requested, migrating-in VMs included
    vm_req: np.ndarray        # (V,) requested MIPS, 0 for gone VMs
    vm_alloc: np.ndarray      # (V,) allocated on the VM's own (source) host
    vm_inmig: np.ndarray      # (V,) bool, migrating out
    vm_u: np.ndarray          # (V,) utilisation of own capacity (trace, interpolated)


@dataclass
class Replay:
    """One replay of ``traces`` (or ``datacentre``) under ``policy`` with ``fidelity``'s choices."""

    traces: Traces | None
    policy: PolicySpec
    fidelity: Fidelity = field(default_factory=Fidelity)
    setup: Setup = field(default_factory=Setup)
    progress: Callable[[float, float], None] | None = None
    #: the consolidation rounds; None: a migrating policy's rounds the production way
    #: (:class:`optimizer.replay.loop.ProductionRounds`), no rounds for npa and dvfs
    rounds: Rounds | None = None
    #: hosts and VMs; None: CloudSim's set-up of ``traces`` (see :mod:`.datacentre`)
    datacentre: DataCentre | None = None

    def __post_init__(self):
        s = self.setup
        if self.datacentre is None:
            self.datacentre = planetlab_datacentre(self.traces, s.hosts, s.models, s.vm_types,
                                                   s.host_ram_mb)
        dc = self.datacentre
        if dc.hosts != s.hosts:
            self.setup = s = dataclasses.replace(s, hosts=dc.hosts)
        self.h_model = dc.host_model
        self.tables = np.array([m.watts for m in dc.models], dtype=float)
        self.h_cap = dc.host_capacity
        self.h_core = dc.host_core
        self.h_ram = dc.host_ram_mb
        self.p_max = self.tables[self.h_model, 10]
        self.v_mips = dc.vm_mips
        self.v_ram = dc.vm_ram_mb
        self.step = dc.step_s
        samples = dc.samples_for(s.duration_s)
        frac = dc.series[:, :samples + 1]  # a sample past the end, if any, ends the last step
        if frac.shape[1] <= samples:
            frac = np.concatenate([frac, frac[:, -1:]], axis=1)  # last sample repeated
        self.data = frac
        self.mig_mb_s = s.host_bw_mbit / 8 * self.fidelity.migration_share_of_bw
        self.n = dc.vms

    # ------------------------------------------------------------- the run
    def run(self) -> ReplayResult:
        """Replay the traces: every tick an update and (unless a plan still runs) a round."""
        started = _time.perf_counter()
        rounds = self._reset()
        while self.next_tick < self.end:
            self.advance_to(self.next_tick)
            if self._round_due:
                self._round_due = False
                entry = len(self.timeline["time_s"]) - 1  # ticks may pass during the round
                self.timeline["overloaded_hosts"][entry] = rounds(self, self.now)
            self._settle()
            if self.progress:
                self.progress(self.now, self.end)
        if self._round_due:  # the last tick came while a plan still ran
            self.rounds_skipped += 1
        # migrations started in the last round still end before the day does
        self.advance_to(self.end)
        self.rec.finish()
        energy_kwh = self.energy_j / 3.6e6
        extra = rounds.figures() if rounds is not None and hasattr(rounds, "figures") else {}
        return self.rec.result(energy_kwh=energy_kwh, migrations=self.migrations,
                               timeline=self.timeline, wall=_time.perf_counter() - started,
                               vms=self.n, hosts=self.setup.hosts, loop=extra)

    def _reset(self) -> Rounds | None:
        """The data centre at t = 0 with its VMs placed; the rounds, started."""
        s, fid = self.setup, self.fidelity
        n, nh = self.n, s.hosts
        self.host = np.full(n, -1, dtype=np.intp)
        self.alive = np.ones(n, bool)
        self.inmig = np.zeros(n, bool)
        self.pos = np.arange(n, dtype=np.int64)
        self.next_pos = n
        self.hist = np.zeros((n, fid.history_length))
        self.hist_len = 0
        self.flights: list[_Migration] = []
        self.next_end = math.inf  # when the first migration in flight ends
        self.seq = 0
        self.energy_j = 0.0
        self.migrations = 0
        #: operation id -> "running" or "succeeded"; (end, MB) of finished migrations
        self.operations: dict[int, str] = {}
        self.moved: deque[tuple[float, float]] = deque()
        rounds = self.rounds
        if rounds is None and self.policy.migrates:
            from optimizer.replay.loop import ProductionRounds

            rounds = self.rounds = ProductionRounds.for_policy(self.policy, fid,
                                                               self.mig_mb_s)
        self.rec = MetricsRecorder(nh, n, target_load=self.target_load)
        self._initial_placement()
        self.util_last = np.zeros(nh)
        self.t_last = fid.tick_offset_s
        self.now = fid.tick_offset_s
        self.state: _State | None = None
        self._restarted = False
        self.timeline = {k: [] for k in ("time_s", "active_hosts", "power_w",
                                         "overloaded_hosts", "migrations")}
        self.rounds_skipped = 0
        if rounds is not None:
            rounds.start(self)
        self._round_due = False
        self.next_tick = fid.tick_offset_s + s.interval_s  # accumulated as CloudSim's clock is
        self.end = s.duration_s
        return rounds

    @property
    def target_load(self) -> float:
        """Host CPU load above which a host counts as above target (the rounds' choice)."""
        return float(getattr(self.rounds, "target_load", 1.0))

    # ------------------------------------------------------- simulated time
    def advance_to(self, until: float) -> None:
        """Move simulated time on to ``until``: migrations that end, then ticks, in order.

        A tick whose round cannot run because a plan is still running (the
        executor is asleep in here) is counted in ``rounds_skipped``.
        """
        self._settle()
        while True:
            tick = self.next_tick if self.next_tick < self.end else math.inf
            ending = self.next_end
            if ending < min(tick, until):
                self._complete_at(ending, account=ending < self.end)
                continue
            if ending >= self.end and ending <= until and tick == math.inf:
                # past the replay's end: nothing more is accounted, but the move completes
                self._complete_at(ending, account=False)
                continue
            if tick <= until:
                if self._round_due:  # the previous tick's round never got to run
                    self._round_due = False
                    self.rounds_skipped += 1
                self._tick(tick)
                self.next_tick += self.setup.interval_s
                continue
            break
        self.now = max(self.now, until)

    def _tick(self, t: float) -> None:
        self.now = t
        state = self._update(t, tick=True)
        self.state = state
        self._round_due = self.rounds is not None
        tl = self.timeline
        tl["time_s"].append(round(t, 1))
        tl["active_hosts"].append(int(np.count_nonzero(state.util > 0)))
        tl["power_w"].append(round(float(self._power_now(state.util).sum()), 1))
        tl["overloaded_hosts"].append(int(np.count_nonzero(state.req_mips > self.h_cap + 1e-9)))
        tl["migrations"].append(0)

    def _settle(self) -> None:
        """After migrations started: measure again at the same time (it replaces the state)."""
        if not self._restarted:
            return
        self._restarted = False
        t = self.now
        if t >= self.end:
            return  # nothing after the replay's end is accounted
        state = self._measure(t)
        self._record(t, state)
        self.util_last = state.util
        if self.timeline["time_s"] and self.timeline["time_s"][-1] == round(t, 1):
            self.timeline["active_hosts"][-1] = int(np.count_nonzero(state.util > 0))
            self.timeline["power_w"][-1] = round(float(self._power_now(state.util).sum()), 1)

    def _record(self, t: float, state: _State) -> None:
        on = self.host >= 0  # gone VMs request nothing; a migrating VM counts at its source
        load = np.bincount(self.host[on], state.vm_req[on], self.setup.hosts) / self.h_cap
        self.rec.record(t, state.util > 0, state.alloc_mips < state.req_mips,
                        state.vm_req, state.vm_alloc, state.vm_inmig, self.alive, load=load)

    # -------------------------------------------------------- placement at t=0
    def _initial_placement(self) -> None:
        """VMs in order, each at its full capacity and RAM (CloudSim's creation).

        A data centre that gives each VM's host (a snapshot's placement) is taken as it is.
        """
        if self.datacentre.vm_host is not None:
            self.host[:] = self.datacentre.vm_host
            return
        nh = self.setup.hosts
        alloc = np.zeros(nh)
        ram_free = np.full(nh, self.setup.host_ram_mb)
        pabfd = self.policy.migrates
        if pabfd:
            thr = self.policy.safety if self.policy.detector == "thr" else 0.7
            p_idle = self.tables[self.h_model, 0]
        for v in range(self.n):
            r, ram = self.v_mips[v], self.v_ram[v]
            ok = (self.h_core >= r) & (self.h_cap - alloc >= r) & (ram_free >= ram)
            cand = np.flatnonzero(ok)
            if not len(cand):
                continue  # CloudSim leaves a VM that fits nowhere uncreated
            if pabfd:
                # others request nothing yet: the detector sees only this VM
                over = (alloc[cand] != 0) & (r / self.h_cap[cand] > thr)
                cand = cand[~over]
                if not len(cand):
                    continue
                base = alloc[cand] if self.fidelity.count_round_placements else 0.0
                u_after = (base + r) / self.h_cap[cand]
                diff = interpolate_power(self.tables, self.h_model[cand], u_after) - p_idle[cand]
                h = int(cand[np.lexsort((cand, diff))[0]])
            else:
                h = int(cand[0])
            self.host[v] = h
            alloc[h] += min(r, self.h_core[h])
            ram_free[h] -= ram

    # ------------------------------------------------------------ updates
    def _utilisation(self, t: float) -> np.ndarray:
        step = self.step
        if math.fmod(t, step) == 0:
            return self.data[:, int(t) // step]
        k1, k2 = int(math.floor(t / step)), int(math.ceil(t / step))
        d1, d2 = self.data[:, k1], self.data[:, k2]
        return d1 + (d2 - d1) / ((k2 - k1) * step) * (t - k1 * step)

    def _measure(self, t: float) -> _State:
        """Every host's share-out of CPU at ``t`` (no side effects)."""
        nh, cap, core = self.setup.hosts, self.h_cap, self.h_core
        u = self._utilisation(t)
        req = np.where(self.alive, u * self.v_mips, 0.0)
        on = np.flatnonzero(self.alive & (self.host >= 0))
        fl = self.flights
        e_vm = np.concatenate([on, np.fromiter((m.vm for m in fl), np.intp, len(fl))])
        e_host = np.concatenate([self.host[on],
                                 np.fromiter((m.target for m in fl), np.intp, len(fl))])
        e_pos = np.concatenate([self.pos[on], np.fromiter((m.pos for m in fl), np.int64, len(fl))])
        role = np.concatenate([np.where(self.inmig[on], 1, 0), np.full(len(fl), 2)])
        order = np.argsort(e_pos)
        e_vm, e_host, role = e_vm[order], e_host[order], role[order]
        r = req[e_vm]
        capped = np.minimum(r, core[e_host])
        demand = np.where(role == 2, capped * 0.1, capped)
        total = np.bincount(e_host, demand, nh)
        over = total > cap
        alloc = np.where(role == 1, capped * 0.9, np.where(role == 2, capped * 0.1, capped))
        if over.any():
            oe = over[e_host]
            scale = np.where(over, cap / np.where(total > 0, total, 1.0), 1.0)[e_host]
            scaled = np.where(role == 1, capped * scale * 0.9,
                              np.where(role == 2, capped * 0.1 * scale, capped * scale))
            alloc = np.where(oe, np.floor(scaled), alloc)
        contrib = np.where(role == 1, alloc / 0.9, alloc)
        alloc_mips = np.bincount(e_host, contrib, nh)
        req_mips = np.bincount(e_host, r, nh)
        util = alloc_mips / cap
        util = np.where((util > 1) & (util < 1.01), 1.0, util)
        vm_alloc = np.zeros(self.n)
        vm_inmig = np.zeros(self.n, bool)
        own = role != 2
        vm_alloc[e_vm[own]] = alloc[own]
        vm_inmig[e_vm[own]] = role[own] == 1
        return _State(util, alloc_mips, req_mips, req, vm_alloc, vm_inmig, u)

    def _power_now(self, util: np.ndarray) -> np.ndarray:
        if self.policy.power_mode == "npa":
            return self.p_max
        p = interpolate_power(self.tables, self.h_model, util)
        if self.fidelity.empty_host == "off":
            p = np.where(util > 0, p, 0.0)
        return p

    def _update(self, t: float, tick: bool) -> _State:
        """CloudSim's forced update: measure, charge energy, record, drop finished VMs."""
        state = self._measure(t)
        dt = t - self.t_last
        if dt > 0:
            if self.policy.power_mode == "npa":
                self.energy_j += float(self.p_max.sum()) * dt
            else:
                prev, cur = self.util_last, state.util
                p_prev = interpolate_power(self.tables, self.h_model, prev)
                p_cur = interpolate_power(self.tables, self.h_model, cur)
                e = (p_prev + (p_cur - p_prev) / 2) * dt
                if self.fidelity.empty_host == "off":
                    e = np.where(prev == 0, 0.0, e)
                self.energy_j += float(e.sum())
        self._record(t, state)
        self.util_last = state.util
        self.t_last = t
        if tick:
            self.hist[:, 1:] = self.hist[:, :-1]
            self.hist[:, 0] = np.where(self.alive, state.vm_u, 0.0)
            self.hist_len = min(self.hist_len + 1, self.hist.shape[1])
        self._remove_finished(t, state)
        return state

    def _remove_finished(self, t: float, state: _State) -> None:
        mode = self.fidelity.vm_removal
        if mode == "never":
            return
        if mode == "two-zeros":
            done = self.alive & ~self.inmig & (state.vm_req == 0)
        else:
            k = int(math.floor(t / self.step))
            done = self.alive & ~self.inmig & (self.data[:, k] == 0) & (k >= 1)
        if done.any():
            self.alive &= ~done
            self.host[done] = -1

    # ---------------------------------------------------------- migrations
    def start_migration(self, v: int, h: int) -> int:
        """Start moving VM ``v`` to host ``h`` now; the operation id."""
        self.inmig[v] = True
        op = self.seq
        self.flights.append(_Migration(v, h, self.now + self.v_ram[v] / self.mig_mb_s, op,
                                       self.next_pos))
        self.next_end = min(self.next_end, self.flights[-1].end)
        self.operations[op] = "running"
        self.seq += 1
        self.next_pos += 1
        self.migrations += 1
        self._restarted = True
        if self.timeline["migrations"]:
            self.timeline["migrations"][-1] += 1
        return op

    def moved_mb_since(self, t: float) -> float:
        """Memory moved by migrations that ended at or after ``t``."""
        while self.moved and self.moved[0][0] < t - 3600.0:
            self.moved.popleft()  # nobody asks further back than an hour
        return float(sum(mb for end, mb in self.moved if end >= t))

    def _complete_at(self, te: float, account: bool = True) -> None:
        """Finish the migrations ending at ``te``, with CloudSim's update before and after."""
        self.now = te
        if account:
            self._update(te, tick=False)
        done: list[_Migration] = []
        going: list[_Migration] = []
        for m in self.flights:
            (done if m.end == te else going).append(m)
        self.flights = going
        done.sort(key=lambda m: m.seq)
        self.next_end = min((m.end for m in self.flights), default=math.inf)
        for m in done:
            self.host[m.vm] = m.target
            self.pos[m.vm] = self.next_pos
            self.next_pos += 1
            self.inmig[m.vm] = False
            self.operations[m.seq] = "succeeded"
            self.moved.append((te, float(self.v_ram[m.vm])))
        if account:
            self._update(te, tick=False)

    def flavors_allocated(self) -> np.ndarray:
        """(H, R) what the VMs' flavors take on each host, as Nova counts it: a VM on its
        host, and also on its target while it migrates. Needs the data centre's flavors."""
        dc = self.datacentre
        on = np.flatnonzero(self.alive & (self.host >= 0))
        used = np.zeros_like(dc.host_allocatable)
        np.add.at(used, self.host[on], dc.vm_flavor[on])
        for m in self.flights:
            used[m.target] += dc.vm_flavor[m.vm]
        return used

    def refusal(self, v: int, h: int) -> str | None:
        """Why the cloud would refuse to move VM ``v`` to host ``h`` now; None if it would not.

        Nova's rules: a live-migratable VM, to a host that may receive and has
        room for its flavor (a VM counts on its source until it has arrived and
        on its target from the start), keeping server groups.
        """
        dc = self.datacentre
        if dc.vm_movable is not None and not dc.vm_movable[v]:
            return "only active instances are live-migrated"
        if dc.host_receives is not None and not dc.host_receives[h]:
            return "the host is down or disabled"
        if dc.host_allocatable is not None:
            used = self.flavors_allocated()[h]
            if np.any(used + dc.vm_flavor[v] > dc.host_allocatable[h] + 1e-9):
                return "the host has no room for its flavor"
        g = -1 if dc.vm_group is None else int(dc.vm_group[v])
        if g >= 0:
            members = (dc.vm_group == g) & self.alive & (np.arange(self.n) != v)
            others = self.host[members]
            if dc.group_policies[g] == "anti-affinity" and np.any(others == h):
                return "anti-affinity: another member of its server group is there"
            if dc.group_policies[g] == "affinity" and np.any(others != h):
                return "affinity: the rest of its server group is elsewhere"
        return None
