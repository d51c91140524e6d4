"""``actionplan show`` and the API show predicted beside measured once a plan ended."""
from __future__ import annotations

from fastapi.testclient import TestClient

from tests.optimizer.commands.conftest import optimizer, private_home  # noqa: F401 (fixtures)


def test_show_prints_predicted_and_measured_after_the_plan_ran(optimizer):  # noqa: F811
    uuid = optimizer.recommended_plan()
    assert optimizer.json("actionplan", "show", uuid)["measured_efficacy"] is None
    optimizer.run("actionplan", "start", uuid)
    document = optimizer.json("actionplan", "show", uuid)
    measured = document["measured_efficacy"]
    assert measured["plan_state"] == "SUCCEEDED"
    moves = optimizer.json("action", "list", "--plan", uuid, "--type", "migrate")
    assert measured["measured"]["migrations"] == len(moves) > 0
    table = optimizer.run("actionplan", "show", uuid).stdout
    assert "Predicted vs measured (SUCCEEDED" in table
    line = next(row for row in table.splitlines() if "hosts emptied" in row)
    assert str(measured["measured"]["hosts_emptied"]) in line


def test_the_api_detail_gains_measured_efficacy(optimizer):  # noqa: F811
    from optimizer.api.app import create_app
    from tests.optimizer.api.conftest import RecordingDispatcher

    uuid = optimizer.recommended_plan()
    optimizer.run("actionplan", "start", uuid)
    with optimizer.context() as ctx:
        dispatcher = RecordingDispatcher(ctx)
        try:
            with TestClient(create_app(ctx, dispatcher)) as client:
                body = client.get(f"/v1/action_plans/{uuid}").json()
        finally:
            dispatcher.close()
    assert body["uuid"] == uuid and "global_efficacy" in body
    assert body["measured_efficacy"]["measured"]["migrations"] > 0
