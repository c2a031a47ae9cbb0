"""Version document, the error envelope, JSON whatever Accept says, bad input."""

import json
import urllib.parse

import pytest

ENVELOPE_KEYS = {"faultcode", "faultstring", "debuginfo", "code", "request_id"}
ACCEPTS = [
    None, "*/*", "application/json, text/plain, */*",  # AngularJS $http default
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",  # a browser
    "application/xml", "text/plain", "image/png",
]


def assert_envelope(resp, code):
    assert resp.status_int == code, resp.text
    assert resp.content_type == "application/json"
    body = resp.json
    assert set(body) == ENVELOPE_KEYS
    assert body["code"] == code
    assert body["debuginfo"] is None
    assert body["request_id"] == resp.headers["X-Request-Id"]
    assert body["faultcode"] == ("Client" if code < 500 else "Server")
    return body["faultstring"]


@pytest.mark.parametrize("accept", ACCEPTS)
def test_version_document_is_json_whatever_accept_says(app, accept):
    headers = {"Accept": accept} if accept else {}
    resp = app.get("/", headers=headers)
    assert resp.content_type == "application/json"
    doc = resp.json
    assert doc["name"] == "radar"
    assert doc["versions"][0]["id"] == "v1"
    assert doc["versions"][0]["links"][0]["href"].endswith("/v1/")
    assert resp.headers["X-Request-Id"].startswith("req-")


@pytest.mark.parametrize("accept", ACCEPTS)
def test_errors_are_json_whatever_accept_says(app, accept):
    headers = {"Accept": accept} if accept else {}
    msg = assert_envelope(app.get("/v1/nothing", headers=headers, expect_errors=True), 404)
    assert "Not found" in msg


def test_v1_document_links_resources(app):
    rels = {link["rel"] for link in app.get("/v1").json["links"]}
    assert {"self", "systems", "projects", "reports", "operators", "collector"} <= rels
    assert app.get("/v1/").json == app.get("/v1").json


def test_pecan_405_is_an_envelope_with_allow(app):
    resp = app.delete("/v1/reports", expect_errors=True)
    msg = assert_envelope(resp, 405)
    assert "DELETE" in msg
    assert resp.headers["Allow"] == "GET, HEAD"
    assert_envelope(app.post_json("/", {"a": 1}, expect_errors=True), 405)


def test_unknown_argument_is_400_naming_it(app):
    msg = assert_envelope(app.get("/v1/reports?bogus=1", expect_errors=True), 400)
    assert "bogus" in msg


def test_repeated_argument_is_400(app):
    msg = assert_envelope(app.get("/v1/reports?limit=1&limit=2", expect_errors=True), 400)
    assert "limit" in msg


@pytest.mark.parametrize("query,argument", [
    ("since=yesterday", "since"),
    ("until=2026-13-01", "until"),
    ("since=2026-03-02&until=2026-03-01", "until"),
    ("limit=0", "limit"),
    ("limit=-5", "limit"),
    ("limit=abc", "limit"),
    ("limit=99999999999999999999999", "limit"),
    ("marker=x", "marker"),
    ("result=GREAT", "result"),
    ("change=0", "change"),
    ("change=1%20OR%201=1", "change"),
    ("since=1000-01-01", "since"),
    ("since=1970-01-01&until=2199-01-01", "since"),
    ("pipeline=" + "p" * 65, "pipeline"),
    ("project=" + "x" * 300, "project"),
    ("format=xml", "format"),
])
def test_bad_arguments_name_the_argument(app, query, argument):
    msg = assert_envelope(app.get("/v1/reports?" + query, expect_errors=True), 400)
    assert "'%s'" % argument in msg


@pytest.mark.parametrize("path,argument", [
    ("/v1/systems?sort=password", "sort"),
    ("/v1/systems?health=PURPLE", "health"),
    ("/v1/systems?enabled=maybe", "enabled"),
    ("/v1/systems/1/series?interval=hour", "interval"),
    ("/v1/compare", "systems"),
    ("/v1/compare?systems=a,,b", "systems"),
    ("/v1/changes/abc", "number"),
    ("/v1/changes/99999999999", "number"),
])
def test_bad_arguments_elsewhere(app, path, argument):
    msg = assert_envelope(app.get(path, expect_errors=True), 400)
    assert "'%s'" % argument in msg


@pytest.mark.parametrize("value", [
    "'; DROP TABLE ci_reports; --",
    "1' OR '1'='1",
    "openstack/nova\" UNION SELECT token_hash FROM api_tokens --",
    "%", "_", "\\", "é\u00a0🙂",
])
def test_sql_looking_input_is_just_text(app, value):
    resp = app.get("/v1/reports", params={"project": value, "pipeline": value[:60]})
    assert resp.json == []
    assert resp.headers["X-Total-Count"] == "0"
    resp = app.get("/v1/operators", params={"q": value})
    assert resp.json == []
    assert_envelope(app.get("/v1/systems/" + urllib.parse.quote(value, safe=""),
                            expect_errors=True), 404)


