"""Figures for the web console: page render time in chromium on a large cloud.

    .venv/bin/python benchmarks/bench_console.py [--hosts N] [--actions N] [--runs R]

Serves the API and console (uvicorn, token auth) over a simulated cloud of
N hosts and a stored plan of N actions (migrations in waves, each after an
action of the previous wave, with per-host changes for every host they
touch), then loads the cluster page and the plan's page in headless
chromium (Debian's, through /usr/bin/chromedriver) R times each. A page's
time is from navigation start to the page's script having drawn everything
(``document.body.dataset.ready``), as ``performance.now()`` reads it; the
median is reported. Target: <= 2 s for 10,000 hosts and 50,000 actions.
Exits 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import uvicorn

from optimizer.api import create_app
from optimizer.config import ApiSettings, load_config
from optimizer.context import open_context
from optimizer.db import add_action_plan, create_audit
from optimizer.dispatch import InProcessDispatcher

TARGET_S = 2.0
TOKEN = "bench-admin"


def plan_actions(count: int, hosts: list[str], wave: int = 100) -> list[dict]:
    """Migrations in waves of ``wave``: each waits for one action of the wave before."""
    return [{"type": "migrate", "reason": "release a host",
             "parameters": {"instance": str(uuid.UUID(int=i)), "source": hosts[i % len(hosts)],
                            "destination": hosts[(i * 7 + 1) % len(hosts)],
                            "migration_type": "live"},
             "parents": [i - wave] if i >= wave else []} for i in range(count)]


def host_changes(hosts: list[str], count: int) -> dict[str, dict]:
    return {h: {"instances": [4, 0], "cpu_load": [0.3, 0.0], "vcpus_allocated_pct": [40.0, 0.0],
                "memory_allocated_pct": [50.0, 0.0], "service": "disabled"}
            for h in hosts[:count]}


def serve(ctx) -> tuple[uvicorn.Server, threading.Thread, str]:
    api = ApiSettings(auth="token", admin_tokens=(TOKEN,))
    app = create_app(ctx, InProcessDispatcher(ctx, workers=1), api)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1280,1600"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"),
                            options=options)


def page_seconds(driver, url: str, page: str) -> float:
    driver.get(url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        at = driver.execute_script(
            f"return document.body.dataset.ready === '{page}' ? performance.now() : null")
        if at is not None:
            return at / 1000
        time.sleep(0.02)
    raise RuntimeError(f"{url} did not finish drawing in 60 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--actions", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-console-"))
    config = folder / "optimizer.conf"
    config.write_text(f"[database]\nconnection = sqlite:///{folder / 'optimizer.db'}\n"
                      f"[simulated]\nhosts = {args.hosts}\nseed = 3\n"
                      f"state_file = {folder / 'cloud.db'}\n")
    ctx = open_context(load_config(str(config)))
    started = time.perf_counter()
    hosts = list(ctx.collector.collect().host_names)
    with ctx.database.session() as session:
        audit = create_audit(session, goal="server_consolidation", name="bench")
        plan = add_action_plan(session, {"audit_id": audit.id, "strategy": "bench",
                                         "state": "RECOMMENDED",
                                         "host_changes": host_changes(hosts, 2_000)},
                               plan_actions(args.actions, hosts))
        plan_uuid = plan.uuid
    print(f"set up {args.hosts} hosts and {args.actions} actions in "
          f"{time.perf_counter() - started:.1f} s")
    server, thread, base = serve(ctx)
    driver = browser()
    try:
        driver.get(f"{base}/ui/login")
        driver.find_element("id", "token").send_keys(TOKEN)
        driver.find_element("id", "login").click()
        time.sleep(0.5)
        pages = {"cluster": f"{base}/ui/cluster", "plan": f"{base}/ui/plans/{plan_uuid}"}
        ok = True
        for page, url in pages.items():
            seconds = [page_seconds(driver, url, page) for _ in range(args.runs)]
            median = statistics.median(seconds)
            ok &= median <= TARGET_S
            print(f"{page} page: median {median:.2f} s over {args.runs} runs "
                  f"({', '.join(f'{s:.2f}' for s in seconds)}), target {TARGET_S} s")
    finally:
        driver.quit()
        server.should_exit = True
        thread.join(timeout=10)
        ctx.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
