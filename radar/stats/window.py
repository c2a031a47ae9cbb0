"""Time windows: half-open [since, until), aware UTC (DESIGN.md §5)."""

import datetime as dt

from radar.common import timeutils

UTC = timeutils.UTC
DAY = dt.timedelta(days=1)
DEFAULT_DAYS = 7
INTERVALS = ("day", "week")


def day_start(day):
    """Aware UTC midnight starting `day` (a date)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def _aware(value, name):
    if not isinstance(value, dt.datetime):
        raise TypeError("%s must be a datetime, got %r" % (name, value))
    if value.tzinfo is None:
        raise ValueError("%s must be timezone-aware: %r" % (name, value))
    return value.astimezone(UTC)


class Window:
    """[since, until) in aware UTC; by default the last 7 days ending now."""

    __slots__ = ("since", "until")

    def __init__(self, since=None, until=None, now=None):
        if until is None:
            until = now if now is not None else timeutils.utcnow()
        until = _aware(until, "until")
        if since is None:
            since = until - dt.timedelta(days=DEFAULT_DAYS)
        since = _aware(since, "since")
        if since >= until:
            raise ValueError("window since (%s) must be before until (%s)"
                             % (since.isoformat(), until.isoformat()))
        self.since = since
        self.until = until

    @classmethod
    def last(cls, days=DEFAULT_DAYS, now=None):
        until = _aware(now, "now") if now is not None else timeutils.utcnow()
        return cls(until - dt.timedelta(days=days), until)

    def __repr__(self):
        return "Window(%s, %s)" % (self.since.isoformat(), self.until.isoformat())

    def __eq__(self, other):
        return (isinstance(other, Window) and self.since == other.since
                and self.until == other.until)

    def __hash__(self):
        return hash((self.since, self.until))

    def __contains__(self, when):
        return self.since <= when < self.until

    @property
    def duration(self):
        return self.until - self.since

    def full_days(self):
        """(first, end) dates: the whole UTC days [first, end) inside the window.

        first >= end when the window holds no whole day.
        """
        first = self.since.date()
        if day_start(first) < self.since:
            first += DAY
        end = self.until.date()
        return first, end

    def edges(self):
        """The partial-day parts of the window as [(since, until)], none empty.

        Together with full_days() they cover the window exactly once.
        """
        first, end = self.full_days()
        if first >= end:
            return [(self.since, self.until)]
        parts = []
        if self.since < day_start(first):
            parts.append((self.since, day_start(first)))
        if day_start(end) < self.until:
            parts.append((day_start(end), self.until))
        return parts

    def buckets(self, interval="day"):
        """The window cut at UTC midnights ("day") or Monday midnights ("week").

        The first and last buckets are clipped to the window.
        """
        if interval not in INTERVALS:
            raise ValueError("interval must be one of %s, got %r"
                             % (", ".join(INTERVALS), interval))
        start = day_start(self.since.date())
        if interval == "week":
            start -= dt.timedelta(days=start.weekday())
            step = dt.timedelta(days=7)
        else:
            step = DAY
        result = []
        while start < self.until:
            end = start + step
            result.append(Window(max(start, self.since), min(end, self.until)))
            start = end
        return result
