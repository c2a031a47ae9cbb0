"""The releases heatmap, a release's page and the deployments page in headless Chromium.

One live `radar-api` over a fresh SQLite database: a few releases and
every deployment written through the API with a write token (task
transitions at known times), and 500 older releases of the configured
workflow stored straight into the tables, for the heatmap's scale (one
request, one rendered table).
"""

import datetime
import hashlib
import time

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from radar.conf import releases as releases_conf
from radar.db import engine as db_engine
from radar.db import migration, models
from tests.browser.conftest import _stop, console_errors, screenshot, start_api, wait_up
from tests.browser.helpers import (
    dora_value,
    loaded,
    long_duration,
    no_page_overflow,
    pct,
    query,
    text,
    utc,
    wait_for,
)
from tests.cli.conftest import _make_token
from tests.functional.api.test_server import free_port

WORKFLOW = releases_conf.DEFAULT_WORKFLOW
BULK = 500
NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def iso(d):
    return d.isoformat()


class Delivery:
    def __init__(self, url, token):
        self.url = url
        self.http = requests.Session()
        self.headers = {"Authorization": "Bearer " + token}

    def get(self, path, params=None):
        resp = self.http.get(self.url + "/v1/" + path, params=params, timeout=30)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def write(self, method, path, body, expect):
        resp = self.http.request(method, self.url + "/v1/" + path, json=body,
                                 headers=self.headers, timeout=30)
        assert resp.status_code in expect, (method, path, resp.status_code, resp.text)
        return resp.json()


