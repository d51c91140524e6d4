"""Named replay policies: ``npa``, ``dvfs``, DETECTOR-SELECTION-PARAM (``lr-mmt-1.2``) and
``recommended``, the policy the README recommends for automatic mode."""
from __future__ import annotations

import re
from dataclasses import dataclass

from optimizer.models.errors import UserError
from optimizer.strategies.power_aware_consolidation import DETECTORS, PAPER_SAFETY, SELECTIONS

POWER_MODES = ("npa", "dvfs")
#: the paper's best settings, the ones ``--policy`` lists
NAMED = ("npa", "dvfs", "thr-mmt-0.8", "iqr-mmt-1.5", "mad-mmt-2.5", "lr-mmt-1.2", "lrr-mmt-1.2")

#: ``--policy recommended``: parameters of the power_aware_consolidation strategy, the
#: same an audit takes (``-p name=value``). Picked by a sweep over the 10 PlanetLab days
#: (benchmarks/bench_recommended.py): LR-MMT-1.2 that wakes hosts only when no running
#: one fits, empties only hosts below 40 % and places their VMs with safety 1.6.
RECOMMENDED_STRATEGY = "power_aware_consolidation"
RECOMMENDED = {"detector": "lr", "safety": 1.2, "selection": "mmt", "charge_switch_on": True,
               "underload_below": 0.4, "underload_safety": 1.6}


@dataclass(frozen=True)
class PolicySpec:
    """A replay policy: a power mode without migrations, or a consolidation policy."""

    name: str
    power_mode: str = "dvfs"   # npa: every host at full power; dvfs: power follows load
    detector: str | None = None
    selection: str | None = None
    safety: float | None = None
    #: further :class:`ConsolidationPolicy` fields (name, value) the policy sets
    options: tuple[tuple[str, object], ...] = ()

    @property
    def migrates(self) -> bool:
        return self.detector is not None


_PATTERN = re.compile(r"^(?P<det>[a-z]+)-(?P<sel>[a-z]+)(?:-(?P<param>[0-9]*\.?[0-9]+))?$")


def parse_policy(text: str) -> PolicySpec:
    """``npa``, ``dvfs``, ``recommended`` or ``DETECTOR-SELECTION[-PARAM]``.

    A bad name is a :class:`UserError`.
    """
    name = text.strip().lower()
    if name in POWER_MODES:
        return PolicySpec(name=name, power_mode=name)
    if name == "recommended":
        return recommended_policy()
    match = _PATTERN.match(name)
    if not match or match["det"] not in DETECTORS or match["sel"] not in SELECTIONS:
        raise UserError(f"policy {text!r}: unknown; use npa, dvfs, recommended or "
                        f"DETECTOR-SELECTION-PARAM "
                        f"with a detector of {', '.join(DETECTORS)} and a selection of "
                        f"{', '.join(SELECTIONS)} (e.g. {', '.join(NAMED[2:])})")
    det, sel = match["det"], match["sel"]
    safety = float(match["param"]) if match["param"] else PAPER_SAFETY[det]
    return PolicySpec(name=f"{det}-{sel}-{safety:g}", power_mode="dvfs", detector=det,
                      selection=sel, safety=safety)


def recommended_policy() -> PolicySpec:
    """``--policy recommended``: :data:`RECOMMENDED` as a replay policy."""
    rest = {k: v for k, v in RECOMMENDED.items() if k not in ("detector", "selection", "safety")}
    return PolicySpec(name="recommended", power_mode="dvfs", detector=RECOMMENDED["detector"],
                      selection=RECOMMENDED["selection"], safety=RECOMMENDED["safety"],
                      options=tuple(sorted(rest.items())))


def recommended_arguments() -> str:
    """:data:`RECOMMENDED` as ``-p name=value`` arguments of an audit."""
    return " ".join(f"-p {k}={str(v).lower() if isinstance(v, bool) else v}"
                    for k, v in RECOMMENDED.items())
