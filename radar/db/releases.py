"""Database API for releases: `release_<verb>(session, ...)`, plain dicts out.

A release's tasks are created from the workflow when the release is; every
task transition is kept as a ReleaseTaskEvent, and the release row holds
its status (GREEN/RED), done and shipped_at, updated in the same
transaction as the task, so lists and the heatmap need no aggregation.
"""

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from radar.common import exception, timeutils
from radar.db import models
from radar.stats import releases as release_stats

T_RELEASES = models.Release.__table__
T_TASKS = models.ReleaseTask.__table__
T_EVENTS = models.ReleaseTaskEvent.__table__

# Columns of PUT /v1/releases/{version}.
RELEASE_FIELDS = ("product", "flow_type", "target_date", "jira_url", "advisories", "builds",
                  "shipment")
TASK_COLUMNS = (T_TASKS.c.release_id, T_TASKS.c.name, T_TASKS.c.position, T_TASKS.c.status,
                T_TASKS.c.started_at, T_TASKS.c.finished_at, T_TASKS.c.url,
                T_TASKS.c.message)
FINISHED = (models.PASS, models.FAIL)


def default_product(version):
    """'4.19.1' -> '4.19': the version's first two dotted parts."""
    return ".".join(version.split(".")[:2])


def _release_dict(row):
    d = dict(row)
    d["shipped"] = d["shipped_at"] is not None
    return d


def _task_dict(row):
    d = dict(row)
    d.pop("release_id", None)
    d["duration_s"] = release_stats.duration_s(d["started_at"], d["finished_at"])
    return d


def _tasks_of(session, release_ids):
    """{release id: [task dicts in workflow order]} in one query per 500 releases."""
    out = {rid: [] for rid in release_ids}
    ids = list(release_ids)
    for start in range(0, len(ids), 500):
        rows = session.execute(sa.select(*TASK_COLUMNS)
                               .where(T_TASKS.c.release_id.in_(ids[start:start + 500]))
                               .order_by(T_TASKS.c.release_id, T_TASKS.c.position)).mappings()
        for r in rows:
            out[r["release_id"]].append(_task_dict(r))
    return out


def _row(session, version, for_update=False):
    query = sa.select(T_RELEASES).where(T_RELEASES.c.version == version)
    if for_update:
        query = query.with_for_update()
    return session.execute(query).mappings().first()


def release_get(session, version, history=True):
    """The release with its tasks (and history, oldest first), or None."""
    row = _row(session, version)
    if row is None:
        return None
    release = _release_dict(row)
    release["tasks"] = _tasks_of(session, [row["id"]])[row["id"]]
    if history:
        rows = session.execute(
            sa.select(T_TASKS.c.name.label("task"), T_EVENTS.c.from_status, T_EVENTS.c.status,
                      T_EVENTS.c.at, T_EVENTS.c.url, T_EVENTS.c.message, T_EVENTS.c.actor)
            .join(T_TASKS, T_TASKS.c.id == T_EVENTS.c.task_id)
            .where(T_TASKS.c.release_id == row["id"])
            .order_by(T_EVENTS.c.at, T_EVENTS.c.id)).mappings()
        release["history"] = [dict(r) for r in rows]
    return release


def release_list(session, product=None, status=None, done=None, since=None, limit=100,
                 marker=None):
    """(releases newest first with their tasks, total matching), or (None, total)
    when `marker` (the version of the previous page's last release) is unknown.

    Two queries for the page whatever its size: the releases, then their tasks.
    """
    conds = []
    if product is not None:
        conds.append(T_RELEASES.c.product == product)
    if status is not None:
        conds.append(T_RELEASES.c.status == status)
    if done is not None:
        conds.append(T_RELEASES.c.done == done)
    if since is not None:
        conds.append(T_RELEASES.c.created_at >= since)
    total = session.execute(sa.select(sa.func.count()).select_from(T_RELEASES)
                            .where(*conds)).scalar_one()
    query = sa.select(T_RELEASES).where(*conds)
    if marker is not None:
        mark = session.execute(sa.select(T_RELEASES.c.created_at, T_RELEASES.c.id)
                               .where(T_RELEASES.c.version == marker)).first()
        if mark is None:
            return None, total
        query = query.where(sa.or_(
            T_RELEASES.c.created_at < mark.created_at,
            sa.and_(T_RELEASES.c.created_at == mark.created_at, T_RELEASES.c.id < mark.id)))
    query = query.order_by(T_RELEASES.c.created_at.desc(), T_RELEASES.c.id.desc()).limit(limit)
    releases = [_release_dict(r) for r in session.execute(query).mappings()]
    tasks = _tasks_of(session, [r["id"] for r in releases])
    for release in releases:
        release["tasks"] = tasks[release["id"]]
    return releases, total


