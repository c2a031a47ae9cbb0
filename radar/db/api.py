"""Database API: `<entity>_<verb>(session_or_connection, ...)` functions.

Bulk ingest SQL lives in radar_daemon.ingest; this module holds the small
lookups and state changes that several layers share.
"""

import datetime as dt

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from radar.common import timeutils
from radar.db import models

# --- sources and collector state (daemon) ---------------------------------


def source_get_or_create(conn, name, type_, url=None, web_url=None):
    """Return the id of source `name`, creating or updating its row."""
    table = models.Source.__table__
    row = conn.execute(sa.select(table.c.id, table.c.type, table.c.url, table.c.web_url)
                       .where(table.c.name == name)).first()
    if row is None:
        result = conn.execute(table.insert().values(
            name=name, type=type_, url=url, web_url=web_url, created_at=timeutils.utcnow()))
        return result.inserted_primary_key[0]
    changes = {}
    if url and row.url != url:
        changes["url"] = url
    if web_url and row.web_url != web_url:
        changes["web_url"] = web_url
    if changes:
        conn.execute(table.update().where(table.c.id == row.id).values(**changes))
    return row.id


def collector_state_get(conn, source_id):
    table = models.CollectorState.__table__
    row = conn.execute(sa.select(table).where(table.c.source_id == source_id)).mappings().first()
    if row is None:
        conn.execute(table.insert().values(source_id=source_id, cycles=0, failures=0,
                                           changes_seen=0, messages_stored=0,
                                           reports_stored=0, records_skipped=0))
        row = conn.execute(sa.select(table).where(table.c.source_id == source_id)).mappings().one()
    return dict(row)


def collector_state_update(conn, source_id, **values):
    """Set columns; `add_<column>=n` increments a counter instead."""
    table = models.CollectorState.__table__
    collector_state_get(conn, source_id)
    assignments = {}
    for key, value in values.items():
        if key.startswith("add_"):
            column = key[4:]
            assignments[column] = table.c[column] + value
        else:
            assignments[key] = value
    conn.execute(table.update().where(table.c.source_id == source_id).values(**assignments))


# --- leases ---------------------------------------------------------------


def lease_acquire(conn, name, holder, ttl_s, now=None):
    """Take or renew lease `name` for `holder`; False if another live holder has it.

    Atomic on both databases: an INSERT for a new lease, else one UPDATE
    guarded by "mine or expired", whose row count says who won.
    """
    now = now or timeutils.utcnow()
    expires = now + dt.timedelta(seconds=ttl_s)
    table = models.Lease.__table__
    try:
        with conn.begin_nested():
            conn.execute(table.insert().values(name=name, holder=holder,
                                               acquired_at=now, expires_at=expires))
        return True
    except sa_exc.IntegrityError:
        pass
    result = conn.execute(
        table.update()
        .where(table.c.name == name)
        .where(sa.or_(table.c.holder == holder, table.c.expires_at < now))
        .values(holder=holder, acquired_at=now, expires_at=expires))
    return result.rowcount == 1


def lease_release(conn, name, holder):
    table = models.Lease.__table__
    conn.execute(table.delete().where(table.c.name == name).where(table.c.holder == holder))


def lease_get(conn, name):
    table = models.Lease.__table__
    row = conn.execute(sa.select(table).where(table.c.name == name)).mappings().first()
    return dict(row) if row else None


# =============================================================================
# --- REST API (radar.api) ----------------------------------------------------
# Functions below take an ORM Session and return plain dicts, never ORM
# objects (the API builds its types from them while the session is open).
# =============================================================================

T_SYSTEMS = models.CiSystem.__table__
T_ACCOUNTS = models.Account.__table__
T_OPERATORS = models.Operator.__table__
T_SYSTEM_OPERATORS = models.SystemOperator.__table__
T_TOKENS = models.ApiToken.__table__
T_SOURCES = models.Source.__table__
T_STATE = models.CollectorState.__table__
T_PROJECTS = models.Project.__table__
T_CHANGES = models.Change.__table__
T_PATCHSETS = models.PatchSet.__table__
T_REPORTS = models.CiReport.__table__
T_JOBS = models.CiJobResult.__table__
T_RECHECKS = models.RecheckRequest.__table__
T_MESSAGES = models.Message.__table__
T_ROLLUPS = models.DailyRollup.__table__


def _is_id(ident):
    """ASCII digits only ('²'.isdigit() is True), small enough for an id column."""
    return ident.isascii() and ident.isdigit() and len(ident) < 12