def bulk_releases(db_url):
    """500 older releases of product 3.x: mostly done, some red, some under way."""
    engine = db_engine.create_engine(url=db_url)
    start = NOW - datetime.timedelta(days=400)
    try:
        with engine.begin() as conn:
            rel, task = models.Release.__table__, models.ReleaseTask.__table__
            for i in range(BULK):
                created = start + datetime.timedelta(hours=12 * i)
                reached = (i * 7) % (len(WORKFLOW) + 1)  # tasks passed so far
                failed = reached if i % 11 == 0 and reached < len(WORKFLOW) else None
                rows = []
                for pos, name in enumerate(WORKFLOW):
                    began = created + datetime.timedelta(minutes=40 * pos)
                    if pos < reached:
                        status, end = "PASS", began + datetime.timedelta(minutes=17 + pos)
                    elif pos == failed:
                        status, end = "FAIL", began + datetime.timedelta(minutes=5)
                    elif pos == reached:
                        status, end = "IN_PROGRESS", None
                    else:
                        status, began, end = "NOT_STARTED", None, None
                    rows.append({"name": name, "position": pos, "status": status,
                                 "started_at": began, "finished_at": end,
                                 "message": "bulk %d %s" % (i, name), "updated_at": created})
                ident = conn.execute(rel.insert().values(
                    product="3.%d" % (i // 100), version="3.%d.%d" % (i // 100, i % 100),
                    flow_type="z-stream", status="RED" if failed is not None else "GREEN",
                    done=reached == len(WORKFLOW), created_at=created,
                    updated_at=created)).inserted_primary_key[0]
                conn.execute(task.insert(), [dict(r, release_id=ident) for r in rows])
    finally:
        engine.dispose()


def seed_through_api(api):
    """Three releases with their details and task histories, and a service's rollouts."""
    t0 = NOW - datetime.timedelta(days=2)
    details = {
        "4.18.7": {"target_date": "2026-01-20", "jira_url": "https://issues.example/browse/ART-7",
                   "advisories": [{"id": "RHBA-2026:0700", "url": "https://errata.example/700",
                                   "state": "SHIPPED_LIVE"}],
                   "builds": {"x86_64": "4.18.7-x86_64", "aarch64": "4.18.7-aarch64"},
                   "shipment": {"url": "https://ship.example/7", "state": "released",
                                "shipped": True}},
        "4.19.2": {"target_date": "2026-02-10", "advisories": [], "builds": {}},
        "4.19.3": {"target_date": "2026-02-24", "jira_url": "https://issues.example/browse/ART-9",
                   "advisories": [{"id": "RHSA-2026:0901", "url": "https://errata.example/901",
                                   "state": "QE"},
                                  {"id": "RHBA-2026:0902", "url": None, "state": "NEW_FILES"}],
                   "builds": {"x86_64": "https://builds.example/4.19.3-x86_64"},
                   "shipment": {"url": "https://ship.example/9", "state": "pending",
                                "shipped": False}},
    }
    for n, (version, body) in enumerate(details.items()):
        api.write("PUT", "releases/" + version, dict(body, flow_type="z-stream"), (201,))
        for pos, name in enumerate(WORKFLOW):
            began = t0 + datetime.timedelta(hours=n * 5, minutes=30 * pos)
            if version == "4.19.2" and pos > 3:
                break
            path = "releases/%s/tasks/%s" % (version, name)
            api.write("PUT", path, {"status": "IN_PROGRESS", "at": iso(began),
                                    "message": "started"}, (200, 201))
            if version == "4.19.2" and pos == 3:
                break
            end = began + datetime.timedelta(minutes=11 + 3 * pos)
            fail = version == "4.19.3" and name == "stage-testing"
            api.write("PUT", path, {"status": "FAIL" if fail else "PASS", "at": iso(end),
                                    "url": "https://ci.example/%s/%s" % (version, name),
                                    "message": "stage tests <failed>" if fail else "ok"},
                      (200, 201))
            if fail:
                break

    # web: 0.7-0.9 in one wave, 1.0 through every wave, 1.1 half way, 1.2 failed in canary
    # and 1.3 repaired it an hour later (hours before now).
    plan = [("0.7", 140, [("canary", "SUCCEEDED")]), ("0.8", 120, [("canary", "SUCCEEDED")]),
            ("0.9", 100, [("canary", "SUCCEEDED")]),
            ("1.0", 72, [("canary", "SUCCEEDED"), ("blue", "SUCCEEDED"), ("green", "SUCCEEDED")]),
            ("1.1", 48, [("canary", "SUCCEEDED"), ("blue", "IN_PROGRESS")]),
            ("1.2", 24, [("canary", "FAILED")]), ("1.3", 23, [("canary", "SUCCEEDED")])]
    for version, hours, waves in plan:
        for j, (wave, result) in enumerate(waves):
            began = NOW - datetime.timedelta(hours=hours, minutes=-20 * j)
            body = {"id": "web-%s-%s" % (version, wave), "service": "web",
                    "environment": "production", "wave": wave, "version": version,
                    "revision": hashlib.sha1(version.encode()).hexdigest(),
                    "images": {"web": "reg/web:" + version},
                    "cluster": "prod-1", "namespace": "web", "started_at": iso(began),
                    "url": "https://ci.example/deploy/%s/%s" % (version, wave)}
            api.write("POST", "deployments", body, (201,))
            if result != "IN_PROGRESS":
                api.write("PATCH", "deployments/" + body["id"],
                          {"result": result, "finished_at": iso(began + datetime.timedelta(
                              minutes=6 + j)), "message": "rollout " + result.lower(),
                           "replicas": 3, "updated_replicas": 3,
                           "available_replicas": 3 if result == "SUCCEEDED" else 1}, (200,))
    api.write("POST", "deployments", {"id": "api-staging-7", "service": "api",
                                      "environment": "staging", "version": "7.0",
                                      "started_at": iso(NOW - datetime.timedelta(hours=5))},
              (201,))


@pytest.fixture(scope="module")
def delivery(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("delivery")
    db_url = "sqlite:///%s" % (tmp / "radar.sqlite")
    migration.upgrade(db_url)
    bulk_releases(db_url)
    token = _make_token(db_url, ["write"], "browser-write")
    port = free_port()
    conf_file = tmp / "radar.conf"
    conf_file.write_text(
        "[DEFAULT]\nstate_path = %s\n\n[database]\nconnection = %s\n\n"
        "[api]\nhost = 127.0.0.1\nport = %d\nworkers = 2\naccess_log = false\n"
        % (tmp / "state", db_url, port))
    url = "http://127.0.0.1:%d" % port
    proc, log = start_api(conf_file, tmp / "radar-api.log")
    api = Delivery(url, token)
    try:
        wait_up(url, proc, tmp / "radar-api.log")
        seed_through_api(api)
        yield api
    finally:
        api.http.close()
        _stop(proc)
        log.close()


def open_page(drv, api, route, params=None):
    drv.get(api.url + "/#" + route + query(params))
    wait_for(drv, loaded, what=route)


# The heatmap as the page drew it: one row per release, the status of every task cell.
HEATMAP = """
var rows = document.querySelectorAll('#heatmap tbody tr'), out = [];
for (var i = 0; i < rows.length; i++) {
  var cells = rows[i].querySelectorAll('td[data-task]'), st = {};
  for (var j = 0; j < cells.length; j++) {
    st[cells[j].getAttribute('data-task')] = cells[j].getAttribute('data-status');
  }
  out.push([rows[i].getAttribute('data-release'),
            rows[i].querySelector('td.status').textContent.trim(), st]);
}
return out;"""

# Angular watchers on the page (every scope), to show the heatmap adds none per cell.
WATCHERS = """
var root = angular.element(document.querySelector('[ng-app]')).injector().get('$rootScope');
var n = 0, stack = [root];
while (stack.length) {
  var s = stack.pop();
  n += (s.$$watchers || []).length;
  for (var c = s.$$childHead; c; c = c.$$nextSibling) { stack.push(c); }
}
return n;"""


def test_heatmap_of_500_releases(delivery, driver):
    started = time.monotonic()
    driver.get(delivery.url + "/#/releases")
    wait_for(driver, loaded, what="the heatmap")
    wall_ms = (time.monotonic() - started) * 1000
    render_ms = float(driver.find_element(By.TAG_NAME, "radar-heatmap")
                      .get_attribute("data-render-ms"))
    # From the navigation to the drawn table, in the page's own clock.
    page_ms = driver.execute_script("return performance.now()")

    resp = delivery.http.get(delivery.url + "/v1/releases", params={"limit": 1000}, timeout=30)
    releases = resp.json()
    assert len(releases) == BULK + 3 == int(resp.headers["X-Total-Count"])
    shown = driver.execute_script(HEATMAP)
    assert [r[0] for r in shown] == [r["version"] for r in releases]  # newest first
    assert [r[1] for r in shown] == [r["status"] for r in releases]
    for (_, _, cells), r in zip(shown, releases, strict=True):
        assert cells == {t["name"]: t["status"] for t in r["tasks"]}, r["version"]
    heads = [th.get_attribute("data-task")
             for th in driver.find_elements(By.CSS_SELECTOR, "#heatmap thead th.task")]
    assert heads == WORKFLOW
    assert text(driver, "#count") == str(len(releases))
    assert text(driver, "#count-red") == str(sum(r["status"] == "RED" for r in releases))
    assert text(driver, "#count-done") == str(sum(r["done"] for r in releases))

    # One request for the whole table, and no watcher per cell.
    requests_made = driver.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; })"
        ".filter(function (n) { return n.indexOf('/v1/releases?') >= 0; }).length")
    assert requests_made == 1
    watchers = driver.execute_script(WATCHERS)
    assert watchers < 300, watchers  # one per cell would be over 4500

    # Symbols as well as colours; the hover title has the task's times and message.
    failed = releases[0]
    assert failed["version"] == "4.19.3" and failed["status"] == "RED"
    cell = driver.find_element(By.CSS_SELECTOR,
                               "#heatmap tr[data-release='4.19.3'] td[data-task='stage-testing']")
    assert cell.text == "\u2717"
    assert cell.get_attribute("aria-label") == "stage-testing: FAIL"
    task = next(t for t in failed["tasks"] if t["name"] == "stage-testing")
    title = cell.get_attribute("title")
    assert title.splitlines() == [
        "4.19.3 \u00b7 stage-testing: FAIL (failed)", "started " + utc(task["started_at"]),
        "finished " + utc(task["finished_at"]), "duration " + long_duration(task["duration_s"]),
        "stage tests <failed>"]
    symbols = {c.get_attribute("data-status"): c.text for c in driver.find_elements(
        By.CSS_SELECTOR, "#heatmap tr[data-release='4.19.2'] td.t")}
    assert symbols == {"PASS": "\u2713", "IN_PROGRESS": "\u25d0", "NOT_STARTED": "\u25cb"}

    # Sticky header and first column: scrolled down and right, they stay in view.
    wrap = driver.find_element(By.CSS_SELECTOR, ".heatmap-wrap")
    driver.execute_script("arguments[0].scrollTop = 5000; arguments[0].scrollLeft = 400;", wrap)
    tops = driver.execute_script(
        "var w = arguments[0].getBoundingClientRect();"
        "var h = document.querySelector('#heatmap thead th.task').getBoundingClientRect();"
        "var v = document.querySelector('#heatmap tbody tr:nth-child(200) th.version')"
        ".getBoundingClientRect(); return [w.top, h.top, w.left, v.left];", wrap)
    assert abs(tops[0] - tops[1]) <= 2 and abs(tops[2] - tops[3]) <= 2, tops
    driver.execute_script("arguments[0].scrollTop = 0; arguments[0].scrollLeft = 0;", wrap)

    stats = delivery.get("releases/tasks/stats")
    rows = driver.find_elements(By.CSS_SELECTOR, "#task-stats tbody tr")
    assert [r.get_attribute("data-task") for r in rows] == [s["task"] for s in stats]
    for row, s in zip(rows, stats, strict=True):
        assert row.find_element(By.CSS_SELECTOR, "td.median").text == \
            long_duration(s["median_duration_s"])
        assert row.find_element(By.CSS_SELECTOR, "td.failure_rate").text == pct(s["failure_rate"])
    screenshot(driver, "releases")
    assert console_errors(driver) == []
    print("\nheatmap %d x %d: table built and laid out in %.0f ms; navigation to drawn page "
          "%.0f ms (page clock), %.0f ms (test clock); %d watchers"
          % (len(releases), len(WORKFLOW), render_ms, page_ms, wall_ms, watchers))
    assert render_ms < 5000


