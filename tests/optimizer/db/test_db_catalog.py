"""The goals and strategies tables follow the installed strategies."""
from dataclasses import dataclass, replace

from optimizer.strategies.base import GOALS, Strategy
from optimizer.strategies.parameters import param
from optimizer.strategies.solution import Solution

from optimizer.db import list_goals, list_strategies, sync_strategies


@dataclass(frozen=True)
class Knobs:
    threshold: float = param(0.5, help="How full is full.", minimum=0, maximum=1)


def execute(snapshot, params):
    """Does nothing, for tests.

    Optimizes:
        nothing
    Metrics:
        none
    Parameters:
        threshold
    Limits:
        none
    """
    return Solution(strategy="quiet", goal="dummy", actions=())


QUIET = Strategy(name="quiet", goal="dummy", parameters=Knobs, execute=execute,
                 display_name="Quiet")


def test_sync_adds_goals_and_strategies_with_schemas(session):
    report = sync_strategies(session, [QUIET])
    assert report.added == ["quiet"] and report.removed == []
    assert [g.name for g in list_goals(session)] == sorted(GOALS)
    (row,) = list_strategies(session)
    assert (row.name, row.goal, row.display_name) == ("quiet", "dummy", "Quiet")
    assert row.description == "Does nothing, for tests."
    assert row.parameters_schema["properties"]["threshold"]["maximum"] == 1


def test_sync_updates_changed_and_removes_uninstalled(session):
    sync_strategies(session, [QUIET, replace(QUIET, name="loud")])
    report = sync_strategies(session, [replace(QUIET, display_name="Very quiet")])
    assert (report.added, report.updated, report.removed) == ([], ["quiet"], ["loud"])
    assert [(s.name, s.display_name) for s in list_strategies(session)] == [
        ("quiet", "Very quiet")]
    assert sync_strategies(session, [replace(QUIET, display_name="Very quiet")]).updated == []


def test_installed_strategies_sync(session):
    from optimizer.plugins import load_strategies

    installed = load_strategies().loaded
    sync_strategies(session, installed.values())
    assert {s.name for s in list_strategies(session)} == set(installed)
    assert {s.name for s in list_strategies(session, goal="dummy")} <= set(installed)