def release_put(session, version, values, workflow, now=None):
    """Create or update release `version`; returns (release dict, created).

    `values` holds only the fields given (RELEASE_FIELDS). A new release
    gets the `workflow` tasks NOT_STARTED; an existing one keeps its tasks.
    shipped_at is set when shipment.shipped turns true, cleared when false.
    """
    unknown = set(values) - set(RELEASE_FIELDS)
    if unknown:
        raise ValueError("unknown release fields: %s" % ", ".join(sorted(unknown)))
    now = now or timeutils.utcnow()
    values = dict(values)
    row = _row(session, version, for_update=True)
    shipment = values.get("shipment")
    if "shipment" in values:
        shipped = bool(shipment and shipment.get("shipped"))
        if not shipped:
            values["shipped_at"] = None
        elif row is None or row["shipped_at"] is None:
            values["shipped_at"] = now
    if row is None:
        if not values.get("product"):
            values["product"] = default_product(version)
        try:
            with session.begin_nested():
                rid = session.execute(T_RELEASES.insert().values(
                    version=version, status=release_stats.GREEN, done=False, created_at=now,
                    updated_at=now, **values)).inserted_primary_key[0]
                session.execute(T_TASKS.insert(), [
                    {"release_id": rid, "name": name, "position": i,
                     "status": models.NOT_STARTED, "updated_at": now}
                    for i, name in enumerate(workflow)])
        except sa_exc.IntegrityError:
            # Another writer created it between our read and our insert.
            raise exception.Conflict("Release %r was created concurrently; retry"
                                     % version[:64]) from None
        return release_get(session, version), True
    if "product" in values and not values["product"]:
        values["product"] = default_product(version)
    changed = {k: v for k, v in values.items() if row[k] != v}
    if changed:
        session.execute(T_RELEASES.update().where(T_RELEASES.c.id == row["id"])
                        .values(updated_at=now, **changed))
    return release_get(session, version), False


def release_task_set(session, version, task, status, at=None, url=None, message=None,
                     actor=None, started_at=None, now=None):
    """Move a task; returns a dict describing what happened.

    Rules: repeating the current status changes nothing (changed False);
    PASS is final (anything else after it is a Conflict); entering
    IN_PROGRESS from NOT_STARTED starts the task at `at`; PASS and FAIL
    finish it at `at` (`started_at`, e.g. a CI job's start, fills a start
    never recorded); NOT_STARTED resets both; FAIL -> IN_PROGRESS keeps
    the first start (a task's duration includes its retries). The
    release's status and done follow in the same transaction.
    """
    if status not in models.TASK_STATES:
        raise exception.Invalid("Unknown task status %r" % str(status)[:40])
    now = now or timeutils.utcnow()
    at = at or now
    release = _row(session, version, for_update=True)
    if release is None:
        raise exception.NotFound("Release %r not found" % version[:64])
    row = session.execute(sa.select(T_TASKS).where(T_TASKS.c.release_id == release["id"],
                                                    T_TASKS.c.name == task)
                          .with_for_update()).mappings().first()
    if row is None:
        raise exception.NotFound("Release %s has no task %r" % (version[:64], task[:64]))
    old = row["status"]
    outcome = {"release_id": release["id"], "version": version, "product": release["product"],
               "task": task, "from_status": old, "status": status, "changed": False,
               "release_status_before": release["status"], "release_status": release["status"],
               "done_before": release["done"], "done": release["done"]}
    if status == old:
        return outcome
    if old == models.PASS:
        raise exception.Conflict("Task %s of release %s already passed; PASS is final"
                                 % (task[:64], version[:64]))
    start, finish = row["started_at"], row["finished_at"]
    if status == models.NOT_STARTED:
        start = finish = None
    elif status == models.IN_PROGRESS:
        finish = None
        if old == models.NOT_STARTED or start is None:
            start = at
    else:
        finish = at
        if start is None and started_at is not None:
            start = min(started_at, at)
        if start is not None and finish < start:
            raise exception.Invalid("Invalid value for argument 'at': %s is before the task "
                                    "started (%s)" % (timeutils.isoformat(at),
                                                      timeutils.isoformat(start)))
    # The row shows the latest transition: its link and message, or none.
    changes = {"status": status, "started_at": start, "finished_at": finish, "url": url,
               "message": message, "updated_at": now}
    session.execute(T_TASKS.update().where(T_TASKS.c.id == row["id"]).values(**changes))
    session.execute(T_EVENTS.insert().values(task_id=row["id"], from_status=old, status=status,
                                             at=at, url=url, message=message, actor=actor))
    statuses = session.execute(sa.select(T_TASKS.c.status)
                               .where(T_TASKS.c.release_id == release["id"])).scalars().all()
    new_status, done = release_stats.release_status(statuses)
    session.execute(T_RELEASES.update().where(T_RELEASES.c.id == release["id"])
                    .values(status=new_status, done=done, updated_at=now))
    outcome.update(changed=True, release_status=new_status, done=done)
    return outcome


