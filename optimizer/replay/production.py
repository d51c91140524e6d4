"""The simulated data centre as the collectors would describe it: a cluster snapshot.

Each round the replay's hosts and VMs become a :class:`ReplaySnapshot` that
every strategy plugin reads like a production snapshot: one vCPU = 1000 MIPS
(hosts and VMs keep their relative sizes), each instance with its last CPU
samples as its series (oldest first). The simulated cloud admits a VM by its
current CPU demand, not by its flavour (CloudSim's hosts hold no memory for a
VM after its creation and over-commit CPU freely), so the hosts carry no
allocation limit: the planner adds no ordering between the round's
migrations, as CloudSim starts them all at once.

The snapshot also carries the round exactly as the simulation measured it
(:attr:`ReplaySnapshot.round_input`: MIPS, per-model power tables, each
host's list order and measured utilisation), which the power-aware
consolidation plugin uses instead of re-deriving it, so the literature's
policies decide as CloudSim does.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.power_aware_consolidation import RoundInput

MIPS_PER_VCPU = 1000.0
#: allocation ratio of a simulated host: admission is by demand, never by flavour
UNLIMITED_RATIO = 1e6
DISK_GB = 1.0


def host_name(h: int) -> str:
    return f"host-{h:04d}"


def vm_name(v: int) -> str:
    return f"vm-{v:05d}"


@dataclass(frozen=True, eq=False)
class ReplaySnapshot(ClusterSnapshot):
    """A snapshot of the simulated data centre, with the round as the simulation measured it."""

    round_input: RoundInput | None = None


class SnapshotMaker:
    """Builds the snapshot of a :class:`~optimizer.replay.simulation.Replay` at each round.

    The host columns never change and are built once; instance columns are
    whole-array operations, so 10,000 VMs cost milliseconds a round.
    """

    def __init__(self, replay):
        self.replay = replay
        s, dc = replay.setup, replay.datacentre
        self.host_names = tuple(host_name(h) for h in range(s.hosts))
        self.host_index = {name: h for h, name in enumerate(self.host_names)}
        self.vm_names = np.array([vm_name(v) for v in range(replay.n)], dtype=object)
        nh = s.hosts
        cores = replay.h_cap / MIPS_PER_VCPU
        self.host_size = _frozen(np.column_stack([cores, replay.h_ram, np.full(nh, 1000.0)]))
        self.zeros = _frozen(np.zeros((nh, 3)))
        ratios = np.full((nh, 3), UNLIMITED_RATIO)
        if dc.host_allocatable is not None:
            # a cloud's hosts allocate by flavor: size x ratio is what Nova would place
            with np.errstate(divide="ignore", invalid="ignore"):
                ratios[:, :2] = np.where(self.host_size[:, :2] > 0,
                                         dc.host_allocatable / self.host_size[:, :2], 0.0)
        self.ratios = _frozen(ratios)
        receives = np.ones(nh, bool) if dc.host_receives is None else dc.host_receives
        self.up = _frozen(np.ones(nh, bool))
        self.enabled = _frozen(np.asarray(receives, bool).copy())
        self.nones = (None,) * nh
        self.no_aggregates = ((),) * nh
        self.vm_size = np.column_stack([replay.v_mips / MIPS_PER_VCPU, replay.v_ram,
                                        np.full(replay.n, DISK_GB)])
        if dc.vm_flavor is not None:
            self.vm_size[:, :2] = dc.vm_flavor
        self.vm_state = np.array(["active"] * replay.n, dtype=object)
        if dc.vm_movable is not None:
            self.vm_state[~dc.vm_movable] = "shutoff"
        self.vm_group = (np.full(replay.n, -1, dtype=np.int32) if dc.vm_group is None
                         else dc.vm_group.astype(np.int32))
        self.group_policies = tuple(dc.group_policies)
        self.group_names = tuple(f"group-{g}" for g in range(len(self.group_policies)))

    def __call__(self) -> ReplaySnapshot:
        r = self.replay
        state = r.state
        vms = np.flatnonzero(r.alive & (r.host >= 0))
        n = r.hist_len
        uuids = tuple(self.vm_names[vms].tolist())
        size = self.vm_size[vms]
        series = r.hist[vms, :n][:, ::-1].astype(np.float32) if n else None
        snapshot = ReplaySnapshot(
            name="replay", metrics_step_s=int(r.setup.interval_s),
            host_names=self.host_names, host_size=self.host_size, host_reserved=self.zeros,
            host_ratio=self.ratios, host_up=self.up, host_enabled=self.enabled,
            host_disabled_reason=self.nones, host_zone=self.nones, host_rack=self.nones,
            host_aggregates=self.no_aggregates,
            inst_uuids=uuids, inst_names=(None,) * len(vms), inst_size=_frozen(size),
            inst_host=_frozen(r.host[vms].astype(np.int32)), inst_state=self._states(vms),
            inst_cpu_util=_frozen(np.minimum(state.vm_u[vms], 1.0)),
            inst_memory_util=_frozen(np.ones(len(vms))),
            inst_series=_frozen(series) if series is not None else None,
            inst_group=_frozen(self.vm_group[vms]),
            group_names=self.group_names, group_policies=self.group_policies,
            inst_pinned=_frozen(r.inmig[vms].copy()) if r.inmig[vms].any() else None,
            round_input=self.round_input(vms))
        snapshot._index.update(hosts=self.host_index,
                               instances={u: i for i, u in enumerate(uuids)},
                               groups={g: k for k, g in enumerate(self.group_names)})
        return snapshot

    def _states(self, vms: np.ndarray) -> tuple[str, ...]:
        if self.replay.datacentre.vm_movable is None:
            return ("active",) * len(vms)
        return tuple(self.vm_state[vms].tolist())

    def round_input(self, vms: np.ndarray) -> RoundInput:
        """The round as the simulation measured it, for the VMs ``vms`` (indices)."""
        r = self.replay
        dc = r.datacentre
        movable = ~r.inmig[vms]
        if dc.vm_movable is not None:
            movable &= dc.vm_movable[vms]
        room = flavor = None
        if dc.host_allocatable is not None:
            room, flavor = dc.host_allocatable - r.flavors_allocated(), dc.vm_flavor[vms]
        return RoundInput(
            host_capacity=r.h_cap, host_core=r.h_core, host_util=r.state.util,
            host_model=r.h_model, power_tables=r.tables, vm_host=r.host[vms],
            vm_requested=r.state.vm_req[vms], vm_capacity=r.v_mips[vms],
            vm_ram_mb=r.v_ram[vms], vm_history=r.hist[vms],
            vm_history_len=np.full(len(vms), r.hist_len), vm_order=r.pos[vms],
            movable=movable, host_room=room, vm_flavor=flavor,
            vm_pinned=None if dc.vm_movable is None else ~dc.vm_movable[vms])

    @cached_property
    def index_of_vm(self) -> dict[str, int]:
        return {name: v for v, name in enumerate(self.vm_names.tolist())}


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
