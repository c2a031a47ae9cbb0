"""Events (issue 7): the detector over real ingested data, /v1/events and its Atom feed.

SQLite and MariaDB (db_url). The health scenario is driven by the real
ingest and the real statistics, with the detector's clock moved by hand:
GREEN -> RED -> SILENT -> GREEN gives exactly three events, and running
again, restarting or racing two detectors adds none.
"""

import datetime as dt
import threading
import xml.etree.ElementTree as ET

import feedparser
import pytest
import sqlalchemy as sa
import webtest

from radar.api import app as api_app
from radar.api import openapi
from radar.db import deployments as db_deploy
from radar.db import engine as db_engine
from radar.db import events as db_events
from radar.db import models
from radar_daemon import events as detector_mod
from radar_daemon import service
from tests.functional.api.conftest import ACME, change, ci_message, load
from tests.functional.api.test_openapi import check

UTC = dt.UTC
# The detector is given its clock; data sits well inside the coverage lookback.
B = (dt.datetime.now(UTC) - dt.timedelta(days=5)).replace(minute=0, second=0, microsecond=0)
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def ev_conf(make_conf, db_url):
    # A one-day window, so that old reports leave it as the scenario moves on;
    # a new health is announced at once (test_health_must_hold_* tests the hold).
    return make_conf(**{"database.connection": db_url, "ci.accounts": ["Acme CI=acme-ci"],
                        "api.default_window_days": 1, "api.access_log": False,
                        "notifications.health_hold": 0,
                        "notifications.public_url": "https://radar.example.org/"})


def _acme(numbers, created, result, first=0):
    return [change(n, created=created + (n - first) * 5 * M,
                   messages=[ci_message(result, created + (n - first) * 5 * M + 2 * M, 1,
                                        author=ACME)])
            for n in numbers]


def _events(engine):
    with engine.connect() as conn:
        rows = conn.execute(sa.select(models.Event.__table__)
                            .order_by(models.Event.__table__.c.id)).mappings().all()
    return [dict(r) for r in rows]


def _health_state(engine):
    with engine.connect() as conn:
        states = db_events.watch_state_list(conn, detector_mod.HEALTH_PREFIX)
    return [s["state"] for s in states.values()]


# --- CI health -------------------------------------------------------------------------


def test_health_transitions_once_each(ev_conf, engine):
    det = detector_mod.Detector(ev_conf, engine)
    # Phase 1: five passes -> GREEN, a first observation: recorded, no event.
    load(ev_conf, engine, _acme(range(1, 6), B, "SUCCESS", first=1))
    assert det.run(now=B + 6 * H)["health"] == 0
    assert _events(engine) == [] and _health_state(engine) == ["GREEN"]

    # Phase 2: ten failures -> 5/15 success -> RED.
    load(ev_conf, engine, _acme(range(6, 16), B + 7 * H, "FAILURE", first=6))
    assert det.run(now=B + 12 * H)["health"] == 1
    assert det.run(now=B + 12 * H)["health"] == 0
    assert detector_mod.Detector(ev_conf, engine).run(now=B + 13 * H)["health"] == 0

    # Phase 3: a new patch set nobody reports on, 30 h after the last report -> SILENT.
    load(ev_conf, engine, [change(16, created=B + 30 * H)])
    assert det.run(now=B + 38 * H)["health"] == 1
    assert detector_mod.Detector(ev_conf, engine).run(now=B + 38 * H)["health"] == 0

    # Phase 4: it reports again, on everything -> GREEN: resumed.
    load(ev_conf, engine, [change(16, created=B + 30 * H, messages=[
        ci_message("SUCCESS", B + 40 * H, 1, author=ACME)])]
        + _acme(range(17, 22), B + 40 * H, "SUCCESS", first=17))
    assert det.run(now=B + 46 * H)["health"] == 1
    assert detector_mod.Detector(ev_conf, engine).run(now=B + 47 * H)["health"] == 0

    events = _events(engine)
    assert [(e["type"], e["severity"], e["data"]["from"], e["data"]["to"]) for e in events] == [
        ("system.health_changed", "critical", "GREEN", "RED"),
        ("system.silent", "critical", "RED", "SILENT"),
        ("system.resumed", "info", "SILENT", "GREEN"),
    ]
    assert all(e["system"] == "acme ci" and e["url"] == "#/system/acme%20ci" for e in events)
    assert events[0]["title"].startswith("Acme CI is RED (was GREEN): success rate 33.3%")
    assert events[1]["title"].startswith("Acme CI stopped reporting: no report for 1d 6h")
    assert [e["occurred_at"] for e in events] == [B + 12 * H, B + 38 * H, B + 46 * H]
    assert _health_state(engine) == ["GREEN"]


