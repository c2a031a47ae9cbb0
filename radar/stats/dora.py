"""DORA metrics over production rollouts (doc/source/deployments.rst).

Definitions follow Apache DevLake's DORA dashboard with the 2023 benchmarks
(DESIGN.md §5); radar has no incidents, so failures are deployments that
FAILED or were ROLLED_BACK. The exact rules:

* A **deployment** is a rollout (radar.db.deployments.group_rollouts): the
  waves of one version of a service in one environment count once, as
  DevLake counts the records of one pipeline once. A rollout SUCCEEDED when
  every wave did (at its last wave's finish) and FAILED when a wave FAILED
  or was ROLLED_BACK (at that wave's finish); running ones are not counted.
  Production: the environments of `[dora] production_environments`, or the
  one environment the request names.
* **Deployment frequency**: the window's whole UTC days, cut into weeks of 7
  days counted back from its end (older left-over days are ignored); a
  deployment day has at least one successful rollout finished that day;
  value = the median week's deployment days. ELITE >= 5, HIGH >= 1; below
  that the median of 30-day periods decides: MEDIUM >= 1, LOW < 1.
* **Lead time for changes**: a merged Gerrit change is carried by a
  rollout when the rollout deployed the revision of the change's current
  (highest-numbered) patch set; its lead time is from the change's merge to
  the end of the first successful rollout of that service that carried it
  and finished at or after the merge, counted in the window of that first
  rollout. Median; ELITE < 1 day, HIGH < 1 week, MEDIUM < 30 days, else LOW.
* **Change failure rate**: failed / (failed + successful) rollouts that
  ended in the window; ELITE <= 5 %, HIGH <= 10 %, MEDIUM <= 15 %, else LOW.
* **Failed deployment recovery time**: for each failed rollout in the
  window, until the end of the next successful rollout of the same service
  and environment; median; ELITE < 1 hour, HIGH < 1 day, MEDIUM < 1 week,
  else LOW. Failures not yet followed by a success are left out (the note
  counts them).

The pure functions take rollout dicts and return metric dicts
{name, value, unit, count, tier, note}; dora_metrics() reads the database.
"""

import datetime as dt

from radar.db import deployments as db_deploy
from radar.stats import percentile

ELITE, HIGH, MEDIUM, LOW = "ELITE", "HIGH", "MEDIUM", "LOW"
DAY = dt.timedelta(days=1)
HOUR = 3600.0
DAY_S = 86400.0
# Rollouts whose waves began up to this long before the window are still
# grouped whole (a canary started before `since`, green finished inside).
GROUPING_MARGIN = dt.timedelta(days=30)


def _metric(name, unit, value=None, count=0, tier=None, note=None):
    return {"name": name, "value": value, "unit": unit, "count": count, "tier": tier,
            "note": note}


def _median(values):
    return percentile.percentile(sorted(values), 0.5)


def _in(when, since, until):
    return when is not None and since <= when < until


def _succeeded(rollouts):
    return [r for r in rollouts if r["state"] == db_deploy.DONE]


def _failed(rollouts):
    return [r for r in rollouts if r["state"] == db_deploy.FAILED_STATE]


def _whole_days(since, until):
    """First whole UTC day and the day after the last one of [since, until)."""
    first = since.date() if since.time() == dt.time(0) else since.date() + DAY
    return first, until.date()


def _periods(first, end, length):
    """Blocks of `length` days counted back from `end` (exclusive); whole only."""
    count = (end - first).days // length
    return [(end - dt.timedelta(days=length * (i + 1)), end - dt.timedelta(days=length * i))
            for i in range(count)]


def deployment_frequency(rollouts, since, until):
    name, unit = "deployment_frequency", "days/week"
    finished = [r for r in _succeeded(rollouts) if _in(r["finished_at"], since, until)]
    failed = [r for r in _failed(rollouts) if _in(r["failed_at"], since, until)]
    if not finished and not failed:
        return _metric(name, unit, note="no finished production deployment in the window")
    first, end = _whole_days(since, until)
    weeks = _periods(first, end, 7)
    if not weeks:
        return _metric(name, unit, note="the window holds no whole week of UTC days")
    days = {r["finished_at"].date() for r in finished}
    per_week = [sum(1 for d in days if a <= d < b) for a, b in weeks]
    value = _median(per_week)
    count = sum(per_week)
    note = "median of %d weeks; %d deployment days" % (len(weeks), count)
    if value >= 5:
        tier = ELITE
    elif value >= 1:
        tier = HIGH
    else:
        months = _periods(first, end, 30)
        if not months:
            return _metric(name, unit, value, count, None,
                           note + "; fewer than one deployment day in the median week, and "
                                  "telling MEDIUM from LOW needs 30 whole days")
        per_month = [sum(1 for d in days if a <= d < b) for a, b in months]
        tier = MEDIUM if _median(per_month) >= 1 else LOW
        note += "; median of %d 30-day periods: %g" % (len(months), _median(per_month))
    return _metric(name, unit, value, count, tier, note)


