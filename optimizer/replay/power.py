"""Host power as SPECpower-style tables: watts at 0, 10, ..., 100 % CPU, linear between."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from optimizer.models.errors import UserError
from optimizer.strategies.power_aware_consolidation import interpolate_power


@dataclass(frozen=True)
class PowerTable:
    """One host model's power curve (11 points) and its CPU (cores x capacity per core)."""

    name: str
    watts: tuple[float, ...]
    cores: int = 2
    core_mips: float = 1000.0
    ram_mb: float = 4096.0

    @property
    def capacity(self) -> float:
        return self.cores * self.core_mips

    def power(self, util) -> np.ndarray:
        """Watts at utilisation ``util`` (fraction, clipped to 0..1)."""
        tables = np.asarray([self.watts], dtype=float)
        u = np.asarray(util, dtype=float)
        return interpolate_power(tables, np.zeros(u.shape, dtype=np.intp), u)


# SPECpower results of the two servers of the CCPE 2012 experiment (paper Table I)
HP_ML110_G4 = PowerTable("HP ProLiant ML110 G4 (Xeon 3040)",
                         (86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117), 2, 1860)
HP_ML110_G5 = PowerTable("HP ProLiant ML110 G5 (Xeon 3075)",
                         (93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135), 2, 2660)
BUILTIN = (HP_ML110_G4, HP_ML110_G5)


def check_monotone(watts: tuple[float, ...], where: str) -> None:
    """Raise a :class:`UserError` naming ``where`` if ``watts`` ever decreases."""
    if len(watts) != 11:
        raise UserError(f"{where}: a power table needs 11 values (0, 10, ..., 100 %), "
                        f"got {len(watts)}")
    for k in range(1, 11):
        if watts[k] < watts[k - 1]:
            raise UserError(f"{where}: power at {10 * k} % ({watts[k]:g} W) is below "
                            f"power at {10 * (k - 1)} % ({watts[k - 1]:g} W); "
                            "a power table must not decrease")


def load_power_tables(path: Path) -> tuple[PowerTable, ...]:
    """Tables from a text file, one model a line: ``name,cores,core_mips,w0,w10,...,w100``.

    Hosts take the models in turn (host i gets model i mod count), as in the
    literature's experiment. Blank lines and lines starting with ``#`` are skipped.
    """
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise UserError(f"power tables {path}: {exc.strerror or exc}") from None
    tables = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in line.split(",")]
        where = f"{path}: line {number}"
        if len(fields) != 14:
            raise UserError(f"{where}: expected name,cores,core_mips and 11 watt values, "
                            f"got {len(fields)} fields")
        values = []
        for text in fields[1:]:
            try:
                values.append(float(text))
            except ValueError:
                raise UserError(f"{where}: {text!r} is not a number") from None
        cores, core_mips, watts = int(values[0]), values[1], tuple(values[2:])
        if cores < 1 or core_mips <= 0:
            raise UserError(f"{where}: cores and core_mips must be positive")
        check_monotone(watts, where)
        tables.append(PowerTable(fields[0], watts, cores, core_mips))
    if not tables:
        raise UserError(f"power tables {path}: no table in the file")
    return tuple(tables)