def test_heatmap_filters(delivery, driver):
    open_page(driver, delivery, "/releases")
    driver.find_element(By.CSS_SELECTOR, "#status option[value='RED']").click()
    driver.find_element(By.ID, "product").send_keys("3.1")
    driver.find_element(By.ID, "apply").click()
    wait_for(driver, lambda d: "status=RED" in d.current_url and "product=3.1" in d.current_url)
    wait_for(driver, loaded)
    expected = delivery.get("releases", {"status": "RED", "product": "3.1", "limit": 1000})
    assert expected and all(r["status"] == "RED" and r["product"] == "3.1" for r in expected)
    wait_for(driver, lambda d: [r[0] for r in d.execute_script(HEATMAP)] ==
             [r["version"] for r in expected], what="the filtered heatmap")
    # Done only: a deep link keeps the filter.
    open_page(driver, delivery, "/releases", {"done": "true", "product": "4.18"})
    assert [r[0] for r in driver.execute_script(HEATMAP)] == \
        [r["version"] for r in delivery.get("releases", {"done": "true", "product": "4.18"})] \
        == ["4.18.7"]
    assert driver.find_element(By.ID, "done").get_attribute("value") == "true"
    open_page(driver, delivery, "/releases", {"product": "9.9"})
    assert "No release matches" in text(driver, "#empty")
    assert console_errors(driver) == []


