"""Power-aware dynamic consolidation (Beloglazov & Buyya, CCPE 2012) on arrays.

One consolidation round is :func:`plan_round`: find the overloaded hosts with a
detector (THR, IQR, MAD, LR, LRR), pick VMs off them with a selection policy
(MMT, MC, RS), place those VMs with power-aware best-fit decreasing (PABFD),
then try to empty every active host, lowest utilisation first. Everything is
in CPU capacity units (MIPS in the literature) on numpy arrays; the replay
(``optimizer replay``) calls this same function every simulated round, and the
``power_aware_consolidation`` strategy plugin calls it on a cluster snapshot,
so audits and the replay share the decision code.

The round follows CloudSim 3.0.3's ``PowerVmAllocationPolicyMigrationAbstract``
(the choices are listed in the replay section of the README); the switches
that differ in the paper's runs are fields of :class:`ConsolidationPolicy`.
Three more fields, off by default, make the policy recommended for automatic
mode (``--policy recommended``): placement charges waking a host its idle
power, only lightly used hosts are emptied, and their VMs go only where a
stricter detector still leaves headroom.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, replace

import numpy as np
from optimizer.models.snapshot import ClusterSnapshot
from optimizer.strategies.base import Strategy
from optimizer.strategies.moves import consolidation_indicators
from optimizer.strategies.parameters import param
from optimizer.strategies.solution import Indicator, Migrate, Solution

DETECTORS = ("thr", "iqr", "mad", "lr", "lrr")
SELECTIONS = ("mmt", "mc", "rs")
#: the paper's parameter for each detector (its best setting)
PAPER_SAFETY = {"thr": 0.8, "iqr": 1.5, "mad": 2.5, "lr": 1.2, "lrr": 1.2}


# --------------------------------------------------------------------- power

def interpolate_power(tables: np.ndarray, model: np.ndarray, util: np.ndarray) -> np.ndarray:
    """Watts of hosts of ``model`` (rows of ``tables``, W at 0, 10 … 100 %) at ``util``.

    Linear between the 10 % points, computed the way CloudSim's
    ``PowerModelSpecPower`` does so that ties between hosts break alike.
    """
    u = np.minimum(np.maximum(util, 0.0), 1.0)
    u10 = u * 10
    lo = np.floor(u10)
    base = model * tables.shape[1]
    flat = tables.ravel()
    p1 = flat.take(base + lo.astype(np.intp))
    p2 = flat.take(base + np.ceil(u10).astype(np.intp))
    return p1 + (p2 - p1) / 10 * (u - lo / 10) * 100


# ----------------------------------------------------------------- detectors

def iqr(values: np.ndarray) -> float:
    """Interquartile range with CloudSim's quartile positions (round((n+1)/4) - 1)."""
    return float(iqr_rows(np.asarray(values, float)[None, :])[0])


def mad(values: np.ndarray) -> float:
    """Median absolute deviation from the median (Commons Math's 50th percentile)."""
    return float(mad_rows(np.asarray(values, float)[None, :])[0])


def iqr_rows(rows: np.ndarray) -> np.ndarray:
    """:func:`iqr` of every row of a (k, n) array."""
    data = np.sort(rows, axis=1)
    n = rows.shape[1]
    q1 = int(math.floor(0.25 * (n + 1) + 0.5)) - 1
    q3 = int(math.floor(0.75 * (n + 1) + 0.5)) - 1
    return data[:, q3] - data[:, q1]


def _median_sorted(data: np.ndarray) -> np.ndarray:
    """Commons Math's default 50th percentile of each sorted row."""
    n = data.shape[1]
    pos = 0.5 * (n + 1)
    if pos < 1:
        return data[:, 0]
    if pos >= n:
        return data[:, -1]
    low = int(math.floor(pos))
    lower, upper = data[:, low - 1], data[:, low]
    return lower + (pos - low) * (upper - lower)


def mad_rows(rows: np.ndarray) -> np.ndarray:
    """:func:`mad` of every row of a (k, n) array."""
    med = _median_sorted(np.sort(rows, axis=1))
    return _median_sorted(np.sort(np.abs(med[:, None] - rows), axis=1))


def _tricube(n: int) -> np.ndarray:
    """Tricube weights of loess, newest sample (last) weighted most."""
    top = n - 1
    dist = (top - np.arange(n)) / top
    return (1 - dist ** 3) ** 3