def lead_times(rollouts, changes_by_revision, since, until):
    """[(change, service, first rollout end, seconds)] of changes whose first
    carrying rollout ended in the window."""
    first = {}
    for rollout in sorted(_succeeded(rollouts), key=lambda r: r["finished_at"]):
        for revision in rollout["revisions"]:
            for change in changes_by_revision.get(revision, ()):
                if change["merged_at"] > rollout["finished_at"]:
                    continue
                key = (rollout["service"], change["source"], change["number"])
                if key not in first:
                    first[key] = (change, rollout)
    out = []
    for (service, _, _), (change, rollout) in sorted(first.items(), key=lambda kv: kv[0]):
        if _in(rollout["finished_at"], since, until):
            seconds = (rollout["finished_at"] - change["merged_at"]).total_seconds()
            out.append((change, service, rollout["finished_at"], seconds))
    return out


def lead_time(rollouts, changes_by_revision, since, until):
    name, unit = "lead_time", "seconds"
    if not any(_in(r["finished_at"], since, until) for r in _succeeded(rollouts)):
        return _metric(name, unit, note="no successful production deployment in the window")
    matched = lead_times(rollouts, changes_by_revision, since, until)
    if not matched:
        return _metric(name, unit, note="no successful production deployment in the window "
                                        "deployed the current patch set revision of a "
                                        "merged Gerrit change for the first time")
    value = _median([m[3] for m in matched])
    if value < DAY_S:
        tier = ELITE
    elif value < 7 * DAY_S:
        tier = HIGH
    elif value < 30 * DAY_S:
        tier = MEDIUM
    else:
        tier = LOW
    return _metric(name, unit, value, len(matched), tier,
                   "median over %d merged changes matched by revision" % len(matched))


def change_failure_rate(rollouts, since, until, minimum):
    name, unit = "change_failure_rate", "ratio"
    good = sum(1 for r in _succeeded(rollouts) if _in(r["finished_at"], since, until))
    bad = sum(1 for r in _failed(rollouts) if _in(r["failed_at"], since, until))
    total = good + bad
    if total < minimum:
        return _metric(name, unit, count=total,
                       note="%d finished production deployments in the window; at least %d "
                            "are needed ([dora] min_deployments)" % (total, minimum))
    value = bad / total
    # Compared as fractions of whole numbers: 1/20 is exactly 5 %.
    if bad * 100 <= 5 * total:
        tier = ELITE
    elif bad * 100 <= 10 * total:
        tier = HIGH
    elif bad * 100 <= 15 * total:
        tier = MEDIUM
    else:
        tier = LOW
    return _metric(name, unit, value, total, tier,
                   "%d failed or rolled back of %d finished deployments" % (bad, total))


def recovery_times(rollouts, since, until):
    """([(failed rollout, seconds)], unrecovered count) for failures in the window."""
    successes = {}
    for r in _succeeded(rollouts):
        successes.setdefault((r["service"], r["environment"]), []).append(r["finished_at"])
    for ends in successes.values():
        ends.sort()
    recovered, open_ = [], 0
    for failure in sorted(_failed(rollouts), key=lambda r: r["failed_at"]):
        if not _in(failure["failed_at"], since, until):
            continue
        later = [t for t in successes.get((failure["service"], failure["environment"]), ())
                 if t > failure["failed_at"]]
        if later:
            recovered.append((failure, (later[0] - failure["failed_at"]).total_seconds()))
        else:
            open_ += 1
    return recovered, open_


def recovery_time(rollouts, since, until):
    name, unit = "recovery_time", "seconds"
    recovered, open_ = recovery_times(rollouts, since, until)
    if not recovered:
        if open_:
            note = ("%d failed production deployments in the window, none followed by a "
                    "successful one yet" % open_)
        else:
            note = "no failed production deployment in the window"
        return _metric(name, unit, note=note)
    value = _median([s for _, s in recovered])
    if value < HOUR:
        tier = ELITE
    elif value < DAY_S:
        tier = HIGH
    elif value < 7 * DAY_S:
        tier = MEDIUM
    else:
        tier = LOW
    note = "median over %d recovered failures" % len(recovered)
    if open_:
        note += "; %d not recovered yet (left out)" % open_
    return _metric(name, unit, value, len(recovered), tier, note)


def metrics(rollouts, changes_by_revision, since, until, min_deployments):
    return [deployment_frequency(rollouts, since, until),
            lead_time(rollouts, changes_by_revision, since, until),
            change_failure_rate(rollouts, since, until, min_deployments),
            recovery_time(rollouts, since, until)]


# --- reading the database -------------------------------------------------------------


def dora_metrics(session, conf, window, service=None, environment=None):
    """The four metrics for production (or `environment`) deployments of
    `service` (every service when None) over the window."""
    environments = db_deploy.deployment_environments(
        session, [environment] if environment else conf.dora.production_environments)
    rows = {r["id"]: r for r in db_deploy.deployment_production_rows(
        session, environments, service=service, since=window.since - GROUPING_MARGIN)}
    rollouts = db_deploy.group_rollouts(rows.values(), conf.dora.wave_order)
    deployed = set()
    for r in _succeeded(rollouts):
        if _in(r["finished_at"], window.since, window.until):
            deployed.update(r["revisions"])
    changes = db_deploy.merged_changes_by_revision(session, deployed) if deployed else {}
    if changes:
        # Earlier rollouts of the same revisions decide which one was first.
        for row in db_deploy.deployment_rows_with_revisions(session, environments,
                                                            set(changes), service=service):
            rows.setdefault(row["id"], row)
        rollouts = db_deploy.group_rollouts(rows.values(), conf.dora.wave_order)
    return metrics(rollouts, changes, window.since, window.until, conf.dora.min_deployments)