def _conflict(what):
    from radar.common import exception
    return exception.Conflict(what)


def _not_found(what):
    from radar.common import exception
    return exception.NotFound(what)


# --- tokens ---------------------------------------------------------------------


def token_create(session, name, token_hash, scopes):
    result = session.execute(T_TOKENS.insert().values(
        name=name, token_hash=token_hash, scopes=sorted(set(scopes)),
        created_at=timeutils.utcnow()))
    return token_get(session, result.inserted_primary_key[0])


def token_get(session, token_id):
    row = session.execute(sa.select(T_TOKENS).where(T_TOKENS.c.id == token_id)).mappings().first()
    return dict(row) if row else None


def token_get_by_hash(session, token_hash):
    row = session.execute(sa.select(T_TOKENS).where(
        T_TOKENS.c.token_hash == token_hash)).mappings().first()
    return dict(row) if row else None


def token_list(session, include_revoked=True):
    query = sa.select(T_TOKENS).order_by(T_TOKENS.c.id)
    if not include_revoked:
        query = query.where(T_TOKENS.c.revoked_at.is_(None))
    return [dict(r) for r in session.execute(query).mappings()]


def token_revoke(session, ident):
    """Revoke by id or by name (every live token of that name); returns the count."""
    query = T_TOKENS.update().where(T_TOKENS.c.revoked_at.is_(None))
    if _is_id(str(ident)):
        query = query.where(T_TOKENS.c.id == int(ident))
    else:
        query = query.where(T_TOKENS.c.name == str(ident))
    return session.execute(query.values(revoked_at=timeutils.utcnow())).rowcount


def token_touch(session, token_id):
    session.execute(T_TOKENS.update().where(T_TOKENS.c.id == token_id)
                    .values(last_used_at=timeutils.utcnow()))


# --- CI systems -----------------------------------------------------------------


def system_get(session, ident):
    """A CI system by id (digits) or name (case-insensitive), or None."""
    query = sa.select(T_SYSTEMS)
    ident = str(ident)
    if _is_id(ident):
        query = query.where(sa.or_(T_SYSTEMS.c.id == int(ident),
                                   T_SYSTEMS.c.name == ident.lower()))
        rows = [dict(r) for r in session.execute(query).mappings()]
        rows.sort(key=lambda r: r["id"] != int(ident))
        return rows[0] if rows else None
    row = session.execute(query.where(T_SYSTEMS.c.name == ident.lower())).mappings().first()
    return dict(row) if row else None


def system_list(session):
    return [dict(r) for r in session.execute(
        sa.select(T_SYSTEMS).order_by(T_SYSTEMS.c.id)).mappings()]


def system_update(session, system_id, values):
    if values:
        values = dict(values, updated_at=timeutils.utcnow())
        session.execute(T_SYSTEMS.update().where(T_SYSTEMS.c.id == system_id).values(**values))
    return system_get(session, system_id)


def system_accounts(session, system_id):
    rows = session.execute(sa.select(T_ACCOUNTS.c.key).where(
        T_ACCOUNTS.c.ci_system_id == system_id).order_by(T_ACCOUNTS.c.key))
    return [r.key for r in rows]


def system_operators(session, system_id):
    rows = session.execute(
        sa.select(T_OPERATORS).join(
            T_SYSTEM_OPERATORS, T_SYSTEM_OPERATORS.c.operator_id == T_OPERATORS.c.id)
        .where(T_SYSTEM_OPERATORS.c.ci_system_id == system_id)
        .order_by(T_OPERATORS.c.name)).mappings()
    operators = [dict(r) for r in rows]
    links = operator_system_names(session, [o["id"] for o in operators])
    for op in operators:
        op["systems"] = links.get(op["id"], [])
    return operators


# --- operators ------------------------------------------------------------------


def operator_system_names(session, operator_ids):
    if not operator_ids:
        return {}
    rows = session.execute(
        sa.select(T_SYSTEM_OPERATORS.c.operator_id, T_SYSTEMS.c.name)
        .join(T_SYSTEMS, T_SYSTEMS.c.id == T_SYSTEM_OPERATORS.c.ci_system_id)
        .where(T_SYSTEM_OPERATORS.c.operator_id.in_(operator_ids))
        .order_by(T_SYSTEMS.c.name))
    out = {}
    for r in rows:
        out.setdefault(r.operator_id, []).append(r.name)
    return out


