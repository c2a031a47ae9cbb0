"""/v1/deployments: push, progress, history, lists, waves, bad input, metrics
(SQLite and MariaDB)."""

import datetime as dt

import sqlalchemy as sa

from radar.db import models
from tests.functional.api.test_basics import assert_envelope

UTC = dt.UTC


def bearer(token):
    return {"Authorization": "Bearer %s" % token}


def count_rows(engine):
    with engine.connect() as conn:
        return (conn.execute(sa.select(sa.func.count()).select_from(
                    models.Deployment.__table__)).scalar(),
                conn.execute(sa.select(sa.func.count()).select_from(
                    models.DeploymentEvent.__table__)).scalar())


def test_push_progress_and_history(app, make_token, engine):
    h = bearer(make_token("write"))
    body = {"id": "pipeline-77", "service": "web", "environment": "production",
            "wave": "canary", "version": "2.4.0", "revision": "ABCDEF0123456789",
            "images": {"app": "registry/web:2.4.0"}, "cluster": "east",
            "namespace": "shop", "url": "https://ci.example.org/77",
            "started_at": "2026-01-05T10:00:00Z", "message": "rolling out"}
    resp = app.post_json("/v1/deployments", body, headers=h)
    assert resp.status_int == 201
    item = resp.json
    assert resp.headers["Location"].endswith("/v1/deployments/%d" % item["id"])
    expected = dict(body, id=item["id"], source="api", uid="pipeline-77",
                    revision="abcdef0123456789", result="IN_PROGRESS",
                    started_at="2026-01-05T10:00:00+00:00", finished_at=None, duration_s=None,
                    name=None, replicas=None, updated_replicas=None, ready_replicas=None,
                    available_replicas=None)
    assert {k: v for k, v in item.items() if k != "history"} == expected
    assert [s["result"] for s in item["history"]] == ["IN_PROGRESS"]

    # Progress by the caller's id, then the result; the same values again add nothing.
    step = {"replicas": 4, "updated_replicas": 2, "available_replicas": 1}
    assert app.patch_json("/v1/deployments/pipeline-77", step, headers=h).status_int == 200
    assert app.patch_json("/v1/deployments/pipeline-77", step, headers=h).status_int == 200
    done = app.patch_json("/v1/deployments/%d" % item["id"], {
        "result": "succeeded", "finished_at": "2026-01-05T10:12:30Z", "updated_replicas": 4,
        "available_replicas": 4, "ready_replicas": 4, "message": "done"}, headers=h).json
    assert (done["result"], done["finished_at"], done["duration_s"]) == (
        "SUCCEEDED", "2026-01-05T10:12:30+00:00", 750.0)
    history = app.get("/v1/deployments/pipeline-77").json["history"]
    assert [(s["result"], s["updated_replicas"], s["available_replicas"], s["message"])
            for s in history] == [("IN_PROGRESS", None, None, "rolling out"),
                                  ("IN_PROGRESS", 2, 1, "rolling out"),
                                  ("SUCCEEDED", 4, 4, "done")]
    # SUCCEEDED -> ROLLED_BACK is the one move out of a final result.
    for result in ("FAILED", "IN_PROGRESS", "SUPERSEDED"):
        resp = app.patch_json("/v1/deployments/pipeline-77", {"result": result}, headers=h,
                              expect_errors=True)
        assert "SUCCEEDED" in assert_envelope(resp, 409)
    assert app.patch_json("/v1/deployments/pipeline-77", {"result": "SUCCEEDED"},
                          headers=h).json["result"] == "SUCCEEDED"
    back = app.patch_json("/v1/deployments/pipeline-77", {"result": "ROLLED_BACK"},
                          headers=h).json
    assert back["result"] == "ROLLED_BACK" and back["finished_at"] == done["finished_at"]
    assert [s["result"] for s in back["history"]][-1] == "ROLLED_BACK"
    resp = app.patch_json("/v1/deployments/pipeline-77", {"result": "SUCCEEDED"}, headers=h,
                          expect_errors=True)
    assert_envelope(resp, 409)
    # A final result without a finish time finishes now; no id gives a uuid.
    other = app.post_json("/v1/deployments", {"service": "web", "result": "FAILED"},
                          headers=h).json
    assert len(other["uid"]) == 36 and other["finished_at"] is not None
    assert other["duration_s"] >= 0
    assert count_rows(engine) == (2, 5)


