"""PlanetLab-style CPU traces: one file per VM, one CPU percentage per line, 5-minute steps."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from optimizer.models.errors import UserError

SAMPLE_STEP_S = 300


@dataclass(frozen=True)
class Traces:
    """CPU percentages, one row per VM in byte order of the file names."""

    folder: Path
    names: tuple[str, ...]
    percent: np.ndarray  # (V, S) float

    @property
    def samples(self) -> int:
        return self.percent.shape[1]


def list_trace_files(folder: Path) -> list[str]:
    """Regular, non-hidden files of ``folder``, sorted by the bytes of their names.

    Byte order is what the reference runs used; CloudSim itself takes the
    filesystem's listing order, which is not defined.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"traces folder {folder}: does not exist or is not a folder")
    names = [n for n in os.listdir(folder)
             if not n.startswith(".") and (folder / n).is_file()]
    if not names:
        raise UserError(f"traces folder {folder}: holds no trace files")
    return sorted(names, key=os.fsencode)


def load_traces(folder: Path, samples: int, repeat: int = 1) -> Traces:
    """Read the first ``samples`` values of every trace; ``repeat`` copies each VM.

    Bad input is a :class:`UserError` naming the file, the line and the value.
    """
    folder = Path(folder)
    names = list_trace_files(folder)
    rows = np.empty((len(names), samples))
    for i, name in enumerate(names):
        rows[i] = _read_one(folder / name, samples)
    if repeat > 1:
        rows = np.tile(rows, (repeat, 1))
        names = [f"{n}#{k}" if k else n for k in range(repeat) for n in names]
    return Traces(folder, tuple(names), rows)


def _read_one(path: Path, samples: int) -> np.ndarray:
    out = np.empty(samples)
    count = 0
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, 1):
            if count == samples:
                break
            text = raw.strip()
            try:
                value = float(text)
            except ValueError:
                shown = text.decode("utf-8", "replace")
                raise UserError(f"{path}: line {number}: {shown!r} is not a CPU percentage"
                                ) from None
            if not 0 <= value <= 100 or value != value:
                raise UserError(f"{path}: line {number}: {value:g} is outside 0..100 %")
            out[count] = value
            count += 1
    if count < samples:
        raise UserError(f"{path}: line {count + 1}: missing; the series has {count} samples "
                        f"and the replay needs {samples}")
    return out