def operator_list(session, q=None):
    query = sa.select(T_OPERATORS).order_by(T_OPERATORS.c.id)
    rows = [dict(r) for r in session.execute(query).mappings()]
    if q:
        rows = [r for r in rows if q.lower() in r["name"].lower()]
    links = operator_system_names(session, [r["id"] for r in rows])
    for r in rows:
        r["systems"] = links.get(r["id"], [])
    return rows


def operator_get(session, ident):
    """By id (digits) or name, in any case (names are unique regardless of case)."""
    ident = str(ident)
    query = sa.select(T_OPERATORS)
    if _is_id(ident):
        query = query.where(T_OPERATORS.c.id == int(ident))
    else:
        query = query.where(sa.func.lower(T_OPERATORS.c.name) == ident.lower())
    row = session.execute(query).mappings().first()
    if row is None:
        return None
    op = dict(row)
    op["systems"] = operator_system_names(session, [op["id"]]).get(op["id"], [])
    return op


def _operator_name_taken(session, name, exclude_id=None):
    rows = session.execute(sa.select(T_OPERATORS.c.id, T_OPERATORS.c.name))
    return any(r.name.lower() == name.lower() and r.id != exclude_id for r in rows)


def _system_ids(session, names):
    ids = []
    for name in names:
        system = system_get(session, name)
        if system is None:
            raise _not_found("CI system %r not found" % name[:80])
        ids.append(system["id"])
    return sorted(set(ids))


def operator_create(session, name, email=None, contact=None, systems=None):
    if _operator_name_taken(session, name):
        raise _conflict("An operator named %r already exists" % name[:80])
    system_ids = _system_ids(session, systems or [])
    try:
        with session.begin_nested():
            result = session.execute(T_OPERATORS.insert().values(
                name=name, email=email, contact=contact, created_at=timeutils.utcnow()))
    except sa_exc.IntegrityError:
        raise _conflict("An operator named %r already exists" % name[:80]) from None
    op_id = result.inserted_primary_key[0]
    _operator_link(session, op_id, system_ids)
    return operator_get(session, op_id)


def _operator_link(session, operator_id, system_ids):
    session.execute(T_SYSTEM_OPERATORS.delete().where(
        T_SYSTEM_OPERATORS.c.operator_id == operator_id))
    for system_id in system_ids:
        session.execute(T_SYSTEM_OPERATORS.insert().values(
            operator_id=operator_id, ci_system_id=system_id))


def operator_update(session, operator_id, values, systems=None):
    """Set columns in `values`; `systems` (names) replaces the links when not None."""
    if "name" in values and _operator_name_taken(session, values["name"], operator_id):
        raise _conflict("An operator named %r already exists" % values["name"][:80])
    system_ids = _system_ids(session, systems) if systems is not None else None
    if values:
        try:
            with session.begin_nested():
                session.execute(T_OPERATORS.update().where(
                    T_OPERATORS.c.id == operator_id).values(**values))
        except sa_exc.IntegrityError:
            raise _conflict("An operator with that name already exists") from None
    if system_ids is not None:
        _operator_link(session, operator_id, system_ids)
    return operator_get(session, operator_id)


def operator_delete(session, operator_id):
    session.execute(T_SYSTEM_OPERATORS.delete().where(
        T_SYSTEM_OPERATORS.c.operator_id == operator_id))
    session.execute(T_OPERATORS.delete().where(T_OPERATORS.c.id == operator_id))


# --- links to Gerrit ------------------------------------------------------------


def change_url(base, project, number, patchset=None):
    if not base:
        return None
    url = "%s/c/%s/+/%d" % (base.rstrip("/"), project, number)
    return url if patchset is None else "%s/%d" % (url, patchset)


def source_bases(session):
    """{source id: (name, web base URL or None)}."""
    rows = session.execute(sa.select(T_SOURCES.c.id, T_SOURCES.c.name, T_SOURCES.c.url,
                                     T_SOURCES.c.web_url))
    return {r.id: (r.name, r.web_url or r.url) for r in rows}


# --- reports --------------------------------------------------------------------


