"""Systems, series, missed, jobs, compare, projects, badge and /metrics through HTTP.

Numbers of the basic scenario, worked out by hand (DESIGN.md section 5):

zuul (reference): change 1001 ps1 FAILURE at +30m, recheck at +1h, SUCCESS at
+2h (a retry); change 1002 ps1 SUCCESS at +20m. 3 reports, 2 successes,
1 failure: success rate 2/3; first attempts FAILURE, SUCCESS: 1/2; final
results SUCCESS, SUCCESS: 1; one flaky patch set out of one with a failure;
first-report latencies 1800 s and 1200 s: p50 1500, p90 1200 + 0.9 * 600 =
1740; retry latency 3600 s.
acme ci: 1001 SUCCESS, 1002 MERGE_FAILED: 2 reports, success rate 1/1;
agreement with zuul on 1001 only (MERGE_FAILED is neither side): 1.
"""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from tests.functional.api.conftest import (
    ACME,
    SINCE,
    T0,
    UNTIL,
    basic_scenario,
    change,
    ci_message,
    load,
)
from tests.functional.api.test_basics import assert_envelope

W = {"since": SINCE, "until": UNTIL}


@pytest.fixture
def data(api_conf, engine):
    basic_scenario(api_conf, engine)


def by_name(items):
    return {i["name"]: i for i in items}


def test_system_list_numbers(app, data):
    resp = app.get("/v1/systems", params=W)
    assert resp.headers["X-Total-Count"] == "2"
    systems = by_name(resp.json)
    zuul, acme = systems["zuul"], systems["acme ci"]
    assert zuul["reference"] is True and acme["reference"] is False
    assert zuul["accounts"] == ["zuul"] and acme["accounts"] == ["acme-ci"]
    assert (zuul["reports"], zuul["successes"], zuul["failures"]) == (3, 2, 1)
    assert zuul["success_rate"] == pytest.approx(2 / 3)
    assert zuul["first_attempt_success_rate"] == 0.5
    assert zuul["final_success_rate"] == 1.0
    assert zuul["patchsets_reported"] == 2
    assert zuul["flaky_patchsets"] == 1 and zuul["flake_rate"] == 1.0
    assert zuul["latency_p50_s"] == 1500 and zuul["latency_p90_s"] == 1740
    assert zuul["retry_latency_p50_s"] == 3600
    assert zuul["rechecks"] == 1
    assert (acme["reports"], acme["successes"], acme["merge_failures"]) == (2, 1, 1)
    assert acme["success_rate"] == 1.0
    assert acme["agreement"] == 1.0
    for s in (zuul, acme):
        assert s["health"] in ("GREEN", "YELLOW", "RED", "SILENT", "UNKNOWN")
        assert s["health_reason"]
        assert s["last_seen"].endswith("+00:00")


def test_system_list_sort_search_paginate(app, data):
    names = [s["name"] for s in app.get("/v1/systems", params=dict(W, sort="-reports")).json]
    assert names == ["zuul", "acme ci"]
    names = [s["name"] for s in app.get("/v1/systems", params=dict(W, sort="name")).json]
    assert names == ["acme ci", "zuul"]
    assert [s["name"] for s in app.get("/v1/systems", params=dict(W, q="ACME")).json] == \
        ["acme ci"]
    first = app.get("/v1/systems", params=dict(W, limit="1"))
    assert first.headers["X-Total-Count"] == "2" and len(first.json) == 1
    second = app.get("/v1/systems", params=dict(W, limit="1", marker=str(first.json[0]["id"])))
    assert [s["name"] for s in second.json] == ["zuul"]
    assert app.get("/v1/systems", params=dict(W, project="no/such")).json[0]["reports"] == 0
    rows = app.get("/v1/systems", params=dict(W, format="csv")).text.splitlines()
    assert rows[0].startswith("id,name,display_name,accounts,reference")
    assert len(rows) == 3


def test_system_detail(app, data):
    detail = app.get("/v1/systems/zuul", params=W).json
    assert detail["name"] == "zuul" and detail["reports"] == 3
    assert detail["settings"]["reference"] is True
    assert detail["operators"] == []
    assert app.get("/v1/systems/%d" % detail["id"], params=W).json["name"] == "zuul"
    assert app.get("/v1/systems/ZUUL", params=W).json["id"] == detail["id"]
    nova = app.get("/v1/systems/zuul", params=dict(W, project="openstack/nova")).json
    assert nova["reports"] == 2
    assert_envelope(app.get("/v1/systems/nope", expect_errors=True), 404)


def test_series(app, data):
    since = (T0 - dt.timedelta(days=1)).date().isoformat()
    until = (T0 + dt.timedelta(days=2)).date().isoformat()
    points = app.get("/v1/systems/zuul/series", params={"since": since, "until": until}).json
    assert len(points) == 3
    assert [p["reports"] for p in points] == [0, 3, 0]
    assert points[1]["start"].startswith(T0.date().isoformat())
    assert points[0]["end"] == points[1]["start"]
    weekly = app.get("/v1/systems/zuul/series",
                     params={"since": since, "until": until, "interval": "week"}).json
    assert sum(p["reports"] for p in weekly) == 3
    csv_rows = app.get("/v1/systems/zuul/series",
                       params={"since": since, "until": until, "format": "csv"}).text
    assert csv_rows.splitlines()[0].startswith("start,end,id,name")
    msg = assert_envelope(app.get("/v1/systems/zuul/series",
                                  params={"since": "2000-01-01", "until": "2009-01-01"},
                                  expect_errors=True), 400)
    assert "interval" in msg


