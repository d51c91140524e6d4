"""JSON patch documents (RFC 6902) as Watcher's PATCH requests use them.

``[{"op": "replace", "path": "/state", "value": "SUSPENDED"}]``: the
operations ``add``, ``replace`` and ``remove`` on top-level fields or on
keys inside them (``/parameters/period``). Each resource says which
top-level fields may change; the result is the set of changed fields.
"""
from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from optimizer.api.errors import BadRequest


class PatchOperation(BaseModel):
    """One operation of a JSON patch document."""

    model_config = ConfigDict(extra="forbid")

    op: Literal["add", "replace", "remove"]
    path: str
    value: Any = None


def apply_patch(document: dict[str, Any], operations: list[PatchOperation],
                editable: Collection[str]) -> dict[str, Any]:
    """The fields of ``document`` the operations change, with their new values."""
    if not operations:
        raise BadRequest("the patch document has no operations")
    result = copy.deepcopy(document)
    for number, operation in enumerate(operations):
        where = f"patch operation {number} ({operation.op} {operation.path})"
        tokens = _tokens(operation.path, where)
        if tokens[0] not in editable:
            raise BadRequest(f"{where}: field {tokens[0]!r} cannot be changed "
                             f"(changeable: {', '.join(sorted(editable))})")
        if operation.op != "remove" and "value" not in operation.model_fields_set:
            raise BadRequest(f"{where}: needs a value")
        _apply(result, tokens, operation, where)
    return {name: result.get(name) for name in editable
            if result.get(name) != document.get(name)}


def _tokens(path: str, where: str) -> list[str]:
    if not path.startswith("/") or path == "/":
        raise BadRequest(f"{where}: path must look like /field or /field/key")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _apply(document: dict, tokens: list[str], operation: PatchOperation, where: str) -> None:
    parent: Any = document
    for token in tokens[:-1]:
        parent = parent.get(token) if isinstance(parent, dict) else None
        if not isinstance(parent, dict):
            raise BadRequest(f"{where}: {token!r} is not an object that has keys")
    last = tokens[-1]
    if operation.op == "remove":
        if last not in parent:
            raise BadRequest(f"{where}: nothing to remove")
        if len(tokens) == 1:
            parent[last] = None  # a top-level field goes back to unset
        else:
            del parent[last]
        return
    if operation.op == "replace" and len(tokens) > 1 and last not in parent:
        raise BadRequest(f"{where}: nothing to replace")
    parent[last] = operation.value
