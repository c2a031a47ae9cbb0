"""radar release list|show|create|set, release task set, release tasks stats
against a real radar-api (gunicorn) on SQLite and MariaDB, checked against
the API's own answers. Pages hold 2 releases, so `release list` must follow
the version markers."""

import json

import pytest

from tests.cli.conftest import _make_token, serve
from tests.functional.api.test_server import free_port

PAGE = 2


@pytest.fixture(scope="module")
def live(db_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli-releases")
    port = free_port()
    conf_file = tmp / "radar.conf"
    conf_file.write_text(
        "[DEFAULT]\nstate_path = %s\n\n[database]\nconnection = %s\n\n"
        "[api]\nhost = 127.0.0.1\nport = %d\nworkers = 1\naccess_log = false\n"
        "default_limit = %d\nmax_limit = %d\n" % (tmp / "state", db_url, port, PAGE, PAGE))
    tokens = {"write": _make_token(db_url, ["write"], "release-bot")}
    with serve(conf_file, port, tokens, tmp) as server:
        yield server


def error_line(result, status=1):
    assert result.rc == status, result
    lines = result.err.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.err, result
    return lines[0]


def test_release_commands(live):
    created = live.cli("release", "create", "4.19.1", "--flow-type", "z-stream",
                       "--target-date", "2026-12-01", "--advisory",
                       "RHSA-2026:1=https://errata.example.org/1", "--build", "x86_64=b1",
                       "--build", "aarch64=b2", "-f", "json", token="write")
    assert created.rc == 0, created
    shown = json.loads(created.out)
    api = live.get("/v1/releases/4.19.1")
    assert shown["version"] == "4.19.1" and shown["product"] == "4.19"
    assert shown["builds"] == api["builds"] == {"x86_64": "b1", "aarch64": "b2"}
    assert api["advisories"] == [{"id": "RHSA-2026:1", "url": "https://errata.example.org/1",
                                  "state": None}]
    assert shown["tasks"] == api["tasks"] and len(api["tasks"]) == 9
    assert "already exists" in error_line(live.cli("release", "create", "4.19.1",
                                                   token="write"))
    for version in ("4.19.2", "4.20.1"):
        assert live.cli("release", "create", version, token="write").rc == 0

    # Tasks: two hours in progress, then PASS; PASS is final.
    assert live.cli("release", "task", "set", "4.19.1", "stage-testing", "in_progress",
                    "--at", "2h", token="write").rc == 0
    moved = live.cli("release", "task", "set", "4.19.1", "stage-testing", "pass", "--url",
                     "https://ci.example.org/1", "--message", "all green", "-f", "json",
                     token="write")
    assert moved.rc == 0, moved
    task = json.loads(moved.out)
    assert (task["version"], task["name"], task["status"], task["url"], task["message"]) == (
        "4.19.1", "stage-testing", "PASS", "https://ci.example.org/1", "all green")
    assert 7200 <= task["duration_s"] < 7200 + 60
    assert task == dict(live.get("/v1/releases/4.19.1")["tasks"][6], version="4.19.1")
    line = error_line(live.cli("release", "task", "set", "4.19.1", "stage-testing", "fail",
                               token="write"))
    assert "PASS is final" in line and "HTTP 409" in line
    assert "HTTP 404" in error_line(live.cli("release", "task", "set", "4.19.1", "nope",
                                             "pass", token="write"))
    error_line(live.cli("release", "task", "set", "4.19.1", "stage-testing", "done",
                        token="write"), status=2)
    assert "needs an API token" in error_line(live.cli("release", "task", "set", "4.19.1",
                                                       "take-ownership", "pass"))
    assert live.cli("release", "task", "set", "4.20.1", "take-ownership", "FAIL",
                    token="write").rc == 0

    # Lists follow the markers (pages of 2).
    listed = live.cli("release", "list", "-f", "json")
    assert listed.rc == 0, listed
    rows = json.loads(listed.out)
    api_rows = live.get_all("/v1/releases", key="version")
    assert [r["version"] for r in rows] == [r["version"] for r in api_rows] == [
        "4.20.1", "4.19.2", "4.19.1"]
    assert rows[2]["passed"] == 1 and rows[2]["tasks"] == 9
    assert rows[2]["current_task"] == "take-ownership NOT_STARTED"
    assert (rows[0]["status"], rows[0]["current_task"]) == ("RED", "take-ownership FAIL")
    red = json.loads(live.cli("release", "list", "--status", "red", "-f", "json").out)
    assert [r["version"] for r in red] == ["4.20.1"]
    only = json.loads(live.cli("release", "list", "--product", "4.19", "--limit", "1",
                               "-f", "json").out)
    assert [r["version"] for r in only] == ["4.19.2"]
    table = live.cli("release", "list")
    assert table.rc == 0 and "4.19.1" in table.out and "take-ownership FAIL" in table.out

    # Shipping keeps the rest of the shipment.
    assert live.cli("release", "set", "4.19.1", "--shipment-url", "https://ship/1",
                    token="write").rc == 0
    assert live.proc("release", "set", "4.19.1", "--shipped", "--shipment-state", "done",
                     token="write").rc == 0
    api = live.get("/v1/releases/4.19.1")
    assert api["shipment"] == {"url": "https://ship/1", "state": "done", "shipped": True}
    assert api["shipped"] is True
    assert "nothing to change" in error_line(live.cli("release", "set", "4.19.1",
                                                      token="write"))

    one = json.loads(live.cli("release", "show", "4.19.1", "-f", "json").out)
    assert one["history"] == api["history"] and len(api["history"]) == 2
    assert one["shipped_at"] == api["shipped_at"]
    table = live.cli("release", "show", "4.19.1")
    assert table.rc == 0
    assert "stage-testing: PASS" in table.out and "IN_PROGRESS -> PASS by release-bot" \
        in table.out
    assert "HTTP 404" in error_line(live.cli("release", "show", "9.9.9"))

    stats = live.cli("release", "tasks", "stats", "-f", "json")
    assert stats.rc == 0, stats
    assert json.loads(stats.out) == live.get("/v1/releases/tasks/stats")
    by_task = {s["task"]: s for s in json.loads(stats.out)}
    assert by_task["stage-testing"]["finished"] == 1
    assert by_task["take-ownership"]["failures"] == 1
    product = json.loads(live.cli("release", "tasks", "stats", "--product", "4.20",
                                  "-f", "json").out)
    assert {s["releases"] for s in product} == {1}
