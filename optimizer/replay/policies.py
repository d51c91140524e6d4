"""Named replay policies: ``npa``, ``dvfs`` and DETECTOR-SELECTION-PARAM (``lr-mmt-1.2``)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from optimizer.models.errors import UserError
from optimizer.strategies.power_aware_consolidation import DETECTORS, PAPER_SAFETY, SELECTIONS

POWER_MODES = ("npa", "dvfs")
#: the paper's best settings, the ones ``--policy`` lists
NAMED = ("npa", "dvfs", "thr-mmt-0.8", "iqr-mmt-1.5", "mad-mmt-2.5", "lr-mmt-1.2", "lrr-mmt-1.2")


@dataclass(frozen=True)
class PolicySpec:
    """A replay policy: a power mode without migrations, or a consolidation policy."""

    name: str
    power_mode: str = "dvfs"   # npa: every host at full power; dvfs: power follows load
    detector: str | None = None
    selection: str | None = None
    safety: float | None = None

    @property
    def migrates(self) -> bool:
        return self.detector is not None


_PATTERN = re.compile(r"^(?P<det>[a-z]+)-(?P<sel>[a-z]+)(?:-(?P<param>[0-9]*\.?[0-9]+))?$")


def parse_policy(text: str) -> PolicySpec:
    """``npa``, ``dvfs`` or ``DETECTOR-SELECTION[-PARAM]``; a bad name is a :class:`UserError`."""
    name = text.strip().lower()
    if name in POWER_MODES:
        return PolicySpec(name=name, power_mode=name)
    match = _PATTERN.match(name)
    if not match or match["det"] not in DETECTORS or match["sel"] not in SELECTIONS:
        raise UserError(f"policy {text!r}: unknown; use npa, dvfs or DETECTOR-SELECTION-PARAM "
                        f"with a detector of {', '.join(DETECTORS)} and a selection of "
                        f"{', '.join(SELECTIONS)} (e.g. {', '.join(NAMED[2:])})")
    det, sel = match["det"], match["sel"]
    safety = float(match["param"]) if match["param"] else PAPER_SAFETY[det]
    return PolicySpec(name=f"{det}-{sel}-{safety:g}", power_mode="dvfs", detector=det,
                      selection=sel, safety=safety)