def lr_weights(window: int, ahead: float, weighted: bool) -> np.ndarray:
    """Weights ``w`` such that the fitted line's value at ``window + ahead`` is ``w @ y``.

    ``y`` is the window oldest first at x = 1 … window. Unweighted (CloudSim
    3.0.3, whose loess weights are never applied) or with tricube weights.
    """
    x = np.arange(1, window + 1, dtype=float)
    wts = _tricube(window) if weighted else np.ones(window)
    design = np.column_stack([np.ones(window), x])
    gram = design.T @ (design * wts[:, None])
    coef_map = np.linalg.solve(gram, design.T * wts)  # (2, window): y -> (a, b)
    return coef_map[0] + coef_map[1] * (window + ahead)


def robust_lr_prediction(y: np.ndarray, ahead: float) -> float:
    """Loess line with one bisquare robustness pass (LRR), value ``ahead`` past the window."""
    n = len(y)
    x = np.arange(1, n + 1, dtype=float)
    base = _tricube(n)

    def fit(weights: np.ndarray) -> tuple[float, float]:
        design = np.column_stack([np.ones(n), x])
        gram = design.T @ (design * weights[:, None])
        a, b = np.linalg.lstsq(gram, design.T @ (weights * y), rcond=None)[0]
        return float(a), float(b)

    a, b = fit(base)
    resid = np.abs(y - (a + b * x))
    scale = 6 * np.median(resid)
    robust = np.ones(n) if scale == 0 else np.clip(1 - (resid / scale) ** 2, 0, None) ** 2
    a, b = fit(base * robust)
    return a + b * (n + ahead)


@dataclass(frozen=True)
class ConsolidationPolicy:
    """Detector, its safety parameter, VM selection, and the modelling switches."""

    detector: str = "lr"
    safety: float = 1.2
    selection: str = "mmt"
    #: PABFD sees VMs it placed earlier in the same round (CloudSim >= f51d7050)
    count_round_placements: bool = True
    #: LR fits with tricube weights, as the paper did (3.0.3 fits plain least squares)
    lr_weighted: bool = False
    fallback_threshold: float = 0.7
    min_history: int = 12
    lr_window: int = 10
    interval_s: float = 300.0
    migration_mb_per_s: float = 62.5
    seed: int = 0
    #: placement charges a switched-off host its idle power; CloudSim charges only the
    #: rise above idle, so waking a host looks as cheap as filling a running one
    charge_switch_on: bool = False
    #: the underload phase tries only hosts below this utilisation (CloudSim: every host)
    underload_below: float = 1.0
    #: the detector's parameter when placing the VMs of a host being emptied (None:
    #: ``safety``); a stricter one keeps headroom on the hosts that take them, so they
    #: are not overloaded and relieved again a few rounds later
    underload_safety: float | None = None

    def __post_init__(self):
        if self.detector not in DETECTORS:
            raise ValueError(f"unknown detector {self.detector!r}")
        if self.selection not in SELECTIONS:
            raise ValueError(f"unknown VM selection {self.selection!r}")


@dataclass
class RoundInput:
    """What one round sees: hosts and VMs as arrays, CPU in capacity units (MIPS).

    ``vm_history`` holds each VM's past utilisation as a fraction of its own
    capacity, newest first, zero beyond ``vm_history_len``. ``vm_order`` gives
    each VM's position in its host's list (ties in selection go to the first).
    ``host_util`` is each host's utilisation at the last measurement; a host at
    0 counts as switched off. ``host_room`` (H, R), when given, is what each
    host may still allocate by flavor (a cloud's allocation ratios and
    reserves, its instances counted) and ``vm_flavor`` (V, R) what each VM
    allocates: placement then only picks hosts with room (CloudSim has none).
    ``vm_pinned`` marks VMs that never move (a cloud's stopped or scoped-out
    instances, unlike a VM that is only mid-migration): a host holding one is
    not emptied, and stays a destination.
    """

    host_capacity: np.ndarray
    host_core: np.ndarray
    host_util: np.ndarray
    host_model: np.ndarray
    power_tables: np.ndarray
    vm_host: np.ndarray
    vm_requested: np.ndarray
    vm_capacity: np.ndarray
    vm_ram_mb: np.ndarray
    vm_history: np.ndarray
    vm_history_len: np.ndarray
    vm_order: np.ndarray
    movable: np.ndarray | None = None
    host_room: np.ndarray | None = None
    vm_flavor: np.ndarray | None = None
    vm_pinned: np.ndarray | None = None


