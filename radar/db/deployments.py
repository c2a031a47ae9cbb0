"""Database API for deployments: `deployment_<verb>(conn_or_session, ...)`.

Both writers, the Kubernetes source in the daemon and the push API, go
through deployment_record(), so a rollout's history is kept the same way
whichever way it came in.
"""

import sqlalchemy as sa

from radar.common import timeutils
from radar.db import models

# Columns a writer may set; anything else is a programming error.
FIELDS = ("cluster", "namespace", "name", "service", "environment", "wave", "version",
          "images", "revision", "rollout_revision", "generation", "result", "message",
          "replicas", "updated_replicas", "ready_replicas", "available_replicas",
          "started_at", "finished_at", "url")
# A change of one of these is a step in the rollout's history.
PROGRESS = ("result", "updated_replicas", "available_replicas")


def deployment_record(conn, source, uid, values, at=None):
    """Insert or update deployment (source, uid); keep an event per progress step.

    Returns (id, old result or None for a new row, new result). Idempotent:
    recording the same values again changes nothing and adds no event.
    """
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError("unknown deployment fields: %s" % ", ".join(sorted(unknown)))
    at = at or timeutils.utcnow()
    if values.get("revision"):
        # Gerrit reports revisions in lower case; DORA's lead time matches on them.
        values = dict(values, revision=values["revision"].lower())
    table = models.Deployment.__table__
    row = conn.execute(sa.select(table).where(table.c.source == source,
                                              table.c.uid == uid)).mappings().first()
    if row is None:
        new = dict(values)
        new.setdefault("result", models.IN_PROGRESS)
        new.setdefault("started_at", at)
        ident = conn.execute(table.insert().values(
            source=source, uid=uid, created_at=at, updated_at=at, **new)).inserted_primary_key[0]
        _event(conn, ident, at, new)
        return ident, None, new["result"]
    changed = {k: v for k, v in values.items() if row[k] != v}
    if not changed:
        return row["id"], row["result"], row["result"]
    conn.execute(table.update().where(table.c.id == row["id"])
                 .values(updated_at=at, **changed))
    merged = dict(row)
    merged.update(changed)
    if any(k in changed for k in PROGRESS) or "message" in changed:
        _event(conn, row["id"], at, merged)
    return row["id"], row["result"], merged["result"]


def _event(conn, deployment_id, at, values):
    conn.execute(models.DeploymentEvent.__table__.insert().values(
        deployment_id=deployment_id, at=at, result=values["result"],
        updated_replicas=values.get("updated_replicas"),
        available_replicas=values.get("available_replicas"),
        message=values.get("message")))


# --- reading (the REST API; plain dicts, never ORM objects) ----------------------

T_DEPLOYMENTS = models.Deployment.__table__
T_EVENTS = models.DeploymentEvent.__table__
T_CHANGES = models.Change.__table__
T_PATCHSETS = models.PatchSet.__table__
T_PROJECTS = models.Project.__table__
T_SOURCES = models.Source.__table__

API_SOURCE = "api"
FINAL = (models.SUCCEEDED, models.FAILED, models.ROLLED_BACK, models.SUPERSEDED)
BAD = (models.FAILED, models.ROLLED_BACK)
# Rollout states (deployment_waves).
DONE, RUNNING, FAILED_STATE = "DONE", "RUNNING", "FAILED"


def _is_id(ident):
    return ident.isascii() and ident.isdigit() and len(ident) < 12


def _as_dict(row):
    item = dict(row)
    started, finished = item.get("started_at"), item.get("finished_at")
    item["duration_s"] = ((finished - started).total_seconds()
                          if started is not None and finished is not None else None)
    return item


def deployment_get(session, ident):
    """By radar's id (digits) or by a pushed deployment's own id (source "api")."""
    ident = str(ident)
    query = sa.select(T_DEPLOYMENTS)
    if _is_id(ident):
        query = query.where(T_DEPLOYMENTS.c.id == int(ident))
    else:
        query = query.where(T_DEPLOYMENTS.c.source == API_SOURCE, T_DEPLOYMENTS.c.uid == ident)
    row = session.execute(query).mappings().first()
    return _as_dict(row) if row is not None else None


def deployment_exists(session, source, uid):
    return session.execute(sa.select(T_DEPLOYMENTS.c.id).where(
        T_DEPLOYMENTS.c.source == source, T_DEPLOYMENTS.c.uid == uid)).first() is not None


def _filters(service=None, environment=None, wave=None, result=None, version=None,
             since=None, until=None):
    c = T_DEPLOYMENTS.c
    where = []
    for column, value in ((c.service, service), (c.environment, environment), (c.wave, wave),
                          (c.result, result), (c.version, version)):
        if value is not None:
            where.append(column == value)
    if since is not None:
        where.append(c.started_at >= since)
    if until is not None:
        where.append(c.started_at < until)
    return where


