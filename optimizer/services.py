"""The long-running services of `optimizer serve`, in one process or one per role.

Roles:

* ``all`` (the embedded default, for SQLite and ``fake://``): API, decision
  engine, applier, scheduler and listener in this process;
* ``api``: the REST API; audits and plans are cast over RPC;
* ``decision-engine``: consumes the decision engine topic, runs CONTINUOUS
  schedules, keeps a live model from Nova notifications, takes over the
  audits of dead engines;
* ``applier``: consumes the applier topic and periodically recovers plans
  left ONGOING by a dead applier, and runs plans started (PENDING) whose
  launch request was lost; a recovered plan runs on a thread of its own, so
  heartbeats go on meanwhile.

Every role records a heartbeat, emits notifications of the rows it changes,
and stops gracefully on SIGTERM or SIGINT: servers stop taking messages,
running work finishes, the scheduler shuts down.
"""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import oslo_messaging

from optimizer.cloud.simulated import SimulatedCloud
from optimizer.collectors import open_collector
from optimizer.config import Settings
from optimizer.context import Context, open_context
from optimizer.listener.live_model import LiveModel
from optimizer.listener.service import NovaListener
from optimizer.messaging.notifications import NotificationEmitter, watch_database
from optimizer.messaging.rpc import (
    ApplierEndpoint,
    DecisionEngineEndpoint,
    RPCDispatcher,
    rpc_server,
)
from optimizer.messaging.transport import Topics, notification_transport
from optimizer.models.errors import UserError
from optimizer.observability import current_metrics, set_metrics
from optimizer.observability.metrics import Metrics
from optimizer.readiness.watch import ReadinessWatch
from optimizer.scheduler import claims
from optimizer.scheduler.audit_worker import AuditWorker
from optimizer.scheduler.continuous import ContinuousAudits
from optimizer.tracing import configure_tracing, shutdown_tracing

LOG = logging.getLogger(__name__)
ROLES = ("all", "api", "decision-engine", "applier")


@dataclass
class Service:
    """The parts of one service process, started and stopped together."""

    settings: Settings
    role: str
    topics: Topics
    dispatcher: RPCDispatcher
    contexts: list[Context] = field(default_factory=list)
    workers: list[claims.Worker] = field(default_factory=list)
    servers: list[oslo_messaging.MessageHandlingServer] = field(default_factory=list)
    audits: AuditWorker | None = None
    schedules: ContinuousAudits | None = None
    model: LiveModel | None = None
    listener: NovaListener | None = None
    emitter: NotificationEmitter | None = None
    api_context: Context | None = None
    readiness: ReadinessWatch | None = None
    metrics: Metrics | None = None
    _started: bool = False
    _stopped: bool = False
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _recovery: threading.Thread | None = None
    _unhooks: list[Callable[[], None]] = field(default_factory=list)
    _tracing: bool = False  # whether this service turned tracing on (and turns it off)
    _metrics_server: Any = None

    def start(self) -> None:
        self._started = True
        for server in self.servers:
            server.start()
        if self.listener is not None:
            self.listener.start()
        if self.schedules is not None:
            self.schedules.start()
        if self.readiness is not None:
            self.readiness.start()
        self._serve_metrics()
        beat = threading.Thread(target=self._housekeeping, name="heartbeat", daemon=True)
        beat.start()
        self._threads.append(beat)
        LOG.info("optimizer %s service started (%s)", self.role,
                 ", ".join(w.name for w in self.workers))

    def stop(self) -> None:
        """Stop taking work, let running work finish, release everything."""
        if self._stopped:
            return  # a second stop() is a no-op
        self._stopped = True
        self._stop.set()
        if self._started:
            for server in self.servers:
                server.stop()
            for server in self.servers:
                server.wait()
            if self.schedules is not None:
                self.schedules.shutdown()
            if self.listener is not None:
                self.listener.stop()
            if self.readiness is not None:
                self.readiness.stop()
        for thread in self._threads:
            thread.join(timeout=10)
        if self._recovery is not None:
            self._recovery.join(timeout=10)
        for worker in self.workers:
            worker.retire()
        if self.emitter is not None:
            self.emitter.flush()
            self.emitter.close()
        for unhook in self._unhooks:
            unhook()
        if self._tracing:
            shutdown_tracing()  # exports the last spans first
        for ctx in self.contexts:
            ctx.close()
        SimulatedCloud.process_notify = None
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server.server_close()
        if current_metrics() is self.metrics:
            set_metrics(None)
        LOG.info("optimizer %s service stopped", self.role)

    def _serve_metrics(self) -> None:
        """/metrics on ``[metrics] port`` for a role without the API (which serves it)."""
        o = self.settings.observability
        if self.api_context is None and o.metrics_port and self.metrics is not None:
            from prometheus_client import start_http_server

            self._metrics_server, _ = start_http_server(o.metrics_port, o.metrics_host,
                                                        registry=self.metrics.registry)
            LOG.info("metrics on http://%s:%d/metrics", o.metrics_host, o.metrics_port)

    def _housekeeping(self) -> None:
        interval = self.settings.service.heartbeat_interval_s
        while True:
            for worker in self.workers:
                _guard(worker.beat, "heartbeat")
            if self.audits is not None:
                _guard(self.audits.recover_orphans, "taking over audits")
            if any(w.role == "applier" for w in self.workers):
                _guard(self._recover_plans, "recovering plans")
            if self._stop.wait(interval):
                return

    def _recover_plans(self) -> None:
        """Start recovering plans unless a recovery still runs (plans can take hours)."""
        try:
            from optimizer.applier import recover
        except ImportError:
            return
        if self._recovery is not None and self._recovery.is_alive():
            return
        ctx = next(c for c, w in zip(self.contexts, self.workers, strict=False)
                   if w.role == "applier")
        self._recovery = threading.Thread(
            target=_guard, args=(lambda: recover(ctx), "recovering plans"),
            name="plan-recovery", daemon=True)
        self._recovery.start()


