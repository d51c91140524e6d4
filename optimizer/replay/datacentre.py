"""The data centre a replay runs, whatever it was built from.

Hosts (CPU, RAM, power model), VMs (size, RAM, initial host, CPU series) and
what may move where, as arrays. Two builders:

* :func:`planetlab_datacentre`: the CCPE 2012 experiment as CloudSim builds
  it: ``Setup.hosts`` hosts taking the power models in turn, VMs typed in
  four equal blocks of the trace listing, no initial host (the policy places
  them at t = 0 by their requested MIPS);
* :func:`snapshot_datacentre`: a :class:`ClusterSnapshot` (a scenario file or
  the operator's cloud), its placement being the initial placement.

Units: CPU in MIPS, one vCPU = 1000 MIPS (as the production rounds assume).
A snapshot host's CPU is its physical cores, ``vcpus - vcpus_reserved``, not
its overcommitted allocatable capacity: power and shortage of CPU depend on
the cores doing the work. One VM may use all of its vCPUs, so a snapshot
host's per-VM cap (``host_core``) is the whole host; PlanetLab VMs have one
virtual core and get at most one physical core, as in CloudSim.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from optimizer.models.errors import UserError
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.replay.power import HP_ML110_G5, PowerTable
from optimizer.replay.traces import SAMPLE_STEP_S, Traces

MIPS_PER_VCPU = 1000.0
#: the table a snapshot host gets when no --power-tables file is given
DEFAULT_POWER = HP_ML110_G5
#: the table name in a --power-tables file that applies to hosts no other table names
DEFAULT_TABLE = "default"


@dataclass(frozen=True)
class DataCentre:
    """Hosts and VMs of one replay; series in utilisation of the VM's own CPU (0..1)."""

    name: str
    host_names: tuple[str, ...]
    host_capacity: np.ndarray        # (H,) MIPS
    host_core: np.ndarray            # (H,) the most MIPS one VM can get on the host
    host_ram_mb: np.ndarray          # (H,)
    host_model: np.ndarray           # (H,) index into ``models``
    models: tuple[PowerTable, ...]
    vm_names: tuple[str, ...]
    vm_mips: np.ndarray              # (V,)
    vm_ram_mb: np.ndarray            # (V,)
    series: np.ndarray               # (V, S), one sample every ``step_s``
    step_s: int = SAMPLE_STEP_S
    #: (V,) host index at t = 0; None: the policy places every VM at t = 0
    vm_host: np.ndarray | None = None
    #: (H,) hosts that may receive a migration (up and enabled); None: all
    host_receives: np.ndarray | None = None
    #: (V,) VMs that may be live-migrated; None: all
    vm_movable: np.ndarray | None = None
    #: (H, 2) vCPUs and memory MB a host may allocate (after ratios and reserves) and
    #: (V, 2) each VM's flavor: a migration must fit, as Nova's scheduler checks; None: no check
    host_allocatable: np.ndarray | None = None
    vm_flavor: np.ndarray | None = None
    #: (V,) server group index, -1 for none; policies in ``group_policies``
    vm_group: np.ndarray | None = None
    group_policies: tuple[str, ...] = ()
    #: facts about the source the run reports (power models used, missing history ...)
    notes: dict = field(default_factory=dict)

    @property
    def hosts(self) -> int:
        return len(self.host_names)

    @property
    def vms(self) -> int:
        return len(self.vm_names)

    def samples_for(self, duration_s: float) -> int:
        """Series samples a replay of ``duration_s`` reads (the first at t = 0)."""
        return int(math.ceil(duration_s / self.step_s))


def planetlab_datacentre(traces: Traces, hosts: int, models: tuple[PowerTable, ...],
                         vm_types: tuple[tuple[float, float], ...],
                         host_ram_mb: float) -> DataCentre:
    """CloudSim's set-up for a trace folder: host i has model i mod len(models)."""
    n = len(traces.names)
    h_model = np.arange(hosts) % len(models)
    block = math.ceil(n / len(vm_types))
    types = np.arange(n) // block
    return DataCentre(
        name=str(traces.folder),
        host_names=tuple(f"host-{h:04d}" for h in range(hosts)),
        host_capacity=np.array([models[m].capacity for m in h_model], dtype=float),
        host_core=np.array([models[m].core_mips for m in h_model], dtype=float),
        host_ram_mb=np.full(hosts, float(host_ram_mb)),
        host_model=h_model,
        models=tuple(models),
        vm_names=tuple(traces.names),
        vm_mips=np.array([vm_types[t][0] for t in types], dtype=float),
        vm_ram_mb=np.array([vm_types[t][1] for t in types], dtype=float),
        series=traces.percent / 100.0,
    )