def test_health_must_hold_before_it_is_announced(ev_conf, engine, monkeypatch):
    ev_conf.set_override("health_hold", 600, group="notifications")
    seen = []

    def summaries(session, conf, window, now=None):
        return [{"id": 7, "name": "acme ci", "display_name": "Acme CI", "enabled": True,
                 "health": seen[-1], "health_reason": "because"}]

    monkeypatch.setattr(detector_mod.stats_systems, "system_summaries", summaries)
    det = detector_mod.Detector(ev_conf, engine)
    stored = []
    # A system on a threshold: RED for 5 minutes and back is no news; RED that
    # lasts 10 minutes is one event, dated when it turned RED.
    for minute, health in ((0, "GREEN"), (5, "RED"), (10, "GREEN"), (15, "RED"),
                           (20, "RED"), (25, "RED"), (30, "RED")):
        seen.append(health)
        stored.append(det.run(now=B + minute * M)["health"])
    assert stored == [0, 0, 0, 0, 0, 1, 0]
    assert detector_mod.Detector(ev_conf, engine).run(now=B + 31 * M)["health"] == 0
    events = _events(engine)
    assert [(e["data"]["from"], e["data"]["to"], e["occurred_at"]) for e in events] == [
        ("GREEN", "RED", B + 15 * M)]
    assert _health_state(engine) == ["RED"]


def _two_phase(ev_conf, engine):
    load(ev_conf, engine, _acme(range(1, 6), B, "SUCCESS", first=1))
    detector_mod.Detector(ev_conf, engine).run(now=B + 6 * H)
    load(ev_conf, engine, _acme(range(6, 16), B + 7 * H, "FAILURE", first=6))


def test_two_detectors_racing_store_the_change_once(ev_conf, engine, db_url):
    _two_phase(ev_conf, engine)
    engines = [db_engine.create_engine(url=db_url) for _ in range(2)]
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run(eng):
        try:
            det = detector_mod.Detector(ev_conf, eng)
            barrier.wait()
            results.append(det.detect_health(B + 12 * H))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for e in engines:
        e.dispose()
    assert errors == []
    assert sorted(results) == [0, 1]
    assert [e["type"] for e in _events(engine)] == ["system.health_changed"]
    assert _health_state(engine) == ["RED"]


def test_event_and_state_commit_together(ev_conf, engine, monkeypatch):
    _two_phase(ev_conf, engine)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(db_events, "event_create", broken)
    outcome = detector_mod.Detector(ev_conf, engine).run(now=B + 12 * H)
    # The failing part is logged, the others still ran; nothing half-stored.
    assert outcome["health"] is None and outcome["deployments"] == 0
    assert _health_state(engine) == ["GREEN"] and _events(engine) == []
    monkeypatch.undo()
    assert detector_mod.Detector(ev_conf, engine).run(now=B + 12 * H)["health"] == 1
    assert _health_state(engine) == ["RED"]


def test_collector_runs_the_detector_and_survives_its_errors(ev_conf, engine, monkeypatch):
    collector = service.Collector(ev_conf, engine, sources=[])
    calls = []
    monkeypatch.setattr(collector.detector, "run", lambda: calls.append(1) or {})
    assert collector.run_once() == {} and calls == [1]

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setattr(collector.detector, "run", broken)
    assert collector.run_once() == {}