@dataclass
class RoundPlan:
    """The round's migrations (VM, target host) in start order, and what it saw."""

    migrations: list[tuple[int, int]] = field(default_factory=list)
    overloaded: list[int] = field(default_factory=list)
    underloaded_emptied: int = 0


def _listed(inp: RoundInput) -> tuple[list[int], list[int]]:
    """VMs on hosts in each host's list order, and their hosts."""
    on = np.lexsort((inp.vm_order, inp.vm_host))
    on = on[inp.vm_host[on] >= 0]
    return on.tolist(), inp.vm_host[on].tolist()


class _Round:
    """Tentative allocation of one round: per-host sums kept as VMs move on paper."""

    def __init__(self, inp: RoundInput, policy: ConsolidationPolicy):
        self.inp, self.pol = inp, policy
        nh = len(inp.host_capacity)
        self.cap = inp.host_capacity.astype(float)
        self.core = inp.host_core.astype(float)
        self.lists: list[list[int]] = [[] for _ in range(nh)]
        for v, h in zip(*_listed(inp), strict=True):
            self.lists[h].append(v)
        hist = inp.vm_history
        self.hlen = hist.shape[1]
        self.vm_scaled_hist = hist * inp.vm_capacity[:, None]
        self.req = inp.vm_requested.astype(float)
        ahead = math.ceil(float(np.max(inp.vm_ram_mb, initial=0)) / policy.migration_mb_per_s
                          / policy.interval_s)
        self.ahead = max(ahead, 1)
        self.lr_w = lr_weights(policy.lr_window, self.ahead, policy.lr_weighted)
        win = min(policy.lr_window, self.hlen)
        self.vm_lr = self.vm_scaled_hist[:, :win][:, ::-1] @ self.lr_w[-win:] if win else \
            np.zeros(len(self.req))
        on = np.lexsort((inp.vm_order, inp.vm_host))  # each host's list order, as sums go
        on = on[inp.vm_host[on] >= 0]
        hosts = inp.vm_host[on]
        self.alloc = np.bincount(hosts, np.minimum(self.req[on], self.core[hosts]), nh)
        self.reqsum = np.bincount(hosts, self.req[on], nh)
        self.hist = np.zeros((nh, self.hlen))
        np.add.at(self.hist, hosts, self.vm_scaled_hist[on] / self.cap[hosts][:, None])
        self.lrp = np.bincount(hosts, self.vm_lr[on] / self.cap[hosts], nh)
        self.hostlen = np.zeros(nh, dtype=np.intp)
        np.maximum.at(self.hostlen, hosts, inp.vm_history_len[on].astype(np.intp))
        self.nvm = np.bincount(hosts, minlength=nh).astype(np.intp)
        self.occ = self.nvm > 0
        self.min_core = float(self.core.min(initial=0.0))
        self._allowed = np.ones(nh, bool)
        self._reps: np.ndarray | None = None
        self._open: np.ndarray | None = None
        self.free = self.cap - self.alloc
        # flavor room, tracked only for a cloud's hosts (copied: the round moves on paper)
        self.room = None if inp.host_room is None else inp.host_room.astype(float).copy()
        self.flavor = inp.vm_flavor
        width = inp.power_tables.shape[1]
        self._flat = inp.power_tables.ravel()
        # per-segment slope as PowerModelSpecPower computes it, (p[k+1] - p[k]) / 10
        slope = np.zeros_like(inp.power_tables)
        slope[:, :-1] = (inp.power_tables[:, 1:] - inp.power_tables[:, :-1]) / 10
        self._slope = slope.ravel()
        self._mbase = inp.host_model.astype(np.intp) * width
        self.p_now = interpolate_power(inp.power_tables, inp.host_model, inp.host_util)
        if policy.charge_switch_on:  # a switched-off host draws nothing until it is used
            self.p_now = np.where(inp.host_util > 0, self.p_now, 0.0)
        self.safety = policy.safety  # the detector's, or underload_safety while emptying
        self.models = np.unique(inp.host_model)
        self.model_hosts = [np.flatnonzero(inp.host_model == m) for m in self.models]
        self.rng = np.random.default_rng(policy.seed)
        self.ram = inp.vm_ram_mb.tolist()  # MMT compares RAM one VM at a time
        # LRR without weights is LR (CloudSim 3.0.3 never applies the loess weights)
        self.linear = policy.detector in ("thr", "lr") or (
            policy.detector == "lrr" and not policy.lr_weighted)
        self.kind = "lr" if policy.detector == "lrr" and self.linear else policy.detector

    # -- tentative moves
    def _recompute(self, h: int) -> None:
        vms = self.lists[h]
        cap = self.cap[h]
        if not vms:
            self.alloc[h] = self.reqsum[h] = self.lrp[h] = 0.0
            self.hist[h] = 0.0
            self.hostlen[h] = 0
            self.occ[h] = False
            self.free[h] = self.cap[h]
            self._reps = self._open = None
            return
        idx = np.asarray(vms)
        r = self.req[idx]
        self.alloc[h] = np.minimum(r, self.core[h]).sum()
        self.free[h] = self.cap[h] - self.alloc[h]
        self.reqsum[h] = r.sum()
        self.hist[h] = (self.vm_scaled_hist[idx] / cap).sum(axis=0)
        self.lrp[h] = self.vm_lr[idx].sum() / cap
        self.hostlen[h] = int(self.inp.vm_history_len[idx].max())

    def add(self, v: int, h: int) -> None:
        self.lists[h].append(v)
        self.nvm[h] += 1
        if not self.occ[h]:
            self.occ[h] = True
            self._reps = self._open = None
        cap = self.cap[h]
        self.alloc[h] += min(self.req[v], self.core[h])
        self.free[h] = cap - self.alloc[h]
        self.reqsum[h] += self.req[v]
        self.hist[h] += self.vm_scaled_hist[v] / cap
        self.lrp[h] += self.vm_lr[v] / cap
        self.hostlen[h] = max(self.hostlen[h], int(self.inp.vm_history_len[v]))
        if self.room is not None:
            self.room[h] -= self.flavor[v]

    def remove(self, v: int, h: int) -> None:
        self.lists[h].remove(v)
        self.nvm[h] -= 1
        self._recompute(h)
        if self.room is not None:
            self.room[h] += self.flavor[v]

    # -- detector
    def overloaded(self, h: int, extra: int = -1) -> bool:
        """Whether the detector flags host ``h`` (with VM ``extra`` added)."""
        pol, cap = self.pol, self.cap[h]
        req = self.reqsum[h] + (self.req[extra] if extra >= 0 else 0.0)
        util = req / cap
        if self.kind == "thr":
            return util > self.safety
        n = self.hostlen[h]
        if extra >= 0:
            n = max(n, int(self.inp.vm_history_len[extra]))
        need = pol.min_history if pol.detector in ("iqr", "mad") else pol.lr_window
        if n < need:
            return util > pol.fallback_threshold
        if self.kind == "lr":
            pred = self.lrp[h] + (self.vm_lr[extra] / cap if extra >= 0 else 0.0)
            return self.safety * pred >= 1
        hist = self.hist[h, :n]
        if extra >= 0:
            hist = hist + self.vm_scaled_hist[extra, :n] / cap
        if pol.detector == "lrr":
            y = hist[:pol.lr_window][::-1]
            return self.safety * robust_lr_prediction(y, self.ahead) >= 1
        spread = iqr(hist) if pol.detector == "iqr" else mad(hist)
        return util > 1 - self.safety * spread

    # -- selection
    def select(self, h: int) -> int:
        vms = self.movable_on(h)
        if not vms:
            return -1
        sel = self.pol.selection
        if sel == "rs":
            return vms[int(self.rng.integers(len(vms)))]
        if sel == "mc":
            picked = self._max_correlation(vms)
            if picked >= 0:
                return picked
        ram = self.ram
        return min(vms, key=ram.__getitem__)  # min keeps the first of equals

    def movable_on(self, h: int) -> list[int]:
        """The VMs on host ``h`` that may move, in the host's list order."""
        if self.inp.movable is None:
            return list(self.lists[h])
        movable = self.inp.movable
        return [v for v in self.lists[h] if movable[v]]

    def _max_correlation(self, vms: list[int]) -> int:
        """The VM whose history the others' explain best (multiple correlation), or -1."""
        n = int(min(self.inp.vm_history_len[v] for v in vms))
        if len(vms) < 2 or n <= len(vms) + 1:
            return -1
        data = self.inp.vm_history[vms, :n].T  # (n samples, k VMs)
        best, best_r2 = -1, -1.0
        for j, v in enumerate(vms):
            y = data[:, j]
            x = np.column_stack([np.ones(n), np.delete(data, j, axis=1)])
            coef = np.linalg.lstsq(x, y, rcond=None)[0]
            resid = y - x @ coef
            total = float(((y - y.mean()) ** 2).sum())
            r2 = 1 - float((resid ** 2).sum()) / total if total > 0 else 0.0
            if r2 > best_r2:
                best, best_r2 = v, r2
        return best

    # -- placement
    def _power(self, hosts: np.ndarray, u: np.ndarray) -> np.ndarray:
        """:func:`interpolate_power` for ``hosts`` with tables prepared once a round."""
        u10 = u * 10
        lo = np.floor(u10)
        at = self._mbase[hosts] + lo.astype(np.intp)
        return self._flat.take(at) + self._slope.take(at) * (u - lo / 10) * 100

    def _empty_representatives(self, fits: np.ndarray | None = None) -> np.ndarray:
        """The lowest-id allowed empty host of each model: empty hosts of a model are alike.

        With flavor room (``fits``: the hosts with room for the VM placed) empty
        hosts differ, so the representatives are chosen among those that fit.
        """
        if fits is not None:
            return self._representatives(self._allowed & ~self.occ & fits)
        if self._reps is None:
            self._reps = self._representatives(self._allowed & ~self.occ)
        return self._reps

    def _representatives(self, free: np.ndarray) -> np.ndarray:
        reps = []
        for hosts in self.model_hosts:
            sub = free[hosts]
            k = int(np.argmax(sub))
            if sub[k]:
                reps.append(hosts[k])
        return np.asarray(reps, dtype=np.intp)

    def _open_hosts(self) -> np.ndarray:
        """Allowed hosts with VMs (mask), kept until the allowed set or an occupancy changes."""
        if self._open is None:
            self._open = self._allowed & self.occ
        return self._open

    def find_host(self, v: int) -> int:
        """PABFD: the allowed host whose power rises least with ``v``, or -1."""
        r = self.req[v]
        ok = self._open_hosts() & (self.free >= r)
        if r > self.min_core:
            ok &= self.core >= r
        fits = None
        if self.room is not None:
            fits = np.all(self.room >= self.flavor[v] - 1e-9, axis=1)
            ok &= fits
        active = ok.nonzero()[0]
        cand = active
        reps = self._empty_representatives(fits)
        if len(reps):
            reps = reps[(self.core[reps] >= r) & (self.cap[reps] >= r)]
            cand = np.concatenate([active, reps])
        if not len(cand):
            return -1
        counting = self.pol.count_round_placements
        base = self.alloc if counting else self.inp.host_util * self.cap
        u_after = (base[cand] + r) / self.cap[cand]
        diff = self._power(cand, np.minimum(u_after, 1.0)) - self.p_now[cand]
        nonempty = self.occ[cand] if counting else base[cand] != 0
        if self.linear or self.kind in ("iqr", "mad"):
            if counting:  # occupied hosts first, then empty ones, which are never overloaded
                if len(active):
                    diff[:len(active)][self._vector_overloaded(active, v)] = np.inf
            else:
                diff[self._vector_overloaded(cand, v) & nonempty] = np.inf
            best = diff.min()
            if best == np.inf:
                return -1
            return int(cand[diff == best].min())  # ties go to the lowest id
        for k in np.lexsort((cand, diff)):
            h = int(cand[k])
            if not nonempty[k] or not self.overloaded(h, v):
                return h
        return -1

    def _vector_overloaded(self, hosts: np.ndarray, v: int) -> np.ndarray:
        pol, cap = self.pol, self.cap[hosts]
        if self.kind != "lr" or self.inp.vm_history_len[v] < pol.lr_window:
            util = (self.reqsum[hosts] + self.req[v]) / cap
        if self.kind == "thr":
            return util > self.safety
        if self.kind in ("iqr", "mad"):
            n = int(max(self.hostlen[hosts].max(initial=0), self.inp.vm_history_len[v]))
            lengths = np.maximum(self.hostlen[hosts], int(self.inp.vm_history_len[v]))
            if n < pol.min_history or not (lengths == n).all():
                return np.array([self.overloaded(int(h), v) for h in hosts], dtype=bool)
            hist = self.hist[hosts, :n] + self.vm_scaled_hist[v, :n] / cap[:, None]
            spread = iqr_rows(hist) if self.kind == "iqr" else mad_rows(hist)
            return util > 1 - self.safety * spread
        pred = self.lrp[hosts] + self.vm_lr[v] / cap
        if self.inp.vm_history_len[v] >= pol.lr_window:  # then every host has enough
            return self.safety * pred >= 1
        n = np.maximum(self.hostlen[hosts], int(self.inp.vm_history_len[v]))
        return np.where(n < pol.lr_window, util > pol.fallback_threshold,
                        self.safety * pred >= 1)

    def place(self, vms: list[int], excluded: np.ndarray, all_or_none: bool
              ) -> list[tuple[int, int]] | None:
        """Place ``vms`` highest request first; None if ``all_or_none`` and one fails."""
        pol = self.pol
        emptying = all_or_none and pol.underload_safety is not None
        self.safety = pol.underload_safety if emptying else pol.safety
        order = sorted(vms, key=lambda v: -self.req[v])  # stable: list order on ties
        self._allowed = ~excluded
        self._reps = self._open = None
        moves = []
        for v in order:
            h = self.find_host(v)
            if h < 0:
                if all_or_none:
                    for vm, host in moves:
                        self.remove(vm, host)
                    return None
                continue
            self.add(v, h)
            moves.append((v, h))
        return moves


