"""Reports, the change pipeline view, the collector and CSV, on ingested data."""

import csv
import io

import sqlalchemy as sa

from radar.common import timeutils
from radar.db import models
from tests.functional.api.conftest import SINCE, UNTIL, basic_scenario
from tests.functional.api.test_basics import assert_envelope


def test_reports_newest_first_with_jobs(app, api_conf, engine):
    basic_scenario(api_conf, engine)
    resp = app.get("/v1/reports", params={"since": SINCE, "until": UNTIL})
    reports = resp.json
    assert resp.headers["X-Total-Count"] == "5"
    times = [r["reported_at"] for r in reports]
    assert times == sorted(times, reverse=True)
    newest = reports[0]
    assert newest["system"] == "zuul" and newest["result"] == "SUCCESS"
    assert newest["change"] == 1001 and newest["patchset"] == 1
    assert newest["retry"] is True and newest["attempt"] == 2
    assert newest["project"] == "openstack/nova"
    assert newest["url"] == "https://review.example.org/c/openstack/nova/+/1001/1"
    assert [(j["name"], j["result"], j["voting"]) for j in newest["jobs"]] == [
        ("tempest", "SUCCESS", True), ("pep8", "SUCCESS", True), ("docs", "FAILURE", False)]
    assert newest["jobs"][0]["url"] == "https://logs.example.org/tempest"
    assert newest["reported_at"].endswith("+00:00")


def test_report_filters(app, api_conf, engine):
    basic_scenario(api_conf, engine)
    w = {"since": SINCE, "until": UNTIL}

    def get(**kw):
        return app.get("/v1/reports", params=dict(w, **kw)).json

    assert {r["system"] for r in get(system="acme ci")} == {"acme ci"}
    assert len(get(system="zuul")) == 3
    assert get(system="no such ci") == []
    assert {r["change"] for r in get(project="openstack/neutron")} == {1002}
    assert [r["result"] for r in get(result="merge_failed")] == ["MERGE_FAILED"]
    assert len(get(change="1001")) == 3
    assert get(pipeline="gate") == []
    assert len(get(pipeline="check")) >= 3
    sid = app.get("/v1/reports", params=dict(w, system="zuul")).json[0]["system_id"]
    assert len(app.get("/v1/systems/%d/reports" % sid, params=w).json) == 3
    assert len(app.get("/v1/systems/zuul/reports", params=dict(w, result="FAILURE")).json) == 1
    # Outside the window: nothing.
    assert app.get("/v1/reports", params={"since": "2001-01-01",
                                          "until": "2001-02-01"}).json == []
    assert_envelope(app.get("/v1/systems/nope/reports", expect_errors=True), 404)


def test_report_marker_pagination(app, api_conf, engine):
    basic_scenario(api_conf, engine)
    w = {"since": SINCE, "until": UNTIL}
    everything = app.get("/v1/reports", params=w).json
    seen = []
    marker = None
    while True:
        params = dict(w, limit="2")
        if marker:
            params["marker"] = str(marker)
        resp = app.get("/v1/reports", params=params)
        assert resp.headers["X-Total-Count"] == "5"
        page = resp.json
        if not page:
            break
        assert len(page) <= 2
        seen += page
        marker = page[-1]["id"]
    assert [r["id"] for r in seen] == [r["id"] for r in everything]
    msg = assert_envelope(app.get("/v1/reports?marker=999999", expect_errors=True), 400)
    assert "marker" in msg


def test_limit_is_clamped(app, api_conf, engine):
    basic_scenario(api_conf, engine)
    api_conf.set_override("max_limit", 2, group="api")
    resp = app.get("/v1/reports", params={"since": SINCE, "until": UNTIL, "limit": "500"})
    assert len(resp.json) == 2
    assert resp.headers["X-Total-Count"] == "5"


