"""``/healthz`` and ``/metrics``: 200 on SQLite, 503 when the database is gone."""
from __future__ import annotations

import socket

from sqlalchemy.orm import sessionmaker

from optimizer.db.engine import Database, make_engine


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again: nothing listens there


def test_healthz_is_ok_on_sqlite(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "collector"}
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["database"]["latency_s"] >= 0
    assert "8 hosts" in body["checks"]["collector"]["detail"]


def test_healthz_fails_when_the_database_is_unreachable(client, ctx):
    port = dead_port()
    engine = make_engine(f"postgresql+psycopg://optimizer:x@127.0.0.1:{port}/optimizer")
    stored, ctx.database = ctx.database, Database(engine, sessionmaker(engine))
    try:
        response = client.get("/healthz")
    finally:
        ctx.database = stored
        engine.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    database = body["checks"]["database"]
    assert database["status"] == "fail" and str(port) in database["error"]
    assert body["checks"]["broker"]["status"] == "ok"


def test_healthz_says_which_broker_host_refused(ctx, dispatcher):
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from optimizer.api import create_app

    port = dead_port()
    ctx.settings = replace(ctx.settings, transport_url=f"rabbit://g:g@127.0.0.1:{port}/")
    with TestClient(create_app(ctx, dispatcher)) as test_client:
        response = test_client.get("/healthz")
    assert response.status_code == 503
    assert f"127.0.0.1:{port}" in response.json()["checks"]["broker"]["error"]


def test_metrics_count_requests_by_route_without_a_token(secured):
    secured.get("/v1/audits")  # 401: no token
    response = secured.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert ('optimizer_api_requests_total{method="GET",route="/v1/audits",status="401"} 1.0'
            in response.text)
