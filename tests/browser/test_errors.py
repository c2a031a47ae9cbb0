"""A failing API: the page says what happened instead of showing nothing."""

import http.server
import json
import mimetypes
import threading

import pytest
from selenium.webdriver.common.by import By

from radar.api import static
from tests.browser.conftest import WINDOW, screenshot
from tests.browser.helpers import query, wait_for


class BrokenApi(http.server.BaseHTTPRequestHandler):
    """Serves the real page files, and 500 for every API call."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        if path.startswith("/v1"):
            body = json.dumps({"faultcode": "Server", "code": 500, "debuginfo": None,
                               "faultstring": "The server could not complete the request.",
                               "request_id": "req-broken"}).encode()
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
        else:
            if path == "/":
                file, ctype = static.WEBCLIENT_DIR + "/index.html", "text/html"
            else:
                file = static._resolve([p for p in path.split("/")[2:]])
                if file is None:
                    self.send_error(404)
                    return
                ctype = mimetypes.guess_type(file)[0] or "application/octet-stream"
            with open(file, "rb") as f:
                body = f.read()
            self.send_response(200)
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def broken():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), BrokenApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("route, name", [
    ("/", "overview"), ("/system/jenkins", "system"), ("/change/92468", "change"),
    ("/releases", "releases"), ("/release/4.19.1", "release"), ("/deployments", "deployments"),
])
def test_failing_api_shows_error_state(broken, driver, route, name):
    # A new document: a hash change alone would leave the previous page's error on screen.
    driver.get("about:blank")
    driver.get(broken + "/#" + route + query(WINDOW))
    error = wait_for(driver, lambda d: d.find_element(By.CSS_SELECTOR, ".state.error"),
                     what="the error state")
    assert "500" in error.text
    assert "could not complete the request" in error.text
    assert error.get_attribute("role") == "alert"
    assert "Collector status unavailable" in driver.find_element(By.ID, "freshness").text
    assert not driver.find_elements(By.CSS_SELECTOR, ".state.loading")
    screenshot(driver, "error-" + name)

