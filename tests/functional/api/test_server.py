"""The real `radar-api` process (gunicorn, 2 workers) over HTTP with requests."""

import os
import pathlib
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.functional.api.conftest import basic_scenario


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def radar_api_bin():
    path = pathlib.Path(sys.executable).parent / "radar-api"
    assert path.exists(), "radar-api is not installed (pip install -e .)"
    return str(path)


@pytest.fixture
def server(tmp_path, db_url, api_conf, engine, make_token):
    basic_scenario(api_conf, engine)
    token = make_token("write")
    port = free_port()
    conf_file = tmp_path / "radar.conf"
    conf_file.write_text(
        "[DEFAULT]\nstate_path = %s\n\n[database]\nconnection = %s\n\n"
        "[ci]\naccounts = Zuul=zuul,Acme CI=acme-ci\nreference_systems = Zuul\n\n"
        "[api]\nhost = 127.0.0.1\nport = %d\nworkers = 2\n"
        % (tmp_path / "state", db_url, port))
    log = open(tmp_path / "radar-api.log", "wb")
    env = dict(os.environ)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([radar_api_bin(), "--config-file", str(conf_file)],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    base = "http://127.0.0.1:%d" % port
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(base + "/", timeout=2)
                break
            except (requests.ConnectionError, requests.Timeout):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("radar-api did not start:\n%s"
                                % (tmp_path / "radar-api.log").read_text())
                time.sleep(0.2)
        yield base, token, tmp_path / "radar-api.log"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def test_real_server(server):
    base, token, log_path = server
    with requests.Session() as http:
        resp = http.get(base + "/", headers={"Accept": "text/html,*/*;q=0.8"}, timeout=10)
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].startswith("application/json")
        assert resp.json()["name"] == "radar"
        assert "gunicorn" in resp.headers.get("Server", "")

        resp = http.get(base + "/v1/nothing", timeout=10)
        assert resp.status_code == 404 and resp.json()["code"] == 404

        resp = http.get(base + "/v1/reports?limit=2", timeout=10)
        assert resp.status_code == 200 and len(resp.json()) == 2
        assert int(resp.headers["X-Total-Count"]) == 5

        resp = http.get(base + "/v1/reports?format=csv", timeout=10)
        assert resp.headers["Content-Type"].startswith("text/csv")

        resp = http.post(base + "/v1/operators", json={"name": "Real Ops"}, timeout=10)
        assert resp.status_code == 401
        resp = http.post(base + "/v1/operators", json={"name": "Real Ops"}, timeout=10,
                         headers={"Authorization": "Bearer " + token})
        assert resp.status_code == 201, resp.text

        # Raw bytes a client library would refuse to send: invalid UTF-8.
        with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1]))) as s:
            s.sendall(b"GET /v1/reports?project=%ff HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            raw = b""
            while chunk := s.recv(65536):
                raw += chunk
        assert raw.startswith(b"HTTP/1.1 400")
        assert b'"faultcode"' in raw

        # Request metrics summed over both workers.
        for _ in range(6):
            http.get(base + "/v1", timeout=10)
        metrics = http.get(base + "/metrics", timeout=10).text
        line = [m for m in metrics.splitlines()
                if m.startswith('radar_api_requests_total{method="GET",route="/v1",'
                                'status="200"}')]
        assert line and float(line[0].split()[-1]) >= 6
        assert 'radar_ci_reports_total{result="SUCCESS",system="zuul"}' in metrics or \
            "radar_ci_reports_total" in metrics

    assert token not in log_path.read_text()
