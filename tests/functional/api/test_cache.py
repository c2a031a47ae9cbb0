"""The statistics response cache (radar.api.cache), on SQLite and MariaDB.

Each statistics function is wrapped to count its calls: a request served
from the cache calls none. An app without the cache on the same database
is the oracle: the cached app must answer every request byte for byte as
it does.
"""

import collections
import datetime as dt

import pytest
import webtest

from radar.api import app as api_app
from radar.api import cache as response_cache
from radar.common import timeutils
from radar.db import api as db_api
from radar.db import engine as db_engine
from radar.stats import systems as stats_systems
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
from tests.functional.api.test_auth_operators import bearer
from tests.functional.api.test_basics import assert_envelope

W = {"since": SINCE, "until": UNTIL}
STATS_FUNCTIONS = ("system_summaries", "system_series", "missed_patchsets", "job_stats",
                   "compare", "project_summaries")
# One URL per cached endpoint.
ENDPOINTS = [
    ("/v1/systems", "system_summaries"),
    ("/v1/systems/zuul", "system_summaries"),
    ("/v1/systems/zuul/series", "system_series"),
    ("/v1/systems/zuul/missed", "missed_patchsets"),
    ("/v1/systems/zuul/jobs", "job_stats"),
    ("/v1/systems/zuul/badge.svg", "system_summaries"),
    ("/v1/compare?systems=zuul,acme%20ci", "compare"),
    ("/v1/projects", "project_summaries"),
    ("/v1/projects/openstack/nova", "project_summaries"),
]


@pytest.fixture
def data(api_conf, engine):
    basic_scenario(api_conf, engine)


@pytest.fixture
def calls(monkeypatch):
    """Counter of calls per statistics function; calls.windows: their windows."""
    counts = collections.Counter()
    counts.windows = []
    for name in STATS_FUNCTIONS:
        original = getattr(stats_systems, name)

        def wrapper(*args, _original=original, _name=name, **kwargs):
            counts[_name] += 1
            counts.windows.extend(a for a in args if isinstance(a, stats_systems.Window))
            return _original(*args, **kwargs)

        monkeypatch.setattr(stats_systems, name, wrapper)
    return counts


@pytest.fixture
def uncached(api_conf, engine):
    return webtest.TestApp(api_app.setup_app(api_conf, engine=engine, cache=False))


def with_window(url):
    return url + ("&" if "?" in url else "?") + "since=%s&until=%s" % (SINCE, UNTIL)


def test_second_identical_request_is_served_from_cache(app, data, calls):
    first = app.get("/v1/systems", params=W)
    second = app.get("/v1/systems", params=W)
    assert calls["system_summaries"] == 1
    assert first.headers["X-Radar-Cache"] == "MISS"
    assert second.headers["X-Radar-Cache"] == "HIT"
    assert second.body == first.body
    assert second.content_type == first.content_type == "application/json"
    assert second.headers["X-Total-Count"] == first.headers["X-Total-Count"] == "2"
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Cache-Control"] == "no-cache"
    # Every response has its own request id.
    assert second.headers["X-Request-Id"] != first.headers["X-Request-Id"]


@pytest.mark.parametrize("url,function", ENDPOINTS)
def test_every_statistics_endpoint_is_cached(app, uncached, data, calls, url, function):
    url = with_window(url)
    expected = uncached.get(url)
    calls.clear()
    first = app.get(url)
    second = app.get(url)
    assert calls[function] == 1 and sum(calls.values()) == 1
    assert first.body == second.body == expected.body
    assert first.content_type == second.content_type == expected.content_type
    assert second.headers["X-Radar-Cache"] == "HIT"


def test_badge_keeps_its_own_cache_control(app, api_conf, data):
    resp = app.get(with_window("/v1/systems/zuul/badge.svg"))
    again = app.get(with_window("/v1/systems/zuul/badge.svg"))
    assert again.headers["X-Radar-Cache"] == "HIT"
    assert again.content_type == "image/svg+xml"
    expected = "public, max-age=%d" % api_conf.api.badge_max_age
    assert resp.headers["Cache-Control"] == again.headers["Cache-Control"] == expected


