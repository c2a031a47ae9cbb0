"""Windows: half-open [since, until), whole days for rollups, edges, series buckets."""

import datetime as dt

import pytest

from radar.stats.window import Window

UTC = dt.UTC


def t(day, hour=0, minute=0):
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_default_is_the_last_seven_days():
    w = Window(now=t(11, 12))
    assert (w.since, w.until) == (t(4, 12), t(11, 12))
    assert Window.last(days=2, now=t(11)) == Window(t(9), t(11))
    w = Window()
    assert w.until - w.since == dt.timedelta(days=7)
    assert w.until.tzinfo is not None


def test_half_open():
    w = Window(t(5), t(6))
    assert t(5) in w and t(6) not in w


def test_validation():
    with pytest.raises(ValueError):
        Window(t(6), t(5))
    with pytest.raises(ValueError):
        Window(t(5), t(5))
    with pytest.raises(ValueError):
        Window(dt.datetime(2026, 3, 5), t(6))
    other = dt.timezone(dt.timedelta(hours=2))
    w = Window(dt.datetime(2026, 3, 5, 2, tzinfo=other), t(6))
    assert w.since == t(5) and w.since.tzinfo == UTC


def test_full_days_and_edges_of_a_mid_day_window():
    w = Window(t(5, 1, 25), t(11, 12))
    assert w.full_days() == (t(6).date(), t(11).date())
    assert w.edges() == [(t(5, 1, 25), t(6)), (t(11), t(11, 12))]


def test_midnight_aligned_window_has_no_edges():
    w = Window(t(5), t(12))
    assert w.full_days() == (t(5).date(), t(12).date())
    assert w.edges() == []


def test_window_inside_one_day_is_one_edge():
    w = Window(t(5, 1), t(5, 3))
    first, end = w.full_days()
    assert first >= end
    assert w.edges() == [(t(5, 1), t(5, 3))]
    w = Window(t(5, 20), t(6, 3))        # across midnight, no whole day
    assert w.edges() == [(t(5, 20), t(6, 3))]


def test_daily_buckets():
    w = Window(t(5, 1, 25), t(7, 12))
    assert [(b.since, b.until) for b in w.buckets("day")] == [
        (t(5, 1, 25), t(6)), (t(6), t(7)), (t(7), t(7, 12))]


def test_weekly_buckets_start_on_monday():
    # 2026-03-05 is a Thursday; 2026-03-09 and 2026-03-16 are Mondays.
    w = Window(t(5), t(20))
    assert [(b.since, b.until) for b in w.buckets("week")] == [
        (t(5), t(9)), (t(9), t(16)), (t(16), t(20))]


def test_unknown_interval():
    with pytest.raises(ValueError):
        Window(t(5), t(6)).buckets("month")
