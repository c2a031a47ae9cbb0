"""/v1/releases through the API on SQLite and MariaDB: hand-worked task
statistics, transitions and their history, the bad-input matrix (nothing
stored half-way), and the heatmap list (500 releases x 9 tasks) in a
fixed number of queries."""

import datetime as dt
import time

import pytest
import sqlalchemy as sa

from radar.common import timeutils
from radar.conf import releases as releases_conf
from radar.db import api as db_api
from radar.db import engine as db_engine
from radar.db import models
from tests.functional.api.test_basics import assert_envelope

UTC = dt.UTC
WORKFLOW = releases_conf.DEFAULT_WORKFLOW
# Task times lie in the past: the API refuses times in the future.
T0 = (timeutils.utcnow() - dt.timedelta(days=3)).replace(microsecond=0)
M = dt.timedelta(minutes=1)


def iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def h(make_token):
    return {"Authorization": "Bearer %s" % make_token("write", name="pipeline")}


def put_task(app, h, version, task, status, at=None, **extra):
    body = dict(extra, status=status)
    if at is not None:
        body["at"] = iso(at)
    return app.put_json("/v1/releases/%s/tasks/%s" % (version, task), body, headers=h)


def counts(engine):
    with engine.connect() as conn:
        return tuple(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                     for t in (models.Release.__table__, models.ReleaseTask.__table__,
                               models.ReleaseTaskEvent.__table__))


def test_task_stats_hand_worked(app, h):
    st = "stage-testing"
    for version in ("4.19.1", "4.19.2", "4.19.3", "4.20.1", "4.20.2"):
        assert app.put_json("/v1/releases/" + version, {}, headers=h).status_int == 201
    # 4.19.1: 10 min, passed.
    put_task(app, h, "4.19.1", st, "IN_PROGRESS", T0)
    put_task(app, h, "4.19.1", st, "PASS", T0 + 10 * M)
    # 4.19.2: failed at 5 min, retried, passed at 30 min (the first start counts).
    put_task(app, h, "4.19.2", st, "IN_PROGRESS", T0)
    put_task(app, h, "4.19.2", st, "FAIL", T0 + 5 * M)
    put_task(app, h, "4.19.2", st, "IN_PROGRESS", T0 + 6 * M)
    put_task(app, h, "4.19.2", st, "PASS", T0 + 30 * M)
    # 4.19.3: failed after 20 min.
    put_task(app, h, "4.19.3", st, "IN_PROGRESS", T0)
    put_task(app, h, "4.19.3", st, "FAIL", T0 + 20 * M)
    # 4.20.1: still running. 4.20.2: passed with no recorded start.
    put_task(app, h, "4.20.1", st, "IN_PROGRESS", T0)
    put_task(app, h, "4.20.2", st, "PASS", T0)
    put_task(app, h, "4.20.2", "take-ownership", "IN_PROGRESS", T0)
    put_task(app, h, "4.20.2", "take-ownership", "PASS", T0 + 90 * M)

    stats = app.get("/v1/releases/tasks/stats").json
    assert [s["task"] for s in stats] == WORKFLOW
    assert [s["position"] for s in stats] == list(range(9))
    by_task = {s["task"]: s for s in stats}
    # Durations 600, 1200, 1800 s: median 1200; p90 at rank 0.9 * 2 = 1.8,
    # 1200 + 0.8 * 600 = 1680. Failures: 4.19.2 and 4.19.3 of the 4 that
    # came to an outcome (4.20.1 has not).
    assert by_task[st] == {"task": st, "position": 6, "releases": 5, "finished": 4,
                           "median_duration_s": 1200.0, "p90_duration_s": 1680.0,
                           "failures": 2, "failure_rate": 0.5}
    assert by_task["take-ownership"] == {
        "task": "take-ownership", "position": 0, "releases": 5, "finished": 1,
        "median_duration_s": 5400.0, "p90_duration_s": 5400.0, "failures": 0,
        "failure_rate": 0.0}
    assert by_task["image-signed-check"]["failure_rate"] is None
    assert by_task["image-signed-check"]["median_duration_s"] is None

    one = {s["task"]: s for s in app.get("/v1/releases/tasks/stats",
                                         {"product": "4.19"}).json}[st]
    assert (one["releases"], one["finished"], one["failures"]) == (3, 3, 2)
    assert one["failure_rate"] == pytest.approx(2 / 3)
    assert (one["median_duration_s"], one["p90_duration_s"]) == (1200.0, 1680.0)
    # Windows on the releases' creation time.
    assert app.get("/v1/releases/tasks/stats", {"until": iso(T0)}).json == []
    created = app.get("/v1/releases/4.19.1").json["created_at"]
    assert app.get("/v1/releases/tasks/stats", {"since": created})
    resp = app.get("/v1/releases/tasks/stats", {"since": iso(T0), "until": iso(T0)},
                   expect_errors=True)
    assert "until" in assert_envelope(resp, 400)