def _report_query():
    return (sa.select(
        T_REPORTS.c.id, T_REPORTS.c.ci_system_id.label("system_id"),
        T_SYSTEMS.c.name.label("system"), T_SYSTEMS.c.display_name.label("system_name"),
        T_CHANGES.c.number.label("change"),
        T_CHANGES.c.source_id, T_CHANGES.c.branch,
        T_PATCHSETS.c.number.label("patchset"), T_PROJECTS.c.name.label("project"),
        T_REPORTS.c.pipeline, T_REPORTS.c.result, T_REPORTS.c.vote_label, T_REPORTS.c.vote,
        T_REPORTS.c.headline, T_REPORTS.c.reported_at, T_REPORTS.c.attempt,
        T_REPORTS.c.recheck_id, T_REPORTS.c.latency_s, T_REPORTS.c.patchset_id)
        .select_from(T_REPORTS)
        .join(T_SYSTEMS, T_SYSTEMS.c.id == T_REPORTS.c.ci_system_id)
        .join(T_CHANGES, T_CHANGES.c.id == T_REPORTS.c.change_id)
        .join(T_PATCHSETS, T_PATCHSETS.c.id == T_REPORTS.c.patchset_id)
        .join(T_PROJECTS, T_PROJECTS.c.id == T_REPORTS.c.project_id))


def _report_dicts(session, rows):
    bases = source_bases(session)
    reports = []
    for r in rows:
        d = dict(r)
        d["retry"] = d.pop("recheck_id") is not None
        base = bases.get(d.pop("source_id"), (None, None))[1]
        d["url"] = change_url(base, d["project"], d["change"], d["patchset"])
        reports.append(d)
    jobs = report_jobs(session, [d["id"] for d in reports])
    for d in reports:
        d["jobs"] = jobs.get(d["id"], [])
    return reports


def report_list(session, system_id=None, project=None, change=None, result=None,
                pipeline=None, since=None, until=None, limit=100, marker=None):
    """Reports newest first with their job lines, and the total that match.

    `marker` is the id of the last report of the previous page. Filters are
    on ci_reports alone (project and change through id subqueries), and the
    page's ids are found before anything is joined: joined first, MariaDB
    chose a plan that sorted every report (seconds on a year of data).
    """
    conds = []
    if system_id is not None:
        conds.append(T_REPORTS.c.ci_system_id == system_id)
    if project is not None:
        conds.append(T_REPORTS.c.project_id.in_(
            sa.select(T_PROJECTS.c.id).where(T_PROJECTS.c.name == project)))
    if change is not None:
        conds.append(T_REPORTS.c.change_id.in_(
            sa.select(T_CHANGES.c.id).where(T_CHANGES.c.number == change)))
    if result is not None:
        conds.append(T_REPORTS.c.result == result)
    if pipeline is not None:
        conds.append(T_REPORTS.c.pipeline == pipeline)
    if since is not None:
        conds.append(T_REPORTS.c.reported_at >= since)
    if until is not None:
        conds.append(T_REPORTS.c.reported_at < until)
    total = session.execute(sa.select(sa.func.count()).select_from(T_REPORTS)
                            .where(*conds)).scalar_one()
    ids_q = sa.select(T_REPORTS.c.id).where(*conds)
    if marker is not None:
        mark = session.execute(sa.select(T_REPORTS.c.reported_at, T_REPORTS.c.id)
                               .where(T_REPORTS.c.id == marker)).first()
        if mark is None:
            return None, total
        ids_q = ids_q.where(sa.or_(
            T_REPORTS.c.reported_at < mark.reported_at,
            sa.and_(T_REPORTS.c.reported_at == mark.reported_at, T_REPORTS.c.id < mark.id)))
    order = (T_REPORTS.c.reported_at.desc(), T_REPORTS.c.id.desc())
    ids = session.execute(ids_q.order_by(*order).limit(limit)).scalars().all()
    if not ids:
        return [], total
    rows = session.execute(_report_query().where(T_REPORTS.c.id.in_(ids))
                           .order_by(*order)).mappings().all()
    return _report_dicts(session, rows), total


def report_jobs(session, report_ids):
    out = {}
    for start in range(0, len(report_ids), 500):
        chunk = report_ids[start:start + 500]
        rows = session.execute(
            sa.select(T_JOBS.c.report_id, T_JOBS.c.name, T_JOBS.c.result, T_JOBS.c.voting,
                      T_JOBS.c.duration_s, T_JOBS.c.url, T_JOBS.c.detail)
            .where(T_JOBS.c.report_id.in_(chunk))
            .order_by(T_JOBS.c.report_id, T_JOBS.c.position)).mappings()
        for r in rows:
            d = dict(r)
            out.setdefault(d.pop("report_id"), []).append(d)
    return out


# --- changes --------------------------------------------------------------------


