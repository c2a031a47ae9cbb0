"""radar event list against the live API (SQLite and MariaDB), pages of 5."""

import datetime as dt
import json

import pytest

from radar.db import engine as db_engine
from radar.db import events as db_events

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
TYPES = ["system.health_changed", "system.silent", "system.resumed", "release.task_failed",
         "release.red", "release.shipped", "deployment.failed"]


@pytest.fixture(scope="module")
def events(live, db_url):
    engine = db_engine.create_engine(url=db_url)
    try:
        with engine.begin() as conn:
            for i, type_ in enumerate(TYPES):
                db_events.event_create(conn, "cli-%d" % i, {
                    "type": type_, "severity": "critical" if i % 2 else "info",
                    "title": "event %d" % i, "system": "jenkins" if i < 3 else None,
                    "release": "4.19.1" if type_.startswith("release") else None,
                    "data": {"n": i}, "occurred_at": T0 + dt.timedelta(hours=i)})
    finally:
        engine.dispose()
    return live


def test_list_matches_the_api_across_pages(events):
    expected = events.get_all("/v1/events")
    assert len(expected) == len(TYPES)
    result = events.cli("event", "list", "--long", "-f", "json")
    assert result.rc == 0, result
    assert json.loads(result.out) == expected
    short = json.loads(events.cli("event", "list", "-f", "json").out)
    assert [list(r) for r in short] == [["id", "occurred_at", "severity", "type", "title"]] * 7
    assert [r["title"] for r in short] == ["event %d" % i for i in reversed(range(7))]


def test_filters_reach_the_api(events):
    def titles(*argv):
        result = events.cli("event", "list", "-f", "value", "-c", "title", *argv)
        assert result.rc == 0, result
        return result.out.split()[1::2]

    assert titles("--system", "Jenkins") == ["2", "1", "0"]
    assert titles("--type", "release.red", "--type", "release.shipped,system.silent") == [
        "5", "4", "1"]
    assert titles("--severity", "info", "--release", "4.19.1") == ["4"]
    assert titles("--since", "2026-03-01T10:00:00Z", "--until", "2026-03-01T12:00:00Z") == [
        "3", "2"]
    assert titles("--limit", "2") == ["6", "5"]


def test_table_and_errors(events):
    table = events.cli("event", "list", "--limit", "1")
    assert table.rc == 0 and "deployment.failed" in table.out
    assert "2026-03-01T14:00:00Z" in table.out
    bad = events.cli("event", "list", "--type", "system.exploded")
    assert bad.rc != 0 and "expected one or more of" in bad.err
    assert len(bad.err.strip().splitlines()) == 1
