"""Actuators: the one door through which the applier touches a cloud.

An :class:`Actuator` starts operations and answers questions about them; a
migration is asynchronous (``start_migration`` returns an operation id that
``migration_status`` is asked about until it ends). The simulated cloud is
the built-in; other clouds (OpenStack) plug in through the entry point group
``optimizer.actuators``, whose entries are factories ``f(settings) -> Actuator``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from optimizer.cloud.simulated import SimulatedCloud
from optimizer.models.errors import UserError

if TYPE_CHECKING:
    from optimizer.context import Context

ACTUATOR_GROUP = "optimizer.actuators"

RUNNING, SUCCEEDED, FAILED, ABORTED = "running", "succeeded", "failed", "aborted"


class ActuatorError(UserError):
    """The cloud refused an operation; ``transient`` when trying again later may work."""

    def __init__(self, message: str, transient: bool = False):
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class OperationStatus:
    """Where an operation in the cloud stands: running, succeeded, failed or aborted."""

    state: str
    error: str | None = None
    destination: str | None = None


@dataclass(frozen=True)
class InstanceInfo:
    """What the applier needs to know of an instance."""

    host: str
    state: str
    memory_mb: float


class Actuator(Protocol):
    """What the applier asks of a cloud."""

    name: str

    def instance(self, uuid: str) -> InstanceInfo | None:
        """The instance's host, state and size; None when it does not exist."""

    def host_state(self, host: str) -> tuple[bool, bool] | None:
        """(up, enabled) of ``host``; None when it does not exist."""

    def start_migration(self, uuid: str, source: str, destination: str, kind: str) -> str:
        """Start moving ``uuid``; the operation id. ActuatorError when refused."""

    def start_evacuation(self, uuid: str, source: str, destination: str, storage: str) -> str:
        """Rebuild ``uuid`` of the down host ``source`` on ``destination``; the operation id
        (its state through ``migration_status``). ActuatorError when refused."""

    def migration_status(self, operation: str) -> OperationStatus:
        """The migration's (or evacuation's) state now."""

    def running_migrations(self, uuid: str) -> list[tuple[str, str]]:
        """(operation id, destination) of every migration of ``uuid`` still running."""

    def abort_migration(self, operation: str) -> bool:
        """Abort a running migration; False when the cloud cannot (any more)."""

    def set_service_state(self, host: str, enabled: bool, reason: str | None) -> None:
        """Enable or disable the compute service of ``host``."""

    def set_power_state(self, host: str, on: bool) -> None:
        """Power ``host`` on or off."""

    def close(self) -> None:
        """Release connections."""


class SimulatedActuator:
    """The actuator of :class:`~optimizer.cloud.simulated.SimulatedCloud`."""

    name = "simulated"
    # Refusals that go away by themselves as in-flight migrations finish.
    _TRANSIENT = ("has no room", "already migrating")

    def __init__(self, cloud: SimulatedCloud):
        self.cloud = cloud
        # In WAL mode, NORMAL still survives a killed process (only a power cut could
        # lose the last commits); syncing every commit would cost milliseconds a step.
        cloud._db.execute("PRAGMA synchronous=NORMAL")

    def instance(self, uuid: str) -> InstanceInfo | None:
        self.cloud.advance()
        row = self.cloud._db.execute(  # one query instead of a whole snapshot
            "SELECT host, record FROM instances WHERE uuid = ?", (uuid,)).fetchone()
        if row is None:
            return None
        record = json.loads(row[1])
        return InstanceInfo(row[0], record.get("state", "active"), float(record["memory_mb"]))

    def host_state(self, host: str) -> tuple[bool, bool] | None:
        try:
            return self.cloud.host_state(host)
        except UserError:
            return None

    def start_migration(self, uuid: str, source: str, destination: str, kind: str) -> str:
        try:
            return str(self.cloud.start_migration(uuid, source, destination, kind))
        except UserError as exc:
            raise ActuatorError(str(exc), transient=any(t in str(exc)
                                                        for t in self._TRANSIENT)) from None

    def start_evacuation(self, uuid: str, source: str, destination: str, storage: str) -> str:
        try:
            return str(self.cloud.start_evacuation(uuid, source, destination))
        except UserError as exc:
            raise ActuatorError(str(exc), transient="has no room" in str(exc)) from None

    def migration_status(self, operation: str) -> OperationStatus:
        migration = self.cloud.migration(int(operation))
        return OperationStatus(migration.state, migration.error, migration.destination)

    def running_migrations(self, uuid: str) -> list[tuple[str, str]]:
        return [(str(m.id), m.destination) for m in self.cloud.migrations_of(uuid)
                if m.state == RUNNING]

    def abort_migration(self, operation: str) -> bool:
        return self.cloud.abort_migration(int(operation))

    def set_service_state(self, host: str, enabled: bool, reason: str | None) -> None:
        try:
            self.cloud.set_service_state(host, enabled, reason)
        except UserError as exc:
            raise ActuatorError(str(exc)) from None

    def set_power_state(self, host: str, on: bool) -> None:
        try:
            self.cloud.set_power_state(host, on)
        except UserError as exc:
            raise ActuatorError(str(exc)) from None

    def close(self) -> None:
        self.cloud.close()


def simulated_actuator(settings) -> SimulatedActuator:
    """Entry point factory: the simulated cloud at ``[simulated] state_file``."""
    return SimulatedActuator(SimulatedCloud(settings.simulated.state_file))


def open_actuator(ctx: Context) -> Actuator:
    """The actuator for ``ctx``'s cloud: the one named like the collector, else the simulated one.

    A simulated collector already opened lends its cloud's file and clock,
    so the plan acts on the very cloud the audit looked at.
    """
    cloud = getattr(ctx._collector, "cloud", None)
    if isinstance(cloud, SimulatedCloud):
        return SimulatedActuator(SimulatedCloud(cloud.path, clock=cloud.clock))
    name = ctx.settings.collector.name
    if name == "simulated":
        return simulated_actuator(ctx.settings)
    from optimizer.plugins import load_group

    plugins = load_group(ACTUATOR_GROUP)
    factory = plugins.loaded.get(name) or plugins.loaded.get("simulated", simulated_actuator)
    return factory(ctx.settings)
