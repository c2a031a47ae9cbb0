"""The projects, project and compare pages in headless Chromium, against the live API."""

from selenium.webdriver.common.by import By

from tests.browser.conftest import WINDOW, console_errors, screenshot
from tests.browser.helpers import loaded, pct, query, text, wait_for


def open_page(drv, live, route, params=None):
    drv.get(live.url + "/#" + route + query(params))
    wait_for(drv, loaded, what=route)


def test_projects_and_project_page(live, driver):
    open_page(driver, live, "/projects", WINDOW)
    projects = live.get("projects", dict(WINDOW, limit=1000))
    rows = driver.find_elements(By.CSS_SELECTOR, "#projects tbody tr")
    assert [r.get_attribute("data-project") for r in rows] == [p["name"] for p in projects]
    for row, p in zip(rows, projects, strict=True):
        assert row.find_element(By.CSS_SELECTOR, "td.changes").text == str(p["changes"])
        assert row.find_element(By.CSS_SELECTOR, "td.patchsets").text == str(p["patchsets"])
    screenshot(driver, "projects")
    assert console_errors(driver) == []

    name = projects[0]["name"]
    rows[0].find_element(By.CSS_SELECTOR, "th a").click()
    wait_for(driver, lambda d: "#/project/" + name in d.current_url)
    wait_for(driver, loaded)
    project = live.get("projects/" + name, WINDOW)
    assert text(driver, "#project-name").startswith(name)
    shown = driver.find_elements(By.CSS_SELECTOR, "#project-systems tbody tr")
    assert [r.get_attribute("data-system") for r in shown] == \
        [s["name"] for s in project["systems"]]
    for row, s in zip(shown, project["systems"], strict=True):
        assert row.find_element(By.CSS_SELECTOR, "td.success_rate").text == pct(s["success_rate"])
        assert row.find_element(By.CSS_SELECTOR, "td.coverage").text == pct(s["coverage"])
        assert row.find_element(By.CSS_SELECTOR, "td.missed").text == str(s["missed"])
        assert row.find_element(By.CSS_SELECTOR, "td.reports").text == str(s["reports"])
    screenshot(driver, "project")
    assert console_errors(driver) == []


def test_compare_page(live, driver):
    open_page(driver, live, "/compare", WINDOW)
    assert "Pick at least two" in text(driver, "#empty")
    for name in ("jenkins", "nec openstack ci"):
        driver.find_element(By.CSS_SELECTOR, "#pick input[data-system='%s']" % name).click()
    driver.find_element(By.ID, "compare-btn").click()
    wait_for(driver, lambda d: "systems=jenkins" in d.current_url)
    wait_for(driver, lambda d: d.find_element(By.ID, "agreement"))
    data = live.get("compare", dict(WINDOW, systems="jenkins,nec openstack ci"))
    heads = [th.get_attribute("data-system")
             for th in driver.find_elements(By.CSS_SELECTOR, "#compare thead th[data-system]")]
    assert heads == [s["name"] for s in data["systems"]]
    row = driver.find_element(By.CSS_SELECTOR, "#compare tr[data-metric='success_rate']")
    assert [td.text for td in row.find_elements(By.CSS_SELECTOR, "td")] == \
        [pct(s["success_rate"]) for s in data["systems"]]
    for a in data["systems"]:
        for b in data["systems"]:
            cell = driver.find_element(
                By.CSS_SELECTOR, "#agreement tr[data-system='%s'] td[data-other='%s']"
                % (a["name"], b["name"]))
            assert cell.text == pct(data["agreement"].get(a["name"], {}).get(b["name"]))
    # Overlaid trend lines: one group per system, one dot per day with a rate.
    wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#compare-trend g[data-system]"))
    for name in ("jenkins", "nec openstack ci"):
        series = live.get("systems/%s/series" % name, dict(WINDOW, interval="day"))
        dots = driver.find_elements(By.CSS_SELECTOR,
                                    "#compare-trend g[data-system='%s'] circle" % name)
        assert len(dots) == sum(1 for p in series if p["success_rate"] is not None), name
    screenshot(driver, "compare")
    assert console_errors(driver) == []