def snapshot_datacentre(snapshot: ClusterSnapshot, series: np.ndarray, step_s: int,
                        tables: tuple[PowerTable, ...] | None = None,
                        tables_source: str = "--power-tables") -> DataCentre:
    """The snapshot's hosts, instances, placement and groups, with ``series`` per instance.

    ``series`` (N, S) is each instance's CPU use as a fraction of its vcpus,
    ``step_s`` apart, without holes. Instances that are not ``active`` use no
    CPU and stay where they are; only up and enabled hosts receive migrations,
    and only what fits their allocatable vCPUs and memory.
    """
    names = snapshot.host_names
    models, host_model = host_power_models(snapshot, tables, tables_source)
    cores = np.maximum(snapshot.host_size[:, 0] - snapshot.host_reserved[:, 0], 0.0)
    capacity = cores * MIPS_PER_VCPU
    ram = np.maximum(snapshot.host_size[:, 1] - snapshot.host_reserved[:, 1], 0.0)
    vcpus = snapshot.inst_size[:, 0].astype(float)
    active = np.array([s == "active" for s in snapshot.inst_state], dtype=bool)
    counts = Counter(models[m].name for m in host_model.tolist())
    return DataCentre(
        name=snapshot.name,
        host_names=tuple(names),
        host_capacity=capacity,
        host_core=capacity.copy(),
        host_ram_mb=ram,
        host_model=host_model,
        models=models,
        vm_names=tuple(n or u for n, u in zip(snapshot.inst_names, snapshot.inst_uuids,
                                              strict=True)),
        vm_mips=vcpus * MIPS_PER_VCPU,
        vm_ram_mb=snapshot.inst_size[:, 1].astype(float),
        series=np.where(active[:, None], series, 0.0),
        step_s=int(step_s),
        vm_host=snapshot.inst_host.astype(np.intp),
        host_receives=snapshot.host_up & snapshot.host_enabled & (capacity > 0),
        vm_movable=snapshot.movable & active,
        host_allocatable=snapshot.allocatable[:, :2].astype(float),
        vm_flavor=snapshot.inst_size[:, :2].astype(float),
        vm_group=snapshot.inst_group.astype(np.intp),
        group_policies=tuple(snapshot.group_policies),
        notes={"power_models": dict(sorted(counts.items())),
               "power_tables": tables_source if tables is not None else
               "built-in for every host: no --power-tables given"},
    )


def host_power_models(snapshot: ClusterSnapshot, tables: tuple[PowerTable, ...] | None,
                      source: str) -> tuple[tuple[PowerTable, ...], np.ndarray]:
    """Each host's power table: the first of its aggregates that names one, else ``default``.

    A cluster scenario names no hardware model, but clouds group hosts of one
    model in a host aggregate, so a table is matched to a host by aggregate
    name. Without ``tables`` every host gets :data:`DEFAULT_POWER`; with them a
    host that no table matches (and no ``default`` table) is an error naming it.
    """
    if tables is None:
        return (DEFAULT_POWER,), np.zeros(snapshot.host_count, dtype=np.intp)
    by_name = {t.name: k for k, t in enumerate(tables)}
    fallback = by_name.get(DEFAULT_TABLE)
    chosen = np.empty(snapshot.host_count, dtype=np.intp)
    for h, aggregates in enumerate(snapshot.host_aggregates):
        k = next((by_name[a] for a in aggregates if a in by_name), fallback)
        if k is None:
            shown = ", ".join(repr(a) for a in aggregates) or "none"
            raise UserError(f"{source}: host {snapshot.host_names[h]!r} (aggregates: {shown}) "
                            f"has no power table; name one of its aggregates in the file, or "
                            f"add a table called {DEFAULT_TABLE!r} (tables: "
                            f"{', '.join(repr(t.name) for t in tables)})")
        chosen[h] = k
    return tuple(tables), chosen
