"""The system and change pages in headless Chromium, against the live API."""

from selenium.webdriver.common.by import By

from tests.browser.conftest import ALL_TIME, WINDOW, console_errors, screenshot
from tests.browser.helpers import duration, loaded, pct, query, text, utc, wait_for


def open_page(drv, live, route, params=None):
    drv.get(live.url + "/#" + route + query(params))
    wait_for(drv, loaded, what=route)


def test_system_page_matches_api(live, driver):
    open_page(driver, live, "/system/jenkins", WINDOW)
    s = live.get("systems/jenkins", WINDOW)
    assert s["display_name"] in text(driver, "#system-name")
    assert ("reference" in text(driver, "#system-name")) == s["reference"]
    assert text(driver, "#health") == s["health"]
    assert text(driver, "#health-reason") == s["health_reason"]
    for key in ("success_rate", "coverage", "first_attempt_success_rate", "flake_rate",
                "agreement"):
        assert text(driver, "#card-" + key) == pct(s[key]), key
    assert text(driver, "#card-latency_p50_s") == duration(s["latency_p50_s"])
    assert text(driver, "#card-last_seen") == utc(s["last_seen"])

    # The trend: one bar per day of the series, one dot per day with a rate.
    series = live.get("systems/jenkins/series", dict(WINDOW, interval="day"))
    bars = driver.find_elements(By.CSS_SELECTOR, "#trend rect.bar")
    assert len(bars) == len(series)
    dots = driver.find_elements(By.CSS_SELECTOR, "#trend circle.dot")
    assert len(dots) == sum(1 for p in series if p["success_rate"] is not None)
    assert driver.execute_script(
        "return document.querySelector('#trend svg').getAttribute('viewBox')") == "0 0 720 220"

    for key in ("latency_p50_s", "latency_p90_s"):
        dots = driver.find_elements(By.CSS_SELECTOR, "#latency g[data-key='%s'] circle" % key)
        assert len(dots) == sum(1 for p in series if p[key] is not None), key

    # Jobs: the API's numbers, flaky ones first.
    jobs = live.get("systems/jenkins/jobs", dict(WINDOW, limit=200))
    shown = driver.find_elements(By.CSS_SELECTOR, "#jobs tbody tr")
    assert len(shown) == len(jobs)
    flaky = [int(r.find_element(By.CSS_SELECTOR, "td.flaky").text) for r in shown]
    assert flaky == sorted(flaky, reverse=True)
    by_name = {j["name"]: j for j in jobs}
    for row in shown:
        job = by_name[row.get_attribute("data-job")]
        assert row.find_element(By.CSS_SELECTOR, "td.runs").text == str(job["runs"])
        assert row.find_element(By.CSS_SELECTOR, "td.success_rate").text == \
            pct(job["success_rate"])
        assert row.find_element(By.CSS_SELECTOR, "td.flaky").text == str(job["flaky"])

    # Recent reports with their job lines and log links.
    reports = live.get("systems/jenkins/reports", dict(WINDOW, limit=20))
    rows = driver.find_elements(By.CSS_SELECTOR, "#reports tbody tr")
    assert [r.get_attribute("data-report") for r in rows] == [str(r["id"]) for r in reports]
    first = rows[0]
    logs = [a.get_attribute("href") for a in first.find_elements(By.CSS_SELECTOR, "a.log")]
    assert logs == [j["url"] for j in reports[0]["jobs"] if j["url"]]

    # Missed patch sets: none in this window for the reference CI.
    missed = live.get("systems/jenkins/missed", WINDOW)
    if not missed:
        assert "No eligible patch set was missed" in text(driver, "#missed-empty")

    # The badge and its snippets.
    badge = driver.find_element(By.ID, "badge").get_attribute("src")
    assert badge == live.url + "/v1/systems/jenkins/badge.svg"
    assert text(driver, "#badge-md") == "![Jenkins CI health](%s)" % badge
    assert text(driver, "#badge-rst").startswith(".. image:: " + badge)
    assert driver.execute_script("return document.getElementById('badge').naturalWidth") > 0
    screenshot(driver, "system")
    screenshot(driver, "system-360px", width=360)
    assert console_errors(driver) == []

    # A report leads to the change page.
    first.find_element(By.CSS_SELECTOR, "a.change").click()
    wait_for(driver, lambda d: "#/change/%d" % reports[0]["change"] in d.current_url)
    wait_for(driver, loaded)
    assert text(driver, "#change-title").startswith("Change %d" % reports[0]["change"])


