"""Aware-UTC time helpers shared by every layer."""

import datetime as dt
import re

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


def utcnow():
    return dt.datetime.now(UTC)


def from_epoch(value):
    """Gerrit SSH/stream-events times: epoch seconds, int or numeric string."""
    return dt.datetime.fromtimestamp(int(value), UTC)


def to_epoch(value):
    return (value - EPOCH).total_seconds()


_GERRIT_TS = re.compile(r"^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?$")


def parse_gerrit(value):
    """Gerrit REST timestamp 'YYYY-MM-DD hh:mm:ss.fffffffff' (UTC, no zone)."""
    m = _GERRIT_TS.match(value.strip())
    if not m:
        raise ValueError("not a Gerrit timestamp: %r" % (value,))
    frac = (m.group(3) or "0")[:6].ljust(6, "0")
    return dt.datetime.fromisoformat("%sT%s.%s+00:00" % (m.group(1), m.group(2), frac))


def format_gerrit(value):
    """The form Gerrit's query language accepts in after:/before:."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_iso(value):
    """ISO-8601 date or time; naive input is UTC; returns aware UTC."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def isoformat(value):
    return None if value is None else value.astimezone(UTC).isoformat()


def as_utc(value):
    """Make a datetime aware UTC (naive values are taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