def release_task_last_at(session, release_id, task):
    """Time of the task's latest transition (None if it never moved)."""
    return session.execute(
        sa.select(sa.func.max(T_EVENTS.c.at))
        .join(T_TASKS, T_TASKS.c.id == T_EVENTS.c.task_id)
        .where(T_TASKS.c.release_id == release_id, T_TASKS.c.name == task)).scalar()


def release_for_branch(session, version=None, product=None):
    """The release a CI report is about: exactly `version`, else `product`'s
    newest release not done; None when there is none."""
    if version is not None:
        row = _row(session, version)
        if row is not None or product is None:
            return dict(row) if row is not None else None
    if product is None:
        return None
    row = session.execute(
        sa.select(T_RELEASES).where(T_RELEASES.c.product == product,
                                    T_RELEASES.c.done == sa.false())
        .order_by(T_RELEASES.c.created_at.desc(), T_RELEASES.c.id.desc()).limit(1)
    ).mappings().first()
    return dict(row) if row is not None else None


def release_task_stats(session, product=None, since=None, until=None):
    """Per task statistics over releases created in [since, until) (radar.stats.releases)."""
    conds = []
    if product is not None:
        conds.append(T_RELEASES.c.product == product)
    if since is not None:
        conds.append(T_RELEASES.c.created_at >= since)
    if until is not None:
        conds.append(T_RELEASES.c.created_at < until)
    ever = (sa.select(T_EVENTS.c.task_id,
                      sa.func.max(sa.case((T_EVENTS.c.status == models.FAIL, 1), else_=0))
                      .label("ever_failed"),
                      sa.func.max(sa.case((T_EVENTS.c.status.in_(FINISHED), 1), else_=0))
                      .label("ever_finished"))
            .group_by(T_EVENTS.c.task_id).subquery())
    rows = session.execute(
        sa.select(T_TASKS.c.name, T_TASKS.c.position, T_TASKS.c.status, T_TASKS.c.started_at,
                  T_TASKS.c.finished_at, ever.c.ever_failed, ever.c.ever_finished)
        .join(T_RELEASES, T_RELEASES.c.id == T_TASKS.c.release_id)
        .outerjoin(ever, ever.c.task_id == T_TASKS.c.id)
        .where(*conds)).mappings()
    return release_stats.task_stats(
        dict(r, ever_failed=bool(r["ever_failed"]), ever_finished=bool(r["ever_finished"]))
        for r in rows)


def release_task_states(session, updated_since):
    """[(version, task, status)] of releases not done or updated since then (metrics)."""
    rows = session.execute(
        sa.select(T_RELEASES.c.version, T_TASKS.c.name, T_TASKS.c.status)
        .join(T_TASKS, T_TASKS.c.release_id == T_RELEASES.c.id)
        .where(sa.or_(T_RELEASES.c.done == sa.false(), T_RELEASES.c.updated_at >= updated_since))
        .order_by(T_RELEASES.c.version, T_TASKS.c.position))
    return [tuple(r) for r in rows]


def release_counts(session):
    """[(status, done, count)] over every release (metrics)."""
    rows = session.execute(
        sa.select(T_RELEASES.c.status, T_RELEASES.c.done, sa.func.count())
        .group_by(T_RELEASES.c.status, T_RELEASES.c.done))
    return [(r[0], bool(r[1]), int(r[2])) for r in rows]


def recent_cutoff(days=30, now=None):
    return (now or timeutils.utcnow()) - dt.timedelta(days=days)
