"""A live radar API for the `radar` command line client.

Per test module and database backend (the shared db_url fixture: SQLite
and MariaDB): the real recorded Gerrit data imported through
`radar-daemon import`, tokens made the way radar-manage makes them, and
the real `radar-api` (gunicorn) serving it on a loopback port. Pages are
kept small ([api] max_limit = 5) so that every list the client prints
has to follow the API's markers.
"""

import contextlib
import io
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from python_radar import shell
from radar.api import auth
from radar.db import api as db_api
from radar.db import engine as db_engine
from radar_daemon import cmd as daemon_cmd
from tests.functional.api.test_server import free_port, radar_api_bin

# Detailed assertion messages in the shared checks too.
pytest.register_assert_rewrite("tests.cli.expect")

DRIVERLOG = "driverlog__sample_review.json"
ELASTIC = "elastic-recheck__gerrit_events.json"
PERCEVAL = "grimoirelab-perceval__gerrit_reviews_page_1"
PAGE = 5

# The recorded data: OpenStack in December 2013 - May 2014, Wikimedia in
# February - March 2018.
MAY_2014 = ("2014-05-01", "2014-05-15")
ALL_TIME = ("2013-06-01", "2019-01-01")

CLIENT_ENV = ("RADAR_URL", "RADAR_TOKEN", "CLIFF_MAX_TERM_WIDTH", "CLIFF_FIT_WIDTH",
              "NO_COLOR")


def radar_bin():
    path = os.path.join(os.path.dirname(sys.executable), "radar")
    assert os.path.exists(path), "the radar console script is not installed (pip install -e .)"
    return path


class Result:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    def __repr__(self):
        return "Result(rc=%r, out=%r, err=%r)" % (self.rc, self.out[:2000], self.err[:2000])


def run_cli(argv):
    """`radar argv` in this process (python_radar.shell.main)."""
    out, err = io.StringIO(), io.StringIO()
    rc = shell.main(list(argv), stdout=out, stderr=err)
    return Result(rc, out.getvalue(), err.getvalue())


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in CLIENT_ENV}
    env.update(extra)
    return env


def run_proc(argv, env=None, timeout=60, **kwargs):
    """The real `radar` console script in a subprocess."""
    proc = subprocess.run([radar_bin()] + list(argv), capture_output=True, text=True,
                          env=env if env is not None else clean_env(), timeout=timeout,
                          stdin=subprocess.DEVNULL, **kwargs)
    return Result(proc.returncode, proc.stdout, proc.stderr)


class Live:
    """The server, its tokens, and the API's own answers (requests)."""

    def __init__(self, url, conf_file, tokens, tmp):
        self.url = url
        self.conf_file = conf_file
        self.tokens = tokens
        self.tmp = tmp
        self.http = requests.Session()

    def close(self):
        self.http.close()

    def get(self, path, params=None, **kwargs):
        resp = self.http.get(self.url + path, params=params, timeout=30, **kwargs)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def get_all(self, path, params=None, key="id"):
        """A whole paginated list, following markers by hand."""
        params = dict(params or {})
        items = []
        while True:
            resp = self.http.get(self.url + path, params=params, timeout=30)
            assert resp.status_code == 200, resp.text
            page = resp.json()
            items.extend(page)
            if len(items) >= int(resp.headers["X-Total-Count"]) or not page:
                return items
            params["marker"] = key(page[-1]) if callable(key) else page[-1][key]

    def cli(self, *argv, token=None):
        prefix = ["--url", self.url]
        if token:
            prefix += ["--token", self.tokens[token]]
        return run_cli(prefix + list(argv))

    def proc(self, *argv, token=None, env=None):
        extra = {"RADAR_URL": self.url}
        if token:
            extra["RADAR_TOKEN"] = self.tokens[token]
        return run_proc(list(argv), env=clean_env(**extra, **(env or {})))


def _make_token(db_url, scopes, name):
    engine = db_engine.create_engine(url=db_url)
    try:
        token = auth.generate()
        with db_engine.make_sessionmaker(engine)() as session:
            db_api.token_create(session, name, auth.hash_token(token), scopes)
            session.commit()
        return token
    finally:
        engine.dispose()


def _stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def serve(conf_file, port, tokens, tmp):
    """The real radar-api (gunicorn) on `port` until the block ends, as a Live."""
    log = open(tmp / "radar-api.log", "wb")
    env = clean_env()
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([radar_api_bin(), "--config-file", str(conf_file)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    url = "http://127.0.0.1:%d" % port
    server = Live(url, conf_file, tokens, tmp)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                server.http.get(url + "/", timeout=2)
                break
            except (requests.ConnectionError, requests.Timeout):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("radar-api did not start:\n%s"
                                % (tmp / "radar-api.log").read_text())
                time.sleep(0.2)
        yield server
    finally:
        server.close()
        _stop(proc)
        log.close()


@pytest.fixture(scope="module")
def live(db_url, tmp_path_factory, shared_data):
    tmp = tmp_path_factory.mktemp("cli")
    port = free_port()
    conf_file = tmp / "radar.conf"
    conf_file.write_text(
        "[DEFAULT]\nstate_path = %s\n\n[database]\nconnection = %s\n\n"
        "[ci]\nreference_systems = Jenkins\n\n"
        "[gerrit]\nsources = openstack, wikimedia\n\n"
        "[gerrit:openstack]\ntype = files\npaths = %s, %s\n\n"
        "[gerrit:wikimedia]\ntype = files\npaths = %s\n\n"
        "[api]\nhost = 127.0.0.1\nport = %d\nworkers = 1\naccess_log = false\n"
        "default_limit = %d\nmax_limit = %d\n"
        % (tmp / "state", db_url, shared_data / DRIVERLOG, shared_data / ELASTIC,
           shared_data / PERCEVAL, port, PAGE, PAGE))
    # The database is filled the way an operator fills it: radar-daemon import.
    assert daemon_cmd.main(["--config-file", str(conf_file), "import", "--source", "openstack",
                            str(shared_data / DRIVERLOG), str(shared_data / ELASTIC)]) == 0
    assert daemon_cmd.main(["--config-file", str(conf_file), "import", "--source", "wikimedia",
                            str(shared_data / PERCEVAL)]) == 0
    tokens = {"admin": _make_token(db_url, ["admin"], "cli-admin"),
              "write": _make_token(db_url, ["write"], "cli-write")}
    with serve(conf_file, port, tokens, tmp) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_client_env(monkeypatch):
    """The developer's RADAR_URL / RADAR_TOKEN must not leak into tests."""
    for name in CLIENT_ENV:
        monkeypatch.delenv(name, raising=False)
