"""What the page does to the API's numbers (radar/webclient/js/services/format.js)."""

import datetime
import time
import urllib.parse

DASH = "\u2013"


def pct(x):
    if x is None:
        return DASH
    return "%.1f%%" % (x * 100 + 0.0)


def duration(s):
    if s is None:
        return DASH
    if s < 120:
        return "%d s" % round_half_up(s)
    if s < 7200:
        return "%d min" % round_half_up(s / 60)
    return "%.1f h" % (s / 3600)


def round_half_up(x):
    # JavaScript's Math.round.
    import math
    return math.floor(x + 0.5)


def utc(iso):
    if not iso:
        return DASH
    d = datetime.datetime.fromisoformat(iso).astimezone(datetime.UTC)
    return d.strftime("%Y-%m-%d %H:%M UTC")


def query(params):
    return "?" + urllib.parse.urlencode(params) if params else ""


def wait_for(drv, condition, timeout=40, what="the page"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = condition(drv)
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - elements come and go while Angular renders
            last = e
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def text(drv, css):
    from selenium.webdriver.common.by import By
    return drv.find_element(By.CSS_SELECTOR, css).text


def loaded(drv):
    """Angular has rendered the route and no request is pending."""
    return drv.execute_script(
        "var el = document.querySelector('[ng-app]');"
        "if (!window.angular || !el) { return false; }"
        "var inj = angular.element(el).injector(); if (!inj) { return false; }"
        "var http = inj.get('$http');"
        "return http.pendingRequests.length === 0 && "
        "!document.querySelector('.state.loading') && "
        "!!document.querySelector('#main h1');")


def long_duration(s):
    """delivery.js duration(): days beyond two days (release tasks, deployments)."""
    if s is None:
        return DASH
    if s < 7200:
        return duration(s)
    if s < 172800:
        return "%.1f h" % (s / 3600)
    return "%.1f d" % (s / 86400)


def dora_value(m):
    """delivery.js doraValue(): a DORA metric's value in its unit."""
    if m.get("value") is None:
        return DASH
    unit = (m.get("unit") or "").lower()
    if unit in ("s", "seconds", "second"):
        return long_duration(m["value"])
    if unit in ("ratio", "fraction"):
        return "%.1f%%" % (m["value"] * 100 + 0.0)
    if unit in ("%", "percent"):
        return "%.1f%%" % m["value"]
    value = round_half_up(m["value"] * 100) / 100
    text = ("%d" % value) if value == int(value) else repr(value)
    return text + (" " + unit.replace("_", " ") if unit else "")


def no_page_overflow(drv):
    """The page does not scroll sideways (wide tables scroll in their own box)."""
    width = drv.execute_script("return document.documentElement.clientWidth")
    scroll = drv.execute_script("return document.documentElement.scrollWidth")
    return scroll <= width + 1, scroll, width