def test_if_none_match_gets_304_without_computing(app, data, calls):
    etag = app.get("/v1/systems", params=W).headers["ETag"]
    resp = app.get("/v1/systems", params=W, headers={"If-None-Match": etag}, status=304)
    assert resp.body == b""
    assert resp.headers["ETag"] == etag
    weak = app.get("/v1/systems", params=W, headers={"If-None-Match": "W/" + etag},
                   status=304)
    assert weak.headers["ETag"] == etag
    other = app.get("/v1/systems", params=W, headers={"If-None-Match": '"nope"'})
    assert other.status_int == 200 and other.json
    assert calls["system_summaries"] == 1


def test_new_data_invalidates_immediately(app, api_conf, engine, data, calls):
    before = {s["name"]: s for s in app.get("/v1/systems", params=W).json}
    assert before["zuul"]["reports"] == 3
    h = dt.timedelta(hours=1)
    load(api_conf, engine, [change(1003, messages=[
        ci_message("FAILURE", T0 + 3 * h, 1, [("tempest", "FAILURE")])])])
    after = app.get("/v1/systems", params=W)
    assert after.headers["X-Radar-Cache"] == "MISS"
    after = {s["name"]: s for s in after.json}
    assert after["zuul"]["reports"] == 4 and after["zuul"]["failures"] == 2
    assert calls["system_summaries"] == 2
    # And it is cached again.
    assert app.get("/v1/systems", params=W).headers["X-Radar-Cache"] == "HIT"


def test_new_patch_set_without_reports_invalidates(app, api_conf, engine, data, calls):
    resp = app.get("/v1/systems/acme%20ci/missed", params=W)
    assert resp.json == []
    before = app.get("/v1/systems/zuul", params=W).json["eligible_patchsets"]
    # A patch set nobody reported on: a message from a human, no CI report.
    load(api_conf, engine, [change(1004, created=T0 - dt.timedelta(hours=6))])
    assert app.get("/v1/systems/zuul", params=W).json["eligible_patchsets"] == before + 1
    assert calls["system_summaries"] == 2


def test_writes_invalidate_every_process(app, api_conf, engine, data, make_token):
    """Two apps = two workers, each with its own cache: a write through one
    is seen by the next read through the other."""
    other = webtest.TestApp(api_app.setup_app(api_conf, engine=engine))
    url = "/v1/systems/acme%20ci"
    assert other.get(url, params=W).json["display_name"] == "Acme CI"
    assert other.get(url, params=W).headers["X-Radar-Cache"] == "HIT"
    admin = bearer(make_token("admin"))
    app.put_json("/v1/systems/acme ci", {"display_name": "Acme Storage CI"}, headers=admin)
    resp = other.get(url, params=W)
    assert resp.headers["X-Radar-Cache"] == "MISS"
    assert resp.json["display_name"] == "Acme Storage CI"
    # Operators: the detail lists them.
    app.post_json("/v1/operators", {"name": "Acme", "systems": ["acme ci"]},
                  headers=bearer(make_token("write", name="w")))
    assert [o["name"] for o in other.get(url, params=W).json["operators"]] == ["Acme"]


def test_data_version_moves_with_every_input(api_conf, engine, data):
    def version():
        with engine.connect() as conn:
            return response_cache.data_version(conn)

    seen = [version()]
    assert version() == seen[0]
    # The collector's cycle.
    with engine.begin() as conn:
        source_id = db_api.source_get_or_create(conn, "review", "rest")
        db_api.collector_state_update(conn, source_id, add_cycles=1,
                                      last_attempt_at=timeutils.utcnow())
    seen.append(version())
    # A CI system's settings, changed directly in the database.
    with db_engine.make_sessionmaker(engine)() as session:
        system = db_api.system_get(session, "acme ci")
        db_api.system_update(session, system["id"], {"projects": ["openstack/nova"]})
        session.commit()
    seen.append(version())
    # New messages and reports.
    load(api_conf, engine, [change(1005, messages=[
        ci_message("SUCCESS", T0 + dt.timedelta(hours=4), 1, [], author=ACME)])])
    seen.append(version())
    assert len(set(seen)) == len(seen)


