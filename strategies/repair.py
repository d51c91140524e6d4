"""Making room for units the packing left over, by moving one resident aside.

Greedy packing fills hosts well but can leave a few units whose size no
single host's remaining room matches, while the room exists in pieces. A
leftover unit often fits once one smaller unit on a host moves to another
host with room for it: one extra move (none, when that unit was moving
anyway) that can save a whole host.
"""
from __future__ import annotations

import numpy as np
from optimizer.strategies.packing import Units

_EPS = 1e-6
CANDIDATES = 48  # residents tried per leftover unit, cheapest first


def make_room(units: Units, leftover: np.ndarray, receivers: np.ndarray, room: np.ndarray,
              residents: np.ndarray, placed: dict[int, int]) -> np.ndarray:
    """Place leftover units by moving one resident each aside; return those still left.

    ``residents`` are movable, ungrouped units on the receivers (staying or
    placed there); ``room`` and ``placed`` are updated in place.
    """
    if not len(leftover) or not len(residents):
        return leftover
    position = {int(h): r for r, h in enumerate(receivers)}
    where = np.full(len(units.host), -1, dtype=np.int64)
    for u in residents.tolist():
        host = placed.get(u, int(units.host[u]))
        where[u] = position.get(host, -1)
    moving = np.zeros(len(units.host), dtype=bool)
    moving[list(placed)] = True
    still: list[int] = []
    for u in leftover[np.argsort(-units.size[leftover, 3], kind="stable")].tolist():
        if units.anti_group[u] >= 0 or not _place(units, u, receivers, room, where, moving,
                                                  placed):
            still.append(u)
    return np.array(still, dtype=np.int64)


def _place(units: Units, u: int, receivers: np.ndarray, room: np.ndarray, where: np.ndarray,
           moving: np.ndarray, placed: dict[int, int]) -> bool:
    size = units.size[u]
    direct = np.all(room >= size - _EPS, axis=1)
    if direct.any():
        r = int(np.argmax(direct))
        _put(units, u, r, receivers, room, where, placed)
        return True
    deficit = np.maximum(size - room, 0.0)
    candidates = np.flatnonzero(where >= 0)
    enough = np.all(units.size[candidates] >= deficit[where[candidates]] - _EPS, axis=1)
    candidates = candidates[enough]
    if not len(candidates):
        return False
    # units already moving cost nothing extra; then the least memory
    cost = units.size[candidates, 1] * np.where(moving[candidates], 0.0, 1.0)
    for v in candidates[np.argsort(cost, kind="stable")][:CANDIDATES].tolist():
        home = int(where[v])
        fits = np.all(room >= units.size[v] - _EPS, axis=1)
        fits[home] = False
        if not fits.any():
            continue
        slack = (room - units.size[v])[:, 3]
        r2 = int(np.argmin(np.where(fits, slack, np.inf)))
        room[home] += units.size[v]
        _put(units, v, r2, receivers, room, where, placed)
        _put(units, u, home, receivers, room, where, placed)
        moving[v] = True
        return True
    return False


def _put(units, u, r, receivers, room, where, placed) -> None:
    room[r] -= units.size[u]
    placed[u] = int(receivers[r])
    where[u] = r