def test_transitions_history_and_release_state(app, h, engine):
    resp = app.put_json("/v1/releases/4.19.1", {
        "flow_type": "z-stream", "target_date": "2026-12-01",
        "jira_url": "https://issues.example.org/browse/REL-1",
        "advisories": [{"id": "RHSA-2026:1", "url": "https://errata.example.org/1",
                        "state": "QE"}],
        "builds": {"x86_64": "4.19.1-x86_64", "aarch64": "4.19.1-aarch64"},
        "shipment": {"url": "https://ship.example.org/1", "state": "open", "shipped": False},
    }, headers=h)
    assert resp.status_int == 201
    assert resp.headers["Location"].endswith("/v1/releases/4.19.1")
    rel = resp.json
    assert (rel["product"], rel["status"], rel["done"], rel["shipped"]) == (
        "4.19", "GREEN", False, False)
    assert [t["name"] for t in rel["tasks"]] == WORKFLOW
    assert {t["status"] for t in rel["tasks"]} == {"NOT_STARTED"}
    assert rel["history"] == [] and rel["shipped_at"] is None

    st = "stage-testing"
    put_task(app, h, "4.19.1", st, "IN_PROGRESS", T0)
    before = counts(engine)
    # The same status again: nothing changes, no event.
    again = put_task(app, h, "4.19.1", st, "IN_PROGRESS", T0 + M).json
    assert counts(engine) == before
    assert again["tasks"][6]["started_at"] == T0.isoformat()
    failed = put_task(app, h, "4.19.1", st, "fail", T0 + 5 * M,
                      url="https://ci.example.org/1", message="3 tests failed").json
    assert failed["status"] == "RED"
    task = failed["tasks"][6]
    assert (task["status"], task["duration_s"], task["url"], task["message"]) == (
        "FAIL", 300.0, "https://ci.example.org/1", "3 tests failed")
    # Back to NOT_STARTED resets the times; then it runs again and passes.
    reset = put_task(app, h, "4.19.1", st, "NOT_STARTED", T0 + 6 * M).json
    assert reset["status"] == "GREEN"
    assert reset["tasks"][6]["started_at"] is None and reset["tasks"][6]["finished_at"] is None
    put_task(app, h, "4.19.1", st, "IN_PROGRESS", T0 + 7 * M)
    passed = put_task(app, h, "4.19.1", st, "PASS", T0 + 9 * M).json
    assert passed["tasks"][6]["duration_s"] == 120.0
    assert [(e["from_status"], e["status"], e["actor"]) for e in passed["history"]] == [
        ("NOT_STARTED", "IN_PROGRESS", "pipeline"), ("IN_PROGRESS", "FAIL", "pipeline"),
        ("FAIL", "NOT_STARTED", "pipeline"), ("NOT_STARTED", "IN_PROGRESS", "pipeline"),
        ("IN_PROGRESS", "PASS", "pipeline")]
    assert passed["history"][1]["message"] == "3 tests failed"
    assert passed["history"][1]["at"] == (T0 + 5 * M).isoformat()

    # PASS is final: 409 and nothing stored.
    before = counts(engine)
    for status in ("FAIL", "IN_PROGRESS", "NOT_STARTED"):
        resp = app.put_json("/v1/releases/4.19.1/tasks/" + st, {"status": status},
                            headers=h, expect_errors=True)
        assert "PASS is final" in assert_envelope(resp, 409)
    assert counts(engine) == before
    assert put_task(app, h, "4.19.1", st, "PASS").status_int == 200

    # Every task passed: done. Shipping sets shipped_at once.
    for name in WORKFLOW:
        last = put_task(app, h, "4.19.1", name, "PASS", T0 + 20 * M).json
    assert (last["done"], last["status"]) == (True, "GREEN")
    shipped = app.put_json("/v1/releases/4.19.1", {"shipment": {"shipped": True,
                                                                "state": "shipped"}},
                           headers=h)
    assert shipped.status_int == 200
    first = shipped.json["shipped_at"]
    assert shipped.json["shipped"] is True and first is not None
    again = app.put_json("/v1/releases/4.19.1", {"shipment": {"shipped": True},
                                                 "product": "ocp-4.19"}, headers=h).json
    assert again["shipped_at"] == first and again["product"] == "ocp-4.19"
    # An update keeps the tasks and the fields not given.
    assert again["builds"] == {"x86_64": "4.19.1-x86_64", "aarch64": "4.19.1-aarch64"}
    assert again["target_date"] == "2026-12-01" and len(again["tasks"]) == 9

    # The list and its filters.
    app.put_json("/v1/releases/4.20.1", {}, headers=h)
    app.put_json("/v1/releases/4.20.2", {}, headers=h)
    put_task(app, h, "4.20.2", "take-ownership", "FAIL")
    listed = app.get("/v1/releases")
    assert listed.headers["X-Total-Count"] == "3"
    assert [r["version"] for r in listed.json] == ["4.20.2", "4.20.1", "4.19.1"]
    assert "history" not in listed.json[0] and len(listed.json[0]["tasks"]) == 9
    q = {"product": "4.20", "status": "red"}
    assert [r["version"] for r in app.get("/v1/releases", q).json] == ["4.20.2"]
    assert [r["version"] for r in app.get("/v1/releases", {"done": "true"}).json] == ["4.19.1"]
    assert [r["version"] for r in app.get("/v1/releases", {"done": "false"}).json] == [
        "4.20.2", "4.20.1"]
    page = app.get("/v1/releases", {"limit": "1", "marker": "4.20.2"})
    assert [r["version"] for r in page.json] == ["4.20.1"]
    assert page.headers["X-Total-Count"] == "3"
    future = iso(timeutils.utcnow() + dt.timedelta(hours=1))
    assert app.get("/v1/releases", {"since": future}).json == []
    for params, name in (({"marker": "9.9.9"}, "marker"), ({"status": "BLUE"}, "status"),
                         ({"done": "maybe"}, "done"), ({"since": "yesterday"}, "since"),
                         ({"limit": "x"}, "limit"), ({"bogus": "1"}, "bogus")):
        assert name in assert_envelope(app.get("/v1/releases", params, expect_errors=True),
                                       400)
    assert_envelope(app.get("/v1/releases/9.9.9", expect_errors=True), 404)