def test_release_page_tabs(delivery, driver):
    open_page(driver, delivery, "/releases")
    driver.find_element(By.CSS_SELECTOR, "#heatmap tr[data-release='4.19.3'] th a").click()
    wait_for(driver, lambda d: "#/release/4.19.3" in d.current_url)
    wait_for(driver, loaded)
    r = delivery.get("releases/4.19.3")
    assert text(driver, "#release-name").startswith("4.19.3")
    assert text(driver, "#status") == r["status"] == "RED"
    assert text(driver, "#target") == r["target_date"]
    strip = driver.find_elements(By.CSS_SELECTOR, "#tasks li")
    assert [(li.get_attribute("data-task"), li.get_attribute("data-status")) for li in strip] == \
        [(t["name"], t["status"]) for t in r["tasks"]]

    # Advisories (the first tab), with links where there is one.
    rows = driver.find_elements(By.CSS_SELECTOR, "#advisories tbody tr")
    assert [(x.get_attribute("data-advisory"), x.find_element(By.CSS_SELECTOR, "td").text)
            for x in rows] == [(a["id"], a["state"]) for a in r["advisories"]]
    assert rows[0].find_element(By.TAG_NAME, "a").get_attribute("href") == \
        r["advisories"][0]["url"]
    # The keyboard moves between tabs (arrow keys), the tab is in the URL.
    driver.find_element(By.ID, "tab-advisories").send_keys(Keys.ARROW_RIGHT)
    wait_for(driver, lambda d: d.find_elements(By.ID, "builds"))
    assert driver.switch_to.active_element.get_attribute("id") == "tab-builds"
    assert driver.find_element(By.ID, "tab-builds").get_attribute("aria-selected") == "true"
    assert "tab=builds" in driver.current_url
    assert [x.get_attribute("data-arch") for x in driver.find_elements(
        By.CSS_SELECTOR, "#builds tbody tr")] == sorted(r["builds"])
    driver.find_element(By.ID, "tab-jira").click()
    assert driver.find_element(By.ID, "jira").get_attribute("href") == r["jira_url"]
    driver.find_element(By.ID, "tab-shipment").click()
    assert text(driver, "#shipment-state") == r["shipment"]["state"]
    assert text(driver, "#shipment-shipped") == "no"

    driver.find_element(By.ID, "tab-history").click()
    wait_for(driver, lambda d: d.find_elements(By.ID, "history"))
    for row, t in zip(driver.find_elements(By.CSS_SELECTOR, "#task-table tbody tr"), r["tasks"],
                      strict=True):
        assert row.get_attribute("data-task") == t["name"]
        assert row.find_element(By.CSS_SELECTOR, "td.duration").text == \
            long_duration(t["duration_s"])
    # Every transition, newest first, with the time since the task's previous one.
    history = sorted(r["history"], key=lambda e: e["at"], reverse=True)
    rows = driver.find_elements(By.CSS_SELECTOR, "#history tbody tr")
    assert [(x.get_attribute("data-task"), x.get_attribute("data-status")) for x in rows] == \
        [(e["task"], e["status"]) for e in history]
    for row, e in zip(rows, history, strict=True):
        before = [p for p in r["history"] if p["task"] == e["task"] and p["at"] < e["at"]]
        after = None
        if before:
            prev = max(p["at"] for p in before)
            after = (datetime.datetime.fromisoformat(e["at"]) -
                     datetime.datetime.fromisoformat(prev)).total_seconds()
        assert row.find_element(By.CSS_SELECTOR, "td.after").text == long_duration(after)
    screenshot(driver, "release-history")
    screenshot(driver, "release-360px", width=360)

    # A deep link opens the tab; a done and shipped release says so.
    open_page(driver, delivery, "/release/4.18.7", {"tab": "shipment"})
    assert driver.find_element(By.ID, "tab-shipment").get_attribute("aria-selected") == "true"
    assert text(driver, "#shipment-shipped") == "\u2713 yes"
    assert text(driver, "#done") == "done" and text(driver, "#shipped") == "shipped"
    # Nothing known about a release's shipment, advisories or builds: empty states.
    open_page(driver, delivery, "/release/4.19.2", {"tab": "shipment"})
    bare = delivery.get("releases/4.19.2")
    assert not (bare["shipment"] or {}).get("url") and not bare["advisories"]
    assert "No shipment is recorded" in text(driver, "#shipment-empty")
    driver.find_element(By.ID, "tab-advisories").click()
    assert "No advisory is recorded" in text(driver, "#panel-advisories")
    assert console_errors(driver) == []
    # An unknown release: the API's 404 in the error state (and only that in the console).
    open_page(driver, delivery, "/release/0.0.404")
    error = text(driver, ".state.error")
    assert "Could not load this release" in error and "404" in error
    assert [e["source"] for e in console_errors(driver)] == ["network"]


