"""The optimizer's Prometheus metrics, in a registry of their own.

A :class:`Metrics` owns its ``CollectorRegistry`` (never prometheus_client's
global one), so several apps or tests in one process do not collide. Its
methods are the hooks the engine calls (through
:func:`optimizer.observability.current_metrics`); each does a few counter or
histogram updates, a microsecond or two.

Names (all prefixed ``optimizer_``):

- ``audits_total{state,strategy}``: audits that ended (SUCCEEDED, FAILED) or ran
  (a CONTINUOUS audit's run ends ONGOING);
- ``planning_seconds{strategy}``: model + strategy + planner + store time of an
  audit that made a plan, and ``audit_phase_seconds{phase}`` for each phase;
- ``plan_actions``: actions per stored plan;
- ``actions_total{type,outcome}``: actions that reached a final state;
- ``action_plans_total{state}``: plans the applier ended;
- ``migration_seconds``: start to end of each successful migration;
- ``applier_queue{state}``: actions of the plans being applied here, ``waiting``
  (ready, held by the migration limits or a retry's backoff) or ``running``;
- ``notifications_total{direction}``: Nova notifications ``received`` by the
  listener and the optimizer's own ``sent``; ``notification_lag_seconds{direction}``:
  from a Nova event's time stamp to its reception, from a commit to its
  notification's sending; ``notifications_skipped_total{reason}``;
- ``model_age_seconds``: since the live model last heard of the cloud (a
  resync or an applied event); absent without a live model;
- ``guard_rail_holds_total{rail}``: plans a guard rail kept from starting;
- ``api_requests_total{method,route,status}``, ``api_request_seconds{method,route}``;
- ``health_up{check}``, ``health_check_seconds{check}``: the last ``/healthz``.
"""
from __future__ import annotations

import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from optimizer.states import ActionState

CONTENT_TYPE = CONTENT_TYPE_LATEST
FINAL_ACTION_STATES = frozenset({ActionState.SUCCEEDED, ActionState.FAILED,
                                 ActionState.SKIPPED, ActionState.CANCELLED})