def test_different_arguments_never_share_an_entry(app, uncached, data, calls):
    day = dt.timedelta(days=1)
    since2 = (T0 - 2 * day).strftime("%Y-%m-%dT%H:%M:%SZ")
    variants = [
        "/v1/systems?since=%s&until=%s" % (SINCE, UNTIL),
        "/v1/systems?since=%s&until=%s" % (since2, UNTIL),
        "/v1/systems?since=%s&until=%s" % (SINCE, (T0 + 2 * day).strftime("%Y-%m-%d")),
        "/v1/systems?since=%s&until=%s&project=openstack/nova" % (SINCE, UNTIL),
        "/v1/systems?since=%s&until=%s&project=openstack/neutron" % (SINCE, UNTIL),
        "/v1/systems?since=%s&until=%s&sort=-reports" % (SINCE, UNTIL),
        "/v1/systems?since=%s&until=%s&limit=1" % (SINCE, UNTIL),
        "/v1/systems?since=%s&until=%s&q=acme" % (SINCE, UNTIL),
        "/v1/systems?since=%s&until=%s&format=csv" % (SINCE, UNTIL),
        "/v1/systems",
        "/v1/systems?since=%s" % SINCE,
        "/v1/systems/zuul?since=%s&until=%s" % (SINCE, UNTIL),
        "/v1/systems/acme%%20ci?since=%s&until=%s" % (SINCE, UNTIL),
        "/v1/systems/zuul/series?since=%s&until=%s" % (SINCE, UNTIL),
        "/v1/systems/zuul/series?since=%s&until=%s&interval=week" % (SINCE, UNTIL),
        "/v1/systems/zuul/series?since=%s&until=%s&format=csv" % (SINCE, UNTIL),
        "/v1/projects?since=%s&until=%s" % (SINCE, UNTIL),
        "/v1/projects/openstack/nova?since=%s&until=%s" % (SINCE, UNTIL),
        "/v1/projects/openstack/neutron?since=%s&until=%s" % (SINCE, UNTIL),
    ]
    expected = {}
    for url in variants:
        expected[url] = uncached.get(url)
    # A client asking for CSV with Accept gets CSV; one asking JSON, JSON.
    csv_accept = uncached.get(variants[0], headers={"Accept": "text/csv"})
    assert csv_accept.content_type == "text/csv"
    calls.clear()
    for _round in range(2):
        for url in variants + list(reversed(variants)):
            resp = app.get(url)
            assert resp.body == expected[url].body, url
            assert resp.content_type == expected[url].content_type, url
            assert resp.headers.get("X-Total-Count") == \
                expected[url].headers.get("X-Total-Count"), url
        resp = app.get(variants[0], headers={"Accept": "text/csv"})
        assert resp.content_type == "text/csv" and resp.body == csv_accept.body
    # Each distinct request computed once, then served from the cache (CSV by
    # Accept is the same request as ?format=csv, variants[8]).
    assert sum(calls.values()) == len(variants)


def test_equal_windows_written_differently_share_an_entry(app, data, calls):
    day = T0.strftime("%Y-%m-%d")
    next_day = (T0 + dt.timedelta(days=1)).strftime("%Y-%m-%d")
    first = app.get("/v1/systems", params={"since": day, "until": next_day})
    second = app.get("/v1/systems", params={"since": day + "T00:00:00Z",
                                            "until": next_day + "T00:00:00+00:00"})
    assert second.headers["X-Radar-Cache"] == "HIT" and second.body == first.body
    assert calls["system_summaries"] == 1