def deployment_list(session, limit, marker=None, **filters):
    """(total, page): newest first (started_at, then id, descending).

    `marker` is the id of the last item of the previous page; None if that
    deployment does not match the filters (the caller answers 400).
    """
    c = T_DEPLOYMENTS.c
    where = _filters(**filters)
    total = session.execute(sa.select(sa.func.count()).select_from(T_DEPLOYMENTS)
                            .where(*where)).scalar()
    query = sa.select(T_DEPLOYMENTS).where(*where)
    if marker is not None:
        last = session.execute(sa.select(c.started_at, c.id).where(
            c.id == marker, *where)).first()
        if last is None:
            return total, None
        query = query.where(sa.or_(c.started_at < last.started_at,
                                   sa.and_(c.started_at == last.started_at, c.id < last.id)))
    query = query.order_by(c.started_at.desc(), c.id.desc()).limit(limit)
    return total, [_as_dict(r) for r in session.execute(query).mappings()]


def deployment_history(session, deployment_id):
    """The deployment's recorded steps, oldest first."""
    rows = session.execute(sa.select(T_EVENTS).where(T_EVENTS.c.deployment_id == deployment_id)
                           .order_by(T_EVENTS.c.at, T_EVENTS.c.id)).mappings()
    return [{k: r[k] for k in ("at", "result", "updated_replicas", "available_replicas",
                               "message")} for r in rows]


# --- rollouts and waves -------------------------------------------------------------


def wave_key(wave_order):
    """Sort key of wave names: the configured order, then the others by name, None last."""
    position = {name.lower(): i for i, name in enumerate(wave_order)}

    def key(wave):
        if wave is None:
            return (2, 0, "")
        index = position.get(wave.lower())
        return (0, index, "") if index is not None else (1, 0, wave)
    return key


def rollout_key(row):
    """Deployments of one version of a service in one environment form a rollout;
    one without a version is a rollout on its own."""
    if row["version"] is None:
        return (row["service"], row["environment"], None, row["id"])
    return (row["service"], row["environment"], row["version"], None)


def group_rollouts(rows, wave_order):
    """Rollouts of deployment rows (dicts), oldest first.

    Per wave the latest deployment (by started_at, then id) stands for the
    wave: a wave deployed again, or superseded by a new generation of the
    same version, counts by its last attempt. State: DONE when every wave
    SUCCEEDED, FAILED when any FAILED or ROLLED_BACK, else RUNNING.
    finished_at: the last wave's finish when DONE; failed_at: the first
    failed wave's finish (its start if it has none) when FAILED.
    """
    groups = {}
    for row in rows:
        groups.setdefault(rollout_key(row), []).append(row)
    order = wave_key(wave_order)
    out = []
    for key, members in groups.items():
        latest = {}
        for row in sorted(members, key=lambda r: (r["started_at"], r["id"])):
            latest[row["wave"]] = row
        waves = [latest[w] for w in sorted(latest, key=order)]
        results = [w["result"] for w in waves]
        failed = [w for w in waves if w["result"] in BAD]
        if failed:
            state = FAILED_STATE
        elif all(r == models.SUCCEEDED for r in results):
            state = DONE
        else:
            state = RUNNING
        out.append({
            "service": key[0], "environment": key[1], "version": key[2], "state": state,
            # The first attempt, also when a later one replaced it.
            "started_at": min(r["started_at"] for r in members),
            "finished_at": (max(w["finished_at"] or w["started_at"] for w in waves)
                            if state == DONE else None),
            "failed_at": (min(w["finished_at"] or w["started_at"] for w in failed)
                          if failed else None),
            "revisions": sorted({w["revision"].lower() for w in waves if w["revision"]}),
            "waves": waves,
        })
    out.sort(key=lambda r: (r["started_at"], r["waves"][0]["id"]))
    return out


def deployment_waves(session, wave_order, service=None, environment=None, since=None,
                     until=None):
    """Rollouts that had a deployment started in [since, until), newest first.

    Every wave of such a rollout is shown, also waves started outside the window.
    """
    c = T_DEPLOYMENTS.c
    where = _filters(service=service, environment=environment, since=since, until=until)
    keys = session.execute(sa.select(c.service, c.environment, c.version, c.id)
                           .where(*where)).all()
    if not keys:
        return []
    versions = {(k.service, k.environment, k.version) for k in keys if k.version is not None}
    ids = {k.id for k in keys if k.version is None}
    rows = {}
    for chunk in _chunks(sorted(ids)):
        for r in session.execute(sa.select(T_DEPLOYMENTS).where(c.id.in_(chunk))).mappings():
            rows[r["id"]] = dict(r)
    by_service = {}
    for svc, _env, version in versions:
        by_service.setdefault(svc, set()).add(version)
    for svc, wanted in by_service.items():
        for chunk in _chunks(sorted(wanted)):
            query = sa.select(T_DEPLOYMENTS).where(c.service == svc, c.version.in_(chunk))
            for r in session.execute(query).mappings():
                if (r["service"], r["environment"], r["version"]) in versions:
                    rows[r["id"]] = dict(r)
    rollouts = group_rollouts(rows.values(), wave_order)
    rollouts.reverse()
    return rollouts