BAD_TASK_BODIES = [
    ({}, "status"),
    ({"status": "DONE"}, "status"),
    ({"status": 5}, "status"),
    ({"status": None}, "status"),
    ({"status": "PASS", "at": "yesterday"}, "at"),
    ({"status": "PASS", "at": 1700000000}, "at"),
    ({"status": "PASS", "at": "2999-01-01T00:00:00Z"}, "at"),
    ({"status": "PASS", "at": "2300-01-01"}, "at"),
    ({"status": "PASS", "url": "ftp://x"}, "url"),
    ({"status": "PASS", "url": ["https://x"]}, "url"),
    ({"status": "PASS", "url": "https://x/" + "a" * 1100}, "url"),
    ({"status": "PASS", "message": "m" * 2049}, "message"),
    ({"status": "PASS", "message": {"a": 1}}, "message"),
    ({"status": "PASS", "message": "bell\x07"}, "message"),
    ({"status": "PASS", "actor": "me"}, "actor"),
]
BAD_RELEASE_BODIES = [
    ({"product": 419}, "product"),
    ({"product": "p" * 65}, "product"),
    ({"product": "a b"}, "product"),
    ({"flow_type": "f" * 33}, "flow_type"),
    ({"target_date": "2026-02-30"}, "target_date"),
    ({"target_date": "tomorrow"}, "target_date"),
    ({"target_date": 20261201}, "target_date"),
    ({"jira_url": "javascript:alert(1)"}, "jira_url"),
    ({"advisories": {"id": "A"}}, "advisories"),
    ({"advisories": [1]}, "advisories[0]"),
    ({"advisories": [{"url": "https://x"}]}, "advisories[0].id"),
    ({"advisories": [{"id": "A", "extra": 1}]}, "advisories[0]"),
    ({"advisories": [{"id": "A"}] * 101}, "advisories"),
    ({"builds": ["x86_64"]}, "builds"),
    ({"builds": {"x86_64": 1}}, "builds.x86_64"),
    ({"builds": {"x86_64": "b" * 256}}, "builds.x86_64"),
    ({"shipment": 5}, "shipment"),
    ({"shipment": {"shipped": "yes"}}, "shipment.shipped"),
    ({"shipment": {"shipped": 1}}, "shipment.shipped"),
    ({"status": "RED"}, "status"),
]


