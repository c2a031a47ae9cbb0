"""The overview page at / in headless Chromium, against the live API."""

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import WINDOW, console_errors, screenshot
from tests.browser.helpers import duration, loaded, pct, query, text, utc, wait_for


def open_page(drv, live, route="/", params=None):
    drv.get(live.url + "/#" + route + query(params))
    wait_for(drv, loaded, what=route)


def rows(drv):
    return drv.find_elements(By.CSS_SELECTOR, "#systems tbody tr")


def test_root_serves_page_to_browsers_and_json_to_clients(live):
    nav = requests.get(live.url + "/", headers={
        "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
        "Upgrade-Insecure-Requests": "1"}, timeout=10)
    assert nav.status_code == 200
    assert nav.headers["Content-Type"].startswith("text/html")
    assert 'ng-app="radar"' in nav.text
    for accept in ("application/json", "text/html,*/*;q=0.8", "*/*"):
        resp = requests.get(live.url + "/", headers={"Accept": accept}, timeout=10)
        assert resp.headers["Content-Type"].startswith("application/json"), accept
        assert resp.json()["name"] == "radar"
    lib = requests.get(live.url + "/static/lib/angular/angular.js", timeout=10)
    assert lib.status_code == 200 and "AngularJS v1.8" in lib.text[:200]
    for bad in ("/static/../setup.cfg", "/static/nothing.js", "/static/lib/angular/../x",
                "/static/lib/nothing/x.js"):
        resp = requests.get(live.url + bad, timeout=10)
        assert resp.status_code == 404, bad
        assert resp.json()["code"] == 404


def test_overview_matches_api(live, driver):
    open_page(driver, live, "/", WINDOW)
    systems = live.get("systems", dict(WINDOW, limit=1000))
    assert systems
    shown = {r.get_attribute("data-system"): r for r in rows(driver)}
    assert sorted(shown) == sorted(s["name"] for s in systems)
    for s in systems:
        row = shown[s["name"]]
        def cell(css, row=row):
            return row.find_element(By.CSS_SELECTOR, css)
        assert s["display_name"] in cell("th.name").text
        assert ("reference" in cell("th.name").text) == s["reference"]
        assert cell(".health .pill").text == s["health"]
        assert cell(".health .pill").get_attribute("title") == s["health_reason"]
        assert "h-" + s["health"] in cell(".health .pill").get_attribute("class")
        assert cell("td.success_rate").text == pct(s["success_rate"])
        assert cell("td.coverage").text == pct(s["coverage"])
        assert cell("td.latency").text == duration(s["latency_p50_s"])
        assert cell("td.reports").text == str(s["reports"])
        assert cell("td.last_seen").text == utc(s["last_seen"])
        # Numbers carry their definitions.
        assert "divided by" in cell("td.success_rate").get_attribute("title")
    screenshot(driver, "overview")
    screenshot(driver, "overview-360px", width=360)
    assert console_errors(driver) == []


def test_overview_sort_and_name_filter(live, driver):
    open_page(driver, live, "/", WINDOW)
    systems = live.get("systems", dict(WINDOW, limit=1000))
    header = driver.find_element(By.CSS_SELECTOR, "button.sort[data-key='success_rate']")
    header.click()
    wait_for(driver, lambda d: "sort=success_rate" in d.current_url)
    rates = [s["success_rate"] for s in systems if s["success_rate"] is not None]
    expected = [pct(r) for r in sorted(rates)] + [pct(None)] * (len(systems) - len(rates))
    assert [r.find_element(By.CSS_SELECTOR, "td.success_rate").text for r in rows(driver)] \
        == expected
    # Again: descending, still missing values last; the header says so.
    header = driver.find_element(By.CSS_SELECTOR, "button.sort[data-key='success_rate']")
    header.send_keys(Keys.ENTER)  # keyboard works too
    wait_for(driver, lambda d: "sort=-success_rate" in d.current_url)
    expected = [pct(r) for r in sorted(rates, reverse=True)] + \
        [pct(None)] * (len(systems) - len(rates))
    assert [r.find_element(By.CSS_SELECTOR, "td.success_rate").text for r in rows(driver)] \
        == expected
    th = header.find_element(By.XPATH, "..")
    assert th.get_attribute("aria-sort") == "descending"

    box = driver.find_element(By.ID, "name-filter")
    box.send_keys("JENK")
    wait_for(driver, lambda d: "q=JENK" in d.current_url)
    names = sorted(r.get_attribute("data-system") for r in rows(driver))
    assert names == sorted(s["name"] for s in systems if "jenk" in s["name"].lower())
    # Deep link: the filter and the sort live in the URL.
    url = driver.current_url
    driver.get("about:blank")
    driver.get(url)
    wait_for(driver, loaded)
    assert sorted(r.get_attribute("data-system") for r in rows(driver)) == names
    assert driver.find_element(By.ID, "name-filter").get_attribute("value") == "JENK"
    box = driver.find_element(By.ID, "name-filter")
    box.clear()
    box.send_keys("no such system")
    wait_for(driver, lambda d: d.find_element(By.ID, "empty").is_displayed())
    assert "No CI system matches" in text(driver, "#empty")
    assert console_errors(driver) == []