def test_lists_filters_and_pages(app, make_token):
    h = bearer(make_token("write"))
    t0 = dt.datetime(2026, 1, 5, tzinfo=UTC)
    made = []
    for i in range(7):
        body = {"service": "api" if i % 2 else "web", "environment": "production",
                "wave": ("canary", "blue", "green")[i % 3], "version": "v%d" % (i // 3),
                "started_at": (t0 + dt.timedelta(hours=i // 2)).isoformat(),
                "result": "FAILED" if i == 4 else "SUCCEEDED"}
        made.append(app.post_json("/v1/deployments", body, headers=h).json)
    # Newest first by started_at, ties by id.
    newest = sorted(made, key=lambda d: (d["started_at"], d["id"]), reverse=True)
    resp = app.get("/v1/deployments")
    assert resp.headers["X-Total-Count"] == "7"
    assert [d["id"] for d in resp.json] == [d["id"] for d in newest]
    pages, marker = [], None
    while True:
        params = {"limit": 3}
        if marker:
            params["marker"] = marker
        page = app.get("/v1/deployments", params).json
        if not page:
            break
        pages += page
        marker = page[-1]["id"]
    assert [d["id"] for d in pages] == [d["id"] for d in newest]
    for params, want in (({"service": "api"}, [d for d in newest if d["service"] == "api"]),
                         ({"result": "failed"}, [made[4]]),
                         ({"wave": "blue", "version": "v0"}, [made[1]]),
                         ({"since": "2026-01-05T02:00:00Z"}, newest[:3]),
                         ({"until": "2026-01-05T01:00:00Z"}, newest[-2:])):
        resp = app.get("/v1/deployments", params)
        assert [d["id"] for d in resp.json] == [d["id"] for d in want], params
        assert resp.headers["X-Total-Count"] == str(len(want))
    csv = app.get("/v1/deployments", {"format": "csv", "service": "api"}).text.splitlines()
    assert csv[0].startswith("id,source,uid,") and len(csv) == 4
    for params, word in (({"result": "DONE"}, "result"), ({"marker": "x"}, "marker"),
                         ({"marker": made[0]["id"], "service": "api"}, "marker"),
                         ({"since": "2026-02-01", "until": "2026-01-01"}, "until"),
                         ({"limit": "-1"}, "limit"), ({"colour": "red"}, "colour")):
        resp = app.get("/v1/deployments", params, expect_errors=True)
        assert word in assert_envelope(resp, 400), params
    assert "not found" in assert_envelope(app.get("/v1/deployments/999999",
                                                  expect_errors=True), 404)
    assert_envelope(app.get("/v1/deployments/nope", expect_errors=True), 404)


def test_waves(app, make_token):
    h = bearer(make_token("write"))
    t0 = dt.datetime(2026, 1, 5, 9, tzinfo=UTC)

    def push(version, wave, result, minutes, service="web", environment="production"):
        return app.post_json("/v1/deployments", {
            "service": service, "environment": environment, "version": version, "wave": wave,
            "result": result, "started_at": (t0 + dt.timedelta(minutes=minutes)).isoformat(),
        }, headers=h).json

    # 1.0: pushed out of order, with a wave the configuration does not name; a failed
    # canary retried with the same version counts by its last attempt.
    green = push("1.0", "green", "SUCCEEDED", 30)
    push("1.0", "canary", "FAILED", 0)
    canary = push("1.0", "canary", "SUCCEEDED", 10)
    zeta = push("1.0", "zeta", "SUCCEEDED", 40)
    blue = push("1.0", "blue", "SUCCEEDED", 20)
    # 1.1: running; 1.2: rolled back after success; staging apart.
    push("1.1", "canary", "SUCCEEDED", 60)
    push("1.1", "blue", "IN_PROGRESS", 70)
    rolled = push("1.2", "canary", "SUCCEEDED", 90)
    app.patch_json("/v1/deployments/%d" % rolled["id"], {"result": "ROLLED_BACK"}, headers=h)
    push("1.0", "canary", "SUCCEEDED", 5, environment="staging")
    push("9", None, "SUCCEEDED", 5, service="batch")

    window = {"since": "2026-01-05", "until": "2026-01-06"}
    items = app.get("/v1/deployments/waves", dict(window, service="web",
                                                  environment="production")).json
    assert [(i["version"], i["state"]) for i in items] == [
        ("1.2", "FAILED"), ("1.1", "RUNNING"), ("1.0", "DONE")]
    done = items[2]
    assert [(w["wave"], w["deployment_id"], w["result"]) for w in done["waves"]] == [
        ("canary", canary["id"], "SUCCEEDED"), ("blue", blue["id"], "SUCCEEDED"),
        ("green", green["id"], "SUCCEEDED"), ("zeta", zeta["id"], "SUCCEEDED")]
    assert done["started_at"] == "2026-01-05T09:00:00+00:00"
    everything = app.get("/v1/deployments/waves", window)
    assert everything.headers["X-Total-Count"] == "5"
    assert [(i["service"], i["environment"], i["version"]) for i in everything.json][-2:] == [
        ("web", "staging", "1.0"), ("web", "production", "1.0")]
    # Only rollouts with a deployment started in the window; all their waves.
    late = app.get("/v1/deployments/waves", {"since": "2026-01-05T09:35:00Z",
                                              "until": "2026-01-05T09:50:00Z"}).json
    assert [len(i["waves"]) for i in late] == [4]
    resp = app.get("/v1/deployments/waves", {"since": "x"}, expect_errors=True)
    assert "since" in assert_envelope(resp, 400)


def test_bad_input_stores_nothing(app, make_token, engine):
    h = bearer(make_token("write"))
    read_only = bearer(make_token("read"))
    ok = {"service": "web", "started_at": "2026-01-05T10:00:00Z"}
    cases = [
        (dict(ok, result="DONE"), 400, "result"),
        (dict(ok, finished_at="2026-01-05T09:00:00Z", result="SUCCEEDED"), 400, "before"),
        (dict(ok, finished_at="2026-01-05T11:00:00Z"), 400, "IN_PROGRESS"),
        (dict(ok, started_at="last tuesday"), 400, "started_at"),
        (dict(ok, started_at="2026-13-01"), 400, "started_at"),
        ({"environment": "production"}, 400, "service"),
        (dict(ok, service="  "), 400, "service"),
        (dict(ok, service="x" * 256), 400, "service"),
        (dict(ok, environment="e" * 65), 400, "environment"),
        (dict(ok, message="m" * 1025), 400, "message"),
        (dict(ok, revision="not-a-sha"), 400, "revision"),
        (dict(ok, url="javascript:alert(1)"), 400, "url"),
        (dict(ok, images={"app": 3}), 400, "images"),
        (dict(ok, images=["a"]), 400, "images"),
        (dict(ok, id="12345"), 400, "number"),
        (dict(ok, id="a/b"), 400, "id"),
        (dict(ok, service="web\x00"), 400, "control"),
        (dict(ok, replicas=3), 400, "replicas"),
        (dict(ok, colour="red"), 400, "colour"),
    ]
    for body, code, word in cases:
        resp = app.post_json("/v1/deployments", body, headers=h, expect_errors=True)
        assert word in assert_envelope(resp, code), body
    for headers, code in (({}, 401), (bearer("nope"), 401), (read_only, 403)):
        assert_envelope(app.post_json("/v1/deployments", ok, headers=headers,
                                      expect_errors=True), code)
    assert_envelope(app.post_json("/v1/deployments", [ok], headers=h, expect_errors=True), 400)
    assert count_rows(engine) == (0, 0)

    made = app.post_json("/v1/deployments", dict(ok, id="dup"), headers=h).json
    resp = app.post_json("/v1/deployments", dict(ok, id="dup", service="other"), headers=h,
                         expect_errors=True)
    assert "dup" in assert_envelope(resp, 409)
    path = "/v1/deployments/dup"
    for body, code, word in (
            ({"result": "BROKEN"}, 400, "result"),
            ({"result": None}, 400, "result"),
            ({"finished_at": "2026-01-05T12:00:00Z"}, 400, "IN_PROGRESS"),
            ({"result": "FAILED", "finished_at": "2026-01-04T00:00:00Z"}, 400, "before"),
            ({"replicas": -1}, 400, "replicas"),
            ({"replicas": 2 ** 31}, 400, "replicas"),
            ({"available_replicas": None}, 400, "available_replicas"),
            ({"url": "ftp://x"}, 400, "url"),
            ({"service": "other"}, 400, "service"),
            ({"message": "x" * 1025}, 400, "message")):
        resp = app.patch_json(path, body, headers=h, expect_errors=True)
        assert word in assert_envelope(resp, code), body
    assert_envelope(app.patch_json(path, {"result": "FAILED"}, expect_errors=True), 401)
    assert_envelope(app.patch_json("/v1/deployments/nope", {"result": "FAILED"}, headers=h,
                                   expect_errors=True), 404)
    after = app.get(path).json
    assert {k: v for k, v in after.items()} == made
    assert count_rows(engine) == (1, 1)


def test_prometheus_counter(app, make_token):
    h = bearer(make_token("write"))
    now = dt.datetime.now(UTC)
    old = now - dt.timedelta(days=200)
    for service, wave, result, when in (
            ("web", "canary", "SUCCEEDED", now), ("web", "canary", "SUCCEEDED", old),
            ("web", "blue", "FAILED", now), ("web", None, "IN_PROGRESS", now),
            ("gone", "canary", "SUCCEEDED", old)):
        app.post_json("/v1/deployments", {"service": service, "wave": wave, "result": result,
                                          "environment": "production",
                                          "started_at": when.isoformat()}, headers=h)
    app.get("/v1/deployments/nope", expect_errors=True)
    lines = [line for line in app.get("/metrics").text.splitlines()
             if line.startswith("radar_deployments_total")]
    assert sorted(lines) == [
        'radar_deployments_total{environment="production",result="FAILED",service="web",'
        'wave="blue"} 1.0',
        'radar_deployments_total{environment="production",result="SUCCEEDED",service="web",'
        'wave="canary"} 2.0']
    routes = app.get("/metrics").text
    for route in ("/v1/deployments", "/v1/deployments/{id}"):
        assert 'route="%s"' % route in routes
