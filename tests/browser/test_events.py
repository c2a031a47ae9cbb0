"""The overview's events stream: the newest 20 as the API lists them, and its error state."""

import datetime as dt

import pytest
from selenium.webdriver.common.by import By

from radar.db import engine as db_engine
from radar.db import events as db_events
from tests.browser.conftest import WINDOW, console_errors, screenshot
from tests.browser.helpers import loaded, query, utc, wait_for
from tests.browser.test_errors import broken  # noqa: F401 - the failing API fixture

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
KINDS = [("system.silent", "critical", "jenkins", "#/system/jenkins"),
         ("release.task_failed", "warning", None, "#/release/4.19.1"),
         ("system.resumed", "info", "jenkins", "#/system/jenkins")]
SYMBOLS = {"critical": "\u2717", "warning": "\u26a0", "info": "\u2713"}
# The CSS colours (radar.css --red, --yellow, --green) as the browser reports them.
COLOURS = {"critical": "rgba(164, 14, 38, 1)", "warning": "rgba(125, 78, 0, 1)",
           "info": "rgba(17, 99, 41, 1)"}


@pytest.fixture(scope="module")
def with_events(live):
    engine = db_engine.create_engine(url=live.db_url)
    try:
        with engine.begin() as conn:
            for i in range(22):
                type_, severity, system, url = KINDS[i % 3]
                db_events.event_create(conn, "browser-%d" % i, {
                    "type": type_, "severity": severity, "system": system, "url": url,
                    "release": None if system else "4.19.1",
                    "title": "Event %d <b>not bold</b>" % i,
                    "occurred_at": T0 + dt.timedelta(minutes=10 * i)})
    finally:
        engine.dispose()
    return live


def test_overview_shows_the_newest_events(with_events, driver):
    live = with_events
    expected = live.get("events", {"limit": 20})
    driver.get(live.url + "/#/" + query(WINDOW))
    wait_for(driver, loaded, what="the overview")
    items = wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#events li"),
                     what="the events")
    assert len(items) == 20
    for li, event in zip(items, expected, strict=True):
        assert li.get_attribute("data-id") == str(event["id"])
        assert li.find_element(By.CSS_SELECTOR, ".title").text == event["title"]
        assert li.find_element(By.CSS_SELECTOR, "time").text == utc(event["occurred_at"])
        sev = li.find_element(By.CSS_SELECTOR, ".sev")
        # The symbol for the eye, the word for screen readers (and the tooltip).
        assert sev.find_element(By.CSS_SELECTOR, "[aria-hidden]").text == \
            SYMBOLS[event["severity"]]
        assert sev.find_element(By.CSS_SELECTOR, ".sr-only").get_attribute("textContent") == \
            event["severity"]
        assert sev.get_attribute("title") == event["severity"]
        assert sev.value_of_css_property("color") == COLOURS[event["severity"]]
        assert "sev-" + event["severity"] in li.get_attribute("class")
        link = li.find_element(By.CSS_SELECTOR, "a.title")
        assert link.get_attribute("href").endswith(event["url"][event["url"].index("#/"):])
    # The markup in a title is text, not HTML.
    assert not driver.find_elements(By.CSS_SELECTOR, "#events b")
    assert driver.find_element(By.ID, "events-feed").get_attribute("href") == \
        live.url + "/v1/events.atom"
    screenshot(driver, "overview-events")
    # The newest (Event 21) is about jenkins: its link opens the system page.
    items[0].find_element(By.CSS_SELECTOR, "a.title").click()
    wait_for(driver, lambda d: "#/system/jenkins" in d.current_url and loaded(d),
             what="the system page")
    assert console_errors(driver) == []


def test_events_error_state(broken, driver):  # noqa: F811 - pytest injects the fixture
    driver.get(broken + "/#/")
    error = wait_for(driver, lambda d: d.find_element(By.ID, "events-error"),
                     what="the events error state")
    assert "500" in error.text and "could not complete the request" in error.text
    assert error.get_attribute("role") == "alert"
    assert not driver.find_elements(By.CSS_SELECTOR, "#events li")
    assert not driver.find_elements(By.ID, "events-loading")
