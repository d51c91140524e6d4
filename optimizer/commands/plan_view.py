"""How ``optimizer actionplan show`` presents a plan: efficacy, action graph, host changes.

Actions are drawn as a tree of stages: an action's stage is one more than
its latest parent's, so every action of a stage may start as soon as its
own parents (named after it) are done, and actions of the first stage need
nothing. Stored actions come in execution order with parents earlier in
the list, so the first N actions always include their parents.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from optimizer import render
from optimizer.commands.common import duration_text, show_text

COMPARISON = "strategy_comparison"


def stages(actions: Sequence[dict[str, Any]]) -> list[int]:
    """Stage (1-based) of each action, given actions in order with earlier parents."""
    stage_of: dict[int, int] = {}
    out = []
    for action in actions:
        parents = action["parents"]
        stage = 1 + max([stage_of.get(p, 0) for p in parents]) if parents else 1
        stage_of[action["index"]] = stage
        out.append(stage)
    return out


def stage_counts(actions: Sequence[dict[str, Any]]) -> dict[int, int]:
    """How many actions each stage holds."""
    counts: dict[int, int] = {}
    for stage in stages(actions):
        counts[stage] = counts.get(stage, 0) + 1
    return counts


def whole_plan_stage_counts(parents: Sequence[Sequence[int]]) -> dict[int, int]:
    """:func:`stage_counts` of a whole plan given as each action's parents, by index."""
    stage: list[int] = []
    counts: dict[int, int] = {}
    for before in parents:
        k = 1 + max([stage[p] for p in before]) if before else 1
        stage.append(k)
        counts[k] = counts.get(k, 0) + 1
    return counts


def print_plan(out: Console, plan: dict[str, Any], actions: Sequence[dict[str, Any]],
               total: int, limit: int, counts: dict[int, int] | None = None) -> None:
    """Everything ``actionplan show`` prints for one plan."""
    out.print(f"[bold]Action plan {plan['uuid']}[/] — {plan['state']}", highlight=False)
    out.print(f"audit {plan['audit']} ({plan['audit_uuid']}), strategy {plan['strategy']}, "
              f"{total} actions, estimated duration "
              f"{duration_text(plan['estimated_duration_s'])}", markup=False)
    if plan["status_message"]:
        out.print(f"status: {plan['status_message']}", markup=False)
    print_indicators(out, plan)
    if plan.get("measured_efficacy"):
        from optimizer.efficacy.view import print_measured

        print_measured(out, plan["measured_efficacy"])
    print_action_tree(out, actions, total, counts)
    print_host_changes(out, plan.get("host_changes") or {}, limit=limit)


def print_indicators(out: Console, plan: dict[str, Any]) -> None:
    """The plan's efficacy indicators, and the strategy comparison when there was one."""
    described = {i["name"]: i["description"] for i in plan["indicators"]}
    efficacy = plan["global_efficacy"] or [
        {"name": i["name"], "value": i["value"], "unit": i["unit"]} for i in plan["indicators"]]
    table = Table(title="Efficacy indicators", title_justify="left")
    for column in ("indicator", "value", "unit", "description"):
        table.add_column(column, overflow="fold")
    comparison = None
    for item in efficacy:
        if item["name"] == COMPARISON:
            comparison = item["value"]
            continue
        table.add_row(item["name"], *render.indicator_text(item["value"], item.get("unit", "")),
                      described.get(item["name"], ""))
    out.print(table)
    if comparison:
        print_comparison(out, comparison)


def print_comparison(out: Console, candidates: Sequence[dict[str, Any]]) -> None:
    """How the strategies for the goal compared when none was named (first is chosen)."""
    table = Table(title="Strategy comparison (the first was chosen)", title_justify="left")
    for column in ("strategy", "score", "migrations", "seconds", "error"):
        table.add_column(column, overflow="fold")
    for c in candidates:
        table.add_row(c.get("strategy", ""), show_text(c.get("score")),
                      show_text(c.get("migrations")),
                      duration_text(c["seconds"]) if c.get("seconds") is not None else "",
                      show_text(c.get("error")))
    out.print(table)


def print_action_tree(out: Console, actions: Sequence[dict[str, Any]], total: int,
                      counts: dict[int, int] | None = None) -> None:
    """Actions grouped by stage, each with its state and the actions it waits for.

    ``counts`` are the actions of each stage in the whole plan (default: of ``actions``).
    """
    title = (f"Actions in execution order (first {len(actions)} of {total})"
             if total > len(actions) else f"Actions in execution order ({total})")
    tree = Tree(Text(title, style="bold"))
    branches: dict[int, Tree] = {}
    counts = counts or stage_counts(actions)
    for action, stage in zip(actions, stages(actions), strict=True):
        if stage not in branches:
            waits = "no parents" if stage == 1 else "each after its parents"
            branches[stage] = tree.add(f"stage {stage}: {counts[stage]} action(s), {waits}")
        after = (" after " + ", ".join(f"#{p}" for p in action["parents"])
                 if action["parents"] else "")
        line = f"#{action['index']} {action['type']} {action['subject']} {action['change']}"
        branches[stage].add(f"{line.rstrip()} [{action['state']}]{after}", highlight=False)
    if not actions:
        tree.add("(no actions)")
    out.print(tree, markup=False)
    if total > len(actions):
        out.print(f"… and {total - len(actions)} more actions (show more with --limit)")


def print_host_changes(out: Console, changes: dict[str, dict], limit: int = 50) -> None:
    """Per host: instances, CPU load and allocation before → after, service and power."""
    table = Table(title=f"What the plan changes on {len(changes)} host(s)", title_justify="left")
    for column in ("host", "instances", "cpu load", "vcpus allocated", "memory allocated",
                   "service", "power"):
        table.add_column(column, overflow="fold")
    for host, change in list(changes.items())[:limit]:
        table.add_row(host, _pair(change.get("instances"), "{:d}"),
                      _pair(change.get("cpu_load"), "{:.1%}"),
                      _pair(change.get("vcpus_allocated_pct"), "{:.1f}%"),
                      _pair(change.get("memory_allocated_pct"), "{:.1f}%"),
                      change.get("service", ""), change.get("power", ""))
    if not changes:
        table.add_row("(none)", "", "", "", "", "", "")
    out.print(table)
    if len(changes) > limit:
        out.print(f"… and {len(changes) - limit} more hosts (show more with --limit)")


def _pair(values: Sequence[float] | None, pattern: str) -> str:
    if not values:
        return ""
    before, after = values
    return f"{pattern.format(before)} → {pattern.format(after)}"
