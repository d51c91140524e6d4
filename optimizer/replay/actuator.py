"""The applier's view of the replay: an Actuator over the simulation, and simulated time.

:class:`ReplayActuator` implements :class:`optimizer.applier.actuator.Actuator`
on a running :class:`~optimizer.replay.simulation.Replay`: a migration starts
in the simulation when the executor starts it and succeeds when the
simulation completes it. :class:`SimulatedTime` gives the executor its clock
and sleep in simulated seconds: sleeping moves the simulation on.
"""
from __future__ import annotations

import math

from optimizer.applier.actuator import (
    RUNNING,
    SUCCEEDED,
    ActuatorError,
    InstanceInfo,
    OperationStatus,
)


class ReplayActuator:
    """Starts and watches migrations in the replay's simulated data centre."""

    name = "replay"

    def __init__(self, replay, vm_index: dict[str, int], host_index: dict[str, int],
                 host_names: tuple[str, ...]):
        self.replay = replay
        self.vm_index, self.host_index = vm_index, host_index
        self.host_names = host_names
        self.disabled: set[str] = set()
        self.powered_off: set[str] = set()

    def _vm(self, uuid: str) -> int | None:
        v = self.vm_index.get(uuid)
        if v is None or not self.replay.alive[v] or self.replay.host[v] < 0:
            return None
        return v

    def instance(self, uuid: str) -> InstanceInfo | None:
        v = self._vm(uuid)
        if v is None:
            return None
        r = self.replay
        return InstanceInfo(self.host_names[r.host[v]], "active", float(r.v_ram[v]))

    def host_state(self, host: str) -> tuple[bool, bool] | None:
        if host not in self.host_index:
            return None
        return host not in self.powered_off, host not in self.disabled

    def start_migration(self, uuid: str, source: str, destination: str, kind: str) -> str:
        v = self._vm(uuid)
        if v is None:
            raise ActuatorError(f"instance {uuid} does not exist (any more)")
        r = self.replay
        if self.host_names[r.host[v]] != source:
            raise ActuatorError(f"instance {uuid} is on {self.host_names[r.host[v]]}, "
                                f"not on {source}")
        if r.inmig[v]:
            raise ActuatorError(f"instance {uuid} is already migrating", transient=True)
        target = self.host_index.get(destination)
        if target is None:
            raise ActuatorError(f"host {destination} does not exist")
        refused = r.refusal(v, target)
        if refused:
            raise ActuatorError(f"cannot move instance {uuid} to {destination}: {refused}")
        return str(r.start_migration(v, target))

    def migration_status(self, operation: str) -> OperationStatus:
        state = self.replay.operations.get(int(operation))
        if state is None:
            return OperationStatus("failed", f"no migration {operation}")
        return _STATUS[state]

    def running_migrations(self, uuid: str) -> list[tuple[str, str]]:
        v = self.vm_index.get(uuid)
        return [(str(m.seq), self.host_names[m.target]) for m in self.replay.flights if m.vm == v]

    def abort_migration(self, operation: str) -> bool:
        return False  # a simulated migration, like CloudSim's, runs to its end

    def set_service_state(self, host: str, enabled: bool, reason: str | None) -> None:
        if host not in self.host_index:
            raise ActuatorError(f"host {host} does not exist")
        (self.disabled.discard if enabled else self.disabled.add)(host)

    def set_power_state(self, host: str, on: bool) -> None:
        # an empty host already draws nothing in the simulation: only the state is kept
        if host not in self.host_index:
            raise ActuatorError(f"host {host} does not exist")
        (self.powered_off.discard if on else self.powered_off.add)(host)

    def close(self) -> None:
        """Nothing to release."""


#: the simulation's words for a migration's state are the actuator protocol's
_STATUS = {RUNNING: OperationStatus(RUNNING), SUCCEEDED: OperationStatus(SUCCEEDED)}


class SimulatedTime:
    """The executor's clock and sleep, in the replay's simulated seconds.

    A sleep of one poll interval lasts as many whole polls as it takes to get
    past the next migration's end: the polls skipped would all have found
    every migration still running. (A shorter sleep waits for a retry and
    lasts exactly as asked.) ``sleeps`` counts the calls, ``polls`` the polls
    they stand for.
    """

    def __init__(self, replay, poll_interval_s: float):
        self.replay = replay
        self.poll_interval_s = poll_interval_s
        self.sleeps = 0
        self.polls = 0

    def clock(self) -> float:
        return self.replay.now

    def sleep(self, wait: float) -> None:
        r = self.replay
        wait = max(wait, 1e-3)
        polls = 1
        ending = r.next_end
        if wait >= self.poll_interval_s and math.isfinite(ending) and ending > r.now + wait:
            polls = math.ceil((ending - r.now) / wait)
        self.sleeps += 1
        self.polls += polls
        r.advance_to(r.now + polls * wait)
