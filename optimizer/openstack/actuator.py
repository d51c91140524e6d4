"""The ``nova`` actuator: live and cold migrations, evacuations and service states in Nova.

Operations are asynchronous in Nova; an operation id here is
``"<server uuid>/<migration id>"`` naming the row of ``/os-migrations`` that
Nova creates for the move, and :meth:`NovaActuator.migration_status` polls it.
A cold migration is confirmed as soon as Nova reports it finished (the
server waits in VERIFY_RESIZE), so it ends on the destination like a live
one. Live migrations use ``block_migration: auto`` and are aborted with
``DELETE /servers/{id}/migrations/{id}``. Nova cannot power hosts on or off;
``set_power_state`` refuses with a clear error.
"""
from __future__ import annotations

import time
from typing import Any

from optimizer.applier.actuator import (
    ABORTED,
    FAILED,
    RUNNING,
    SUCCEEDED,
    ActuatorError,
    InstanceInfo,
    OperationStatus,
)
from optimizer.openstack.collector import NOVA_STATES

MICROVERSION = "2.95"  # live migration aborts (2.24), instance_uuid filters (2.59), ...
# evacuate with a target host and no force (2.29+), before 2.95 stopped evacuated
# instances at their destination: an active instance comes back active
EVACUATE_MICROVERSION = "2.94"
DONE_STATES = {"completed": SUCCEEDED, "confirmed": SUCCEEDED, "done": SUCCEEDED,
               "error": FAILED,
               "failed": FAILED, "cancelled": ABORTED, "reverted": ABORTED}
KIND_TYPES = {"live": "live-migration", "cold": "migration", "evacuate": "evacuation"}


