"""The API against its own OpenAPI document, fuzzed by schemathesis.

Every operation gets a bounded number of generated requests, valid and
invalid (about 500 in all), derandomized so a run is the same run every time: no answer may be a
5xx, and every answer must be one the document declares, with the declared
content type, headers and body schema.
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from itertools import product
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from optimizer.api import create_app
from optimizer.config import load_config
from optimizer.context import open_context
from tests.optimizer.api.conftest import RecordingDispatcher

EXAMPLES_PER_OPERATION = 18  # valid and invalid input x 38 operations: about 500 requests
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]


@pytest.fixture
def api() -> Iterator:
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "optimizer.conf"
        config.write_text(f"[database]\nconnection = sqlite:///{folder}/optimizer.db\n"
                          f"[simulated]\nhosts = 4\nseed = 3\nstate_file = {folder}/cloud.db\n")
        ctx = open_context(load_config(str(config)))
        dispatcher = RecordingDispatcher(ctx)
        try:
            yield create_app(ctx, dispatcher)
        finally:
            dispatcher.wait()
            dispatcher.close()
            ctx.close()


def _has_input(operation) -> bool:
    definition = operation.definition.raw
    return bool(definition.get("parameters") or definition.get("requestBody"))


def test_the_api_keeps_to_its_document(api):
    schema = schemathesis.openapi.from_asgi("/openapi.json", api)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30
    calls: list[str] = []
    for operation, mode in product(operations, GenerationMode):
        if mode is GenerationMode.NEGATIVE and not _has_input(operation):
            continue  # nothing to make invalid

        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, deadline=None,
                  database=None, phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case) -> None:
            calls.append(case.operation.label)
            case.call_and_validate(checks=CHECKS)

        try:
            check()
        except Unsatisfiable:  # e.g. a free-text path parameter has no invalid value
            assert mode is GenerationMode.NEGATIVE, operation.label
    assert 400 <= len(calls) <= 600, len(calls)
