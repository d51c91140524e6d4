"""Services over RabbitMQ: notification ingestion rate, and audit → plan latency.

1. Nova ``instance.update`` notifications published to RabbitMQ are
   consumed by the batch listener and applied to a live model of a
   1,000-host cluster; the rate counts from the listener's start to the
   last event applied (publishing is timed separately). Target ≥ 2,000/s.
2. ``optimizer serve --role decision-engine`` and ``--role applier`` run as
   separate processes on PostgreSQL and RabbitMQ with a 1,000-host simulated
   cloud; each audit is created here, dispatched over RPC, and timed until
   its plan is RECOMMENDED. Target ≤ 2 s.

Run: .venv/bin/python benchmarks/bench_notifications.py [--events 20000] [--audits 5]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import oslo_messaging
from optimizer.models.simulated import SimulationSpec, simulate_cluster

from optimizer.config import load_config
from optimizer.context import open_context
from optimizer.db import get_audit, list_action_plans
from optimizer.listener.live_model import LiveModel
from optimizer.listener.nova import instance_payload
from optimizer.listener.service import NovaListener
from optimizer.messaging.rpc import RPCDispatcher
from optimizer.messaging.transport import Topics, notification_transport
from optimizer.operations import new_audit
from optimizer.scheduler import claims

RABBIT = "rabbit://guest:guest@127.0.0.1:5672/"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def ingestion(events: int) -> None:
    snapshot = simulate_cluster(SimulationSpec(hosts=1000, seed=3))
    topic = f"bench-nova-{uuid.uuid4().hex[:8]}"
    model = LiveModel(snapshot, taken_at=0.0)
    listener = NovaListener(model, RABBIT, topic, batch_size=1000, batch_timeout=0.05)
    listener.server.start()  # declares the queue, so nothing published is lost
    listener.server.stop()
    listener.server.wait()
    notifier = oslo_messaging.Notifier(notification_transport(RABBIT),
                                       publisher_id="nova-compute:b", driver="messagingv2",
                                       topics=[topic])
    hosts, n = snapshot.host_names, snapshot.instance_count
    clock = time.perf_counter()
    for k in range(events):
        i = k % n
        size = snapshot.inst_size[i]
        payload = instance_payload(snapshot.inst_uuids[i], hosts[(k * 7) % len(hosts)],
                                   "active", *size)
        notifier.info({}, "instance.update", payload)
    published = time.perf_counter() - clock
    listener = NovaListener(model, RABBIT, topic, batch_size=1000, batch_timeout=0.05)
    clock = time.perf_counter()
    listener.start()
    while model.counts.applied + model.counts.skipped < events:
        time.sleep(0.01)
    seconds = time.perf_counter() - clock
    listener.stop()
    print(f"ingestion: {events} instance events on {len(hosts)} hosts / {n} instances: "
          f"published in {published:.2f}s ({events / published:,.0f}/s); consumed and applied "
          f"in {seconds:.2f}s = {events / seconds:,.0f} events/s "
          f"({model.counts.batches} batches, {model.counts.skipped} skipped) "
          f"[target >= 2,000/s: {'OK' if events / seconds >= 2000 else 'MISSED'}]")


def audit_latency(audits: int) -> None:
    from tests.optimizer.db.conftest import SchemaFactory

    schemas = SchemaFactory("bench_notifications")
    folder = Path(tempfile.mkdtemp())
    tag = uuid.uuid4().hex[:8]
    config = folder / "optimizer.conf"
    config.write_text(f"""[DEFAULT]
transport_url = {RABBIT}
[database]
connection = {schemas.url()}
[service]
decision_engine_topic = de-{tag}
applier_topic = applier-{tag}
notification_topic = notif-{tag}
[listener]
topic = nova-{tag}
[simulated]
hosts = 1000
state_file = {folder / 'cloud.db'}
""")
    settings = load_config(str(config))
    ctx = open_context(settings)
    ctx.collector.collect()
    claims.ensure_tables(ctx.database.engine)
    optimizer = Path(sys.executable).with_name("optimizer")
    processes = [subprocess.Popen([str(optimizer), "--config-file", str(config), "serve",
                                   "--role", role], stderr=open(folder / f"{role}.log", "w"))  # noqa: SIM115
                 for role in ("decision-engine", "applier")]
    try:
        while not claims.live_workers(ctx.database.engine, "decision-engine", 30):
            time.sleep(0.1)
        time.sleep(1.0)
        dispatcher = RPCDispatcher(RABBIT, Topics(f"de-{tag}", f"applier-{tag}"))
        times = []
        for _ in range(audits):
            clock = time.perf_counter()
            audit = new_audit(ctx, goal="server_consolidation",
                              strategy="vm_workload_consolidation")
            dispatcher.trigger_audit(audit.uuid)
            while True:
                with ctx.database.session() as session:
                    row = get_audit(session, audit.uuid)
                    plans = list_action_plans(session, {"audit_id": row.id,
                                                        "state": "RECOMMENDED"})
                if plans or row.state == "FAILED":
                    break
                time.sleep(0.01)
            times.append(time.perf_counter() - clock)
            if row.state == "FAILED":
                print(f"audit failed: {row.status_message}")
        times.sort()
        print(f"audit create -> plan RECOMMENDED, 1,000 hosts, separate processes over "
              f"RabbitMQ + PostgreSQL: median {times[len(times) // 2]:.2f}s, "
              f"max {times[-1]:.2f}s over {audits} audits "
              f"[target <= 2 s: {'OK' if times[len(times) // 2] <= 2 else 'MISSED'}]")
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        ctx.close()
        schemas.drop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--audits", type=int, default=5)
    args = parser.parse_args()
    ingestion(args.events)
    audit_latency(args.audits)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    main()
