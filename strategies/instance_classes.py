"""Instances grouped into interchangeable classes, and counts mapped back to instances.

An exact model with one binary per (instance, host) pair is too large to
prove optimal at a hundred hosts. Instances with the same flavor and a
similar CPU demand are interchangeable for packing, so a model can count
how many of each class end on each host instead. A class's CPU demand is the
largest of its members' (conservative: any member fits where the class fits).
Server-group members stay singleton classes so their group rules can be
written per instance.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from optimizer.models.snapshot import ClusterSnapshot


@dataclass(frozen=True)
class InstanceClasses:
    """Classes of interchangeable instances over a chosen list of hosts.

    ``hosts`` are snapshot host indices; columns of ``current`` follow them.
    """

    hosts: np.ndarray                 # (Hm,) snapshot host indices in the model
    members: tuple[np.ndarray, ...]   # per class: snapshot instance indices
    size: np.ndarray                  # (C, R) flavor of the class
    demand: np.ndarray                # (C,) largest CPU demand of a member, in cores
    current: np.ndarray               # (C, Hm) members of the class on each host now
    group: np.ndarray                 # (C,) server group index, -1 for ordinary classes

    @property
    def count(self) -> np.ndarray:
        """(C,) members per class."""
        return np.array([len(m) for m in self.members], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.members)


def build_classes(snapshot: ClusterSnapshot, hosts: np.ndarray, instances: np.ndarray,
                  demand: np.ndarray, demand_bins: int,
                  grouped: np.ndarray) -> InstanceClasses:
    """Classes for ``instances`` (all on ``hosts``), ``demand_bins`` CPU levels per flavor.

    ``grouped`` (N,) marks the instances whose group rules the model writes
    out; each of them becomes its own class.
    """
    members: list[np.ndarray] = []
    alone = instances[grouped[instances]]
    members.extend(np.array([i]) for i in alone)
    pooled = instances[~grouped[instances]]
    if pooled.size:
        flavors, flavor_of = np.unique(snapshot.inst_size[pooled], axis=0, return_inverse=True)
        for f in range(len(flavors)):
            same = pooled[flavor_of.ravel() == f]
            members.extend(_demand_bins(same, demand, demand_bins))

    column = {int(h): k for k, h in enumerate(hosts)}
    current = np.zeros((len(members), len(hosts)), dtype=np.int64)
    for c, m in enumerate(members):
        for h in snapshot.inst_host[m]:
            current[c, column[int(h)]] += 1
    firsts = np.array([m[0] for m in members], dtype=np.int64)
    return InstanceClasses(
        hosts=np.asarray(hosts, dtype=np.int64),
        members=tuple(members),
        size=snapshot.inst_size[firsts].reshape(len(members), -1),
        demand=np.array([demand[m].max() for m in members]),
        current=current,
        group=np.array([int(snapshot.inst_group[i]) if grouped[i] else -1 for i in firsts],
                       dtype=np.int64),
    )


def _demand_bins(same_flavor: np.ndarray, demand: np.ndarray, bins: int) -> list[np.ndarray]:
    """Split one flavor's instances into up to ``bins`` classes of neighbouring demand."""
    ordered = same_flavor[np.argsort(demand[same_flavor], kind="stable")]
    return [chunk for chunk in np.array_split(ordered, min(bins, len(ordered))) if chunk.size]


def assign_members(snapshot: ClusterSnapshot, classes: InstanceClasses,
                   counts: np.ndarray, target: np.ndarray) -> None:
    """Write into ``target`` a host for every member, following ``counts`` (C, Hm).

    As many members as the counts allow stay where they are; only the rest
    move, to the hosts whose count exceeds what they already hold.
    """
    for c, members in enumerate(classes.members):
        want = counts[c]
        here = snapshot.inst_host[members]
        movers: list[int] = []
        for k, h in enumerate(classes.hosts):
            on_h = members[here == h]
            keep = min(int(want[k]), on_h.size)
            movers.extend(int(i) for i in on_h[keep:])
            target[on_h[:keep]] = h
        for k, h in enumerate(classes.hosts):
            room = int(want[k]) - int(classes.current[c, k])
            for _ in range(max(room, 0)):
                target[movers.pop()] = h
