"""The subscribe form (radarSubscribe directive) on the system page, in headless Chromium."""

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.browser.conftest import console_errors, screenshot
from tests.browser.helpers import loaded, wait_for
from tests.cli.conftest import _make_token
from tests.functional.receivers import HttpReceiver, verify


def _fill(drv, target, token, kind=None):
    form = drv.find_element(By.CSS_SELECTOR, ".subscribe form")
    if kind:
        Select(form.find_element(By.CSS_SELECTOR, "select")).select_by_value(kind)
    target_input = form.find_element(By.CSS_SELECTOR, "input[name=target]")
    target_input.clear()
    target_input.send_keys(target)
    form.find_element(By.CSS_SELECTOR, "input[name=token]").send_keys(token)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def test_subscribe_from_the_system_page(live, driver):
    token = _make_token(live.db_url, ["write"], "web-user")
    hook = HttpReceiver((200,))
    try:
        driver.get(live.url + "/#/system/jenkins")
        wait_for(driver, loaded, what="the system page")
        driver.find_element(By.CSS_SELECTOR, ".subscribe-toggle").click()
        boxes = driver.find_elements(By.CSS_SELECTOR, ".subscribe input[type=checkbox]")
        assert len(boxes) == 3 and all(b.is_selected() for b in boxes)
        boxes[2].click()  # no system.resumed

        # The API refuses the radar server itself; the form says why.
        _fill(driver, live.url + "/v1/", token)
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".subscribe .error"),
                 what="the refusal")
        assert "points at this radar server" in driver.find_element(
            By.CSS_SELECTOR, ".subscribe .error").text
        # The only console error is the browser's note of that 400.
        assert [e["message"].split(" - ")[0] for e in console_errors(driver)] == [
            live.url + "/v1/subscriptions"]
        # The token is not kept, not even in the form.
        assert driver.find_element(By.CSS_SELECTOR, ".subscribe input[name=token]") \
            .get_attribute("value") == ""

        _fill(driver, hook.url, token)
        wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".subscribe .secret"),
                 what="the created subscription")
        secret = driver.find_element(By.CSS_SELECTOR, ".subscribe .secret").text
        screenshot(driver, "system-subscribe")
        stored = driver.execute_script(
            "return JSON.stringify(window.localStorage) + JSON.stringify(window.sessionStorage)"
            " + document.cookie + location.href")
        assert token not in stored

        resp = requests.get(live.url + "/v1/subscriptions",
                            headers={"Authorization": "Bearer " + token}, timeout=30)
        subs = resp.json()
        assert len(subs) == 1
        assert subs[0]["filters"]["systems"] == ["jenkins"]
        assert subs[0]["filters"]["types"] == ["system.health_changed", "system.silent"]
        assert subs[0]["kind"] == "webhook" and subs[0]["target"] == hook.url
        # The secret the page showed is the one deliveries are signed with.
        tested = requests.post(live.url + "/v1/subscriptions/%d/test" % subs[0]["id"], json={},
                               headers={"Authorization": "Bearer " + token}, timeout=30)
        assert tested.json()["delivered"] is True
        assert verify(secret, hook.requests[-1])
        assert console_errors(driver) == []
    finally:
        hook.close()
