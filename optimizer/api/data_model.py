"""``/v1/data_model``: the cluster model the collector builds, in Watcher's shape.

One row per instance with its host's figures (``server_*`` and ``node_*``
fields), and one row with only ``node_*`` fields for each host without
instances. With ``audit_uuid`` the model is restricted to that audit's scope.
"""
from __future__ import annotations

from fastapi import APIRouter, Request

from optimizer.api.errors import BadRequest, NotAcceptable
from optimizer.api.microversion import DATA_MODEL, version_of
from optimizer.api.views import host_uuid
from optimizer.db import get_audit
from optimizer.decision.scope import apply_scope

router = APIRouter(prefix="/v1/data_model", tags=["data model"])

MODEL_TYPES = ("compute",)


@router.get("", summary="The compute data model")
def data_model(request: Request) -> dict:
    if version_of(request) < DATA_MODEL:
        raise NotAcceptable(f"the data model API needs version {DATA_MODEL} or later")
    unknown = sorted(set(request.query_params) - {"data_model_type", "audit_uuid"})
    if unknown:
        raise BadRequest(f"unknown query parameter(s) {', '.join(unknown)} "
                         "(allowed: audit_uuid, data_model_type)")
    model_type = request.query_params.get("data_model_type", "compute")
    if model_type not in MODEL_TYPES:
        raise BadRequest(f"data_model_type {model_type!r} is not supported "
                         f"(types: {', '.join(MODEL_TYPES)})")
    ctx = request.app.state.ctx
    snapshot = ctx.collector.collect()
    audit = request.query_params.get("audit_uuid")
    if audit:
        with ctx.database.session() as session:
            scope = get_audit(session, audit).scope
        snapshot = apply_scope(snapshot, scope)
    return {"context": compute_rows(snapshot)}


def compute_rows(snapshot) -> list[dict]:
    """Watcher's compute model listing of a snapshot."""
    nodes = [_node(snapshot.host_record(h)) for h in range(snapshot.host_count)]
    rows = []
    hosted = set()
    for i in range(snapshot.instance_count):
        instance = snapshot.instance_record(i)
        h = int(snapshot.inst_host[i])
        hosted.add(h)
        rows.append({"server_uuid": instance.uuid, "server_name": instance.name or "",
                     "server_vcpus": _num(instance.vcpus),
                     "server_memory": _num(instance.memory_mb),
                     "server_disk": _num(instance.disk_gb), "server_state": instance.state,
                     "server_watcher_exclude": False, **nodes[h]})
    rows += [nodes[h] for h in range(snapshot.host_count) if h not in hosted]
    return rows


def _node(host) -> dict:
    return {"node_uuid": host_uuid(host.name), "node_hostname": host.name,
            "node_vcpus": _num(host.vcpus), "node_vcpu_ratio": host.cpu_allocation_ratio,
            "node_memory": _num(host.memory_mb), "node_memory_ratio": host.ram_allocation_ratio,
            "node_disk": _num(host.disk_gb), "node_disk_ratio": host.disk_allocation_ratio,
            "node_state": host.state, "node_status": host.status,
            "node_disabled_reason": host.disabled_reason, "node_zone": host.zone}


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else float(value)
