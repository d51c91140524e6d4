"""The console in a real browser: headless Debian chromium driven by selenium.

Against a served instance (uvicorn, token auth, an applier that runs plans
on the simulated cloud): log in, open a plan and check its picture against
the API, skip an action on another plan, start the first and watch it
succeed, and check a reader sees no write buttons and is refused a forged
write. Screenshots of the pages go to docs/. Without chromium this module
skips, except under CI=true, where it fails.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from optimizer.api import create_app
from optimizer.config import ApiSettings
from optimizer.dispatch import InProcessDispatcher
from tests.optimizer.api.conftest import ADMIN, READER
from tests.optimizer.api.test_watcherclient import free_port

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
DOCS = Path(__file__).resolve().parents[3] / "docs"
HEADERS = {"X-Auth-Token": ADMIN, "OpenStack-API-Version": "infra-optim 1.7"}


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(path):
            return f"{path} is missing (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is missing (pip install -e '.[test]')"
    return None


@pytest.fixture(scope="module", autouse=True)
def _needs_browser():
    missing = _browser_missing()
    if missing and os.environ.get("CI") == "true":
        pytest.fail(missing)
    if missing:
        pytest.skip(missing)


@pytest.fixture
def served(ctx) -> Iterator[str]:
    dispatcher = InProcessDispatcher(ctx, workers=1)
    api = ApiSettings(auth="token", admin_tokens=(ADMIN,), reader_tokens=(READER,))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx, dispatcher, api), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    dispatcher.close()


@pytest.fixture
def browser():
    """Headless chromium through the system's chromedriver (selenium never downloads one)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1280,1700", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def wait_for(check, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception:  # the page is still loading: an element may not exist yet
            value = None
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def recommended(api: httpx.Client) -> str:
    audit = api.post("/v1/audits", json={"goal": "server_consolidation",
                                         "strategy": "vm_workload_consolidation"}).json()

    def plan():
        plans = api.get("/v1/action_plans", params={"audit_uuid": audit["uuid"]}).json()
        found = plans["action_plans"]
        return found and found[0]["state"] == "RECOMMENDED" and found[0]["uuid"]
    return wait_for(plan, 60, "a recommended plan")


def log_in(driver, base: str, token: str, page: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(f"{base}/ui/login?next={page}")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "login").click()
    wait_for(lambda: driver.current_url.endswith(page), what=f"{page} after login")


def ready(driver, page: str) -> None:
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready") == page,
             what=f"the {page} page to draw")


def test_console_in_a_browser(served, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    api = httpx.Client(base_url=served, headers=HEADERS, timeout=30)
    first, second = recommended(api), recommended(api)
    actions = api.get("/v1/actions", params={"action_plan_uuid": first, "limit": 1000}).json()

    log_in(browser, served, ADMIN, "/ui/cluster")
    ready(browser, "cluster")
    hosts = browser.find_element(By.ID, "cluster-summary").get_attribute("data-hosts")
    assert int(hosts) == 8
    DOCS.mkdir(exist_ok=True)
    browser.save_screenshot(str(DOCS / "console-cluster.png"))

    browser.get(f"{served}/ui/plans/{first}")
    ready(browser, "plan")
    total = browser.find_element(By.ID, "progress-text").get_attribute("data-total")
    assert int(total) == len(actions["actions"])
    shown = browser.find_elements(By.CSS_SELECTOR, "#actions tbody tr")
    assert len(shown) == len(actions["actions"])
    summary = browser.find_element(By.ID, "hosts-summary")
    assert int(summary.get_attribute("data-hosts")) == 8
    moved = {a["input_parameters"].get("source") for a in api.get(
        "/v1/actions/detail", params={"action_plan_uuid": first}).json()["actions"]}
    assert int(summary.get_attribute("data-changed")) >= len(moved - {None})
    for canvas in ("cpu-before", "cpu-after", "memory-before", "memory-after"):
        assert "8 hosts" in browser.find_element(By.ID, canvas).get_attribute("aria-label")
    browser.save_screenshot(str(DOCS / "console-plan.png"))

    # skip an action of the other plan, with a reason
    browser.get(f"{served}/ui/plans/{second}")
    ready(browser, "plan")
    row = browser.find_element(By.CSS_SELECTOR, "#actions tbody tr[data-state=PENDING]")
    skipped = row.get_attribute("data-uuid")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", row)
    row.find_element(By.CSS_SELECTOR, "input.reason").send_keys("keep it there")
    row.find_element(By.CSS_SELECTOR, "input.reason").send_keys(Keys.TAB, Keys.ENTER)
    action = wait_for(lambda: (a := api.get(f"/v1/actions/{skipped}").json())["state"]
                      == "SKIPPED" and a, what="the action to be skipped")
    assert action["status_message"] == "keep it there"

    # start the first plan and watch it succeed, pushed over server-sent events
    browser.get(f"{served}/ui/plans/{first}")
    ready(browser, "plan")
    browser.find_element(By.ID, "start").click()
    wait_for(lambda: browser.find_element(By.ID, "plan-state").text == "SUCCEEDED", 90,
             "the plan to succeed on the page")
    assert api.get(f"/v1/action_plans/{first}").json()["state"] == "SUCCEEDED"
    assert not browser.find_element(By.ID, "start").is_displayed()
    browser.save_screenshot(str(DOCS / "console-plan-succeeded.png"))

    # a reader: no write buttons, and a forged write is refused by the API
    log_in(browser, served, READER, f"/ui/plans/{second}")
    ready(browser, "plan")
    assert not browser.find_elements(By.ID, "start")
    assert not browser.find_elements(By.CSS_SELECTOR, "button.skip")
    status = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const csrf = document.querySelector('meta[name="console-csrf"]').content;
        fetch(`/ui/api/action_plans/${arguments[0]}/start`, {method: "POST",
              headers: {"X-Console-CSRF": csrf}}).then((r) => done(r.status));""", second)
    assert status == 403
    assert api.get(f"/v1/action_plans/{second}").json()["state"] == "RECOMMENDED"

    # a forged session cookie: back to the login form
    browser.delete_all_cookies()
    browser.get(f"{served}/ui/login")
    browser.add_cookie({"name": "optimizer_console", "value": "forged.0000", "path": "/ui"})
    browser.get(f"{served}/ui/plans/{second}")
    assert "/ui/login" in browser.current_url
