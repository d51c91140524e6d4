"""Modelling switches of the replay, and the presets that reproduce published runs."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from optimizer.models.errors import UserError

VM_REMOVAL = ("two-zeros", "first-zero", "never")
EMPTY_HOST = ("off", "idle")


@dataclass(frozen=True)
class Fidelity:
    """Every modelling choice that changes the numbers; defaults are CloudSim 3.0.3's.

    ``vm_removal``: a VM leaves the replay for good when it requests no CPU at
    an update (``two-zeros``: with updates at 300 k + 0.1 s that is the first two
    consecutive 0 % samples, CloudSim 3.0.3), at its first 0 % sample
    (``first-zero``, the paper's runs), or ``never``.
    ``count_round_placements``: placement sees the VMs it placed earlier in the
    same round (3.0.3) or only the utilisation measured at the round's start.
    ``lr_weighted``: LR uses tricube weights (and LRR a bisquare pass) as in the
    paper; 3.0.3 fits plain least squares for both.
    ``empty_host``: a host with no load draws nothing (``off``) or its idle power.
    """

    vm_removal: str = "two-zeros"
    count_round_placements: bool = True
    lr_weighted: bool = False
    empty_host: str = "off"
    tick_offset_s: float = 0.1
    history_length: int = 30
    migration_share_of_bw: float = 0.5

    def __post_init__(self):
        if self.vm_removal not in VM_REMOVAL:
            raise UserError(f"fidelity switch vm_removal: {self.vm_removal!r} is not one of "
                            f"{', '.join(VM_REMOVAL)}")
        if self.empty_host not in EMPTY_HOST:
            raise UserError(f"fidelity switch empty_host: {self.empty_host!r} is not one of "
                            f"{', '.join(EMPTY_HOST)}")


PRESETS = {
    "cloudsim-3.0.3": Fidelity(),
    # the three choices that differ in the paper's runs (CloudSim 2.x era)
    "paper": Fidelity(vm_removal="first-zero", count_round_placements=False, lr_weighted=True),
}


def fidelity_from(name: str, overrides: dict[str, object] | None = None) -> Fidelity:
    """The preset ``name`` with ``overrides`` (switch name -> value) applied."""
    if name not in PRESETS:
        raise UserError(f"fidelity {name!r}: unknown; choose one of {', '.join(PRESETS)}")
    base = PRESETS[name]
    known = {f.name for f in dataclasses.fields(Fidelity)}
    changes = {}
    for key, value in (overrides or {}).items():
        if key not in known:
            raise UserError(f"fidelity switch {key!r}: unknown; known switches are "
                            f"{', '.join(sorted(known))}")
        if value is not None:
            changes[key] = value
    return dataclasses.replace(base, **changes)