def test_very_long_strings(app):
    msg = assert_envelope(app.get("/v1/reports", params={"project": "a" * 5000},
                                  expect_errors=True), 400)
    assert "project" in msg and "255" in msg
    assert_envelope(app.get("/v1/reports?project=" + "a" * 9000, expect_errors=True), 414)
    assert_envelope(app.get("/v1/systems/" + "s" * 3000, expect_errors=True), 400)
    assert_envelope(app.get("/v1/changes/" + "9" * 3000, expect_errors=True), 400)


def test_invalid_utf8(app):
    assert_envelope(app.get("/v1/reports?project=%ff%fe", expect_errors=True), 400)
    assert_envelope(app.get("/v1/reports?%c3%28=1", expect_errors=True), 400)
    resp = app.get("/v1/systems/%ff", expect_errors=True)
    assert "UTF-8" in assert_envelope(resp, 400)


def test_control_characters(app):
    msg = assert_envelope(app.get("/v1/reports?project=a%00b", expect_errors=True), 400)
    assert "project" in msg


def test_server_errors_say_nothing_but_the_request_id(app, monkeypatch, caplog):
    from radar.db import api as db_api

    def boom(*a, **k):
        raise RuntimeError("SELECT secret FROM api_tokens WHERE password='hunter2'")

    monkeypatch.setattr(db_api, "collector_list", boom)
    resp = app.get("/v1/collector", expect_errors=True)
    msg = assert_envelope(resp, 500)
    assert "hunter2" not in resp.text and "SELECT" not in resp.text
    assert resp.json["request_id"] in msg
    assert "Traceback" not in resp.text
    # The detail is in the log, under the request id.
    logged = caplog.text
    assert resp.json["request_id"] in logged and "hunter2" in logged


def test_exceptions_escaping_the_app_become_envelopes(app, monkeypatch):
    from radar.api.v1 import types

    def broken(cls, data, **extra):
        raise ValueError("DetachedInstanceError: secret detail")

    monkeypatch.setattr(types.CollectorSource, "from_dict", classmethod(broken))
    from radar.db import api as db_api
    monkeypatch.setattr(db_api, "collector_list", lambda s: [{"name": "x"}])
    resp = app.get("/v1/collector", expect_errors=True)
    assert_envelope(resp, 500)
    assert "secret" not in resp.text


def test_head_is_get_without_body(app):
    resp = app.head("/v1/reports")
    assert resp.status_int == 200
    assert resp.body == b""


def test_openapi_document(app):
    doc = app.get("/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    for path in ("/v1/systems", "/v1/systems/{id}", "/v1/systems/{id}/series",
                 "/v1/systems/{id}/missed", "/v1/systems/{id}/jobs",
                 "/v1/systems/{id}/reports", "/v1/systems/{id}/badge.svg", "/v1/compare",
                 "/v1/projects", "/v1/projects/{name}", "/v1/changes/{number}",
                 "/v1/reports", "/v1/operators", "/v1/operators/{id}", "/v1/collector",
                 "/metrics"):
        assert path in doc["paths"], path
    assert "SystemSummary" in doc["components"]["schemas"]
    assert_envelope(app.get("/v1/openapi.json?x=1", expect_errors=True), 400)
    json.dumps(doc)


def test_query_arguments_cannot_replace_path_arguments(app):
    for path, name in [("/v1/systems/zuul?ident=5", "ident"),
                       ("/v1/changes/5?number=3", "number"),
                       ("/v1/projects/a/b?name=c", "name"),
                       ("/v1/systems/zuul/badge.svg?ident=1", "ident")]:
        assert name in assert_envelope(app.get(path, expect_errors=True), 400)


def test_wrong_json_types_in_bodies_are_400(app, make_token):
    # WSME itself lets int([...]) escape as a 500 (found by the fuzz test).
    h = {"Authorization": "Bearer " + make_token("write")}
    dep = app.post_json("/v1/deployments", {"service": "web", "id": "d1"}, headers=h).json
    for body in ({"ready_replicas": [1, 2]}, {"replicas": {"a": 1}}):
        msg = assert_envelope(app.patch_json("/v1/deployments/%d" % dep["id"], body,
                                             headers=h, expect_errors=True), 400)
        assert "wrong JSON type" in msg
    assert app.get("/v1/deployments/%d" % dep["id"]).json["replicas"] is None