# --- releases and deployments -----------------------------------------------------------


def _release(conn, version, tasks, at):
    t_rel, t_task = models.Release.__table__, models.ReleaseTask.__table__
    rid = conn.execute(t_rel.insert().values(
        product=".".join(version.split(".")[:2]), version=version, status="GREEN", done=False,
        created_at=at, updated_at=at)).inserted_primary_key[0]
    ids = {}
    for pos, name in enumerate(tasks, 1):
        ids[name] = conn.execute(t_task.insert().values(
            release_id=rid, name=name, position=pos, status="NOT_STARTED",
            updated_at=at)).inserted_primary_key[0]
    return rid, ids


def _move(conn, task_id, old, new, at, message=None):
    conn.execute(models.ReleaseTaskEvent.__table__.insert().values(
        task_id=task_id, from_status=old, status=new, at=at, message=message,
        actor="pipeline"))
    conn.execute(models.ReleaseTask.__table__.update()
                 .where(models.ReleaseTask.__table__.c.id == task_id).values(status=new))


def test_release_and_deployment_events(ev_conf, engine):
    now = dt.datetime.now(UTC)
    with engine.begin() as conn:
        # History from before the detector's first run makes no events.
        _rid, old = _release(conn, "4.18.0", ["build"], now - 10 * H)
        _move(conn, old["build"], "NOT_STARTED", "FAIL", now - 9 * H)
        db_deploy.deployment_record(conn, "api", "old", {"service": "web",
                                                         "result": "FAILED"}, at=now - 9 * H)
    det = detector_mod.Detector(ev_conf, engine)
    assert det.run(now=now) == {"health": 0, "release_tasks": 0, "releases_shipped": 0,
                                "deployments": 0}
    t = now + M
    with engine.begin() as conn:
        rid, task = _release(conn, "4.19.1", ["build", "test", "sign"], t)
        _move(conn, task["build"], "NOT_STARTED", "IN_PROGRESS", t)
        _move(conn, task["build"], "IN_PROGRESS", "FAIL", t + M, "compile\x07 error")  # RED
        _move(conn, task["test"], "NOT_STARTED", "FAIL", t + 2 * M)  # failed, already RED
        _move(conn, task["build"], "FAIL", "PASS", t + 3 * M)
        _move(conn, task["test"], "FAIL", "PASS", t + 4 * M)  # GREEN again
        _move(conn, task["sign"], "NOT_STARTED", "FAIL", t + 5 * M)  # RED again
        db_deploy.deployment_record(conn, "api", "d1", {
            "service": "web", "environment": "prod", "wave": "canary", "version": "1.2"}, at=t)
        db_deploy.deployment_record(conn, "api", "d1", {"result": "FAILED",
                                                        "message": "crash loop"}, at=t + M)
        # Still FAILED, one more progress step: no second event.
        db_deploy.deployment_record(conn, "api", "d1", {"available_replicas": 0}, at=t + 2 * M)
        db_deploy.deployment_record(conn, "api", "d2", {"service": "api"}, at=t)
        db_deploy.deployment_record(conn, "api", "d2", {"result": "ROLLED_BACK"}, at=t + 3 * M)
    outcome = det.run(now=t + 10 * M)
    assert outcome == {"health": 0, "release_tasks": 5, "releases_shipped": 0,
                       "deployments": 2}
    assert det.run(now=t + 11 * M)["release_tasks"] == 0
    fresh = detector_mod.Detector(ev_conf, engine).run(now=t + 12 * M)
    assert fresh == {"health": 0, "release_tasks": 0, "releases_shipped": 0, "deployments": 0}

    with engine.begin() as conn:
        conn.execute(models.Release.__table__.update()
                     .where(models.Release.__table__.c.id == rid)
                     .values(shipped_at=t + 20 * M, updated_at=t + 20 * M))
    assert det.run(now=t + 21 * M)["releases_shipped"] == 1
    assert det.run(now=t + 22 * M)["releases_shipped"] == 0

    events = _events(engine)
    got = [(e["type"], e["severity"], e["release"] or e["service"], e["occurred_at"])
           for e in events]
    assert got == [
        ("release.task_failed", "warning", "4.19.1", t + M),
        ("release.red", "critical", "4.19.1", t + M),
        ("release.task_failed", "warning", "4.19.1", t + 2 * M),
        ("release.task_failed", "warning", "4.19.1", t + 5 * M),
        ("release.red", "critical", "4.19.1", t + 5 * M),
        ("deployment.failed", "critical", "web", t + M),
        ("deployment.rolled_back", "critical", "api", t + 3 * M),
        ("release.shipped", "info", "4.19.1", t + 20 * M),
    ]
    assert events[0]["title"] == "Release 4.19.1: task build failed: compile error"
    assert events[0]["product"] == "4.19" and events[0]["url"] == "#/release/4.19.1"
    assert events[0]["data"]["from_status"] == "IN_PROGRESS"
    assert events[5]["title"] == "Deployment of web 1.2 to prod (wave canary) failed: crash loop"
    assert events[5]["environment"] == "prod" and events[5]["data"]["uid"] == "d1"
    assert events[5]["url"] == "#/deployments?service=web&environment=prod"