def test_bad_input_stores_nothing(app, h, make_token, engine):
    assert app.put_json("/v1/releases/4.19.1", {}, headers=h).status_int == 201
    before = counts(engine)
    # Tokens: none, unknown, and one without the write scope.
    resp = app.put_json("/v1/releases/4.19.9", {}, expect_errors=True)
    assert_envelope(resp, 401)
    resp = app.put_json("/v1/releases/4.19.1/tasks/stage-testing", {"status": "PASS"},
                        headers={"Authorization": "Bearer radar_nope"}, expect_errors=True)
    assert_envelope(resp, 401)
    with db_engine.make_sessionmaker(engine)() as session:
        db_api.token_create(session, "reader", "0" * 64, [])
        session.commit()
    with engine.begin() as conn:
        from radar.api import auth
        token = auth.generate()
        conn.execute(models.ApiToken.__table__.update()
                     .where(models.ApiToken.__table__.c.name == "reader")
                     .values(token_hash=auth.hash_token(token)))
    resp = app.put_json("/v1/releases/4.19.9", {},
                        headers={"Authorization": "Bearer " + token}, expect_errors=True)
    assert_envelope(resp, 403)

    for body, name in BAD_TASK_BODIES:
        resp = app.put_json("/v1/releases/4.19.1/tasks/stage-testing", body, headers=h,
                            expect_errors=True)
        assert name in assert_envelope(resp, 400), body
    for body, name in BAD_RELEASE_BODIES:
        for version in ("4.19.1", "4.19.9"):
            resp = app.put_json("/v1/releases/" + version, body, headers=h,
                                expect_errors=True)
            assert name in assert_envelope(resp, 400), body
    # Unknown release or task; bad names in the path.
    resp = app.put_json("/v1/releases/4.19.9/tasks/stage-testing", {"status": "PASS"},
                        headers=h, expect_errors=True)
    assert "4.19.9" in assert_envelope(resp, 404)
    resp = app.put_json("/v1/releases/4.19.1/tasks/deploy-to-mars", {"status": "PASS"},
                        headers=h, expect_errors=True)
    assert "deploy-to-mars" in assert_envelope(resp, 404)
    for path in ("/v1/releases/4.19.1/tasks/Stage%20Testing", "/v1/releases/-4.19",
                 "/v1/releases/" + "9" * 65, "/v1/releases/4.19%0A1"):
        resp = app.put_json(path, {"status": "PASS"} if "tasks" in path else {}, headers=h,
                            expect_errors=True)
        assert_envelope(resp, 400)
    # Bodies that are not a JSON object.
    for raw, ctype, code in (("[1]", "application/json", 400), ("{", "application/json", 400),
                             ("status=PASS", "text/plain", 415)):
        resp = app.put("/v1/releases/4.19.1/tasks/stage-testing", raw,
                       headers=dict(h, **{"Content-Type": ctype}), expect_errors=True)
        assert_envelope(resp, code)
    # A finish before the task's start.
    put_task(app, h, "4.19.1", "take-ownership", "IN_PROGRESS", T0)
    mid = counts(engine)
    resp = app.put_json("/v1/releases/4.19.1/tasks/take-ownership",
                        {"status": "PASS", "at": iso(T0 - M)}, headers=h, expect_errors=True)
    assert "before the task started" in assert_envelope(resp, 400)
    assert counts(engine) == mid
    assert mid == (before[0], before[1], before[2] + 1)
    assert_envelope(app.get("/v1/releases/4.19.9", expect_errors=True), 404)
    assert app.get("/v1/releases/4.19.1").json["status"] == "GREEN"


