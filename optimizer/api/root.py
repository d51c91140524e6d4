"""The version documents at ``/`` and ``/v1``: what clients negotiate from."""
from __future__ import annotations

from fastapi import APIRouter, Request

from optimizer.api.microversion import MAX_VERSION, MIN_VERSION
from optimizer.api.pagination import base_url

router = APIRouter(tags=["versions"])

RESOURCES = ("goals", "strategies", "audit_templates", "audits", "action_plans", "actions",
             "data_model", "scoring_engines", "services", "webhooks")


def version_document(request: Request) -> dict:
    """The one API version, v1, with its microversion range."""
    return {"id": "v1", "status": "CURRENT", "min_version": str(MIN_VERSION),
            "max_version": str(MAX_VERSION),
            "links": [{"href": f"{base_url(request)}/v1/", "rel": "self"}]}


@router.get("/", summary="API versions")
def root(request: Request) -> dict:
    """The API's name and versions (Watcher's root document)."""
    version = version_document(request)
    return {"name": "OpenStack Watcher API (optimizer)",
            "description": "Cloud resource optimization: audits, action plans and actions, "
                           "compatible with OpenStack Watcher's v1 API.",
            "versions": [version], "default_version": version}


@router.get("/v1", summary="Version 1")
@router.get("/v1/", include_in_schema=False)
def v1(request: Request) -> dict:
    """Version 1: its media type and a link to each resource."""
    base = base_url(request)
    document = {"id": "v1",
                "media_types": [{"base": "application/json",
                                 "type": "application/vnd.openstack.watcher.v1+json"}],
                "links": [{"href": f"{base}/v1/", "rel": "self"}]}
    for resource in RESOURCES:
        document[resource] = [{"href": f"{base}/v1/{resource}/", "rel": "self"},
                              {"href": f"{base}/{resource}/", "rel": "bookmark"}]
    return document
