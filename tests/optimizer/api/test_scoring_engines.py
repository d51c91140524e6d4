"""``/v1/scoring_engines``: scorer plugins found through their entry point group."""
from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint

import pytest

from optimizer import plugins
from optimizer.api.views import scoring_engine_uuid
from tests.optimizer.api.conftest import fault


@dataclass(frozen=True)
class MeanScorer:
    name: str = "mean_scorer"
    description: str = "The mean of the features"
    metainfo: str = "features: any numbers; score: their mean"

    def calculate_score(self, features: list[float]) -> list[float]:
        return [sum(features) / len(features)]


ENGINE = MeanScorer()
MISNAMED = MeanScorer(name="other")


@pytest.fixture
def installed(monkeypatch):
    def entry_points(group: str):
        if group != plugins.SCORING_ENGINE_GROUP:
            return []
        module = __name__
        return [EntryPoint("mean_scorer", f"{module}:ENGINE", group),
                EntryPoint("misnamed", f"{module}:MISNAMED", group)]
    monkeypatch.setattr(plugins, "entry_points", entry_points)


def test_none_installed_lists_nothing_and_shows_404(client):
    assert client.get("/v1/scoring_engines").json() == {"scoring_engines": [], "next": None}
    missing = client.get("/v1/scoring_engines/dummy_scorer")
    assert missing.status_code == 404
    assert "dummy_scorer" in fault(missing)


def test_an_installed_engine_is_listed_and_shown(client, installed):
    listed = client.get("/v1/scoring_engines").json()["scoring_engines"]
    assert [(e["name"], set(e)) for e in listed] == [
        ("mean_scorer", {"uuid", "name", "description", "links"})]
    uuid = scoring_engine_uuid("mean_scorer")
    for ident in ("mean_scorer", uuid):
        shown = client.get(f"/v1/scoring_engines/{ident}").json()
        assert shown["uuid"] == uuid
        assert shown["metainfo"] == ENGINE.metainfo
    detail = client.get("/v1/scoring_engines/detail").json()["scoring_engines"]
    assert detail[0]["metainfo"] == ENGINE.metainfo


def test_a_misnamed_engine_is_reported_not_listed(installed):
    loaded = plugins.load_scoring_engines()
    assert list(loaded.loaded) == ["mean_scorer"]
    assert [f.name for f in loaded.failures] == ["misnamed"]
    assert "differs" in loaded.failures[0].error
