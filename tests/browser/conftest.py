"""Headless Chromium (Debian's chromium + chromium-driver, Selenium) on the web client.

One live `radar-api` (gunicorn) per test module on a loopback port, over a
real SQLite database filled the way an operator fills it (`radar-daemon
import` of the recorded Gerrit data). Screenshots of every page go to
tests/output/screenshots/ (not committed).
"""

import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time

import pytest
import requests

from radar.db import migration
from radar_daemon import cmd as daemon_cmd
from tests.cli.conftest import DRIVERLOG, ELASTIC, PERCEVAL, _stop, clean_env
from tests.functional.api.test_server import free_port, radar_api_bin

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
SCREENSHOTS = pathlib.Path(__file__).resolve().parents[1] / "output" / "screenshots"
# The recorded OpenStack data has its reports in May 2014.
WINDOW = {"since": "2014-05-01", "until": "2014-05-15"}
ALL_TIME = {"since": "2013-06-01", "until": "2019-01-01"}


def start_api(conf_file, log_path, timeout=60):
    log = open(log_path, "wb")
    env = clean_env()
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([radar_api_bin(), "--config-file", str(conf_file)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    return proc, log


def wait_up(url, proc, log_path, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(url + "/", timeout=2)
            return
        except (requests.ConnectionError, requests.Timeout):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("radar-api did not start:\n%s" % log_path.read_text())
            time.sleep(0.2)


class Live:
    def __init__(self, url, conf_file, db_url, tmp):
        self.url, self.conf_file, self.db_url, self.tmp = url, conf_file, db_url, tmp
        self.http = requests.Session()

    def get(self, path, params=None):
        resp = self.http.get(self.url + "/v1/" + path, params=params, timeout=30)
        assert resp.status_code == 200, resp.text
        return resp.json()


@pytest.fixture(scope="module")
def live(tmp_path_factory, shared_data):
    tmp = tmp_path_factory.mktemp("browser")
    db_url = "sqlite:///%s" % (tmp / "radar.sqlite")
    migration.upgrade(db_url)
    port = free_port()
    conf_file = tmp / "radar.conf"
    conf_file.write_text(
        "[DEFAULT]\nstate_path = %s\n\n[database]\nconnection = %s\n\n"
        "[ci]\nreference_systems = Jenkins\n\n"
        "[gerrit]\nsources = openstack, wikimedia\n\n"
        "[gerrit:openstack]\ntype = files\npaths = %s, %s\n\n"
        "[gerrit:wikimedia]\ntype = files\npaths = %s\n\n"
        "[api]\nhost = 127.0.0.1\nport = %d\nworkers = 2\naccess_log = false\n"
        % (tmp / "state", db_url, shared_data / DRIVERLOG, shared_data / ELASTIC,
           shared_data / PERCEVAL, port))
    assert daemon_cmd.main(["--config-file", str(conf_file), "import", "--source", "openstack",
                            str(shared_data / DRIVERLOG), str(shared_data / ELASTIC)]) == 0
    assert daemon_cmd.main(["--config-file", str(conf_file), "import", "--source", "wikimedia",
                            str(shared_data / PERCEVAL)]) == 0
    url = "http://127.0.0.1:%d" % port
    proc, log = start_api(conf_file, tmp / "radar-api.log")
    server = Live(url, conf_file, db_url, tmp)
    try:
        wait_up(url, proc, tmp / "radar-api.log")
        yield server
    finally:
        server.http.close()
        _stop(proc)
        log.close()


@pytest.fixture(scope="module")
def driver():
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("Chromium is missing: apt-get install chromium chromium-driver "
                    "(.ci/run does this)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="radar-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1280,900",
                "--user-data-dir=%s" % profile):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    drv.set_page_load_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(drv):
    """The browser console's errors since the last call (SEVERE entries)."""
    return [e for e in drv.get_log("browser") if e["level"] == "SEVERE"]


def screenshot(drv, name, width=None):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    if width:
        size = drv.get_window_size()
        drv.set_window_size(width, 900)
    height = drv.execute_script("return document.documentElement.scrollHeight")
    drv.set_window_size(width or drv.get_window_size()["width"], max(600, min(height + 120, 4000)))
    drv.save_screenshot(str(SCREENSHOTS / ("%s.png" % name)))
    if width:
        drv.set_window_size(size["width"], size["height"])
    else:
        drv.set_window_size(1280, 900)


def dump(obj):
    return json.dumps(obj, indent=1)[:3000]