def test_event_create_is_idempotent(engine):
    values = {"type": "release.shipped", "title": "Release 1.0 shipped", "release": "1.0"}
    with engine.begin() as conn:
        first = db_events.event_create(conn, "k", values)
        assert first is not None
        assert db_events.event_create(conn, "k", dict(values, title="again")) is None
    with pytest.raises(ValueError):
        with engine.begin() as conn:
            db_events.event_create(conn, "k2", {"type": "nope", "title": "x"})
    assert [e["title"] for e in _events(engine)] == ["Release 1.0 shipped"]


# --- the API -------------------------------------------------------------------------------


@pytest.fixture
def feed_app(ev_conf, engine):
    t0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    rows = [
        ("a", {"type": "system.silent", "severity": "critical", "system": "zuul",
               "title": "Zuul stopped reporting: <none> & more", "url": "#/system/zuul",
               "data": {"from": "GREEN", "to": "SILENT"}}),
        ("b", {"type": "release.task_failed", "severity": "warning", "product": "4.19",
               "release": "4.19.1", "title": "Release 4.19.1: task build failed",
               "url": "#/release/4.19.1"}),
        ("c", {"type": "deployment.failed", "severity": "critical", "service": "web",
               "environment": "prod", "title": "Deployment of web failed"}),
        ("d", {"type": "system.resumed", "severity": "info", "system": "zuul",
               "title": "Zuul resumed reporting", "url": "#/system/zuul"}),
    ]
    with engine.begin() as conn:
        for i, (key, values) in enumerate(rows):
            db_events.event_create(conn, key, dict(values, occurred_at=t0 + i * H))
    return webtest.TestApp(api_app.setup_app(ev_conf, engine=engine)), t0