def plan_round(inp: RoundInput, policy: ConsolidationPolicy) -> RoundPlan:
    """One consolidation round: relieve overloaded hosts, then empty underloaded ones."""
    st = _Round(inp, policy)
    nh = len(inp.host_capacity)
    plan = RoundPlan()
    overloaded = [h for h in range(nh) if st.lists[h] and st.overloaded(h)]
    plan.overloaded = overloaded
    picked: list[int] = []
    for h in overloaded:
        while True:
            v = st.select(h)
            if v < 0:
                break
            picked.append(v)
            st.remove(v, h)
            if not st.overloaded(h):
                break
    over_mask = np.zeros(nh, bool)
    over_mask[overloaded] = True
    plan.migrations.extend(st.place(picked, over_mask, all_or_none=False))

    util = inp.host_util
    switched_off = util == 0
    excl_source = over_mask | switched_off
    excl_target = excl_source.copy()
    # lowest utilisation first, lowest id on ties; utilisations stay fixed in a round,
    # exclusions only grow and candidate hosts never lose VMs, so one pass suffices
    keeps = np.zeros(nh, bool)  # hosts holding a VM that never moves are not emptied
    if inp.vm_pinned is not None and inp.vm_pinned.any():
        keeps[inp.vm_host[inp.vm_pinned & (inp.vm_host >= 0)]] = True
    ids = np.flatnonzero(~excl_source & ~keeps & (util > 0)
                         & (util < min(policy.underload_below, 1)))
    for h in ids[np.lexsort((ids, util[ids]))].tolist():
        if excl_source[h] or not st.lists[h]:
            continue
        excl_source[h] = excl_target[h] = True
        vms = st.movable_on(h)
        if len(vms) < len(st.lists[h]) or not vms:
            continue
        moves = st.place(vms, excl_target, all_or_none=True)
        if moves:
            plan.migrations.extend(moves)
            plan.underloaded_emptied += 1
            for _, target in moves:
                excl_source[target] = True
    return plan