def change_get(session, number, source=None):
    """The pipeline view of change `number`: list of matches (one per source)."""
    query = (sa.select(T_CHANGES, T_PROJECTS.c.name.label("project"),
                       T_SOURCES.c.name.label("source"),
                       T_ACCOUNTS.c.name.label("owner_name"),
                       T_ACCOUNTS.c.username.label("owner_username"))
             .join(T_PROJECTS, T_PROJECTS.c.id == T_CHANGES.c.project_id)
             .join(T_SOURCES, T_SOURCES.c.id == T_CHANGES.c.source_id)
             .outerjoin(T_ACCOUNTS, T_ACCOUNTS.c.id == T_CHANGES.c.owner_id)
             .where(T_CHANGES.c.number == number))
    if source is not None:
        query = query.where(T_SOURCES.c.name == source)
    changes = [dict(r) for r in session.execute(query.order_by(T_CHANGES.c.id)).mappings()]
    bases = source_bases(session)
    for change in changes:
        base = bases.get(change["source_id"], (None, None))[1]
        change["url"] = change_url(base, change["project"], change["number"])
        change["owner"] = change.pop("owner_name") or change.pop("owner_username", None)
        change.pop("owner_username", None)
        patchsets = [dict(r) for r in session.execute(
            sa.select(T_PATCHSETS).where(T_PATCHSETS.c.change_id == change["id"])
            .order_by(T_PATCHSETS.c.number)).mappings()]
        reports = _report_dicts(session, session.execute(
            _report_query().where(T_REPORTS.c.change_id == change["id"])
            .order_by(T_REPORTS.c.reported_at, T_REPORTS.c.id)).mappings().all())
        rechecks = session.execute(
            sa.select(T_RECHECKS.c.patchset_id, T_RECHECKS.c.requested_at,
                      T_RECHECKS.c.target, T_ACCOUNTS.c.name, T_ACCOUNTS.c.username,
                      T_SYSTEMS.c.name.label("system"))
            .join(T_PATCHSETS, T_PATCHSETS.c.id == T_RECHECKS.c.patchset_id)
            .outerjoin(T_ACCOUNTS, T_ACCOUNTS.c.id == T_RECHECKS.c.account_id)
            .outerjoin(T_SYSTEMS, T_SYSTEMS.c.id == T_RECHECKS.c.ci_system_id)
            .where(T_PATCHSETS.c.change_id == change["id"])
            .order_by(T_RECHECKS.c.requested_at)).mappings().all()
        for ps in patchsets:
            ps["url"] = change_url(base, change["project"], change["number"], ps["number"])
            ps["reports"] = [r for r in reports if r["patchset_id"] == ps["id"]]
            ps["rechecks"] = [
                {"requested_at": r["requested_at"], "by": r["name"] or r["username"],
                 "target": r["target"], "system": r["system"]}
                for r in rechecks if r["patchset_id"] == ps["id"]]
        change["patchsets"] = patchsets
    return changes


# --- projects and collector -----------------------------------------------------


def project_exists(session, name):
    return session.execute(sa.select(T_PROJECTS.c.id).where(
        T_PROJECTS.c.name == name).limit(1)).first() is not None


def collector_list(session):
    rows = session.execute(
        sa.select(T_SOURCES.c.id, T_SOURCES.c.name, T_SOURCES.c.type, T_SOURCES.c.url,
                  T_STATE.c.last_attempt_at, T_STATE.c.last_success_at, T_STATE.c.last_error,
                  T_STATE.c.last_error_at, T_STATE.c.cycles, T_STATE.c.failures,
                  T_STATE.c.changes_seen, T_STATE.c.messages_stored, T_STATE.c.reports_stored,
                  T_STATE.c.records_skipped)
        .outerjoin(T_STATE, T_STATE.c.source_id == T_SOURCES.c.id)
        .order_by(T_SOURCES.c.name)).mappings()
    return [dict(r) for r in rows]


# --- metrics --------------------------------------------------------------------


def report_totals(session):
    """[(system name, result, count)] over all time, from the daily rollups."""
    rows = session.execute(
        sa.select(T_SYSTEMS.c.name,
                  sa.func.sum(T_ROLLUPS.c.successes), sa.func.sum(T_ROLLUPS.c.failures),
                  sa.func.sum(T_ROLLUPS.c.merge_failures), sa.func.sum(T_ROLLUPS.c.canceled),
                  sa.func.sum(T_ROLLUPS.c.unknown))
        .join(T_SYSTEMS, T_SYSTEMS.c.id == T_ROLLUPS.c.ci_system_id)
        .group_by(T_SYSTEMS.c.name))
    out = []
    for r in rows:
        for result, value in zip(models.RESULTS, r[1:], strict=True):
            out.append((r[0], result, int(value or 0)))
    return out
