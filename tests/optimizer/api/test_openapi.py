"""/openapi.json says what the API answers, and a 405 names the methods a path serves."""
from __future__ import annotations

import pytest

from tests.optimizer.api.conftest import fault

UUID = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def document(client) -> dict:
    return client.get("/openapi.json").json()


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_no_operation_declares_422(document):
    declared = [(p, m) for p, m, op in operations(document) if "422" in op["responses"]]
    assert declared == []
    assert "HTTPValidationError" not in document["components"]["schemas"]


@pytest.mark.parametrize(("path", "method", "statuses"), [
    ("/v1/audits", "post", {"201", "400", "401", "403", "404", "405", "406", "409", "503"}),
    ("/v1/audits/{audit}", "get", {"200", "400", "401", "404", "405", "406", "503"}),
    ("/v1/goals", "get", {"200", "400", "401", "405", "406", "503"}),
    ("/v1/action_plans/{plan}", "delete",
     {"204", "400", "401", "403", "404", "405", "406", "409", "503"}),
    ("/", "get", {"200"}),
])
def test_operations_declare_the_errors_they_answer(document, path, method, statuses):
    responses = document["paths"][path][method]["responses"]
    assert set(responses) == statuses
    for status in statuses - {"200", "201", "204"}:
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize(("method", "url", "allowed"), [
    ("PUT", "/v1/goals", "GET"),
    ("DELETE", "/v1/goals/dummy", "GET"),
    ("POST", f"/v1/audits/{UUID}", "DELETE, GET, PATCH"),
    ("PUT", "/v1/audit_templates", "GET, POST"),
    ("GET", f"/v1/action_plans/{UUID}/start", "POST"),
])
def test_405_names_every_method_of_the_path(client, method, url, allowed):
    response = client.request(method, url)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed
    assert allowed in fault(response)