# ------------------------------------------------------------ the strategy

@dataclass(frozen=True)
class PowerAwareParameters:
    detector: str = param("lr", help="Overload detector: thr (fixed threshold), iqr, mad "
                          "(adaptive thresholds), lr, lrr (local regression).",
                          choices=DETECTORS)
    safety: float = param(1.2, help="The detector's parameter: THR's threshold, IQR/MAD's "
                          "safety factor, LR/LRR's safety multiplier.", minimum=0, maximum=10)
    selection: str = param("mmt", help="VM selection: mmt (shortest migration), mc (most "
                           "correlated), rs (random).", choices=SELECTIONS)
    count_round_placements: bool = param(True, help="Placement sees VMs placed earlier in the "
                                         "same round (CloudSim 3.0.3).")
    lr_weighted: bool = param(False, help="LR fits with tricube weights, as the paper did.")
    migration_mb_per_s: float = param(62.5, help="Migration bandwidth (MB/s) for LR's look-ahead.",
                                      minimum=0.001, maximum=1e6)
    charge_switch_on: bool = param(False, help="Placement charges an empty host its idle "
                                   "power, so it wakes a host only when no running one fits "
                                   "(the paper charges only the rise above idle).")
    underload_below: float = param(1.0, help="Try to empty only hosts below this CPU "
                                   "utilisation (1: every host, as the paper).",
                                   minimum=0, maximum=1)
    underload_safety: float | None = param(None, help="The detector's parameter when placing "
                                           "the instances of a host being emptied (none: "
                                           "safety); stricter keeps headroom on their new hosts.",
                                           minimum=0, maximum=10)


