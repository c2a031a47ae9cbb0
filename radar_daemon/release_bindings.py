"""CI jobs that move release tasks ([releases] bindings), after each ingest batch.

For every report of a bound CI system that is new since the last run (a
per-source watermark on ci_reports.id in WatchState), each job line whose
name matches a binding's job regex, on a change whose branch matches its
branch regex, moves the bound task of the release the branch names:
SUCCESS -> PASS, a failing result -> FAIL (IN_PROGRESS cannot be seen in
Gerrit reports). Several matching lines in one report: FAIL if any failed.

Idempotent across restarts and re-derived reports (ingest rebuilds a patch
set's reports under new ids): the watermark moves in the same transaction
as the tasks, and a report no later than the task's latest transition, or
older than the release, is not applied again. Actor: "ci:<system>".
"""

import collections
import datetime as dt
import logging
import re

import sqlalchemy as sa

from radar.common import exception, timeutils
from radar.conf import releases as releases_conf
from radar.db import models
from radar.db import releases as db_releases

LOG = logging.getLogger(__name__)

T_CHANGES = models.Change.__table__
T_JOBS = models.CiJobResult.__table__
T_PATCHSETS = models.PatchSet.__table__
T_REPORTS = models.CiReport.__table__
T_SYSTEMS = models.CiSystem.__table__
T_WATCH = models.WatchState.__table__

PASSED = frozenset(("SUCCESS",))
# Cancelled, skipped or never run: says nothing about the release.
IGNORED = frozenset(("SKIPPED", "ABORTED", "CANCELED", "NOT_REGISTERED", "NOT_BUILT"))
_DOTTED = re.compile(r"\d+(?:\.\d+)+")


def task_status(job_result):
    """The task status a job result means, or None when it means nothing."""
    result = (job_result or "").upper()
    if result in PASSED:
        return models.PASS
    if result in IGNORED or not result:
        return None
    return models.FAIL


def release_keys(binding, branch):
    """(version, product) the branch names for this binding, or None.

    A named group 'version' or 'product' of the branch regex; else the first
    dotted number in the branch, tried as a version, then as a product.
    """
    branch = branch or ""
    if binding.branch is not None:
        found = binding.branch.search(branch)
        if found is None:
            return None
        groups = found.groupdict()
        if groups.get("version") or groups.get("product"):
            return groups.get("version"), groups.get("product")
    dotted = _DOTTED.search(branch)
    if dotted is None:
        return None
    return dotted.group(0), dotted.group(0)


def _subject(source_id):
    return "release-bindings:source:%d" % source_id


def _watermark(conn, source_id):
    row = conn.execute(sa.select(T_WATCH.c.state).where(
        T_WATCH.c.subject == _subject(source_id))).first()
    return int(row.state) if row is not None else 0


def _set_watermark(conn, source_id, report_id, existed, now):
    values = {"state": str(report_id), "since": now}
    if existed:
        conn.execute(T_WATCH.update().where(T_WATCH.c.subject == _subject(source_id))
                     .values(**values))
    else:
        conn.execute(T_WATCH.insert().values(subject=_subject(source_id), **values))


def apply(conf, engine, source_id, bindings=None, now=None):
    """Apply the bindings to the source's new reports; returns the tasks moved."""
    bindings = releases_conf.bindings(conf) if bindings is None else bindings
    if not bindings:
        return 0
    now = now or timeutils.utcnow()
    with engine.begin() as conn:
        existed = conn.execute(sa.select(T_WATCH.c.subject).where(
            T_WATCH.c.subject == _subject(source_id))).first() is not None
        mark = _watermark(conn, source_id)
        top = conn.execute(sa.select(sa.func.max(T_REPORTS.c.id))
                           .join(T_CHANGES, T_CHANGES.c.id == T_REPORTS.c.change_id)
                           .where(T_CHANGES.c.source_id == source_id)).scalar()
        if top is None or top <= mark:
            return 0
        systems = {r.name: r.id for r in conn.execute(
            sa.select(T_SYSTEMS.c.id, T_SYSTEMS.c.name).where(
                T_SYSTEMS.c.name.in_({b.system.lower() for b in bindings})))}
        moved = 0
        if systems:
            moved = _apply_range(conn, bindings, systems, source_id, mark, top, now)
        _set_watermark(conn, source_id, top, existed, now)
    return moved


def _apply_range(conn, bindings, systems, source_id, low, high, now):
    rows = conn.execute(
        sa.select(T_REPORTS.c.id.label("report_id"), T_REPORTS.c.reported_at,
                  T_REPORTS.c.ci_system_id, T_CHANGES.c.branch,
                  T_CHANGES.c.number.label("change"), T_PATCHSETS.c.number.label("patchset"),
                  T_JOBS.c.name, T_JOBS.c.result, T_JOBS.c.duration_s, T_JOBS.c.url)
        .join(T_JOBS, T_JOBS.c.report_id == T_REPORTS.c.id)
        .join(T_CHANGES, T_CHANGES.c.id == T_REPORTS.c.change_id)
        .join(T_PATCHSETS, T_PATCHSETS.c.id == T_REPORTS.c.patchset_id)
        .where(T_CHANGES.c.source_id == source_id, T_REPORTS.c.id > low,
               T_REPORTS.c.id <= high, T_REPORTS.c.ci_system_id.in_(systems.values()))
        .order_by(T_REPORTS.c.reported_at, T_REPORTS.c.id, T_JOBS.c.position)).mappings()
    names = {ident: name for name, ident in systems.items()}
    # (report, task, release keys) -> the matching job lines, in report order.
    moves = collections.OrderedDict()
    for row in rows:
        system = names[row["ci_system_id"]]
        for binding in bindings:
            if binding.system.lower() != system or not binding.job.search(row["name"]):
                continue
            status = task_status(row["result"])
            keys = release_keys(binding, row["branch"])
            if status is None or keys is None:
                continue
            moves.setdefault((row["report_id"], binding.task, keys), []).append((row, status))
    moved = 0
    for (_report, task, keys), lines in moves.items():
        if _move(conn, task, keys, lines, names, now):
            moved += 1
    return moved


def _move(conn, task, keys, lines, names, now):
    first = lines[0][0]
    status = models.FAIL if any(s == models.FAIL for _, s in lines) else models.PASS
    row = next(r for r, s in lines if s == status)
    release = db_releases.release_for_branch(conn, version=keys[0], product=keys[1])
    at = first["reported_at"]
    if release is None or at < release["created_at"]:
        return False
    last = db_releases.release_task_last_at(conn, release["id"], task)
    if last is not None and at <= last:
        return False
    # The job's start, when the report says how long it ran.
    started = None
    if row["duration_s"] is not None:
        started = at - dt.timedelta(seconds=row["duration_s"])
    system = names[row["ci_system_id"]]
    message = "%s: %s on change %s,%s (%s)" % (row["name"], row["result"], row["change"],
                                               row["patchset"], row["branch"])
    try:
        outcome = db_releases.release_task_set(
            conn, release["version"], task, status, at=at, url=row["url"],
            message=message[:2048], actor="ci:%s" % system, started_at=started, now=now)
    except (exception.Conflict, exception.Invalid, exception.NotFound) as exc:
        LOG.info("release %s task %s: %s not applied: %s", release["version"], task,
                 message, exc)
        return False
    if outcome["changed"]:
        LOG.info("release %s task %s: %s -> %s by ci:%s", release["version"], task,
                 outcome["from_status"], status, system)
    return outcome["changed"]
