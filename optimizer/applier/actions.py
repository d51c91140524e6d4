"""Action plugins: what each type of plan step does to the cloud, and how it is checked.

An :class:`ActionPlugin` validates its stored parameters, checks its
pre-condition, starts its step (which may finish later: ``poll`` says when),
checks its post-condition, and knows its reverse (to revert a plan) and how
to find its step again after a crash (``reconcile``). Plugins are published
under the entry point group ``optimizer.actions``; :data:`BUILTIN_ACTIONS`
holds the built-ins for callers that need no entry point setup.

Every method returns a :class:`Step` rather than raising: a refused or failed
step is an outcome with its reason, never an exception out of the applier.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, fields, replace
from typing import Any, ClassVar

from optimizer.applier.actuator import ABORTED, RUNNING, SUCCEEDED, Actuator, ActuatorError

ACTIONS_GROUP = "optimizer.actions"


class Phase:
    """Where a step stands."""

    RUNNING = "running"   # in flight: poll it again
    DONE = "done"         # finished and checked
    FAILED = "failed"     # did not happen, or failed its post-condition
    SKIPPED = "skipped"   # pointless now (e.g. the instance moved away meanwhile)


@dataclass(frozen=True)
class Step:
    """The outcome of one call on an action: its phase, why, and the cloud's operation id."""

    phase: str
    message: str = ""
    operation: str | None = None
    transient: bool = False          # trying again later may work
    moved_memory_mb: float | None = None


class InvalidParameters(ValueError):
    """A stored action's parameters do not fit its type; the message says which and why."""