def test_heatmap_list_500_releases_in_two_queries(app, engine):
    now = timeutils.utcnow()
    t_rel, t_task = models.Release.__table__, models.ReleaseTask.__table__
    with engine.begin() as conn:
        conn.execute(t_rel.insert(), [
            {"id": i + 1, "product": "4.%d" % (i // 50), "version": "4.%d.%d" % (i // 50, i),
             "status": "RED" if i % 7 == 0 else "GREEN", "done": False,
             "created_at": now - dt.timedelta(minutes=i), "updated_at": now}
            for i in range(500)])
        conn.execute(t_task.insert(), [
            {"release_id": i + 1, "name": name, "position": p,
             "status": "FAIL" if i % 7 == 0 and p == 3 else "PASS" if p < 3 else "NOT_STARTED",
             "updated_at": now}
            for i in range(500) for p, name in enumerate(WORKFLOW)])
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        resp = app.get("/v1/releases", {"limit": "1000"})
        elapsed = time.perf_counter() - started
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    items = resp.json
    assert len(items) == 500 and resp.headers["X-Total-Count"] == "500"
    assert [r["version"] for r in items[:2]] == ["4.0.0", "4.0.1"]
    assert all(len(r["tasks"]) == 9 for r in items)
    assert items[7]["status"] == "RED" and items[7]["tasks"][3]["status"] == "FAIL"
    # The count, the page of releases, their tasks.
    release_reads = [s for s in statements if "release" in s]
    assert len(release_reads) == 3, statements
    print("GET /v1/releases 500x9: %.3f s, %d statements" % (elapsed, len(statements)))


def test_responses_match_the_openapi_document(app, h):
    from tests.functional.api.test_openapi import check

    doc = app.get("/v1/openapi.json").json
    t = "/v1/releases/{version}/tasks/{task}"
    created = app.put_json("/v1/releases/4.19.1", {"advisories": [{"id": "A"}],
                                                   "shipment": {"shipped": True}}, headers=h)
    check(created, doc, "/v1/releases/{version}", "put")
    for resp in (app.put_json("/v1/releases/4.19.1", {"flow_type": "y"}, headers=h),
                 app.put_json("/v1/releases/4.19.1", {"builds": 1}, headers=h,
                              expect_errors=True),
                 app.put_json("/v1/releases/4.19.1", {}, expect_errors=True)):
        check(resp, doc, "/v1/releases/{version}", "put")
    for body in ({"status": "FAIL", "url": "https://x/1", "message": "m"}, {"status": "PASS"},
                 {"status": "FAIL"}, {"status": "maybe"}):
        check(app.put_json("/v1/releases/4.19.1/tasks/stage-testing", body, headers=h,
                           expect_errors=True), doc, t, "put")
    check(app.put_json("/v1/releases/4.19.1/tasks/nope", {"status": "PASS"}, headers=h,
                       expect_errors=True), doc, t, "put")
    for path, template, params in (
            ("/v1/releases", "/v1/releases", {}),
            ("/v1/releases", "/v1/releases", {"done": "x"}),
            ("/v1/releases/4.19.1", "/v1/releases/{version}", {}),
            ("/v1/releases/4.19.2", "/v1/releases/{version}", {}),
            ("/v1/releases/tasks/stats", "/v1/releases/tasks/stats", {}),
            ("/v1/releases/tasks/stats", "/v1/releases/tasks/stats", {"since": "x"})):
        check(app.get(path, params=params, expect_errors=True), doc, template)
    metrics = app.get("/metrics").text
    assert 'radar_release_task_status{release="4.19.1",status="PASS",task="stage-testing"} ' \
           '1.0' in metrics
    assert 'radar_release_task_status{release="4.19.1",status="FAIL",task="stage-testing"} ' \
           '0.0' in metrics
    assert 'radar_releases{done="false",status="GREEN"} 1.0' in metrics