def test_deployments_page(delivery, driver):
    open_page(driver, delivery, "/deployments")
    dora = delivery.get("dora")
    tiles = driver.find_elements(By.CSS_SELECTOR, "#dora .card")
    names = ["deployment_frequency", "lead_time", "change_failure_rate", "recovery_time"]
    assert [t.get_attribute("data-metric") for t in tiles] == names
    by_name = {m["name"]: m for m in dora["metrics"]}
    # The data gives a ratio, a duration and a frequency to format.
    assert None not in [by_name[n]["value"] for n in
                        ("deployment_frequency", "change_failure_rate", "recovery_time")], dora
    for tile in tiles:
        m = by_name[tile.get_attribute("data-metric")]
        assert tile.find_element(By.CSS_SELECTOR, ".value").text == dora_value(m), m
        assert tile.find_element(By.CSS_SELECTOR, ".tier").text == (m["tier"] or "no tier")

    waves = delivery.get("deployments/waves")
    rows = driver.find_elements(By.CSS_SELECTOR, "#waves tbody tr")
    assert [(x.get_attribute("data-service"), x.get_attribute("data-version")) for x in rows] == \
        [(v["service"], v["version"]) for v in waves]
    for row, v in zip(rows, waves, strict=True):
        assert v["state"] in row.find_element(By.CSS_SELECTOR, "td.state-cell").text
        chips = row.find_elements(By.CSS_SELECTOR, ".chip")
        assert [(c.get_attribute("data-wave"), c.get_attribute("data-result")) for c in chips] \
            == [(w["wave"] or "", w["result"]) for w in v["waves"]]
    web = {v["version"]: v for v in waves if v["service"] == "web"}
    assert (web["1.0"]["state"], web["1.1"]["state"], web["1.2"]["state"]) == \
        ("DONE", "RUNNING", "FAILED")

    recent = delivery.get("deployments", {"limit": 50})
    rows = driver.find_elements(By.CSS_SELECTOR, "#recent tbody tr")
    assert [x.get_attribute("data-deployment") for x in rows] == [str(d["id"]) for d in recent]
    for row, d in zip(rows, recent, strict=True):
        assert d["result"] in row.find_element(By.CSS_SELECTOR, "td.result").text
        assert row.find_element(By.CSS_SELECTOR, "td.duration").text == \
            long_duration(d["duration_s"])
    screenshot(driver, "deployments")
    screenshot(driver, "deployments-360px", width=360)

    # Narrowed to one service and environment: every section follows.
    driver.find_element(By.ID, "service").send_keys("api")
    driver.find_element(By.ID, "environment").send_keys("staging")
    driver.find_element(By.ID, "apply").click()
    wait_for(driver, lambda d: "service=api" in d.current_url)
    wait_for(driver, loaded)
    only = delivery.get("deployments", {"service": "api", "environment": "staging"})
    assert [x.get_attribute("data-deployment") for x in driver.find_elements(
        By.CSS_SELECTOR, "#recent tbody tr")] == [str(d["id"]) for d in only]
    assert [x.get_attribute("data-version") for x in driver.find_elements(
        By.CSS_SELECTOR, "#waves tbody tr")] == \
        [v["version"] for v in delivery.get("deployments/waves",
                                            {"service": "api", "environment": "staging"})]
    assert console_errors(driver) == []