def _chunks(items, size=500):
    for i in range(0, len(items), size):
        yield items[i:i + size]


# --- DORA inputs ---------------------------------------------------------------------


def deployment_environments(session, environments):
    """The stored spellings of `environments` (compared in any case).

    Callers then filter on environment IN these: lower(environment) in the
    WHERE clause would keep MariaDB from using the (service, environment,
    started_at) index.
    """
    wanted = {e.lower() for e in environments}
    stored = session.execute(sa.select(T_DEPLOYMENTS.c.environment).distinct()).scalars()
    return [e for e in stored if e and e.lower() in wanted]


def deployment_production_rows(session, environments, service=None, since=None):
    """Deployments in these environments (stored spellings: see
    deployment_environments) started or finished at or after `since` (every
    one when None), plus unfinished ones."""
    c = T_DEPLOYMENTS.c
    where = [c.environment.in_(environments)]
    if service is not None:
        where.append(c.service == service)
    if since is not None:
        where.append(sa.or_(c.started_at >= since, c.finished_at >= since,
                            c.finished_at.is_(None)))
    return [dict(r) for r in session.execute(sa.select(T_DEPLOYMENTS).where(*where))
            .mappings()]


def deployment_rows_with_revisions(session, environments, revisions, service=None):
    """Deployments in these environments (stored spellings) that deployed one
    of these revisions, with the other waves of their versions (any time)."""
    c = T_DEPLOYMENTS.c
    in_environments = c.environment.in_(environments)
    rows = {}
    # Revisions are stored in lower case (deployment_record), so the index serves.
    for chunk in _chunks(sorted(revisions)):
        where = [in_environments, c.revision.in_(chunk)]
        if service is not None:
            where.append(c.service == service)
        for r in session.execute(sa.select(T_DEPLOYMENTS).where(*where)).mappings():
            rows[r["id"]] = dict(r)
    versions = {}
    for r in rows.values():
        if r["version"]:
            versions.setdefault(r["service"], set()).add(r["version"])
    # One query per service and chunk of versions, not per version.
    for svc, names in versions.items():
        for chunk in _chunks(sorted(names)):
            query = sa.select(T_DEPLOYMENTS).where(in_environments, c.service == svc,
                                                    c.version.in_(chunk))
            for r in session.execute(query).mappings():
                rows[r["id"]] = dict(r)
    return list(rows.values())


def merged_changes_by_revision(session, revisions):
    """{revision: [change]} for merged changes whose current (highest-numbered)
    patch set has that revision; change = {source, number, project, subject,
    merged_at}. Revisions are compared in lower case (Gerrit's form)."""
    ps, ch = T_PATCHSETS.c, T_CHANGES.c
    found = {}
    for chunk in _chunks(sorted({r.lower() for r in revisions if r})):
        query = (sa.select(ps.change_id, ps.number, ps.revision, ch.number.label("change"),
                           ch.merged_at, ch.subject, T_PROJECTS.c.name.label("project"),
                           T_SOURCES.c.name.label("source"))
                 .join(T_CHANGES, T_CHANGES.c.id == ps.change_id)
                 .join(T_PROJECTS, T_PROJECTS.c.id == ch.project_id)
                 .join(T_SOURCES, T_SOURCES.c.id == ch.source_id)
                 .where(ps.revision.in_(chunk), ch.merged_at.is_not(None)))
        for r in session.execute(query):
            found[(r.change_id, r.number)] = r
    if not found:
        return {}
    change_ids = sorted({k[0] for k in found})
    current = {}
    for chunk in _chunks(change_ids):
        for r in session.execute(sa.select(ps.change_id, sa.func.max(ps.number))
                                 .where(ps.change_id.in_(chunk)).group_by(ps.change_id)):
            current[r[0]] = r[1]
    out = {}
    for (change_id, number), r in found.items():
        if current.get(change_id) != number:
            continue
        out.setdefault(r.revision.lower(), []).append({
            "source": r.source, "number": r.change, "project": r.project,
            "subject": r.subject, "merged_at": r.merged_at})
    return out


# --- metrics --------------------------------------------------------------------------


def deployment_totals(session, since):
    """[(service, environment, wave, result, count)] of finished deployments
    (all time) of the services that started a deployment at or after `since`."""
    c = T_DEPLOYMENTS.c
    recent = sa.select(c.service).where(c.started_at >= since).distinct().subquery()
    query = (sa.select(c.service, c.environment, c.wave, c.result, sa.func.count())
             .where(c.service.in_(sa.select(recent.c.service)),
                    c.result != models.IN_PROGRESS)
             .group_by(c.service, c.environment, c.wave, c.result)
             .order_by(c.service, c.environment, c.wave, c.result))
    return [tuple(r) for r in session.execute(query)]