def test_list_filters_and_pages(feed_app):
    app, t0 = feed_app
    resp = app.get("/v1/events")
    assert resp.headers["X-Total-Count"] == "4"
    items = resp.json
    assert [i["type"] for i in items] == ["system.resumed", "deployment.failed",
                                          "release.task_failed", "system.silent"]
    assert items[3] == {
        "id": items[3]["id"], "type": "system.silent", "severity": "critical",
        "title": "Zuul stopped reporting: <none> & more", "system": "zuul", "project": None,
        "product": None, "release": None, "service": None, "environment": None,
        "url": "https://radar.example.org/#/system/zuul",
        "data": {"from": "GREEN", "to": "SILENT"}, "occurred_at": t0.isoformat()}

    def types(**params):
        return [i["type"] for i in app.get("/v1/events", params=params).json]

    assert types(system="ZUUL") == ["system.resumed", "system.silent"]
    assert types(type="deployment.failed,release.task_failed") == [
        "deployment.failed", "release.task_failed"]
    assert types(severity="critical") == ["deployment.failed", "system.silent"]
    assert types(product="4.19") == types(release="4.19.1") == ["release.task_failed"]
    assert types(service="web") == ["deployment.failed"]
    assert types(since=(t0 + H).isoformat(), until=(t0 + 3 * H).isoformat()) == [
        "deployment.failed", "release.task_failed"]
    doc = openapi.document()
    check(resp, doc, "/v1/events")
    check(app.get("/v1/events.atom"), doc, "/v1/events.atom")
    check(app.get("/v1/events", params={"type": "x"}, expect_errors=True), doc, "/v1/events")
    page = app.get("/v1/events", params={"limit": 2})
    rest = app.get("/v1/events", params={"limit": 2, "marker": page.json[-1]["id"]})
    assert [i["id"] for i in page.json + rest.json] == [i["id"] for i in items]
    assert page.headers["X-Total-Count"] == "4"


@pytest.mark.parametrize("params, argument", [
    ({"type": "system.exploded"}, "type"),
    ({"severity": "fatal"}, "severity"),
    ({"since": "yesterday"}, "since"),
    ({"since": "2026-03-02", "until": "2026-03-01"}, "until"),
    ({"limit": "0"}, "limit"),
    ({"marker": "999999"}, "marker"),
    ({"bogus": "1"}, "bogus"),
])
def test_bad_input_is_400_naming_the_argument(feed_app, params, argument):
    app, _ = feed_app
    for path in ("/v1/events", "/v1/events.atom"):
        resp = app.get(path, params=params, expect_errors=True)
        assert resp.status_int == 400, (path, resp.text)
        assert resp.content_type == "application/json"
        assert argument in resp.json["faultstring"]


def test_atom_feed(feed_app):
    app, t0 = feed_app
    resp = app.get("/v1/events.atom", params={"system": "zuul"})
    assert resp.content_type == "application/atom+xml"
    root = ET.fromstring(resp.body)
    assert root.tag == ATOM + "feed"
    for tag in ("id", "title", "updated", "author"):
        assert root.find(ATOM + tag) is not None, tag
    self_link = [link for link in root.findall(ATOM + "link") if link.get("rel") == "self"]
    assert self_link[0].get("href") == "https://radar.example.org/v1/events.atom?system=zuul"
    assert root.find(ATOM + "updated").text == "2026-03-01T11:00:00.000000Z"
    entries = root.findall(ATOM + "entry")
    assert len(entries) == 2
    for entry in entries:
        for tag in ("id", "title", "updated", "content"):
            assert entry.find(ATOM + tag) is not None, tag
        assert entry.find(ATOM + "id").text.startswith("urn:uuid:")
    silent = entries[1]
    assert silent.find(ATOM + "title").text == \
        "[CRITICAL] Zuul stopped reporting: <none> & more"
    assert silent.find(ATOM + "link").get("href") == "https://radar.example.org/#/system/zuul"
    assert "to: SILENT" in silent.find(ATOM + "content").text
    # Stable ids: the same event has the same id in a differently filtered feed.
    again = ET.fromstring(app.get("/v1/events.atom").body).findall(ATOM + "entry")
    assert again[3].find(ATOM + "id").text == silent.find(ATOM + "id").text
    assert len({e.find(ATOM + "id").text for e in again}) == 4

    parsed = feedparser.parse(resp.body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert [e.title for e in parsed.entries] == [
        "[INFO] Zuul resumed reporting", "[CRITICAL] Zuul stopped reporting: <none> & more"]


def test_metrics_count_events_by_type(feed_app):
    app, _ = feed_app
    text = app.get("/metrics").text
    assert 'radar_events_total{type="system.silent"} 1.0' in text
    assert 'radar_events_total{type="release.shipped"} 0.0' in text
    assert sum(1 for line in text.splitlines()
               if line.startswith("radar_events_total{")) == len(db_events.TYPES)
