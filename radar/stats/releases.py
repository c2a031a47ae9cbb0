"""Release status and task statistics (DESIGN.md section 5), pure functions.

* A release is RED when any task is FAIL, else GREEN; done when every task
  is PASS.
* Per task over a set of releases: `releases` that have the task;
  `finished`, those where it is PASS or FAIL now; the durations
  started_at -> finished_at of the finished ones whose start is known
  (median and p90 exact, radar.stats.percentile); `failures`, releases
  where it failed at least once (a FAIL in its history, even if it passed
  later); `failure_rate` = failures / releases where it came to an outcome
  (PASS or FAIL) at least once, None when none did.
"""

from radar.db.models import FAIL, PASS
from radar.stats import percentile

GREEN, RED = "GREEN", "RED"


def release_status(task_statuses):
    """(status, done) of a release from its tasks' statuses."""
    statuses = list(task_statuses)
    status = RED if FAIL in statuses else GREEN
    done = bool(statuses) and all(s == PASS for s in statuses)
    return status, done


def duration_s(started_at, finished_at):
    if started_at is None or finished_at is None:
        return None
    return (finished_at - started_at).total_seconds()


def task_stats(rows):
    """Statistics per task name, in workflow order.

    rows: dicts with name, position, status, started_at, finished_at,
    ever_failed (bool) and ever_finished (bool), one per (release, task).
    """
    by_name = {}
    for row in rows:
        entry = by_name.setdefault(row["name"], {
            "task": row["name"], "position": row["position"], "releases": 0,
            "finished": 0, "failures": 0, "_outcomes": 0, "_durations": []})
        entry["position"] = min(entry["position"], row["position"])
        entry["releases"] += 1
        if row["status"] in (PASS, FAIL):
            entry["finished"] += 1
            seconds = duration_s(row["started_at"], row["finished_at"])
            if seconds is not None:
                entry["_durations"].append(seconds)
        failed = row["ever_failed"] or row["status"] == FAIL
        if failed:
            entry["failures"] += 1
        if failed or row["ever_finished"] or row["status"] in (PASS, FAIL):
            entry["_outcomes"] += 1
    out = []
    for entry in sorted(by_name.values(), key=lambda e: (e["position"], e["task"])):
        durations = sorted(entry.pop("_durations"))
        outcomes = entry.pop("_outcomes")
        entry["median_duration_s"] = percentile.median(durations)
        entry["p90_duration_s"] = percentile.p90(durations)
        entry["failure_rate"] = entry["failures"] / outcomes if outcomes else None
        out.append(entry)
    return out