def consolidation_policy(params: PowerAwareParameters, **switches) -> ConsolidationPolicy:
    """The round policy the parameters name; ``switches`` set the remaining fields."""
    fields = {f.name for f in dataclasses.fields(ConsolidationPolicy)}
    chosen = {k: v for k, v in dataclasses.asdict(params).items() if k in fields}
    return ConsolidationPolicy(**{**chosen, **switches})


def _snapshot_round(snapshot: ClusterSnapshot, params: PowerAwareParameters
                    ) -> tuple[RoundInput, np.ndarray, np.ndarray]:
    """A round's arrays from a snapshot: vCPU as capacity, one table for every host.

    Only active instances on up and enabled hosts take part; the others stay.
    """
    cores = snapshot.host_cores.astype(float)
    usable = snapshot.host_up & snapshot.host_enabled & (cores > 0)
    host_cap = np.where(usable, cores, 0.0)
    vcpus = snapshot.inst_size[:, 0].astype(float)
    inst_host = snapshot.inst_host.astype(np.intp)
    on_host = inst_host >= 0
    movable = (snapshot.movable & snapshot.inst_active & on_host
               & usable[np.where(on_host, inst_host, 0)])
    requested = snapshot.inst_cpu_util * vcpus
    series = snapshot.inst_series
    if series is not None and series.shape[1]:
        hist = np.nan_to_num(series[:, ::-1].astype(float), nan=0.0)[:, :30]
        hlen = (~np.isnan(series)).sum(axis=1).clip(max=30)
    else:
        hist = np.zeros((len(vcpus), 0))
        hlen = np.zeros(len(vcpus), dtype=np.intp)
    load = np.zeros(len(host_cap))
    np.add.at(load, inst_host[on_host], requested[on_host])
    util = np.divide(load, host_cap, out=np.zeros_like(load), where=host_cap > 0)
    ram = snapshot.inst_size[:, 1].astype(float) if snapshot.inst_size.shape[1] > 1 else vcpus
    inp = RoundInput(
        host_capacity=np.where(usable, host_cap, 1e-9), host_core=host_cap,
        host_util=np.clip(util, 0, 1), host_model=np.zeros(len(host_cap), dtype=np.intp),
        power_tables=np.array([[86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117.0]]),
        vm_host=np.where(on_host, inst_host, -1), vm_requested=requested, vm_capacity=vcpus,
        vm_ram_mb=ram, vm_history=hist, vm_history_len=hlen,
        vm_order=np.arange(len(vcpus)), movable=movable,
        host_room=snapshot.allocatable - snapshot.allocated, vm_flavor=snapshot.inst_size,
        vm_pinned=on_host & ~movable)
    return inp, usable, movable