def test_overview_window_and_project_filters(live, driver):
    open_page(driver, live, "/", WINDOW)
    driver.find_element(By.ID, "project").send_keys("openstack/neutron")
    driver.find_element(By.ID, "apply").click()
    wait_for(driver, lambda d: "project=openstack%2Fneutron" in d.current_url)
    wait_for(driver, loaded)
    api = live.get("systems", dict(WINDOW, project="openstack/neutron", limit=1000))
    shown = {r.get_attribute("data-system"): r.find_element(By.CSS_SELECTOR, "td.reports").text
             for r in rows(driver)}
    assert shown == {s["name"]: str(s["reports"]) for s in api}
    assert "openstack/neutron" in text(driver, "h1")
    # Another window: the URL changes and the numbers follow.
    since = driver.find_element(By.ID, "since")
    since.clear()
    since.send_keys("2014-05-08")
    driver.find_element(By.ID, "apply").click()
    wait_for(driver, lambda d: "since=2014-05-08" in d.current_url)
    wait_for(driver, loaded)
    api = live.get("systems", {"since": "2014-05-08", "until": WINDOW["until"],
                               "project": "openstack/neutron", "limit": 1000})
    shown = {r.get_attribute("data-system"): r.find_element(By.CSS_SELECTOR, "td.reports").text
             for r in rows(driver)}
    assert shown == {s["name"]: str(s["reports"]) for s in api}
    assert console_errors(driver) == []


def test_system_links_from_overview(live, driver):
    open_page(driver, live, "/", WINDOW)
    link = driver.find_element(By.CSS_SELECTOR, "tr[data-system='jenkins'] th.name a")
    link.click()
    wait_for(driver, lambda d: "#/system/jenkins" in d.current_url)
    assert "since=2014-05-01" in driver.current_url


def test_stale_collector_shows_warning(live, driver):
    open_page(driver, live, "/", WINDOW)
    collector = live.get("collector")
    assert all(s["stale"] for s in collector)  # imported, never collected
    warning = wait_for(driver, lambda d: d.find_element(By.ID, "stale-warning"))
    assert "out of date" in warning.text
    for source in collector:
        assert source["name"] in warning.text
    assert warning.get_attribute("role") == "alert"
    assert "never" in text(driver, "#freshness-text")


def test_overview_sparklines(live, driver):
    open_page(driver, live, "/", WINDOW)
    for name in ("jenkins", "nec openstack ci", "huawei ci"):
        series = live.get("systems/%s/series" % name, dict(WINDOW, interval="day"))
        expected = sum(1 for p in series if p["success_rate"] is not None)
        cell = wait_for(driver, lambda d, name=name: d.find_element(
            By.CSS_SELECTOR, "tr[data-system='%s'] td.spark[data-points]" % name))
        wait_for(driver, lambda d, cell=cell: cell.get_attribute("data-points") != "")
        assert cell.get_attribute("data-points") == str(expected), name
        assert len(cell.find_elements(By.CSS_SELECTOR, "circle")) == expected
    assert console_errors(driver) == []


def test_phone_width_has_no_page_overflow(live, driver):
    driver.set_window_size(360, 800)
    try:
        for route in ("/", "/system/jenkins", "/change/92468", "/compare"):
            open_page(driver, live, route, WINDOW)
            # Wide tables scroll inside their own box; the page itself does not.
            width = driver.execute_script("return document.documentElement.clientWidth")
            scroll = driver.execute_script("return document.documentElement.scrollWidth")
            assert scroll <= width + 1, (route, scroll, width)
    finally:
        driver.set_window_size(1280, 900)
