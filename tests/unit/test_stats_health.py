"""Health from a summary: GREEN / YELLOW / RED / SILENT / UNKNOWN with reasons."""

import datetime as dt

import pytest

from radar.stats import health

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 11, 12, tzinfo=UTC)


def summary(**values):
    base = {"enabled": True, "reports": 20, "successes": 19, "failures": 1,
            "success_rate": 0.95, "eligible_patchsets": 10, "coverage": 1.0, "missed": 0,
            "last_seen": NOW - dt.timedelta(hours=1)}
    base.update(values)
    return base


@pytest.fixture
def conf(make_conf):
    return make_conf()


def test_green(conf):
    assert health.health(summary(), conf, NOW) == (
        "GREEN", "success rate 95.0%; coverage 100.0% (0 of 10 eligible patch sets missed)")


def test_yellow_on_success_rate(conf):
    value, reason = health.health(summary(success_rate=0.7), conf, NOW)
    assert value == "YELLOW"
    assert reason == "success rate 70.0% below 80.0%"


def test_yellow_on_coverage(conf):
    value, reason = health.health(summary(coverage=0.85, missed=3, eligible_patchsets=20),
                                  conf, NOW)
    assert (value, reason) == (
        "YELLOW", "coverage 85.0% (3 of 20 eligible patch sets missed) below 90.0%")


def test_red_lists_every_problem(conf):
    value, reason = health.health(summary(success_rate=0.4, coverage=0.8, missed=2), conf, NOW)
    assert value == "RED"
    assert reason == ("success rate 40.0% below 50.0%; coverage 80.0% (2 of 10 eligible "
                      "patch sets missed) below 90.0%")


def test_thresholds_are_configurable(make_conf):
    strict = make_conf(**{"stats.success_rate_yellow": 0.99, "stats.success_rate_red": 0.96})
    assert health.health(summary(), strict, NOW)[0] == "RED"


def test_boundaries_are_inclusive_of_the_healthy_side(conf):
    assert health.health(summary(success_rate=0.8, coverage=0.9), conf, NOW)[0] == "GREEN"
    assert health.health(summary(success_rate=0.5), conf, NOW)[0] == "YELLOW"


def test_silent_when_no_report_while_eligible_patchsets_arrived(conf):
    last = NOW - dt.timedelta(days=2, hours=3)
    value, reason = health.health(summary(last_seen=last), conf, NOW,
                                  last_eligible_created=last + dt.timedelta(hours=1))
    assert value == "SILENT"
    assert reason == ("no report for 2d 3h (threshold 1d 0h) while eligible patch sets "
                      "arrived")


def test_not_silent_without_new_eligible_patchsets(conf):
    last = NOW - dt.timedelta(days=2)
    s = summary(last_seen=last)
    assert health.health(s, conf, NOW, last_eligible_created=last - dt.timedelta(hours=1))[0] \
        == "GREEN"
    assert health.health(s, conf, NOW, last_eligible_created=None)[0] == "GREEN"


def test_not_silent_within_the_threshold(conf):
    last = NOW - dt.timedelta(hours=23)
    assert health.health(summary(last_seen=last), conf, NOW,
                         last_eligible_created=NOW - dt.timedelta(hours=5))[0] == "GREEN"


def test_silent_fallback_uses_missed(conf):
    last = NOW - dt.timedelta(days=3)
    assert health.health(summary(last_seen=last, missed=2, coverage=0.8), conf, NOW)[0] \
        == "SILENT"
    assert health.health(summary(last_seen=last), conf, NOW)[0] == "GREEN"


def test_never_seen_is_silent(conf):
    value, reason = health.health(summary(last_seen=None, reports=0, success_rate=None,
                                          coverage=0.0, missed=10), conf, NOW,
                                  last_eligible_created=NOW - dt.timedelta(hours=4))
    assert value == "SILENT"
    assert reason.startswith("no report ever")


def test_unknown_without_data(conf):
    assert health.health(summary(reports=0, success_rate=None, coverage=None,
                                 eligible_patchsets=0, last_seen=None), conf, NOW) == (
        "UNKNOWN", "no reports and no eligible patch sets in the window")


def test_unknown_with_too_few_reports(conf):
    value, reason = health.health(summary(reports=3, success_rate=1.0, coverage=None,
                                          eligible_patchsets=0), conf, NOW)
    assert value == "UNKNOWN"
    assert "only 3 reports" in reason


def test_few_reports_still_judged_on_coverage(conf):
    assert health.health(summary(reports=2, success_rate=0.0, coverage=0.3, missed=7), conf,
                         NOW)[0] == "RED"


def test_only_merge_failures_is_unknown(conf):
    value, reason = health.health(summary(reports=4, success_rate=None, coverage=None,
                                          eligible_patchsets=0), conf, NOW)
    assert value == "UNKNOWN"
    assert reason.startswith("no SUCCESS or FAILURE report")


def test_disabled_and_stale(conf):
    assert health.health(summary(enabled=False), conf, NOW)[0] == "UNKNOWN"
    value, reason = health.health(summary(), conf, NOW, collector_stale=True)
    assert value == "UNKNOWN" and "stale" in reason
