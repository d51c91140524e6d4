"""Collectors: configured by name, the simulated cloud persists, scenario files load."""
from __future__ import annotations

import pytest
from optimizer.models.scenario import save_scenario

from optimizer.collectors import CollectorError, open_collector
from optimizer.config import load_config


def settings_for(tmp_path, monkeypatch, text: str):
    config = tmp_path / "optimizer.conf"
    config.write_text(text)
    monkeypatch.delenv("OPTIMIZER_DATABASE_URL", raising=False)
    return load_config(str(config))


def test_simulated_collector_creates_then_keeps_its_cloud(tmp_path, monkeypatch):
    state = tmp_path / "cloud.db"
    settings = settings_for(tmp_path, monkeypatch,
                            f"[simulated]\nhosts = 6\nseed = 3\nstate_file = {state}\n")
    first = open_collector(settings).collect()
    assert first.host_count == 6 and first.instance_count > 0
    # a change made to the cloud is what the next command sees
    collector = open_collector(settings)
    uuid = first.inst_uuids[0]
    source = first.host_names[first.inst_host[0]]
    destination = next(h for h in first.host_names if h != source)
    collector.cloud.start_migration(uuid, source, destination, "live")
    again = open_collector(settings).collect()
    assert again.host_names[again.inst_host[again.instance_id(uuid)]] == destination


def test_scenario_collector_reads_its_file(tmp_path, monkeypatch):
    from optimizer.models.simulated import SimulationSpec, simulate_cluster

    path = tmp_path / "s.json"
    save_scenario(simulate_cluster(SimulationSpec(hosts=4)), path)
    settings = settings_for(tmp_path, monkeypatch,
                            f"[collector]\nname = scenario\nscenario_file = {path}\n")
    assert open_collector(settings).collect().host_count == 4


def test_unknown_or_unconfigured_collectors_are_named(tmp_path, monkeypatch):
    settings = settings_for(tmp_path, monkeypatch, "[collector]\nname = scenario\n")
    with pytest.raises(CollectorError, match="needs \\[collector\\] scenario_file"):
        open_collector(settings)
    with pytest.raises(CollectorError, match="unknown collector 'nova'"):
        open_collector(settings, "nova")
