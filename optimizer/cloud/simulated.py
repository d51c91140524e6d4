"""A simulated cloud kept in a SQLite file, so it outlives the commands that use it.

It holds hosts, instances and migrations in flight. A migration takes the
instance's memory divided by the bandwidth to finish; it completes lazily,
when anyone next looks, so no background thread is needed and every process
that opens the same file sees the same cloud. Failures and hangs can be
injected by rate or by instance, for tests and demos.

Each change is one SQLite transaction: a process killed at any moment leaves
the cloud either before or after the change, never half-way. An optional
``notify(event_type, payload)`` callable hears of each committed change as
a Nova-style versioned notification (migration ended, service enabled or
disabled, host powered), so listeners can be exercised without OpenStack.
"""
from __future__ import annotations

import json
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from optimizer.models.errors import UserError
from optimizer.models.records import Host, Instance, ServerGroup
from optimizer.models.snapshot import ClusterSnapshot

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hosts (name TEXT PRIMARY KEY, record TEXT NOT NULL,
                                  enabled INTEGER NOT NULL, up INTEGER NOT NULL,
                                  disabled_reason TEXT);
CREATE TABLE IF NOT EXISTS instances (uuid TEXT PRIMARY KEY, host TEXT NOT NULL,
                                      record TEXT NOT NULL, migrations INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS server_groups (name TEXT PRIMARY KEY, policy TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS migrations (
    id INTEGER PRIMARY KEY AUTOINCREMENT, instance TEXT NOT NULL, source TEXT NOT NULL,
    destination TEXT NOT NULL, kind TEXT NOT NULL, started REAL NOT NULL,
    finishes REAL NOT NULL, state TEXT NOT NULL, error TEXT);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_instances_host ON instances (host);
CREATE INDEX IF NOT EXISTS ix_migrations_running ON migrations (state, finishes);
CREATE INDEX IF NOT EXISTS ix_migrations_instance ON migrations (instance);
"""

RUNNING, SUCCEEDED, FAILED, ABORTED = "running", "succeeded", "failed", "aborted"


class CloudError(UserError):
    """The cloud refused an operation; the message says which and why."""


@dataclass(frozen=True)
class Migration:
    """A migration as the cloud sees it."""

    id: int
    instance: str
    source: str
    destination: str
    kind: str
    state: str
    error: str | None = None


@dataclass(frozen=True)
class Faults:
    """Injected trouble: a share of migrations fail or hang, or named instances do."""

    failure_rate: float = 0.0
    hang_rate: float = 0.0
    fail_instances: tuple[str, ...] = ()
    hang_instances: tuple[str, ...] = ()
    seed: int = 0


class SimulatedCloud:
    """Hosts, instances and migrations in one SQLite file."""

    # The notifier of clouds opened without one: a service sets it once, so every
    # cloud its parts open (collector, actuator) reports changes.
    process_notify: Callable[[str, dict], None] | None = None

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time,
                 notify: Callable[[str, dict], None] | None = None):
        self.path = Path(path)
        self.clock = clock
        self.notify = notify
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        # one writer at a time creates the tables, however many open a new file at once
        with self._transaction() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)

    @property
    def _db(self) -> sqlite3.Connection:
        # One connection per thread: the API and the dispatcher's workers share
        # a cloud, and a sqlite3 connection (with its open transaction) must not.
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                 check_same_thread=False)
            _use_wal(db)
            self._local.db = db
            with self._connections_lock:
                self._connections.append(db)
        return db

    def close(self) -> None:
        with self._connections_lock:
            for db in self._connections:
                db.close()
            self._connections.clear()
        self._local = threading.local()

    # ----- creation and reading ---------------------------------------------

    @property
    def is_empty(self) -> bool:
        return self._db.execute("SELECT COUNT(*) FROM hosts").fetchone()[0] == 0

    def load(self, snapshot: ClusterSnapshot) -> None:
        """Replace the whole cloud with the hosts and instances of ``snapshot``."""
        with self._transaction() as db:
            for table in ("hosts", "instances", "server_groups", "migrations"):
                db.execute(f"DELETE FROM {table}")
            db.executemany(
                "INSERT INTO hosts VALUES (?, ?, ?, ?, ?)",
                [(r.name, _dump(r), int(r.status == "enabled"), int(r.state == "up"),
                  r.disabled_reason)
                 for r in (snapshot.host_record(h) for h in range(snapshot.host_count))])
            db.executemany(
                "INSERT INTO instances (uuid, host, record) VALUES (?, ?, ?)",
                [(r.uuid, r.host, _dump(r))
                 for r in (snapshot.instance_record(i) for i in range(snapshot.instance_count))])
            db.executemany("INSERT INTO server_groups VALUES (?, ?)",
                           [(g.name, g.policy) for g in snapshot.group_records()])

    def snapshot(self, name: str = "simulated") -> ClusterSnapshot:
        """The cloud as it is now (finishing migrations whose time has come)."""
        self.advance()
        hosts = []
        for record, enabled, up, reason in self._db.execute(
                "SELECT record, enabled, up, disabled_reason FROM hosts ORDER BY name"):
            host = Host(**_load(record))
            host.status = "enabled" if enabled else "disabled"
            host.state = "up" if up else "down"
            host.disabled_reason = reason
            hosts.append(host)
        instances = []
        for record, host in self._db.execute(
                "SELECT record, host FROM instances ORDER BY rowid"):
            inst = Instance(**_load(record))
            inst.host = host
            instances.append(inst)
        groups = [ServerGroup(n, p) for n, p in
                  self._db.execute("SELECT name, policy FROM server_groups ORDER BY name")]
        return ClusterSnapshot.from_records(hosts, instances, groups, name=name)

    def host_of(self, uuid: str) -> str:
        self.advance()
        row = self._db.execute("SELECT host FROM instances WHERE uuid = ?", (uuid,)).fetchone()
        if row is None:
            raise CloudError(f"instance {uuid} does not exist")
        return row[0]

    def migration_count(self, uuid: str) -> int:
        """How many migrations of ``uuid`` have completed: each attempt counts once."""
        row = self._db.execute("SELECT migrations FROM instances WHERE uuid = ?",
                               (uuid,)).fetchone()
        return row[0] if row else 0

    def placement(self) -> dict[str, str]:
        self.advance()
        return dict(self._db.execute("SELECT uuid, host FROM instances"))

    # ----- settings -------------------------------------------------------------

    def configure(self, *, bandwidth_mb_s: float | None = None,
                  faults: Faults | None = None) -> None:
        """Set the migration bandwidth (0: instant) and injected faults; both persist."""
        with self._transaction() as db:
            if bandwidth_mb_s is not None:
                db.execute("INSERT OR REPLACE INTO settings VALUES ('bandwidth', ?)",
                           (json.dumps(bandwidth_mb_s),))
            if faults is not None:
                db.execute("INSERT OR REPLACE INTO settings VALUES ('faults', ?)",
                           (json.dumps(faults.__dict__),))

    def _setting(self, key: str, default):
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    @property
    def bandwidth_mb_s(self) -> float:
        return float(self._setting("bandwidth", 0.0))

    @property
    def faults(self) -> Faults:
        raw = self._setting("faults", {})
        return Faults(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()})

    # ----- operations --------------------------------------------------------------

    def start_migration(self, uuid: str, source: str, destination: str, kind: str) -> int:
        """Start moving ``uuid``; it refuses what Nova would refuse."""
        self.advance()
        with self._transaction() as db:
            row = db.execute("SELECT host, record FROM instances WHERE uuid = ?",
                             (uuid,)).fetchone()
            if row is None:
                raise CloudError(f"instance {uuid} does not exist")
            host, record = row[0], _load(row[1])
            if host != source:
                raise CloudError(f"instance {uuid} is on {host}, not {source}")
            if db.execute("SELECT 1 FROM migrations WHERE instance = ? AND state = ?",
                          (uuid, RUNNING)).fetchone():
                raise CloudError(f"instance {uuid} is already migrating")
            if kind == "live" and record.get("state", "active") != "active":
                raise CloudError(f"instance {uuid} is {record.get('state')}: "
                                 "only active instances migrate live")
            self._check_destination(db, record, destination)
            now = self.clock()
            bandwidth = self.bandwidth_mb_s
            duration = record["memory_mb"] / bandwidth if bandwidth > 0 else 0.0
            cursor = db.execute(
                "INSERT INTO migrations (instance, source, destination, kind, started, finishes,"
                " state) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (uuid, source, destination, kind, now, now + duration, RUNNING))
            migration_id = int(cursor.lastrowid)
        self.advance()
        return migration_id

    def start_evacuation(self, uuid: str, source: str, destination: str) -> int:
        """Start rebuilding ``uuid`` of the down host ``source`` on ``destination``.

        As Nova: refused while the source's compute service is up, so an
        instance never runs twice. It takes as long as a migration would.
        """
        self.advance()
        with self._transaction() as db:
            row = db.execute("SELECT host, record FROM instances WHERE uuid = ?",
                             (uuid,)).fetchone()
            if row is None:
                raise CloudError(f"instance {uuid} does not exist")
            if row[0] != source:
                raise CloudError(f"instance {uuid} is on {row[0]}, not {source}")
            up = db.execute("SELECT up FROM hosts WHERE name = ?", (source,)).fetchone()
            if up is None or up[0]:
                raise CloudError(f"host {source} is up: Nova evacuates only from a host "
                                 "whose compute service is down")
            if db.execute("SELECT 1 FROM migrations WHERE instance = ? AND state = ?",
                          (uuid, RUNNING)).fetchone():
                raise CloudError(f"instance {uuid} is already migrating")
            record = _load(row[1])
            self._check_destination(db, record, destination)
            now, bandwidth = self.clock(), self.bandwidth_mb_s
            duration = record["memory_mb"] / bandwidth if bandwidth > 0 else 0.0
            cursor = db.execute(
                "INSERT INTO migrations (instance, source, destination, kind, started, finishes,"
                " state) VALUES (?, ?, ?, 'evacuate', ?, ?, ?)",
                (uuid, source, destination, now, now + duration, RUNNING))
            migration_id = int(cursor.lastrowid)
        self.advance()
        return migration_id

    def fail_host(self, host: str) -> None:
        """The host crashes (and is forced down): what moves to or from it fails there.

        Its instances stay recorded on it, as Nova keeps them, until evacuated.
        """
        with self._transaction() as db:
            if db.execute("UPDATE hosts SET up = 0 WHERE name = ?", (host,)).rowcount == 0:
                raise CloudError(f"host {host} does not exist")
            db.execute("UPDATE migrations SET state = ?, error = ? WHERE state = ? AND "
                       "((source = ? AND kind != 'evacuate') OR destination = ?)",
                       (FAILED, f"host {host} failed", RUNNING, host, host))
        self._notify_service(host)

    def migration(self, migration_id: int) -> Migration:
        """The migration's state now, finishing it if its time has come."""
        self.advance()
        row = self._db.execute(
            "SELECT id, instance, source, destination, kind, state, error FROM migrations "
            "WHERE id = ?", (migration_id,)).fetchone()
        if row is None:
            raise CloudError(f"migration {migration_id} does not exist")
        return Migration(*row)

    def migrations_of(self, uuid: str) -> list[Migration]:
        self.advance()
        return [Migration(*row) for row in self._db.execute(
            "SELECT id, instance, source, destination, kind, state, error FROM migrations "
            "WHERE instance = ? ORDER BY id", (uuid,))]

    def abort_migration(self, migration_id: int) -> bool:
        """Abort a running migration: the instance stays on its source."""
        self.advance()
        with self._transaction() as db:
            cursor = db.execute("UPDATE migrations SET state = ?, error = 'aborted' "
                                "WHERE id = ? AND state = ?", (ABORTED, migration_id, RUNNING))
            return cursor.rowcount == 1

    def set_service_state(self, host: str, enabled: bool, reason: str | None = None) -> None:
        with self._transaction() as db:
            cursor = db.execute("UPDATE hosts SET enabled = ?, disabled_reason = ? WHERE name = ?",
                                (int(enabled), None if enabled else reason, host))
            if cursor.rowcount == 0:
                raise CloudError(f"host {host} does not exist")
        self._notify_service(host)

    def set_power_state(self, host: str, on: bool) -> None:
        with self._transaction() as db:
            if not on:
                busy = db.execute("SELECT COUNT(*) FROM instances WHERE host = ?",
                                  (host,)).fetchone()[0]
                if busy:
                    raise CloudError(f"host {host} still runs {busy} instance(s)")
            cursor = db.execute("UPDATE hosts SET up = ? WHERE name = ?", (int(on), host))
            if cursor.rowcount == 0:
                raise CloudError(f"host {host} does not exist")
        self._notify_service(host)

    def host_state(self, host: str) -> tuple[bool, bool]:
        """(up, enabled) of ``host``."""
        row = self._db.execute("SELECT up, enabled FROM hosts WHERE name = ?", (host,)).fetchone()
        if row is None:
            raise CloudError(f"host {host} does not exist")
        return bool(row[0]), bool(row[1])

    # ----- time passing --------------------------------------------------------------

    def advance(self) -> None:
        """Finish (or fail) every running migration whose time has come."""
        now = self.clock()
        due = self._db.execute(
            "SELECT id, instance, destination FROM migrations WHERE state = ? AND finishes <= ?",
            (RUNNING, now)).fetchall()
        if not due:
            return
        faults = self.faults
        moved = []
        with self._transaction() as db:
            for migration_id, uuid, destination in due:
                outcome = _fate(faults, uuid, migration_id)
                if outcome == "hang":
                    continue
                if outcome == "fail":
                    db.execute("UPDATE migrations SET state = ?, error = ? WHERE id = ? "
                               "AND state = ?", (FAILED, "injected failure", migration_id,
                                                 RUNNING))
                    continue
                done = db.execute("UPDATE migrations SET state = ? WHERE id = ? AND state = ?",
                                  (SUCCEEDED, migration_id, RUNNING)).rowcount
                if done:
                    db.execute("UPDATE instances SET host = ?, migrations = migrations + 1 "
                               "WHERE uuid = ?", (destination, uuid))
                    moved.append((migration_id, uuid))
        for migration_id, uuid in moved:
            self._notify_moved(migration_id, uuid)

    # ----- notifications ----------------------------------------------------------

    def _notify_moved(self, migration_id: int, uuid: str) -> None:
        if (self.notify or SimulatedCloud.process_notify) is None:
            return
        from optimizer.listener.nova import instance_payload

        kind = self._db.execute("SELECT kind FROM migrations WHERE id = ?",
                                (migration_id,)).fetchone()[0]
        host, text = self._db.execute("SELECT host, record FROM instances WHERE uuid = ?",
                                      (uuid,)).fetchone()
        r = _load(text)
        # as Nova: the destination's post_dest.end names the new host
        event = {"live": "instance.live_migration_post_dest.end",
                 "evacuate": "instance.evacuate"}.get(kind, "instance.resize_confirm.end")
        self._send(event, instance_payload(uuid, host, r.get("state", "active"), r["vcpus"],
                                           r["memory_mb"], r["disk_gb"], r.get("name")))

    def _notify_service(self, host: str) -> None:
        if (self.notify or SimulatedCloud.process_notify) is None:
            return
        from optimizer.listener.nova import service_payload

        up, enabled = self.host_state(host)
        reason = self._db.execute("SELECT disabled_reason FROM hosts WHERE name = ?",
                                  (host,)).fetchone()[0]
        self._send("service.update", service_payload(host, enabled, up, reason))

    def _send(self, event_type: str, payload: dict) -> None:
        try:
            (self.notify or SimulatedCloud.process_notify)(event_type, payload)
        except Exception:  # the change is committed; a lost notification must not undo it
            logging.getLogger(__name__).exception("notification %s not sent", event_type)

    # ----- helpers ------------------------------------------------------------------

    def _check_destination(self, db: sqlite3.Connection, record: dict, destination: str) -> None:
        row = db.execute("SELECT record, enabled, up FROM hosts WHERE name = ?",
                         (destination,)).fetchone()
        if row is None:
            raise CloudError(f"destination {destination} does not exist")
        host, enabled, up = _load(row[0]), row[1], row[2]
        if not (enabled and up):
            raise CloudError(f"destination {destination} is not up and enabled")
        used = [0.0, 0.0, 0.0]
        rows = db.execute(
            "SELECT record FROM instances WHERE host = ? UNION ALL SELECT i.record FROM "
            "migrations m JOIN instances i ON i.uuid = m.instance WHERE m.destination = ? "
            "AND m.state = ?", (destination, destination, RUNNING))
        for (text,) in rows:
            other = _load(text)
            used = [used[0] + other["vcpus"], used[1] + other["memory_mb"],
                    used[2] + other["disk_gb"]]
        for k, (resource, ratio) in enumerate((("vcpus", "cpu_allocation_ratio"),
                                               ("memory_mb", "ram_allocation_ratio"),
                                               ("disk_gb", "disk_allocation_ratio"))):
            capacity = (host[resource] - host.get(f"{resource}_reserved", 0)) * host[ratio]
            if used[k] + record[resource] > capacity + 1e-6:
                raise CloudError(f"destination {destination} has no room: {resource} would be "
                                 f"{used[k] + record[resource]:g} of {capacity:g}")

    def _transaction(self):
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, rolled back on error: one writer at a time."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, kind, value, traceback) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")


def _use_wal(db: sqlite3.Connection, attempts: int = 100) -> None:
    """Switch to write-ahead logging, waiting while another connection does the same.

    Changing the journal mode takes a lock SQLite's busy timeout does not wait
    for, so a second process opening a new file at once is told "locked".
    """
    for _ in range(attempts):
        try:
            if db.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
            time.sleep(0.05)
    raise CloudError("the simulated cloud's file stayed locked while opening it")


def _fate(faults: Faults, uuid: str, migration_id: int) -> str:
    """Whether a due migration succeeds, fails or hangs; the same answer every time."""
    if uuid in faults.fail_instances:
        return "fail"
    if uuid in faults.hang_instances:
        return "hang"
    if not (faults.failure_rate or faults.hang_rate):
        return "ok"
    draw = random.Random(f"{faults.seed}:{migration_id}").random()
    if draw < faults.failure_rate:
        return "fail"
    if draw < faults.failure_rate + faults.hang_rate:
        return "hang"
    return "ok"


def _dump(record) -> str:
    data = {k: getattr(record, k) for k in record.__slots__}
    if "aggregates" in data:
        data["aggregates"] = list(data["aggregates"])
    return json.dumps(data)


def _load(text: str) -> dict:
    data = json.loads(text)
    if "aggregates" in data:
        data["aggregates"] = tuple(data["aggregates"])
    return data