def parse_parameters(kind: type, raw: Mapping[str, Any],
                     choices: Mapping[str, tuple] | None = None) -> Any:
    """``raw`` as an instance of the dataclass ``kind``: names, types and choices checked."""
    known = {f.name: f for f in fields(kind)}
    problems = [f"unknown parameter {name!r}" for name in raw if name not in known]
    values = {}
    for name, spec in known.items():
        if name not in raw:
            if spec.default is MISSING:
                problems.append(f"missing parameter {name!r}")
            continue
        value, wanted = raw[name], spec.type
        if wanted in ("float", float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        expected = {"str": str, "float": float}.get(wanted, wanted)
        if not isinstance(value, expected) or isinstance(value, bool):
            problems.append(f"{name} must be a {expected.__name__}, got {value!r}")
            continue
        allowed = (choices or {}).get(name)
        if allowed and value not in allowed:
            problems.append(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        values[name] = value
    if problems:
        raise InvalidParameters("; ".join(problems))
    return kind(**values)


class ActionPlugin:
    """One type of action. Subclasses set ``name`` and ``parameters`` and override the steps."""

    name: ClassVar[str]
    parameters: ClassVar[type]
    choices: ClassVar[Mapping[str, tuple]] = {}

    def parse(self, raw: Mapping[str, Any]) -> Any:
        """The validated parameters; :class:`InvalidParameters` with every problem otherwise."""
        return parse_parameters(self.parameters, raw, self.choices)

    def migration_hosts(self, params: Any) -> tuple[str, str] | None:
        """(source, destination) when the action is a migration, for the concurrency limits."""
        return None

    def describe(self, params: Any) -> str:
        """A few words naming what the action touches, for messages."""
        return ""

    def pre_condition(self, actuator: Actuator, params: Any) -> Step | None:
        """None when the action may run; else a SKIPPED or FAILED step with the reason."""
        return None

    def execute(self, actuator: Actuator, params: Any) -> Step:
        """Start the action: DONE when it finished at once, RUNNING with an operation id."""
        raise NotImplementedError

    def poll(self, actuator: Actuator, params: Any, operation: str) -> Step:
        """How the started operation stands now (post-condition checked once it ended)."""
        return Step(Phase.DONE)

    def abort(self, actuator: Actuator, params: Any, operation: str) -> bool | Step:
        """Stop the operation in flight.

        True when the cloud took the abort (``poll`` tells how it ended: it may
        still finish), False when this action cannot be aborted, or the final
        :class:`Step` when the abort ended the action at once.
        """
        return False

    def reverse(self, params: Any) -> Any | None:
        """Parameters of the action undoing this one; None when there is nothing to undo."""
        return None

    def reconcile(self, actuator: Actuator, params: Any, operation: str | None) -> Step | None:
        """After a crash: the step found in the cloud, or None when it never started."""
        return self.poll(actuator, params, operation) if operation else None


@dataclass(frozen=True)
class MigrateParameters:
    instance: str
    source: str
    destination: str
    migration_type: str = "live"


class MigrateAction(ActionPlugin):
    """Move an instance: live when it is active, cold otherwise."""

    name = "migrate"
    parameters = MigrateParameters
    choices = {"migration_type": ("live", "cold")}

    def migration_hosts(self, params: MigrateParameters) -> tuple[str, str]:
        return params.source, params.destination

    def describe(self, params: MigrateParameters) -> str:
        return f"instance {params.instance} ({params.source} → {params.destination})"

    def pre_condition(self, actuator: Actuator, params: MigrateParameters) -> Step | None:
        info = actuator.instance(params.instance)
        if info is None:
            return Step(Phase.SKIPPED, f"instance {params.instance} no longer exists")
        if info.host == params.destination:
            return Step(Phase.SKIPPED, f"instance {params.instance} is already on "
                                       f"{params.destination}")
        if info.host != params.source:
            return Step(Phase.SKIPPED, f"instance {params.instance} is on {info.host}, "
                                       f"not on its source {params.source}")
        destination = actuator.host_state(params.destination)
        if destination is None:
            return Step(Phase.FAILED, f"destination {params.destination} does not exist")
        if destination != (True, True):
            return Step(Phase.FAILED, f"destination {params.destination} is not up and enabled")
        return None

    def execute(self, actuator: Actuator, params: MigrateParameters) -> Step:
        info = actuator.instance(params.instance)
        kind = "live" if info is not None and info.state == "active" else "cold"
        try:
            operation = actuator.start_migration(params.instance, params.source,
                                                 params.destination, kind)
        except ActuatorError as exc:
            return Step(Phase.FAILED, str(exc), transient=exc.transient)
        return Step(Phase.RUNNING, operation=operation)

    def poll(self, actuator: Actuator, params: MigrateParameters, operation: str) -> Step:
        status = actuator.migration_status(operation)
        if status.state == RUNNING:
            return Step(Phase.RUNNING, operation=operation)
        if status.state == SUCCEEDED:
            return self._arrived(actuator, params, operation)
        what = "aborted" if status.state == ABORTED else f"failed: {status.error or 'no reason'}"
        return Step(Phase.FAILED, f"migration {operation} {what}", operation=operation)

    def _arrived(self, actuator: Actuator, params: MigrateParameters,
                 operation: str | None) -> Step:
        info = actuator.instance(params.instance)
        if info is None or info.host != params.destination:
            where = info.host if info else "nowhere"
            return Step(Phase.FAILED, f"instance {params.instance} is on {where}, not on its "
                                      f"destination {params.destination}", operation=operation)
        return Step(Phase.DONE, operation=operation, moved_memory_mb=info.memory_mb)

    def abort(self, actuator: Actuator, params: MigrateParameters, operation: str) -> bool:
        return actuator.abort_migration(operation)

    def reverse(self, params: MigrateParameters) -> MigrateParameters:
        return replace(params, source=params.destination, destination=params.source)

    def reconcile(self, actuator: Actuator, params: MigrateParameters,
                  operation: str | None) -> Step | None:
        if operation:
            return self.poll(actuator, params, operation)
        # Stored ONGOING but killed before the operation id was: look in the cloud.
        for found, destination in actuator.running_migrations(params.instance):
            if destination == params.destination:
                return Step(Phase.RUNNING, operation=found)
        info = actuator.instance(params.instance)
        if info is not None and info.host == params.destination:
            return self._arrived(actuator, params, None)
        return None


@dataclass(frozen=True)
class EvacuateParameters:
    instance: str
    source: str
    destination: str
    migration_type: str = "evacuate"
    storage: str = "shared"


class EvacuateAction(ActionPlugin):
    """Rebuild an instance of a failed host elsewhere (Nova's evacuate); no revert.

    Runs only while its source is down (forced down or fenced), so the
    instance can never run twice; fails, with the reason, when its
    destination is no longer up and enabled.
    """

    name = "evacuate"
    parameters = EvacuateParameters
    choices = {"migration_type": ("evacuate",), "storage": ("shared", "local")}

    def migration_hosts(self, params: EvacuateParameters) -> tuple[str, str]:
        # the failed source carries no traffic: only the destination's slots count
        return params.destination, params.destination

    def describe(self, params: EvacuateParameters) -> str:
        return f"instance {params.instance} (failed {params.source} → {params.destination})"

    def pre_condition(self, actuator: Actuator, params: EvacuateParameters) -> Step | None:
        info = actuator.instance(params.instance)
        if info is None:
            return Step(Phase.SKIPPED, f"instance {params.instance} no longer exists")
        if info.host == params.destination:
            return Step(Phase.SKIPPED, f"instance {params.instance} is already on "
                                       f"{params.destination}")
        if info.host != params.source:
            return Step(Phase.SKIPPED, f"instance {params.instance} is on {info.host}, "
                                       f"not on the failed host {params.source}")
        source = actuator.host_state(params.source)
        if source is None:
            return Step(Phase.FAILED, f"failed host {params.source} does not exist")
        if source[0]:
            return Step(Phase.FAILED, f"host {params.source} is up: an instance is evacuated "
                                      "only from a host forced down or fenced, so that it "
                                      "never runs twice")
        destination = actuator.host_state(params.destination)
        if destination is None:
            return Step(Phase.FAILED, f"destination {params.destination} does not exist")
        if destination != (True, True):
            what = "went down" if not destination[0] else "is disabled"
            return Step(Phase.FAILED, f"destination {params.destination} {what}: the rest "
                                      "of the evacuation is planned again")
        return None

    def execute(self, actuator: Actuator, params: EvacuateParameters) -> Step:
        start = getattr(actuator, "start_evacuation", None)
        if start is None:
            return Step(Phase.FAILED, f"the {actuator.name} actuator cannot evacuate")
        try:
            operation = start(params.instance, params.source, params.destination,
                              params.storage)
        except ActuatorError as exc:
            return Step(Phase.FAILED, str(exc), transient=exc.transient)
        return Step(Phase.RUNNING, operation=operation)

    def poll(self, actuator: Actuator, params: EvacuateParameters, operation: str) -> Step:
        status = actuator.migration_status(operation)
        if status.state == RUNNING:
            return Step(Phase.RUNNING, operation=operation)
        if status.state == SUCCEEDED:
            return self._arrived(actuator, params, operation)
        what = "aborted" if status.state == ABORTED else f"failed: {status.error or 'no reason'}"
        return Step(Phase.FAILED, f"evacuation {operation} {what}", operation=operation)

    def _arrived(self, actuator: Actuator, params: EvacuateParameters,
                 operation: str | None) -> Step:
        """The post-condition: the instance runs on its destination, not in error."""
        info = actuator.instance(params.instance)
        if info is None or info.host != params.destination:
            where = info.host if info else "nowhere"
            return Step(Phase.FAILED, f"instance {params.instance} is on {where}, not on its "
                                      f"destination {params.destination}", operation=operation)
        if info.state == "error":
            return Step(Phase.FAILED, f"instance {params.instance} is in error on "
                                      f"{params.destination} after its rebuild",
                        operation=operation)
        return Step(Phase.DONE, operation=operation)

    def reconcile(self, actuator: Actuator, params: EvacuateParameters,
                  operation: str | None) -> Step | None:
        if operation:
            return self.poll(actuator, params, operation)
        for found, destination in actuator.running_migrations(params.instance):
            if destination == params.destination:
                return Step(Phase.RUNNING, operation=found)
        info = actuator.instance(params.instance)
        if info is not None and info.host == params.destination:
            return self._arrived(actuator, params, None)
        return None


@dataclass(frozen=True)
class ServiceStateParameters:
    host: str
    state: str


class ChangeServiceStateAction(ActionPlugin):
    """Enable or disable a host's compute service."""

    name = "change_service_state"
    parameters = ServiceStateParameters
    choices = {"state": ("enabled", "disabled")}

    def describe(self, params: ServiceStateParameters) -> str:
        return f"host {params.host} → {params.state}"

    def pre_condition(self, actuator: Actuator, params: ServiceStateParameters) -> Step | None:
        if actuator.host_state(params.host) is None:
            return Step(Phase.FAILED, f"host {params.host} does not exist")
        return None

    def execute(self, actuator: Actuator, params: ServiceStateParameters) -> Step:
        enabled = params.state == "enabled"
        try:
            actuator.set_service_state(params.host, enabled,
                                       None if enabled else "disabled by the optimizer")
        except ActuatorError as exc:
            return Step(Phase.FAILED, str(exc), transient=exc.transient)
        state = actuator.host_state(params.host)
        if state is None or state[1] != enabled:
            return Step(Phase.FAILED, f"host {params.host} is still not {params.state}")
        return Step(Phase.DONE)

    def reverse(self, params: ServiceStateParameters) -> ServiceStateParameters:
        return replace(params, state="disabled" if params.state == "enabled" else "enabled")


@dataclass(frozen=True)
class PowerStateParameters:
    host: str
    state: str


class ChangePowerStateAction(ActionPlugin):
    """Power a host on or off (off only once it is empty)."""

    name = "change_power_state"
    parameters = PowerStateParameters
    choices = {"state": ("on", "off")}

    def describe(self, params: PowerStateParameters) -> str:
        return f"host {params.host} power {params.state}"

    def pre_condition(self, actuator: Actuator, params: PowerStateParameters) -> Step | None:
        if actuator.host_state(params.host) is None:
            return Step(Phase.FAILED, f"host {params.host} does not exist")
        return None

    def execute(self, actuator: Actuator, params: PowerStateParameters) -> Step:
        try:
            actuator.set_power_state(params.host, params.state == "on")
        except ActuatorError as exc:
            return Step(Phase.FAILED, str(exc), transient=exc.transient)
        return Step(Phase.DONE)

    def reverse(self, params: PowerStateParameters) -> PowerStateParameters:
        return replace(params, state="off" if params.state == "on" else "on")


@dataclass(frozen=True)
class NopParameters:
    message: str = ""


class NopAction(ActionPlugin):
    """Does nothing but carry its message; useful to test the machinery."""

    name = "nop"
    parameters = NopParameters

    def execute(self, actuator: Actuator, params: NopParameters) -> Step:
        return Step(Phase.DONE, params.message)


@dataclass(frozen=True)
class SleepParameters:
    duration: float = 1.0


class SleepAction(ActionPlugin):
    """Waits ``duration`` seconds without blocking the applier; the deadline survives a crash."""

    name = "sleep"
    parameters = SleepParameters

    def parse(self, raw: Mapping[str, Any]) -> SleepParameters:
        params = super().parse(raw)
        if params.duration < 0:
            raise InvalidParameters(f"duration must not be negative, got {params.duration!r}")
        return params

    def execute(self, actuator: Actuator, params: SleepParameters) -> Step:
        return Step(Phase.RUNNING, operation=f"until:{time.time() + params.duration:.3f}")

    def poll(self, actuator: Actuator, params: SleepParameters, operation: str) -> Step:
        until = float(operation.removeprefix("until:"))
        return Step(Phase.DONE if time.time() >= until else Phase.RUNNING, operation=operation)

    def abort(self, actuator: Actuator, params: SleepParameters, operation: str) -> Step:
        return Step(Phase.FAILED, "sleep aborted", operation=operation)


migrate = MigrateAction()
evacuate = EvacuateAction()
change_service_state = ChangeServiceStateAction()
change_power_state = ChangePowerStateAction()
nop = NopAction()
sleep = SleepAction()

BUILTIN_ACTIONS: dict[str, ActionPlugin] = {
    a.name: a for a in (migrate, evacuate, change_service_state, change_power_state, nop, sleep)}


def load_actions() -> dict[str, ActionPlugin]:
    """Every action plugin installed under ``optimizer.actions`` (built-ins if none load)."""
    from optimizer.plugins import load_group

    plugins = load_group(ACTIONS_GROUP, _check_action)
    return {**BUILTIN_ACTIONS, **plugins.loaded}


def _check_action(name: str, obj: Any) -> None:
    if not isinstance(obj, ActionPlugin):
        raise TypeError(f"entry point does not name an ActionPlugin (got {obj!r})")
    if obj.name != name:
        raise ValueError(f"entry point name {name!r} differs from the action's name {obj.name!r}")
