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
