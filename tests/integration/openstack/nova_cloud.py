"""A real Nova + Placement for tests, with fake hypervisors, started as processes.

Nova and Placement run from their own venv (their pins clash with ours),
built by ``.ci/run`` from ``constraints.txt`` (see :mod:`nova_venv`); a test
never installs anything, it reports a missing or stale venv. Each run
gets fresh PostgreSQL databases and a fresh RabbitMQ vhost, so runs never
see each other's servers. Keystone is left out: nova-api runs a paste
pipeline that builds its request context from the caller's headers
(X-User-Id, X-Project-Id, X-Roles) and Placement runs with ``noauth2``;
Glance and Neutron are the stubs in :mod:`stubs`. Computes use
``fake.MediumFakeDriver`` (10 vCPUs, 8 GiB, 1 TB each).
"""
from __future__ import annotations

import contextlib
import os
import subprocess
import time
import uuid
from pathlib import Path

import requests
from harness_http import TIMEOUT, harness_session
from nova_venv import VenvError, locked, require, venv_path
from prometheus_server import HarnessError, free_port
from stubs import StubServer, glance_answer, neutron_answer

HERE = Path(__file__).resolve().parent
POSTGRES = os.environ.get("OPTIMIZER_TEST_NOVA_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
RABBIT = os.environ.get("OPTIMIZER_TEST_RABBIT", "guest:guest@127.0.0.1:5672")
HEADERS = {"X-Auth-Token": "admin", "X-User-Id": "admin", "X-Project-Id": "admin",
           "X-Roles": "admin,member,reader"}

API_PASTE = """
[composite:osapi_compute]
use = call:nova.api.openstack.urlmap:urlmap_factory
/: oscomputeversions
/v2.1: oscomputeversion_v2
/v2.1/+: openstack_compute_api_v21

[composite:openstack_compute_api_v21]
use = call:nova.api.auth:pipeline_factory_v21
keystone = compute_req_id faultwrap sizelimit keystonecontext osapi_compute_app_v21

[filter:compute_req_id]
paste.filter_factory = nova.api.compute_req_id:ComputeReqIdMiddleware.factory
[filter:faultwrap]
paste.filter_factory = nova.api.openstack:FaultWrapper.factory
[filter:sizelimit]
paste.filter_factory = oslo_middleware:RequestBodySizeLimiter.factory
[filter:keystonecontext]
paste.filter_factory = nova.api.auth:NovaKeystoneContext.factory
[app:osapi_compute_app_v21]
paste.app_factory = nova.api.openstack.compute:APIRouterV21.factory
[pipeline:oscomputeversions]
pipeline = faultwrap oscomputeversionapp
[pipeline:oscomputeversion_v2]
pipeline = compute_req_id faultwrap oscomputeversionapp_v2
[app:oscomputeversionapp]
paste.app_factory = nova.api.openstack.compute.versions:Versions.factory
[app:oscomputeversionapp_v2]
paste.app_factory = nova.api.openstack.compute.versions:VersionsV2.factory
"""


def _psql(sql: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES + "/postgres", autocommit=True, connect_timeout=3) as conn:
        conn.execute(sql)


class NovaCloud:
    """Placement, nova-api, conductor, scheduler and ``computes`` fake computes."""

    def __init__(self, workdir: Path, computes: int = 3):
        self.workdir = workdir
        self.run_id = f"opt{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.compute_names = [f"compute-{i + 1}" for i in range(computes)]
        self.processes: list[tuple[str, subprocess.Popen]] = []
        self.logs: list = []
        self.http = harness_session()
        self.databases = [f"{self.run_id}_{n}" for n in ("api", "cell0", "cell1", "placement")]
        self.vhost = self.run_id
        self.placement_port = free_port()
        self.api_port = free_port()
        self.placement_url = f"http://127.0.0.1:{self.placement_port}"
        self.compute_url = f"http://127.0.0.1:{self.api_port}/v2.1"
        self.transport_url = f"rabbit://{RABBIT}/{self.vhost}"
        self.glance = StubServer(glance_answer)
        self.neutron = StubServer(neutron_answer)
        self._venv_lock = contextlib.ExitStack()

    # -- set-up -------------------------------------------------------------
    def start(self) -> None:
        # held shared while the cloud runs, so nova_venv.py never rebuilds under it
        self._venv_lock.enter_context(locked(venv_path(), exclusive=False))
        try:
            self.python = require()
        except VenvError as exc:
            raise HarnessError(str(exc)) from None
        self.bin = self.python.parent
        self.workdir.mkdir(parents=True, exist_ok=True)
        for name in self.databases:
            _psql(f'CREATE DATABASE "{name}"')
        self._rabbitmqctl("add_vhost", self.vhost)
        self._rabbitmqctl("set_permissions", "-p", self.vhost, RABBIT.split(":")[0],
                          ".*", ".*", ".*")
        self._write_configs()
        self._manage("placement-manage", "--config-file", str(self.placement_dir /
                     "placement.conf"), "db", "sync")
        self._manage("nova-manage", "--config-file", str(self.nova_conf), "api_db", "sync")
        self._manage("nova-manage", "--config-file", str(self.nova_conf), "cell_v2", "map_cell0",
                     "--database_connection", self._db_url("cell0"))
        self._manage("nova-manage", "--config-file", str(self.nova_conf), "cell_v2",
                     "create_cell", "--name", "cell1", "--verbose")
        self._manage("nova-manage", "--config-file", str(self.nova_conf), "db", "sync")
        env = {"OS_PLACEMENT_CONFIG_DIR": str(self.placement_dir)}
        self._spawn("placement", [str(self.python), str(HERE / "wsgi_runner.py"),
                                  "placement.wsgi.api", str(self.placement_port)], env)
        self._spawn("nova-api", [str(self.python), str(HERE / "wsgi_runner.py"),
                                 "nova.wsgi.osapi_compute", str(self.api_port)],
                    {"OS_NOVA_CONFIG_DIR": str(self.workdir)})
        self._spawn("nova-conductor", [str(self.bin / "nova-conductor"),
                                       "--config-file", str(self.nova_conf)])
        self._spawn("nova-scheduler", [str(self.bin / "nova-scheduler"),
                                       "--config-file", str(self.nova_conf)])
        self._wait_http(self.placement_url + "/", "placement")
        for name in self.compute_names:
            conf = self.workdir / f"{name}.conf"
            state = self.workdir / name
            state.mkdir(exist_ok=True)
            conf.write_text(f"[DEFAULT]\nhost = {name}\nstate_path = {state}\n"
                            f"instances_path = {state / 'instances'}\n")
            self._spawn(name, [str(self.bin / "nova-compute"), "--config-file",
                               str(self.nova_conf), "--config-file", str(conf)])
        self._wait_http(self.compute_url + "/", "nova-api")
        self._wait_computes()
        self._manage("nova-manage", "--config-file", str(self.nova_conf), "cell_v2",
                     "discover_hosts", "--verbose")

    def _db_url(self, which: str) -> str:
        return f"{POSTGRES.replace('postgresql://', 'postgresql+psycopg2://')}/" \
               f"{self.run_id}_{which}"

    def _write_configs(self) -> None:
        self.placement_dir = self.workdir / "placement"
        self.placement_dir.mkdir(exist_ok=True)
        (self.placement_dir / "placement.conf").write_text(
            f"[api]\nauth_strategy = noauth2\n"
            f"[placement_database]\nconnection = {self._db_url('placement')}\n")
        (self.workdir / "api-paste.ini").write_text(API_PASTE)
        self.nova_conf = self.workdir / "nova.conf"
        self.nova_conf.write_text(f"""
[DEFAULT]
transport_url = {self.transport_url}
compute_driver = fake.MediumFakeDriver
state_path = {self.workdir}
my_ip = 127.0.0.1
debug = false
use_rootwrap_daemon = false
[wsgi]
api_paste_config = {self.workdir / 'api-paste.ini'}
[api]
auth_strategy = keystone
[api_database]
connection = {self._db_url('api')}
[database]
connection = {self._db_url('cell1')}
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = 2
[filter_scheduler]
enabled_filters = ComputeFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter
[placement]
auth_type = admin_token
endpoint = {self.placement_url}
token = admin
[glance]
api_servers = {self.glance.url}
[neutron]
auth_type = admin_token
endpoint = {self.neutron.url}
token = admin
endpoint_override = {self.neutron.url}
[quota]
driver = nova.quota.NoopQuotaDriver
[notifications]
notification_format = versioned
[oslo_messaging_notifications]
driver = messagingv2
[oslo_concurrency]
lock_path = {self.workdir / 'locks'}
[oslo_policy]
enforce_scope = false
enforce_new_defaults = false
[compute]
live_migration_wait_for_vif_plug = false
[service_user]
send_service_user_token = false
[os_vif_linux_bridge]
[cinder]
[keystone_authtoken]
""")

    def _rabbitmqctl(self, *args: str) -> None:
        try:
            result = subprocess.run(["rabbitmqctl", *args], capture_output=True, text=True,
                                    timeout=120)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"rabbitmqctl {' '.join(args)}: no answer in 120 s") from None
        if result.returncode != 0:
            raise HarnessError(f"rabbitmqctl {' '.join(args)}: {result.stderr.strip()[-300:]}")

    def _manage(self, tool: str, *args: str) -> None:
        try:
            result = subprocess.run([str(self.bin / tool), *args], capture_output=True,
                                    text=True, cwd=self.workdir, timeout=600)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"{tool} {' '.join(args[2:])}: not done in 600 s") from None
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise HarnessError(f"{tool} {' '.join(args[2:])} failed: {detail}")

    def _spawn(self, name: str, command: list[str], env: dict | None = None) -> None:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 (closed by stop)
        self.logs.append(log)
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=self.workdir, env={**os.environ, **(env or {})})
        self.processes.append((name, process))

    def _check_alive(self) -> None:
        for name, process in self.processes:
            if process.poll() is not None:
                tail = (self.workdir / f"{name}.log").read_text(errors="replace")[-1500:]
                raise HarnessError(f"{name} exited with {process.returncode}: ...{tail}")

    def _wait_http(self, url: str, what: str, timeout_s: float = 180) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                requests.get(url, timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.5)
        raise HarnessError(f"{what} not answering at {url} after {timeout_s}s")

    def _wait_computes(self, timeout_s: float = 240) -> None:
        """Until Placement has a resource provider for every compute."""
        deadline = time.monotonic() + timeout_s
        names: set[str] = set()
        while time.monotonic() < deadline:
            self._check_alive()
            body = self.placement("GET", "/resource_providers")
            names = {p["name"] for p in body.get("resource_providers", [])}
            if set(self.compute_names) <= names:
                return
            time.sleep(1)
        raise HarnessError(f"computes {sorted(set(self.compute_names) - names)} never "
                           f"reported to placement in {timeout_s}s")

    # -- use ----------------------------------------------------------------
    def placement(self, method: str, path: str, body: dict | None = None) -> dict:
        response = self.http.request(method, self.placement_url + path, json=body,
                                     timeout=TIMEOUT, headers={**HEADERS, "OpenStack-API-Version":
                                                               "placement 1.39"})
        response.raise_for_status()
        return response.json() if response.content else {}

    def compute(self, method: str, path: str, body: dict | None = None) -> dict:
        response = self.http.request(method, self.compute_url + path, json=body,
                                     timeout=TIMEOUT, headers={**HEADERS, "OpenStack-API-Version":
                                                               "compute 2.95"})
        if response.status_code >= 400:
            raise HarnessError(f"{method} {path}: HTTP {response.status_code}: "
                               f"{response.text[:400]}")
        return response.json() if response.content else {}

    def create_flavor(self, name: str, vcpus: int, ram_mb: int, disk_gb: int) -> str:
        body = {"flavor": {"name": name, "vcpus": vcpus, "ram": ram_mb, "disk": disk_gb}}
        return self.compute("POST", "/flavors", body)["flavor"]["id"]

    def boot(self, name: str, flavor: str, timeout_s: float = 180, **extra) -> dict:
        """Boot one server (no network) and wait until it is ACTIVE; the server."""
        from stubs import IMAGE_ID

        body = {"server": {"name": name, "imageRef": IMAGE_ID, "flavorRef": flavor,
                           "networks": "none", **extra}}
        uuid = self.compute("POST", "/servers", body)["server"]["id"]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            server = self.compute("GET", f"/servers/{uuid}")["server"]
            if server["status"] == "ACTIVE":
                return server
            if server["status"] == "ERROR":
                raise HarnessError(f"server {name} went to ERROR: {server.get('fault')}")
            time.sleep(0.3)
        raise HarnessError(f"server {name} not ACTIVE in {timeout_s}s")

    def enable_all(self) -> None:
        """Enable every compute service again (tests share one cloud)."""
        for service in self.compute("GET", "/os-services?binary=nova-compute")["services"]:
            if service["status"] != "enabled":
                self.compute("PUT", f"/os-services/{service['id']}", {"status": "enabled"})

    def host_of(self, uuid: str) -> str:
        return self.compute("GET", f"/servers/{uuid}")["server"]["OS-EXT-SRV-ATTR:host"]

    def write_clouds_yaml(self, path: Path, cloud: str = "test") -> Path:
        """A clouds.yaml naming this cloud (no Keystone: endpoints given directly)."""
        path.write_text(f"clouds:\n  {cloud}:\n    auth_type: none\n    auth:\n"
                        f"      endpoint: {self.compute_url}\n"
                        f"    compute_endpoint_override: {self.compute_url}\n"
                        f"    placement_endpoint_override: {self.placement_url}\n")
        return path

    # -- tear-down ----------------------------------------------------------
    def stop(self) -> None:
        """Stop every process (reaped), the stubs, the databases and the vhost; idempotent."""
        for _, process in self.processes:
            if process.poll() is None:
                process.terminate()
        for _, process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(15)
        self.processes.clear()
        for log in self.logs:
            log.close()
        self.logs.clear()
        self.glance.close()
        self.neutron.close()
        self.http.close()
        for name in self.databases:
            # Best effort: a leftover database only costs disk.
            with contextlib.suppress(Exception):
                _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with contextlib.suppress(HarnessError):
            self._rabbitmqctl("delete_vhost", self.vhost)
        self._venv_lock.close()


def sdk_connection(compute_url: str, placement_url: str):
    """An openstacksdk Connection to a Keystone-less cloud: identity in headers."""
    import openstack.connection
    from keystoneauth1 import noauth
    from keystoneauth1 import session as ks_session

    session = ks_session.Session(auth=noauth.NoAuth(), additional_headers=HEADERS)
    return openstack.connection.Connection(
        session=session, compute_endpoint_override=compute_url,
        placement_endpoint_override=placement_url, compute_api_version="2.95",
        placement_api_version="1.39")