PLANNING_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)
PLAN_SIZE_BUCKETS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000, 50000)
MIGRATION_BUCKETS = (0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)
LAG_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
API_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class Metrics:
    """Every metric of one process, and the hooks that update them."""

    enabled = True

    def __init__(self, registry: CollectorRegistry | None = None):
        self.registry = r = registry or CollectorRegistry()
        self.audits = Counter("optimizer_audits", "Audits ended (or runs of continuous ones), "
                              "by state and strategy", ["state", "strategy"], registry=r)
        self.planning = Histogram("optimizer_planning_seconds", "Seconds from an audit's start "
                                  "to its stored plan", ["strategy"], registry=r,
                                  buckets=PLANNING_BUCKETS)
        self.phases = Histogram("optimizer_audit_phase_seconds", "Seconds of each phase of "
                                "an audit (model, strategy, planner, store)", ["phase"],
                                registry=r, buckets=PLANNING_BUCKETS)
        self.plan_actions = Histogram("optimizer_plan_actions", "Actions per stored plan",
                                      registry=r, buckets=PLAN_SIZE_BUCKETS)
        self.actions = Counter("optimizer_actions", "Actions that reached a final state, by "
                               "type and outcome", ["type", "outcome"], registry=r)
        self.plans = Counter("optimizer_action_plans", "Action plans the applier ended, by "
                             "state", ["state"], registry=r)
        self.migrations = Histogram("optimizer_migration_seconds", "Seconds from the start "
                                    "to the end of each successful migration", registry=r,
                                    buckets=MIGRATION_BUCKETS)
        self.notifications = Counter("optimizer_notifications", "Notifications received "
                                     "from Nova and sent by the optimizer", ["direction"],
                                     registry=r)
        self.lag = Histogram("optimizer_notification_lag_seconds", "Received: Nova's time "
                             "stamp to reception; sent: commit to sending", ["direction"],
                             registry=r, buckets=LAG_BUCKETS)
        self.skipped = Counter("optimizer_notifications_skipped", "Nova notifications the "
                               "live model skipped, by reason", ["reason"], registry=r)
        self.holds = Counter("optimizer_guard_rail_holds", "Plans a guard rail kept from "
                             "starting by themselves, by rail", ["rail"], registry=r)
        self.requests = Counter("optimizer_api_requests", "API requests, by method, route "
                                "and status", ["method", "route", "status"], registry=r)
        self.request_seconds = Histogram("optimizer_api_request_seconds", "Seconds to answer "
                                         "an API request", ["method", "route"], registry=r,
                                         buckets=API_BUCKETS)
        self.health_up = Gauge("optimizer_health_up", "1 when the check of the last /healthz "
                               "passed, 0 when it failed", ["check"], registry=r)
        self.health_seconds = Gauge("optimizer_health_check_seconds", "Seconds the check of "
                                    "the last /healthz took", ["check"], registry=r)
        self.live = _LiveGauges()
        r.register(self.live)
        self._received = self.notifications.labels("received")
        self._received_lag = self.lag.labels("received")
        self._sent = self.notifications.labels("sent")
        self._sent_lag = self.lag.labels("sent")
        self._action_children: dict[tuple[str, str], Any] = {}

    # ----- the decision engine -------------------------------------------------------

    def audit_ended(self, state: str, strategy: str | None) -> None:
        self.audits.labels(state, strategy or "none").inc()

    def audit_planned(self, strategy: str, seconds: Mapping[str, float], actions: int) -> None:
        """An audit stored a plan of ``actions`` actions; ``seconds`` by phase."""
        self.planning.labels(strategy).observe(sum(seconds.values()))
        for phase, spent in seconds.items():
            self.phases.labels(phase).observe(spent)
        self.plan_actions.observe(actions)

    def guard_rail_holds(self, reasons: Iterable[Any]) -> None:
        """A plan held back; each reason names its rail in ``.rail`` (else ``other``)."""
        for rail in {getattr(reason, "rail", "other") for reason in reasons}:
            self.holds.labels(rail).inc()

    # ----- the applier -----------------------------------------------------------------

    def action_state(self, action_type: str, state: str) -> None:
        """An action moved to ``state``; counted when that state is final."""
        if state in FINAL_ACTION_STATES:
            child = self._action_children.get((action_type, state))
            if child is None:  # labels() takes a lock and checks the names: once a pair
                child = self._action_children[(action_type, state)] = self.actions.labels(
                    action_type, state)
            child.inc()

    def action_done(self, action_type: str, began: float | None, now: float) -> None:
        """An action started at ``began`` succeeded at ``now`` (on one clock; ``began`` None:
        found done after a restart, time unknown); migrations are timed."""
        if action_type == "migrate" and began is not None:
            self.migrations.observe(now - began)

    def plan_ended(self, state: str) -> None:
        self.plans.labels(state).inc()

    def applier_queue(self, executor: object, waiting: int, running: int) -> None:
        """What ``executor`` holds now (zeros once it is done)."""
        self.live.queues[executor] = (waiting, running)

    # ----- notifications ----------------------------------------------------------

    def notifications_received(self, count: int, stamps: Sequence[float]) -> None:
        """``count`` Nova notifications arrived; ``stamps`` are their events' times."""
        self._received.inc(count)
        now = time.time()
        for stamp in stamps:
            self._received_lag.observe(max(now - stamp, 0.0))

    def notification_skipped(self, reason: str) -> None:
        self.skipped.labels(reason).inc()

    def notifications_sent(self, count: int, lag: float) -> None:
        """``count`` notifications of one commit sent ``lag`` seconds after it."""
        self._sent.inc(count)
        self._sent_lag.observe(lag)

    def watch_model(self, model: Any) -> None:
        """Report the age of ``model`` (anything with ``as_of``, a time.time())."""
        self.live.model = model

    # ----- the API ---------------------------------------------------------------------

    def api_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(method, route).observe(seconds)

    def health(self, checks: Mapping[str, Mapping[str, Any]]) -> None:
        """The checks of a /healthz answer: ``{name: {"ok": bool, "latency_s": float}}``."""
        for name, check in checks.items():
            self.health_up.labels(name).set(1 if check["ok"] else 0)
            self.health_seconds.labels(name).set(check["latency_s"])

    # ----- exposition -----------------------------------------------------------------

    def exposition(self) -> bytes:
        """Every metric in Prometheus' text format."""
        return generate_latest(self.registry)


class _LiveGauges:
    """Gauges read at scrape time: the applier's queues and the live model's age."""

    def __init__(self) -> None:
        # executors are forgotten when they are: a crashed plan leaves nothing behind
        self.queues: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.model: Any = None

    def describe(self) -> list:
        return []  # the registry then calls collect() only when scraped

    def collect(self) -> Iterable[GaugeMetricFamily]:
        queue = GaugeMetricFamily("optimizer_applier_queue", "Actions of the plans applied "
                                  "in this process: waiting (ready, held by limits or a "
                                  "retry's backoff) or running", labels=["state"])
        held = list(self.queues.values())
        queue.add_metric(["waiting"], sum(w for w, _ in held))
        queue.add_metric(["running"], sum(r for _, r in held))
        yield queue
        if self.model is not None:
            yield GaugeMetricFamily("optimizer_model_age_seconds", "Seconds since the live "
                                    "model last heard of the cloud (resync or event)",
                                    value=max(time.time() - self.model.as_of, 0.0))