class NovaActuator:
    """Talks to Nova through an openstacksdk connection's compute adapter."""

    name = "nova"

    def __init__(self, connection: Any, find_timeout_s: float = 30.0, poll_s: float = 0.5):
        self.connection = connection
        self.find_timeout_s = find_timeout_s
        self.poll_s = poll_s

    # -- reading ------------------------------------------------------------
    def instance(self, uuid: str) -> InstanceInfo | None:
        response = self._call("GET", f"/servers/{uuid}", ok_missing=True)
        if response is None:
            return None
        server = response["server"]
        state = NOVA_STATES.get(server.get("status"), "active")
        return InstanceInfo(host=server.get("OS-EXT-SRV-ATTR:host") or "", state=state,
                            memory_mb=float(server.get("flavor", {}).get("ram", 0)))

    def host_state(self, host: str) -> tuple[bool, bool] | None:
        service = self._service(host)
        if service is None:
            return None
        return service["state"] == "up", service["status"] == "enabled"

    # -- migrations ---------------------------------------------------------
    def start_migration(self, uuid: str, source: str, destination: str, kind: str) -> str:
        if kind not in KIND_TYPES:
            raise ActuatorError(f"nova actuator: unknown migration kind {kind!r}")
        before = {m["id"] for m in self._migrations(uuid)}
        if kind == "live":
            body: dict = {"os-migrateLive": {"host": destination, "block_migration": "auto"}}
        else:
            body = {"migrate": {"host": destination}}
        self._call("POST", f"/servers/{uuid}/action", json=body)
        return self._find_migration(uuid, before, kind, destination)

    def start_evacuation(self, uuid: str, source: str, destination: str, storage: str) -> str:
        """``POST /servers/{id}/action {"evacuate": {"host": …}}``: Nova rebuilds the server
        on ``destination`` (keeping its disks on shared storage or volumes, else from its
        image) and refuses while the source's compute service is up."""
        before = {m["id"] for m in self._migrations(uuid)}
        self._call("POST", f"/servers/{uuid}/action", json={"evacuate": {"host": destination}},
                   microversion=EVACUATE_MICROVERSION)
        return self._find_migration(uuid, before, "evacuate", destination)

    def _find_migration(self, uuid: str, before: set, kind: str, destination: str) -> str:
        """The id of the migration record Nova made for the move just asked for."""
        deadline = time.monotonic() + self.find_timeout_s
        while time.monotonic() < deadline:
            for migration in self._migrations(uuid):
                if migration["id"] not in before and \
                        migration.get("migration_type") == KIND_TYPES[kind]:
                    return f"{uuid}/{migration['id']}"
            time.sleep(self.poll_s)
        raise ActuatorError(f"nova accepted the {kind} move of {uuid} to {destination} "
                            f"but no migration record appeared in {self.find_timeout_s}s")

    def migration_status(self, operation: str) -> OperationStatus:
        uuid, migration_id = _split(operation)
        migration = next((m for m in self._migrations(uuid) if m["id"] == migration_id), None)
        if migration is None:
            return OperationStatus(FAILED, f"migration {operation} not found in nova")
        status = migration["status"]
        destination = migration.get("dest_compute")
        if status == "finished" and migration.get("migration_type") == "migration":
            self._confirm(uuid)
            return OperationStatus(RUNNING, destination=destination)
        state = DONE_STATES.get(status, RUNNING)
        if state == SUCCEEDED and migration.get("migration_type") == "evacuation" \
                and self._status(uuid) not in ("ACTIVE", "SHUTOFF", "ERROR"):
            # the record says done while the rebuild still finishes (status REBUILD)
            return OperationStatus(RUNNING, destination=destination)
        if state == SUCCEEDED and migration.get("migration_type") == "migration" \
                and self._status(uuid) == "VERIFY_RESIZE":
            # Nova marks the migration confirmed before the server leaves VERIFY_RESIZE.
            return OperationStatus(RUNNING, destination=destination)
        error = f"nova migration status {status!r}" if state == FAILED else None
        return OperationStatus(state, error, destination)

    def running_migrations(self, uuid: str) -> list[tuple[str, str]]:
        return [(f"{uuid}/{m['id']}", m.get("dest_compute") or "")
                for m in self._migrations(uuid) if m["status"] not in DONE_STATES]

    def abort_migration(self, operation: str) -> bool:
        uuid, migration_id = _split(operation)
        try:
            self._call("DELETE", f"/servers/{uuid}/migrations/{migration_id}")
        except ActuatorError:
            return False  # finished, not live, or past the point of no return
        return True

    # -- hosts --------------------------------------------------------------
    def set_service_state(self, host: str, enabled: bool, reason: str | None) -> None:
        service = self._service(host)
        if service is None:
            raise ActuatorError(f"nova has no nova-compute service on host {host!r}")
        body: dict = {"status": "enabled" if enabled else "disabled"}
        if not enabled and reason:
            body["disabled_reason"] = reason[:255]
        self._call("PUT", f"/os-services/{service['id']}", json=body)

    def set_power_state(self, host: str, on: bool) -> None:
        raise ActuatorError(f"nova actuator cannot power host {host!r} "
                            f"{'on' if on else 'off'}: Nova has no power control "
                            "(use a bare-metal actuator)")

    def close(self) -> None:
        close = getattr(self.connection, "close", None)
        if close is not None:
            close()

    # -- helpers ------------------------------------------------------------
    def _confirm(self, uuid: str) -> None:
        if self._status(uuid) == "VERIFY_RESIZE":
            self._call("POST", f"/servers/{uuid}/action", json={"confirmResize": None})

    def _status(self, uuid: str) -> str | None:
        server = self._call("GET", f"/servers/{uuid}", ok_missing=True)
        return None if server is None else server["server"].get("status")

    def _migrations(self, uuid: str) -> list[dict]:
        body = self._call("GET", "/os-migrations", params={"instance_uuid": uuid})
        return body.get("migrations", [])

    def _service(self, host: str) -> dict | None:
        body = self._call("GET", "/os-services",
                          params={"binary": "nova-compute", "host": host})
        services = body.get("services", [])
        return services[0] if services else None

    def _call(self, method: str, path: str, *, json: dict | None = None,
              params: dict | None = None, ok_missing: bool = False,
              microversion: str = MICROVERSION) -> dict | None:
        try:
            response = self.connection.compute.request(
                path, method, json=json, params=params, microversion=microversion,
                raise_exc=False)
        except Exception as exc:  # keystoneauth connection errors and the like
            raise ActuatorError(f"nova {method} {path}: {type(exc).__name__}: {exc}",
                                transient=True) from None
        if response.status_code == 404 and ok_missing:
            return None
        if response.status_code >= 400:
            transient = response.status_code in (409, 429, 503)
            raise ActuatorError(f"nova {method} {path}: HTTP {response.status_code}: "
                                f"{_fault(response)}", transient=transient)
        return response.json() if response.content else {}


def _split(operation: str) -> tuple[str, int]:
    uuid, _, migration_id = operation.partition("/")
    try:
        return uuid, int(migration_id)
    except ValueError:
        raise ActuatorError(f"not a nova operation id: {operation!r}") from None


def _fault(response: Any) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and len(body) == 1:
        inner = next(iter(body.values()))
        if isinstance(inner, dict) and "message" in inner:
            return str(inner["message"])
    return str(body)[:200]