def test_new_pages_fit_360px_and_nav(delivery, driver):
    driver.set_window_size(360, 800)
    try:
        for route in ("/releases", "/release/4.19.3", "/deployments"):
            open_page(driver, delivery, route)
            ok, scroll, width = no_page_overflow(driver)
            assert ok, (route, scroll, width)
            if route == "/releases":
                screenshot(driver, "releases-360px", width=360)
    finally:
        driver.set_window_size(1280, 900)
    # The navigation leads to both pages and marks the current one.
    open_page(driver, delivery, "/deployments")
    driver.find_element(By.LINK_TEXT, "Releases").click()
    wait_for(driver, lambda d: d.current_url.endswith("#/releases"))
    wait_for(driver, loaded)
    active = driver.find_elements(By.CSS_SELECTOR, ".nav a.active")
    assert [a.text for a in active] == ["Releases"]
    assert console_errors(driver) == []


def test_subscribe_from_the_release_page(delivery, driver):
    from tests.browser.test_subscribe import _fill
    from tests.functional.receivers import HttpReceiver

    hook = HttpReceiver((200,))
    token = delivery.headers["Authorization"].split()[1]
    try:
        open_page(driver, delivery, "/release/4.19.3")
        driver.find_element(By.CSS_SELECTOR, ".subscribe-toggle").click()
        boxes = driver.find_elements(By.CSS_SELECTOR, ".subscribe input[type=checkbox]")
        assert len(boxes) == 3 and all(b.is_selected() for b in boxes)
        _fill(driver, hook.url, token)
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".subscribe .secret"),
                 what="the created subscription")
        subs = requests.get(delivery.url + "/v1/subscriptions", headers=delivery.headers,
                            timeout=30).json()
        # The release's product, and the release events.
        assert [s["filters"] for s in subs] == [{
            "products": ["4.19"], "systems": [], "projects": [], "services": [],
            "types": ["release.task_failed", "release.red", "release.shipped"]}]
        assert console_errors(driver) == []
    finally:
        hook.close()