def plan_power_aware(snapshot: ClusterSnapshot, params: PowerAwareParameters) -> Solution:
    """Power-aware dynamic consolidation: overload detection, MMT, PABFD (CCPE 2012).

    Optimizes:
        Energy: relieves hosts the detector flags as overloaded (THR, IQR, MAD,
        LR or LRR on each host's CPU history), then empties the least-used hosts
        whenever all their instances fit elsewhere, each instance going where the
        host power rises least (PABFD, linear SPECpower model).
    Metrics:
        CPU utilisation of each instance (``cpu_util`` and its history series);
        IQR, MAD, LR and LRR need 12 / 10 samples of history, otherwise a fixed
        0.7 threshold is used.
    Parameters:
        detector and safety choose the overload test and its parameter, selection
        the VM picked off an overloaded host; the defaults are the paper's LR-MMT-1.2.
        charge_switch_on, underload_below and underload_safety make the
        recommended policy for automatic mode (README): wake hosts only when
        needed, empty only lightly used hosts, keep headroom where their
        instances go.
    Limits:
        CPU load is what it packs (as the paper); a destination must also have
        room for the flavor (allocation ratios, reserves), which the paper does
        not check; one vCPU is a host core's capacity; instances that cannot move
        stay, and a host keeps an unmovable instance. Each plan is one round.
    """
    policy = consolidation_policy(params)
    measured = getattr(snapshot, "round_input", None)
    if measured is not None:
        # a simulated data centre's snapshot (optimizer replay) carries the round as it
        # measured it: MIPS, its power models and list order, CloudSim's exact inputs
        policy = replace(policy, interval_s=float(snapshot.metrics_step_s))
        inp, usable = measured, snapshot.can_receive
    else:
        inp, usable, _ = _snapshot_round(snapshot, params)
    excluded_host = ~usable
    inp.host_util = np.where(excluded_host, 0.0, inp.host_util)
    plan = plan_round(inp, policy)
    final = snapshot.inst_host.copy()
    actions = []
    for v, h in plan.migrations:
        if excluded_host[h] or final[v] == h:
            continue
        actions.append(Migrate(instance=snapshot.inst_uuids[v],
                               source=snapshot.host_names[final[v]],
                               destination=snapshot.host_names[h],
                               reason=f"power-aware consolidation ({params.detector}-"
                                      f"{params.selection}-{params.safety:g})"))
        final[v] = h
    actions = _drop_infeasible(snapshot, actions)
    final = snapshot.inst_host.copy()
    ids, hosts = snapshot.instance_ids, snapshot.host_ids
    for action in actions:
        final[ids[action.instance]] = hosts[action.destination]
    return Solution(
        strategy="power_aware_consolidation", goal="server_consolidation", actions=tuple(actions),
        indicators=(*consolidation_indicators(snapshot, final, actions),
                    Indicator("overloaded_hosts", len(plan.overloaded), "hosts",
                              "Hosts the detector flagged this round."),
                    Indicator("planned_migrations", len(actions), "migrations",
                              "Migrations in the plan."),),
    )