def _guard(action: Callable[[], object], what: str) -> None:
    try:
        action()
    except Exception:  # housekeeping retries at the next beat
        LOG.exception("%s failed", what)


def build_service(settings: Settings, role: str, topics: Topics | None = None) -> Service:
    """Open what ``role`` needs; nothing runs until :meth:`Service.start`."""
    if role not in ROLES:
        raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")
    s = settings.service
    topics = topics or Topics(s.decision_engine_topic, s.applier_topic, s.notification_topic,
                              s.listener_topic)
    service = Service(settings, role, topics, RPCDispatcher(settings.transport_url, topics))
    service.metrics = Metrics()
    set_metrics(service.metrics)  # every role of this process reports here
    if settings.service.notifications:
        service.emitter = NotificationEmitter(settings.transport_url, topics.notifications,
                                              settings.service.host)
    SimulatedCloud.process_notify = _nova_sender(settings, topics)
    if role in ("all", "decision-engine"):
        _add_decision_engine(service)
    if role in ("all", "applier"):
        _add_applier(service)
    if role in ("all", "api"):
        service.api_context = _open(service, "api")
    if settings.tracing.enabled:  # after the database is opened (and made) above
        service._tracing = configure_tracing(settings.tracing, settings.database_url, role)
    return service


def _open(service: Service, role: str) -> Context:
    ctx = open_context(service.settings)
    claims.ensure_tables(ctx.database.engine)
    if service.emitter is not None:
        service.emitter.database = service.emitter.database or ctx.database
        service._unhooks.append(watch_database(ctx.database, service.emitter))
    worker = claims.Worker(ctx.database.engine,
                           claims.new_worker_name(role, service.settings.service.host),
                           role, service.settings.service.host)
    worker.beat()
    service.contexts.append(ctx)
    service.workers.append(worker)
    return ctx


def _add_decision_engine(service: Service) -> None:
    s = service.settings.service
    ctx = _open(service, "decision-engine")
    worker = service.workers[-1]
    # One collection now: it creates a simulated cloud before concurrent audits
    # would race to, and it is the live model's first state.
    source = open_collector(service.settings)
    first = source.collect()
    if s.listener_enabled:
        service.model = LiveModel(first, max_clock_skew_s=s.max_clock_skew_s)
        ctx._collector = service.model  # audits read the live model
        service.metrics.watch_model(service.model)
        service.listener = NovaListener(
            service.model, service.settings.transport_url, service.topics.nova,
            collect=source.collect, resync_interval_s=s.resync_interval_s, pool=worker.name)
    service.audits = AuditWorker(ctx, service.dispatcher, worker, timeout_s=s.worker_timeout_s)
    ready = service.settings.readiness
    if ready.interval_s > 0:
        service.readiness = ReadinessWatch(lambda: ctx.collector.collect(), ready.interval_s,
                                           ready.failures, ready.by)
    if s.scheduler_enabled:
        service.schedules = ContinuousAudits(service.audits, s.scheduler_sync_interval_s,
                                             s.misfire_grace_s)
        service.audits.on_continuous = service.schedules.request_sync
    service.servers.append(rpc_server(service.settings.transport_url,
                                      service.topics.decision_engine, worker.name,
                                      [DecisionEngineEndpoint(service.audits)]))


def _add_applier(service: Service) -> None:
    ctx = _open(service, "applier")
    service.servers.append(rpc_server(service.settings.transport_url, service.topics.applier,
                                      service.workers[-1].name, [ApplierEndpoint(ctx)]))


def _nova_sender(settings: Settings, topics: Topics) -> Callable[[str, dict], None]:
    """How the simulated cloud of this process publishes its Nova notifications."""
    notifier = oslo_messaging.Notifier(
        notification_transport(settings.transport_url),
        publisher_id=f"nova-compute:{settings.service.host}", driver="messagingv2",
        topics=[topics.nova])
    return lambda event_type, payload: notifier.info({}, event_type, payload)


def run(settings: Settings, role: str, host: str | None = None, port: int | None = None,
        topics: Topics | None = None) -> None:
    """Run ``role`` until SIGTERM or SIGINT."""
    service = build_service(settings, role, topics)
    service.start()
    try:
        if service.api_context is not None and _serve_api(service, host, port):
            return  # the API server returns once it has handled the signal
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: service._stop.set())
        service._stop.wait()
    finally:
        service.stop()


def _serve_api(service: Service, host: str | None, port: int | None) -> bool:
    try:
        from optimizer.api import serve_api
    except ImportError as exc:
        LOG.error("the API is not available (%s); serving the other roles only", exc)
        return False
    from optimizer.api.server import worker_count
    from optimizer.api.workers import WorkerSpec

    workers = worker_count(service.settings.api.workers, service.role)
    LOG.info("API on %d process%s", workers, "es" if workers > 1 else "")
    serve_api(service.api_context, service.dispatcher, host, port, workers=workers,
              spec=WorkerSpec(service.settings, service.topics))
    return True
