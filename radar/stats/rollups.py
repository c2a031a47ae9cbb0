"""Daily rollups per (CI system, project, UTC day), recomputed from ci_reports.

A rollup row is always a pure function of the reports of its key, so
rebuilding any set of keys is idempotent and exact. Latencies are kept as
sorted lists, so percentiles over any set of days stay exact.
"""

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa

from radar.db import models

T_REPORTS = models.CiReport.__table__
T_ROLLUPS = models.DailyRollup.__table__

_COUNTERS = {
    models.SUCCESS: "successes",
    models.FAILURE: "failures",
    models.MERGE_FAILED: "merge_failures",
    models.CANCELED: "canceled",
    models.UNKNOWN: "unknown",
}


def _day_bounds(day):
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
    return start, start + dt.timedelta(days=1)


def rebuild(conn, keys):
    """Recompute the rollup rows of `keys`: {(system_id, project_id, date)}."""
    keys = set(keys)
    if not keys:
        return
    by_pair = defaultdict(set)
    for system_id, project_id, day in keys:
        by_pair[(system_id, project_id)].add(day)
    rows = {key: _empty(key) for key in keys}
    # One query per (system, project) pair covering its span of days.
    for (system_id, project_id), days in by_pair.items():
        start, _ = _day_bounds(min(days))
        _, end = _day_bounds(max(days))
        for r in conn.execute(
                sa.select(T_REPORTS.c.result, T_REPORTS.c.reported_at, T_REPORTS.c.attempt,
                          T_REPORTS.c.recheck_id, T_REPORTS.c.latency_s)
                .where(T_REPORTS.c.ci_system_id == system_id,
                       T_REPORTS.c.project_id == project_id,
                       T_REPORTS.c.reported_at >= start,
                       T_REPORTS.c.reported_at < end)):
            row = rows.get((system_id, project_id, r.reported_at.date()))
            if row is None:
                continue
            row["reports"] += 1
            row[_COUNTERS.get(r.result, "unknown")] += 1
            if r.recheck_id is not None:
                row["retries"] += 1
                if r.latency_s is not None:
                    row["retry_latencies"].append(r.latency_s)
            elif r.latency_s is not None:
                row["latencies"].append(r.latency_s)
            if row["last_report_at"] is None or r.reported_at > row["last_report_at"]:
                row["last_report_at"] = r.reported_at
    for system_id, project_id, day in keys:
        conn.execute(T_ROLLUPS.delete().where(T_ROLLUPS.c.ci_system_id == system_id,
                                              T_ROLLUPS.c.project_id == project_id,
                                              T_ROLLUPS.c.day == day))
    inserts = []
    for row in rows.values():
        if row["reports"]:
            row["latencies"].sort()
            row["retry_latencies"].sort()
            inserts.append(row)
    if inserts:
        conn.execute(T_ROLLUPS.insert(), inserts)


def rebuild_all(conn):
    """Recompute every rollup (after a reparse)."""
    conn.execute(T_ROLLUPS.delete())
    keys = set()
    for r in conn.execute(sa.select(T_REPORTS.c.ci_system_id, T_REPORTS.c.project_id,
                                    T_REPORTS.c.reported_at)):
        keys.add((r.ci_system_id, r.project_id, r.reported_at.date()))
    rebuild(conn, keys)


def _empty(key):
    system_id, project_id, day = key
    return {"ci_system_id": system_id, "project_id": project_id, "day": day,
            "reports": 0, "successes": 0, "failures": 0, "merge_failures": 0,
            "canceled": 0, "unknown": 0, "retries": 0, "latencies": [],
            "retry_latencies": [], "last_report_at": None}
