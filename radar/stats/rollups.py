"""Daily rollups per (CI system, project, UTC day), recomputed from ci_reports.

A rollup row is a pure function of the reports of its key, so rebuilding
any set of keys is idempotent and exact. Latencies are kept as sorted lists
of the exact `ci_reports.latency_s` values, so percentiles over any set of
days are exact (a merge of the lists, see percentile.merge_sorted).

The same `accumulate` function builds rollup rows and the partial edge days
of a window that the statistics read straight from ci_reports, so both
sides count in exactly the same way.

Set-based: a batch of keys costs one SELECT of the reports of those days,
one DELETE and one multi-row INSERT, whatever the number of systems.
"""

import datetime as dt

import sqlalchemy as sa

from radar.db import models

T_REPORTS = models.CiReport.__table__
T_ROLLUPS = models.DailyRollup.__table__

COUNTERS = {
    models.SUCCESS: "successes",
    models.FAILURE: "failures",
    models.MERGE_FAILED: "merge_failures",
    models.CANCELED: "canceled",
    models.UNKNOWN: "unknown",
}
COUNT_COLUMNS = ("reports", "successes", "failures", "merge_failures", "canceled",
                 "unknown", "retries")
# Keys per batch: bounds statement size (IN lists) on both databases.
BATCH = 500

# The columns `accumulate` needs, in this order.
REPORT_COLUMNS = (T_REPORTS.c.result, T_REPORTS.c.reported_at, T_REPORTS.c.attempt,
                  T_REPORTS.c.recheck_id, T_REPORTS.c.latency_s)


def _day_bounds(day):
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def empty():
    """Counters of one rollup key (or one partial edge of a window)."""
    row = dict.fromkeys(COUNT_COLUMNS, 0)
    row.update(latencies=[], retry_latencies=[], last_report_at=None)
    return row


def accumulate(row, result, reported_at, attempt, recheck_id, latency_s):
    """Count one report into `row` (lists are left unsorted)."""
    row["reports"] += 1
    row[COUNTERS.get(result, "unknown")] += 1
    if recheck_id is not None:
        # A retry: its latency runs from the recheck, kept apart.
        row["retries"] += 1
        if latency_s is not None:
            row["retry_latencies"].append(latency_s)
    elif attempt == 1 and latency_s is not None:
        # The first report: latency since the patch set was created.
        row["latencies"].append(latency_s)
    if row["last_report_at"] is None or reported_at > row["last_report_at"]:
        row["last_report_at"] = reported_at


def _spans(days):
    """Sorted days -> [(start, end)] datetimes, consecutive days merged."""
    spans = []
    for day in sorted(days):
        start, end = _day_bounds(day)
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _time_filter(spans):
    return sa.or_(*[sa.and_(T_REPORTS.c.reported_at >= start, T_REPORTS.c.reported_at < end)
                    for start, end in spans])


def _aggregate(conn, where):
    rows = {}
    query = sa.select(T_REPORTS.c.ci_system_id, T_REPORTS.c.project_id,
                      *REPORT_COLUMNS).where(*where)
    for r in conn.execute(query):
        key = (r.ci_system_id, r.project_id, r.reported_at.date())
        row = rows.get(key)
        if row is None:
            row = rows[key] = empty()
        accumulate(row, r.result, r.reported_at, r.attempt, r.recheck_id, r.latency_s)
    return rows


def _insert(conn, rows):
    inserts = []
    for (system_id, project_id, day), row in rows.items():
        row["latencies"].sort()
        row["retry_latencies"].sort()
        inserts.append(dict(row, ci_system_id=system_id, project_id=project_id, day=day))
    if inserts:
        conn.execute(T_ROLLUPS.insert(), inserts)


def _rebuild_batch(conn, keys):
    # Recompute the product systems x projects x days of the batch: a
    # superset of the keys, each of its rows again a pure function of its
    # reports, so it stays exact, and three statements do the whole batch.
    systems = sorted({k[0] for k in keys})
    projects = sorted({k[1] for k in keys})
    days = sorted({k[2] for k in keys})
    rows = _aggregate(conn, [T_REPORTS.c.ci_system_id.in_(systems),
                             T_REPORTS.c.project_id.in_(projects),
                             _time_filter(_spans(days))])
    conn.execute(T_ROLLUPS.delete().where(T_ROLLUPS.c.ci_system_id.in_(systems),
                                          T_ROLLUPS.c.project_id.in_(projects),
                                          T_ROLLUPS.c.day.in_(days)))
    _insert(conn, rows)


def rebuild(conn, keys):
    """Recompute the rollup rows of `keys`: {(system_id, project_id, date)}.

    `conn` is a Connection or a Session; the caller owns the transaction.
    """
    keys = sorted(set(keys), key=lambda k: (k[2], k[0], k[1]))
    for i in range(0, len(keys), BATCH):
        _rebuild_batch(conn, keys[i:i + BATCH])


def rebuild_all(conn, chunk_days=31):
    """Recompute every rollup (after a reparse), a month of reports at a time."""
    conn.execute(T_ROLLUPS.delete())
    first, last = conn.execute(sa.select(sa.func.min(T_REPORTS.c.reported_at),
                                         sa.func.max(T_REPORTS.c.reported_at))).one()
    if first is None:
        return
    # Min/max come back untyped from some drivers: read them through the model type.
    first = _as_utc(first)
    last = _as_utc(last)
    start, _ = _day_bounds(first.date())
    _, stop = _day_bounds(last.date())
    step = dt.timedelta(days=chunk_days)
    while start < stop:
        end = min(start + step, stop)
        _insert(conn, _aggregate(conn, [T_REPORTS.c.reported_at >= start,
                                        T_REPORTS.c.reported_at < end]))
        start = end


def _as_utc(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def rebuild_rollups(session, keys=None):
    """Recompute ci_daily_rollups for `keys` ({(system_id, project_id, date)}), None = all."""
    if keys is None:
        rebuild_all(session)
    else:
        rebuild(session, keys)