def _drop_infeasible(snapshot: ClusterSnapshot, actions: list[Migrate]) -> list[Migrate]:
    """Keep the moves that leave every host within its allocatable size, in order.

    The round packs CPU only; production plans must also keep memory and the
    allocation ratios, so a move that would break them is left out.
    """
    alloc = snapshot.allocated.astype(float).copy()
    limit = snapshot.allocatable.astype(float)
    ids = snapshot.host_ids
    iid = snapshot.instance_ids
    groups = snapshot.inst_group
    placement = snapshot.inst_host.copy()
    kept = []
    for act in actions:
        v, src, dst = iid[act.instance], ids[act.source], ids[act.destination]
        if placement[v] != src:
            continue
        if np.any(alloc[dst] + snapshot.inst_size[v] > limit[dst] + 1e-9):
            continue
        g = groups[v]
        if g >= 0:
            policy = snapshot.group_policies[g]
            members = np.flatnonzero((groups == g) & (np.arange(len(groups)) != v))
            hosts = placement[members]
            if "anti" in policy and np.any(hosts == dst):
                continue
            if "anti" not in policy and "affinity" in policy and len(hosts) and \
                    np.any(hosts != dst):
                continue
        alloc[src] -= snapshot.inst_size[v]
        alloc[dst] += snapshot.inst_size[v]
        placement[v] = dst
        kept.append(act)
    return kept


strategy = Strategy(name="power_aware_consolidation", goal="server_consolidation",
                    parameters=PowerAwareParameters, execute=plan_power_aware,
                    display_name="Power-aware dynamic consolidation")