def test_error_responses_are_not_cached(app, data, calls, monkeypatch):
    for _ in range(2):
        assert_envelope(app.get("/v1/systems", params={"since": "yesterday"},
                                expect_errors=True), 400)
        assert_envelope(app.get("/v1/systems/no-such-ci", params=W, expect_errors=True),
                        404)
    assert calls["system_summaries"] == 0
    # A failing computation: a 500, then the same request succeeds and is cached.
    original = stats_systems.system_summaries
    failures = []

    def flaky(*args, **kwargs):
        if not failures:
            failures.append(1)
            raise RuntimeError("database went away")
        return original(*args, **kwargs)

    monkeypatch.setattr(stats_systems, "system_summaries", flaky)
    assert_envelope(app.get("/v1/systems", params=W, expect_errors=True), 500)
    resp = app.get("/v1/systems", params=W)
    assert resp.status_int == 200 and resp.headers["X-Radar-Cache"] == "MISS"
    assert app.get("/v1/systems", params=W).headers["X-Radar-Cache"] == "HIT"
    # An invalid CSV request on a non-CSV endpoint is a 400 each time.
    for _ in range(2):
        assert_envelope(app.get(with_window("/v1/compare?systems=zuul&format=csv"),
                                expect_errors=True), 400)


def test_default_window_ends_at_the_minute(app, data, calls, monkeypatch):
    minute = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    clock = [minute + dt.timedelta(seconds=10)]
    monkeypatch.setattr(timeutils, "utcnow", lambda: clock[0])
    first = app.get("/v1/systems")
    window = calls.windows[-1]
    assert window.until == minute
    assert window.since == minute - dt.timedelta(days=7)
    clock[0] = minute + dt.timedelta(seconds=50)
    second = app.get("/v1/systems")
    assert second.headers["X-Radar-Cache"] == "HIT" and second.body == first.body
    assert calls["system_summaries"] == 1
    clock[0] = minute + dt.timedelta(seconds=70)
    third = app.get("/v1/systems")
    assert third.headers["X-Radar-Cache"] == "MISS"
    assert calls.windows[-1].until == minute + dt.timedelta(minutes=1)
    # The same truncation without the cache (same numbers either way).
    plain = webtest.TestApp(api_app.setup_app(app.app.conf, engine=app.app.engine,
                                              cache=False))
    plain.get("/v1/systems/zuul/series", params={"since": SINCE})
    assert calls.windows[-1].until == minute + dt.timedelta(minutes=1)
    # Raw listings keep the exact time.
    assert "X-Radar-Cache" not in plain.get("/v1/reports").headers


def test_entries_expire_after_the_ttl(api_conf, engine, data, calls):
    now = [1000.0]
    cache = response_cache.ResponseCache(engine, ttl=60, clock=lambda: now[0])
    app = webtest.TestApp(api_app.setup_app(api_conf, engine=engine, cache=cache))
    app.get("/v1/systems", params=W)
    now[0] += 59
    assert app.get("/v1/systems", params=W).headers["X-Radar-Cache"] == "HIT"
    now[0] += 2
    assert app.get("/v1/systems", params=W).headers["X-Radar-Cache"] == "MISS"
    assert calls["system_summaries"] == 2


def test_the_cache_is_bounded(api_conf, engine, data, calls):
    cache = response_cache.ResponseCache(engine, entries=2)
    app = webtest.TestApp(api_app.setup_app(api_conf, engine=engine, cache=cache))
    urls = [with_window(u) for u in ("/v1/systems", "/v1/systems/zuul", "/v1/projects")]
    for url in urls:
        app.get(url)
    assert len(cache) == 2
    assert app.get(urls[2]).headers["X-Radar-Cache"] == "HIT"
    assert app.get(urls[0]).headers["X-Radar-Cache"] == "MISS"      # evicted (LRU)
    small = response_cache.ResponseCache(engine, max_bytes=4096)
    app = webtest.TestApp(api_app.setup_app(api_conf, engine=engine, cache=small))
    app.get(urls[0])
    assert app.get(urls[0]).headers["X-Radar-Cache"] == "MISS"      # too large to keep
    assert len(small) == 0


def test_other_endpoints_and_disabled_cache(app, uncached, data, calls):
    for url in ("/", "/v1", "/v1/reports", "/v1/collector", "/v1/systems/zuul/reports",
                "/v1/changes/1001", "/v1/operators", "/v1/openapi.json"):
        app.get(url)
        assert "X-Radar-Cache" not in app.get(url).headers, url
    for _ in range(2):
        assert "X-Radar-Cache" not in uncached.get("/v1/systems", params=W).headers
    assert calls["system_summaries"] == 2