def test_system_with_missed_patchsets(live, driver):
    systems = live.get("systems", dict(ALL_TIME, limit=1000))
    system = next(s for s in systems if s["missed"])
    open_page(driver, live, "/system/" + system["name"], ALL_TIME)
    missed = live.get("systems/%s/missed" % system["name"], dict(ALL_TIME, limit=20))
    rows = driver.find_elements(By.CSS_SELECTOR, "#missed tbody tr")
    assert len(rows) == len(missed)
    for row, m in zip(rows, missed, strict=True):
        assert "%d,%d" % (m["change"], m["patchset"]) in row.text
        if m["url"]:
            assert row.find_element(By.CSS_SELECTOR, "a[href^='http']").get_attribute("href") \
                == m["url"]
    assert console_errors(driver) == []


def test_unknown_system_says_so(live, driver):
    open_page(driver, live, "/system/no-such-ci", WINDOW)
    error = driver.find_element(By.CSS_SELECTOR, ".state.error")
    assert "404" in error.text
    # The 404 of the API call is the only console message.
    assert all("404" in e["message"] for e in console_errors(driver))


def test_change_page_matches_api(live, driver):
    change = live.get("changes/92468")
    open_page(driver, live, "/change/92468")
    assert change["subject"] in text(driver, "#change-title")
    assert change["project"] in text(driver, "#change-meta")
    # Columns in the order of the systems' keys, headed by their display names.
    names = {r["system"]: r["system_name"] for ps in change["patchsets"] for r in ps["reports"]}
    header = [th.text for th in driver.find_elements(By.CSS_SELECTOR, "#pipeline thead th")]
    assert header == ["Patch set"] + [names[key] for key in sorted(names)]
    assert any(key != name for key, name in names.items())
    rows = driver.find_elements(By.CSS_SELECTOR, "#pipeline tbody tr")
    assert [r.get_attribute("data-patchset") for r in rows] == \
        [str(ps["number"]) for ps in reversed(change["patchsets"])]
    for ps in change["patchsets"]:
        row = driver.find_element(By.CSS_SELECTOR, "#pipeline tr[data-patchset='%d']"
                                  % ps["number"])
        for report in ps["reports"]:
            cell = row.find_element(By.CSS_SELECTOR, "[data-report='%d']" % report["id"])
            assert report["result"] in cell.text
            assert utc(report["reported_at"]) in cell.text
            links = [a.get_attribute("href") for a in cell.find_elements(By.CSS_SELECTOR, "a.log")]
            assert links == [j["url"] for j in report["jobs"] if j["url"]]
            if report["retry"]:
                assert "recheck" in cell.text
    screenshot(driver, "change")
    assert console_errors(driver) == []


def test_change_page_marks_rechecks(live, driver):
    reports = live.get("reports", {"since": "2013-06-01", "until": "2019-01-01", "limit": 100})
    number = next(r["change"] for r in reports if r["retry"])
    change = live.get("changes/%d" % number)
    open_page(driver, live, "/change/%d" % number)
    rechecks = sum(len(ps["rechecks"]) for ps in change["patchsets"])
    shown = driver.find_elements(By.CSS_SELECTOR, "#pipeline tbody div.retry")
    assert len(shown) == rechecks
    for ps in change["patchsets"]:
        for r in ps["reports"]:
            badge = driver.find_elements(By.CSS_SELECTOR,
                                         "[data-report='%d'] span.retry" % r["id"])
            assert bool(badge) == r["retry"], r["id"]
    screenshot(driver, "change-rechecks")
    assert console_errors(driver) == []