def test_missed_and_jobs(app, api_conf, engine):
    basic_scenario(api_conf, engine)
    # 1003: only zuul reports; acme (which covers openstack/nova) missed it.
    load(api_conf, engine, [change(1003, messages=[
        ci_message("SUCCESS", T0 + dt.timedelta(minutes=15), 1, [("unit", "SUCCESS")])])])
    missed = app.get("/v1/systems/acme ci/missed", params=W).json
    assert [(m["change"], m["patchset"]) for m in missed] == [(1003, 1)]
    assert missed[0]["url"] == "https://review.example.org/c/openstack/nova/+/1003/1"
    assert app.get("/v1/systems/zuul/missed", params=W).json == []
    acme = by_name(app.get("/v1/systems", params=W).json)["acme ci"]
    assert acme["eligible_patchsets"] == 3 and acme["missed"] == 1
    assert acme["coverage"] == pytest.approx(2 / 3)

    jobs = by_name(app.get("/v1/systems/zuul/jobs", params=W).json)
    assert jobs["tempest"]["runs"] == 2 and jobs["tempest"]["results"] == {
        "FAILURE": 1, "SUCCESS": 1}
    assert jobs["tempest"]["success_rate"] == 0.5 and jobs["tempest"]["flaky"] == 1
    assert jobs["docs"]["voting"] is False
    assert jobs["pep8"]["last_log_url"] == "https://logs.example.org/pep8"
    top = app.get("/v1/systems/zuul/jobs", params=dict(W, sort="-runs", limit="1")).json
    assert top[0]["runs"] == 2
    page = app.get("/v1/systems/zuul/jobs", params=dict(W, marker="pep8")).json
    assert [j["name"] for j in page] == ["tempest", "unit"]


def test_compare(app, data):
    resp = app.get("/v1/compare", params=dict(W, systems="zuul,acme ci")).json
    assert [s["name"] for s in resp["systems"]] == ["zuul", "acme ci"]
    assert resp["agreement"]["zuul"]["acme ci"] == 1.0
    assert resp["agreement"]["acme ci"]["zuul"] == 1.0
    msg = assert_envelope(app.get("/v1/compare", params={"systems": "zuul,nope"},
                                  expect_errors=True), 400)
    assert "systems" in msg and "nope" in msg


def test_projects(app, data):
    resp = app.get("/v1/projects", params=W)
    projects = by_name(resp.json)
    assert set(projects) == {"openstack/nova", "openstack/neutron"}
    nova = projects["openstack/nova"]
    assert nova["changes"] == 1 and nova["patchsets"] == 1
    assert {s["name"]: s["reports"] for s in nova["systems"]} == {"zuul": 2, "acme ci": 1}
    one = app.get("/v1/projects/openstack/nova", params=W).json
    assert one["name"] == "openstack/nova" and len(one["systems"]) == 2
    assert app.get("/v1/projects/openstack%2Fnova", params=W).json["name"] == "openstack/nova"
    assert_envelope(app.get("/v1/projects/openstack/nope", expect_errors=True), 404)
    assert app.get("/v1/projects", params=dict(W, q="neutron")).json[0]["name"] == \
        "openstack/neutron"


def test_project_names_with_dots(app, api_conf, engine):
    load(api_conf, engine, [change(2001, project="x/lib.json", messages=[
        ci_message("SUCCESS", T0 + dt.timedelta(minutes=5), 1, [], author=ACME)])])
    assert app.get("/v1/projects/x/lib.json", params=W).json["name"] == "x/lib.json"


def test_badge(app, data):
    resp = app.get("/v1/systems/zuul/badge.svg", params=W)
    assert resp.content_type == "image/svg+xml"
    assert "max-age" in resp.headers["Cache-Control"]
    svg = ET.fromstring(resp.body)
    assert svg.tag.endswith("svg")
    assert "67%" in resp.text
    assert_envelope(app.get("/v1/systems/nope/badge.svg", expect_errors=True), 404)
    # The envelope carries the real message, not a generic one.
    assert "style" in assert_envelope(
        app.get("/v1/systems/zuul/badge.svg?style=flat", expect_errors=True), 400)
    assert "since" in assert_envelope(
        app.get("/v1/systems/zuul/badge.svg?since=x", expect_errors=True), 400)


def test_metrics(app, data):
    app.get("/v1/systems")
    text = app.get("/metrics").text
    assert 'radar_ci_reports_total{result="SUCCESS",system="zuul"} 2.0' in text
    assert 'radar_ci_reports_total{result="MERGE_FAILED",system="acme ci"} 1.0' in text
    assert 'radar_ci_system_health{health=' in text
    assert "radar_ci_system_success_rate{system=\"zuul\"}" in text
    assert 'radar_api_requests_total{method="GET",route="/v1/systems",status="200"}' in text
    assert "radar_api_request_duration_seconds_bucket" in text
    app.get("/v1/systems/whatever/else/entirely", expect_errors=True)
    routes = {line.split('route="')[1].split('"')[0] for line in app.get("/metrics").text
              .splitlines() if line.startswith("radar_api_requests_total{")}
    assert routes <= {"/", "/metrics", "/v1", "/v1/systems", "/v1/systems/{id}", "other",
                      "/v1/projects/{name}"}
