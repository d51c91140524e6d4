"""Consolidation as a mixed-integer program over instance classes, solved by HiGHS.

Variables, for model hosts ``h`` and instance classes ``c``:

- ``y[h]`` binary: host ``h`` runs at least one instance;
- ``n[c, h]`` integer: members of class ``c`` that end on ``h``;
- ``s[c, h]`` continuous, only where class ``c`` has members on ``h`` now:
  members that stay. At an optimum ``s = min(n, current)``, which is whole.

Objective: ``sum y + eps * moved memory`` with ``eps * total memory < 1``, so
one host always outweighs every migration. Moved memory is written as
``sum mem_c * (n - s)``: what arrives on a host and did not start there.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from optimizer.models.records import MEMORY
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.instance_classes import InstanceClasses


@dataclass(frozen=True)
class MilpOutcome:
    """What the solver returned: counts per class and host, or none, and how good."""

    counts: np.ndarray | None   # (C, Hm) whole numbers, None when no solution was found
    status: str                 # HiGHS message, e.g. "Optimal" or "Time limit reached"
    gap: float                  # proven relative gap of the objective, inf without a solution
    seconds: float
    variables: int
    hosts_lower_bound: int      # the cut sum(y) >= bound added to the model


class _Rows:
    """Sparse constraint rows collected as triplets, with their bounds."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.lower: list[float] = []
        self.upper: list[float] = []

    def add(self, cols, vals, lower: float, upper: float) -> None:
        cols = np.asarray(cols, dtype=np.int64)
        self.rows.append(np.full(cols.size, len(self.lower), dtype=np.int64))
        self.cols.append(cols)
        self.vals.append(np.broadcast_to(np.asarray(vals, dtype=np.float64), cols.shape))
        self.lower.append(lower)
        self.upper.append(upper)

    def constraint(self, variables: int):
        # scipy.optimize takes a second to import: only audits that solve pay for it
        from scipy.optimize import LinearConstraint
        from scipy.sparse import coo_array

        matrix = coo_array(
            (np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
            shape=(len(self.lower), variables)).tocsr()
        return LinearConstraint(matrix, np.array(self.lower), np.array(self.upper))


def problem_size(hosts: int, pooled_classes: int, instances: int) -> int:
    """Variables a model will have, about: y and n per host, s at most one per instance.

    Server-group members are counted once, with the instances: their
    variables are binary in effect and their rules make them cheap to solve.
    """
    return hosts * (1 + pooled_classes) + instances


def solve_consolidation(snapshot: ClusterSnapshot, classes: InstanceClasses, *,
                        target_cpu_load: float, time_limit_s: float,
                        mip_rel_gap: float) -> MilpOutcome:
    """Fewest active hosts for ``classes``, then least moved memory."""
    started = time.perf_counter()
    hosts = classes.hosts
    n_hosts, n_classes = len(hosts), len(classes)
    count = classes.count
    receive = snapshot.can_receive[hosts]
    alloc = snapshot.allocatable[hosts]
    cpu_cap = target_cpu_load * snapshot.host_cores[hosts]

    def n_var(c, k):
        return n_hosts + c * n_hosts + k

    stay_c, stay_k = np.nonzero(classes.current)
    n_stay = stay_c.size
    s_first = n_hosts + n_classes * n_hosts
    variables = s_first + n_stay

    # how many of a class a host can hold at all: tight bounds make a strong relaxation
    with np.errstate(divide="ignore", invalid="ignore"):
        fit = np.floor(np.min(np.where(classes.size[:, None, :] > 0,
                                       alloc[None, :, :] / classes.size[:, None, :], np.inf),
                              axis=2) + 1e-9)
    upper = np.minimum(count[:, None], fit)
    upper = np.where(receive[None, :], upper, classes.current)  # others may only keep
    upper = np.maximum(upper, 0)

    memory = classes.size[:, MEMORY]
    eps = 1.0 / (float((memory * count).sum()) + 1.0)
    cost = np.zeros(variables)
    cost[:n_hosts] = 1.0
    cost[n_hosts:s_first] = np.repeat(eps * memory, n_hosts)
    cost[s_first:] = -eps * memory[stay_c]

    lower_b = np.zeros(variables)
    upper_b = np.concatenate([np.ones(n_hosts), upper.ravel(), classes.current[stay_c, stay_k]])
    integrality = np.concatenate([np.ones(s_first), np.zeros(n_stay)])

    rows = _Rows()
    cols_h = np.arange(n_hosts)
    for c in range(n_classes):  # every instance placed exactly once
        rows.add(n_var(c, cols_h), 1.0, count[c], count[c])
    for k in np.flatnonzero(receive):  # capacity per resource, and CPU demand
        ns = n_var(np.arange(n_classes), k)
        for r in range(alloc.shape[1]):
            rows.add(np.append(ns, k), np.append(classes.size[:, r], -alloc[k, r]), -np.inf, 0)
        rows.add(np.append(ns, k), np.append(classes.demand, -cpu_cap[k]), -np.inf, 0)
    for c in range(n_classes):  # a host holding anything is active
        for k in np.flatnonzero(upper[c] > 0):
            rows.add([n_var(c, k), k], [1.0, -upper[c, k]], -np.inf, 0)
    for j, (c, k) in enumerate(zip(stay_c, stay_k, strict=True)):  # stay only where kept
        rows.add([s_first + j, n_var(c, k)], [1.0, -1.0], -np.inf, 0)
        rows.add([s_first + j, k], [1.0, -float(classes.current[c, k])], -np.inf, 0)
    _group_rows(snapshot, classes, rows, n_var, n_hosts)
    bound = hosts_lower_bound(snapshot, classes, target_cpu_load)
    rows.add(cols_h, 1.0, bound, np.inf)

    from scipy.optimize import Bounds, milp

    result = milp(cost, integrality=integrality, bounds=Bounds(lower_b, upper_b),
                  constraints=rows.constraint(variables),
                  options={"time_limit": max(time_limit_s, 0.01),
                           "mip_rel_gap": mip_rel_gap, "disp": False})
    counts = None
    gap = float("inf")
    if result.x is not None:
        counts = np.rint(result.x[n_hosts:s_first]).astype(np.int64).reshape(n_classes, n_hosts)
        gap = float(result.mip_gap) if result.mip_gap is not None else 0.0
        # the objective is at least the bound cut, which may prove more than HiGHS has yet
        gap = max(0.0, min(gap, (result.fun - bound) / result.fun if result.fun > 0 else 0.0))
    return MilpOutcome(counts=counts, status=str(result.message), gap=gap,
                       seconds=time.perf_counter() - started, variables=variables,
                       hosts_lower_bound=bound)


def _group_rows(snapshot: ClusterSnapshot, classes: InstanceClasses, rows: _Rows,
                n_var, n_hosts: int) -> None:
    """Anti-affinity: at most one member a host. Affinity: members share one host."""
    cols_h = np.arange(n_hosts)
    for g in np.unique(classes.group[classes.group >= 0]):
        group_classes = np.flatnonzero(classes.group == g)
        if snapshot.group_policies[g] == "anti-affinity":
            for k in cols_h:
                rows.add(n_var(group_classes, k), 1.0, -np.inf, 1)
        else:
            first = group_classes[0]
            for c in group_classes[1:]:
                for k in cols_h:
                    rows.add([n_var(c, k), n_var(first, k)], [1.0, -1.0], 0, 0)


def hosts_lower_bound(snapshot: ClusterSnapshot, classes: InstanceClasses,
                      target_cpu_load: float) -> int:
    """Fewest model hosts whose capacity covers the classes, largest hosts first.

    Hosts that cannot receive count with what they hold now, the most they
    may keep; the bound is valid for the model and tightens its relaxation.
    """
    hosts = classes.hosts
    receive = snapshot.can_receive[hosts]
    kept = classes.current.T  # (Hm, C)
    capacity = np.column_stack([
        np.where(receive[:, None], snapshot.allocatable[hosts], kept @ classes.size),
        np.where(receive, target_cpu_load * snapshot.host_cores[hosts], kept @ classes.demand),
    ])
    count = classes.count
    totals = np.append(count @ classes.size, count @ classes.demand)
    bound = 0
    for r, total in enumerate(totals):
        covered = np.cumsum(np.sort(capacity[:, r])[::-1])
        bound = max(bound, int(np.searchsorted(covered, total - 1e-6)) + 1 if total > 0 else 0)
    return min(bound, len(hosts))
