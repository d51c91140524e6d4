"""The venv holding Nova and Placement for the harness, built from constraints.txt.

Nova's and Placement's pins clash with ours, so they live in a venv of their
own, shared by every checkout on the machine (``~/.cache/optimizer-nova-venv``,
or ``OPTIMIZER_NOVA_VENV``). ``.ci/run`` builds it, never a test::

    python3 tests/integration/openstack/nova_venv.py

Builds take an exclusive lock (flock) on a file beside the venv, so two runs
never build it at once; a harness that uses the venv holds the lock shared,
so it is never rebuilt under a running cloud. The venv's stamp records the
hash of the constraints, the packages and the Python version: when any of
them changes the venv is made again. Standard library only (it runs before
anything is installed).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONSTRAINTS = HERE / "constraints.txt"
PACKAGES = ("nova", "openstack-placement", "psycopg2-binary")


class VenvError(RuntimeError):
    """The venv is missing, stale, or could not be built."""


def venv_path() -> Path:
    return Path(os.environ.get("OPTIMIZER_NOVA_VENV",
                               Path.home() / ".cache" / "optimizer-nova-venv"))


def stamp_file(venv: Path) -> Path:
    return venv / ".optimizer-ready"


def lock_file(venv: Path) -> Path:
    return venv.parent / f"{venv.name}.lock"


def wanted_stamp(constraints: Path = CONSTRAINTS, python: str = sys.executable) -> str:
    """What the stamp of a venv built now from ``constraints`` would say."""
    version = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    digest = hashlib.sha256()
    digest.update(constraints.read_bytes())
    digest.update(" ".join(PACKAGES).encode())
    digest.update(version.encode())
    return f"sha256:{digest.hexdigest()} python {version}\n"


def is_current(venv: Path, stamp: str) -> bool:
    marker = stamp_file(venv)
    return marker.is_file() and marker.read_text() == stamp


@contextlib.contextmanager
def locked(venv: Path, exclusive: bool) -> Iterator[None]:
    """Hold the venv's lock: exclusive to build, shared to use."""
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file(venv), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pinned(constraints: Path) -> set[str]:
    """The ``name==version`` lines of a constraints file, names normalised."""
    lines = (line.split("#")[0].strip() for line in constraints.read_text().splitlines())
    return {_normal(line) for line in lines if line}


def _normal(requirement: str) -> str:
    name, _, version = requirement.partition("==")
    return f"{name.strip().lower().replace('_', '-').replace('.', '-')}=={version.strip()}"


def installed(venv: Path) -> set[str]:
    result = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "freeze"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        return set()
    return {_normal(line) for line in result.stdout.splitlines() if "==" in line}


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise VenvError(f"{what} failed: {' | '.join(tail)}")


def build(venv: Path | None = None, constraints: Path = CONSTRAINTS,
          python: str = sys.executable, log=print) -> Path:
    """Make ``venv`` hold exactly the pinned packages (no-op when its stamp is current)."""
    venv = venv or venv_path()
    stamp = wanted_stamp(constraints, python)
    with locked(venv, exclusive=True):
        if is_current(venv, stamp):
            log(f"nova venv {venv} is current")
            return venv
        if venv.exists() and installed(venv) == pinned(constraints):
            # Already exactly the pinned set (built before stamps existed): adopt it.
            log(f"nova venv {venv} holds the pinned packages: stamping it")
        else:
            log(f"building nova venv {venv} from {constraints.name} (a few minutes)")
            shutil.rmtree(venv, ignore_errors=True)
            _run([python, "-m", "venv", str(venv)], f"{python} -m venv {venv}")
            _run([str(venv / "bin" / "pip"), "install", "-q", "-c", str(constraints),
                  *PACKAGES], f"pip install {' '.join(PACKAGES)} into {venv}")
            _run([str(venv / "bin" / "python"), "-c", "import nova, placement, psycopg2"],
                 f"importing nova and placement in {venv}")
        stamp_file(venv).write_text(stamp)
    return venv


def require(venv: Path | None = None) -> Path:
    """The current venv's python, or :class:`VenvError` saying how to build it."""
    venv = venv or venv_path()
    python = venv / "bin" / "python"
    if not python.exists():
        raise VenvError(f"no Nova venv at {venv}: build it with "
                        f"'python3 {Path(__file__).relative_to(HERE.parents[2])}' (.ci/run does)")
    if not is_current(venv, wanted_stamp(python=str(python))):
        raise VenvError(f"the Nova venv at {venv} was not built from {CONSTRAINTS.name} as it "
                        f"is now: rebuild it with "
                        f"'python3 {Path(__file__).relative_to(HERE.parents[2])}' (.ci/run does)")
    return python


def main() -> int:
    try:
        build(log=lambda message: print(f"nova_venv: {message}", file=sys.stderr))
    except (VenvError, OSError) as exc:
        print(f"nova_venv: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