def test_change_pipeline_view(app, api_conf, engine):
    basic_scenario(api_conf, engine)
    change = app.get("/v1/changes/1001").json
    assert change["number"] == 1001 and change["project"] == "openstack/nova"
    assert change["url"] == "https://review.example.org/c/openstack/nova/+/1001"
    assert change["source"] == "review"
    assert change["owner"] == "Alice"
    [ps] = change["patchsets"]
    assert ps["number"] == 1
    assert [(r["system"], r["result"]) for r in ps["reports"]] == [
        ("zuul", "FAILURE"), ("acme ci", "SUCCESS"), ("zuul", "SUCCESS")]
    assert [r["by"] for r in ps["rechecks"]] == ["Alice"]
    assert ps["rechecks"][0]["requested_at"] < ps["reports"][2]["reported_at"]
    assert_envelope(app.get("/v1/changes/424242", expect_errors=True), 404)
    assert_envelope(app.get("/v1/changes/1001?source=other", expect_errors=True), 404)
    assert app.get("/v1/changes/1001?source=review").json["number"] == 1001


def test_collector(app, api_conf, engine):
    basic_scenario(api_conf, engine)
    now = timeutils.utcnow()
    with engine.begin() as conn:
        source_id = conn.execute(sa.select(models.Source.__table__.c.id)).scalar_one()
        conn.execute(models.CollectorState.__table__.delete())
        conn.execute(models.CollectorState.__table__.insert().values(
            source_id=source_id, last_success_at=now, last_attempt_at=now, cycles=3,
            failures=1, last_error="timeout", last_error_at=now, changes_seen=2,
            messages_stored=7, reports_stored=5, records_skipped=0))
    resp = app.get("/v1/collector")
    [row] = resp.json
    assert row["name"] == "review" and row["stale"] is False
    assert 0 <= row["lag_s"] < 60
    assert row["last_error"] == "timeout" and row["failures"] == 1
    api_conf.set_override("stale_collector_threshold", 1, group="stats")
    with engine.begin() as conn:
        conn.execute(models.CollectorState.__table__.update().values(
            last_success_at=now.replace(year=now.year - 1)))
    assert app.get("/v1/collector").json[0]["stale"] is True


def _csv(resp):
    return list(csv.DictReader(io.StringIO(resp.text)))


def test_csv_output(app, api_conf, engine):
    basic_scenario(api_conf, engine)
    w = {"since": SINCE, "until": UNTIL}
    resp = app.get("/v1/reports", params=dict(w, format="csv"))
    assert resp.content_type == "text/csv"
    rows = _csv(resp)
    assert len(rows) == 5 and resp.headers["X-Total-Count"] == "5"
    assert rows[0]["system"] == "zuul" and rows[0]["retry"] == "true"
    assert rows[0]["jobs"].startswith("[")
    by_accept = app.get("/v1/reports", params=w, headers={"Accept": "text/csv"})
    assert by_accept.content_type == "text/csv"
    assert _csv(by_accept) == rows
    # JSON when both are acceptable, or when asked.
    assert app.get("/v1/reports", params=dict(w, format="json")).content_type == \
        "application/json"
    assert app.get("/v1/reports", params=w, headers={
        "Accept": "application/json, text/csv"}).content_type == "application/json"
    # Single resources: Accept is only a preference, format=csv is an error.
    assert app.get("/v1/changes/1001", headers={"Accept": "text/csv"}).content_type == \
        "application/json"
    msg = assert_envelope(app.get("/v1/changes/1001?format=csv", expect_errors=True), 400)
    assert "format" in msg
    # Errors stay JSON.
    assert_envelope(app.get("/v1/reports?format=csv&limit=0", expect_errors=True), 400)
    ops = app.get("/v1/operators?format=csv")
    assert ops.text.splitlines()[0].startswith("id,name,email")
    assert app.get("/v1/collector?format=csv").content_type == "text/csv"


def test_csv_cells_never_start_a_formula():
    from radar.api.middleware import _cell

    assert _cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert _cell(-1) == "-1"
    assert _cell(None) == ""
    assert _cell(True) == "true"
