"""The header's data freshness: fresh, failing and stale collectors; auto-refresh."""

import datetime

import sqlalchemy as sa
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from radar.db import engine as db_engine
from radar.db import models
from tests.browser.conftest import WINDOW, console_errors, screenshot
from tests.browser.helpers import loaded, query, text, utc, wait_for


def set_collector(live, **values):
    engine = db_engine.create_engine(url=live.db_url)
    try:
        with engine.begin() as conn:
            sources = models.Source.__table__
            state = models.CollectorState.__table__
            for row in conn.execute(sa.select(sources.c.id)).all():
                if conn.execute(sa.select(state.c.source_id)
                                .where(state.c.source_id == row.id)).first() is None:
                    conn.execute(state.insert().values(
                        source_id=row.id, cycles=0, failures=0, changes_seen=0,
                        messages_stored=0, reports_stored=0, records_skipped=0))
                conn.execute(state.update().where(state.c.source_id == row.id)
                             .values(**values))
    finally:
        engine.dispose()


def test_fresh_then_failing_collector(live, driver):
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    set_collector(live, last_attempt_at=now, last_success_at=now, last_error=None,
                  last_error_at=None, cycles=5)
    collector = live.get("collector")
    assert not any(s["stale"] for s in collector)
    driver.get(live.url + "/#/" + query(WINDOW))
    wait_for(driver, loaded)
    wait_for(driver, lambda d: "Data as of" in text(d, "#freshness-text"))
    assert utc(max(s["last_success_at"] for s in collector)) in text(driver, "#freshness-text")
    assert not driver.find_elements(By.ID, "stale-warning")
    screenshot(driver, "header-fresh")

    # Auto-refresh is off by default; switched on (by keyboard), the page
    # picks up a collector that starts failing without a reload.
    switch = driver.find_element(By.ID, "auto-refresh")
    assert not switch.is_selected()
    driver.execute_script("window.radarRefreshMs = 300;")
    switch.send_keys(Keys.SPACE)
    assert switch.is_selected()
    later = now + datetime.timedelta(seconds=30)
    set_collector(live, last_attempt_at=later, last_error="Gerrit answered 503",
                  last_error_at=later)
    warning = wait_for(driver, lambda d: d.find_element(By.ID, "stale-warning"),
                       what="the failing collector warning")
    assert "collecting openstack is failing: Gerrit answered 503" in warning.text
    switch.send_keys(Keys.SPACE)
    assert not switch.is_selected()
    screenshot(driver, "header-failing")
    assert console_errors(driver) == []


def test_stale_collector(live, driver):
    long_ago = datetime.datetime(2014, 5, 15, tzinfo=datetime.UTC)
    set_collector(live, last_success_at=long_ago, last_attempt_at=long_ago, last_error=None,
                  last_error_at=None)
    assert all(s["stale"] for s in live.get("collector"))
    driver.get("about:blank")
    driver.get(live.url + "/#/" + query(WINDOW))
    wait_for(driver, loaded)
    warning = wait_for(driver, lambda d: d.find_element(By.ID, "stale-warning"))
    assert "out of date" in warning.text
    assert "source openstack last collected 2014-05-15 00:00 UTC" in warning.text
    screenshot(driver, "header-stale")
    assert console_errors(driver) == []
