"""Database API for events and the detector's watch states.

`event_<verb>(conn_or_session, ...)` and `watch_state_<verb>(...)`. An event
is stored once per `key` (the unique constraint decides, also between two
daemons); event_as_dict() is the one JSON form of an event, used by the
API, the Atom feed and the webhook payloads.
"""

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from radar.common import timeutils
from radar.db import models

T_EVENTS = models.Event.__table__
T_WATCH = models.WatchState.__table__

# The event types, a fixed list (metrics labels and API filters rely on it).
SYSTEM_HEALTH_CHANGED = "system.health_changed"
SYSTEM_SILENT = "system.silent"
SYSTEM_RESUMED = "system.resumed"
RELEASE_TASK_FAILED = "release.task_failed"
RELEASE_RED = "release.red"
RELEASE_SHIPPED = "release.shipped"
DEPLOYMENT_FAILED = "deployment.failed"
DEPLOYMENT_ROLLED_BACK = "deployment.rolled_back"
TYPES = (SYSTEM_HEALTH_CHANGED, SYSTEM_SILENT, SYSTEM_RESUMED, RELEASE_TASK_FAILED,
         RELEASE_RED, RELEASE_SHIPPED, DEPLOYMENT_FAILED, DEPLOYMENT_ROLLED_BACK)

INFO = "info"
WARNING = "warning"
CRITICAL = "critical"
SEVERITIES = (INFO, WARNING, CRITICAL)

# Columns a caller may set besides `key`.
FIELDS = ("type", "severity", "title", "system", "project", "product", "release", "service",
          "environment", "url", "data", "occurred_at")
# The JSON form of an event (the API contract), in this order.
PUBLIC_FIELDS = ("id", "type", "severity", "title", "system", "project", "product",
                 "release", "service", "environment", "url", "data", "occurred_at")
MAX_TITLE = 512


# --- events ------------------------------------------------------------------------


def event_create(conn, key, values, now=None):
    """Store event `key`; returns its new id, or None when the key is already stored.

    Idempotent also under a race: the unique constraint on `key` decides,
    inside a savepoint so the caller's transaction goes on either way.
    """
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError("unknown event fields: %s" % ", ".join(sorted(unknown)))
    if values.get("type") not in TYPES:
        raise ValueError("unknown event type %r" % (values.get("type"),))
    if values.get("severity", INFO) not in SEVERITIES:
        raise ValueError("unknown event severity %r" % (values.get("severity"),))
    row = dict(values)
    row["title"] = _clip(row.get("title") or row["type"], MAX_TITLE)
    row.setdefault("severity", INFO)
    row.setdefault("occurred_at", now or timeutils.utcnow())
    try:
        with conn.begin_nested():
            result = conn.execute(T_EVENTS.insert().values(
                key=key, created_at=now or timeutils.utcnow(), **row))
        return result.inserted_primary_key[0]
    except sa_exc.IntegrityError:
        if event_exists(conn, key):
            return None
        raise


def _clip(text, size):
    # One line of printable text: a title may quote a pipeline's message.
    text = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    return text if len(text) <= size else text[:size - 1] + "\u2026"


def event_exists(conn, key):
    return conn.execute(sa.select(T_EVENTS.c.id).where(T_EVENTS.c.key == key)).first() \
        is not None


def event_keys_present(conn, keys):
    """The subset of `keys` already stored."""
    found = set()
    keys = list(keys)
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        found.update(conn.execute(sa.select(T_EVENTS.c.key)
                                  .where(T_EVENTS.c.key.in_(chunk))).scalars())
    return found


def _conditions(types=None, system=None, project=None, product=None, release=None,
                service=None, severities=None, since=None, until=None):
    conds = []
    if types:
        conds.append(T_EVENTS.c.type.in_(list(types)))
    if severities:
        conds.append(T_EVENTS.c.severity.in_(list(severities)))
    for column, value in (("system", system), ("project", project), ("product", product),
                          ("release", release), ("service", service)):
        if value is not None:
            conds.append(T_EVENTS.c[column] == value)
    if since is not None:
        conds.append(T_EVENTS.c.occurred_at >= since)
    if until is not None:
        conds.append(T_EVENTS.c.occurred_at < until)
    return conds


def event_list(conn, limit=100, marker=None, **filters):
    """(rows, total): events newest first (occurred_at, then id) and how many match.

    Filters: types and severities (lists), system, project, product,
    release, service (exact), since (inclusive), until (exclusive).
    `marker` is the id of the last event of the previous page; rows is
    None when no event has that id.
    """
    conds = _conditions(**filters)
    total = conn.execute(sa.select(sa.func.count()).select_from(T_EVENTS)
                         .where(*conds)).scalar_one()
    query = sa.select(T_EVENTS).where(*conds)
    if marker is not None:
        mark = conn.execute(sa.select(T_EVENTS.c.occurred_at, T_EVENTS.c.id)
                            .where(T_EVENTS.c.id == marker)).first()
        if mark is None:
            return None, total
        query = query.where(sa.or_(
            T_EVENTS.c.occurred_at < mark.occurred_at,
            sa.and_(T_EVENTS.c.occurred_at == mark.occurred_at, T_EVENTS.c.id < mark.id)))
    rows = conn.execute(query.order_by(T_EVENTS.c.occurred_at.desc(), T_EVENTS.c.id.desc())
                        .limit(limit)).mappings().all()
    return [dict(r) for r in rows], total


def event_counts(conn):
    """{type: number of events}, every known type present (0 when none)."""
    counts = dict.fromkeys(TYPES, 0)
    for type_, count in conn.execute(sa.select(T_EVENTS.c.type, sa.func.count())
                                     .group_by(T_EVENTS.c.type)):
        if type_ in counts:
            counts[type_] = int(count)
    return counts


def absolute_url(base_url, url):
    """Stored urls are relative to the web page ('#/system/zuul'): make one absolute."""
    if not url or not base_url or "://" in url:
        return url
    return base_url.rstrip("/") + "/" + url.lstrip("/")


def event_as_dict(row, base_url=None):
    """The JSON form of an event row (API items, Atom entries, webhook payloads).

    `base_url`: where the web page is (e.g. [notifications] public_url, or
    the request's host); the subject's url is made absolute with it.
    occurred_at is an ISO-8601 UTC string.
    """
    out = {name: row.get(name) for name in PUBLIC_FIELDS}
    out["url"] = absolute_url(base_url, out["url"])
    out["occurred_at"] = timeutils.isoformat(timeutils.as_utc(out["occurred_at"]))
    if out["data"] is None:
        out["data"] = {}
    return out


# --- watch states ---------------------------------------------------------------------


def watch_state_get(conn, subject):
    row = conn.execute(sa.select(T_WATCH).where(T_WATCH.c.subject == subject)).mappings() \
        .first()
    return dict(row) if row else None


def watch_state_list(conn, prefix):
    """{subject: state dict} for every subject starting with `prefix`."""
    rows = conn.execute(sa.select(T_WATCH).where(T_WATCH.c.subject.startswith(prefix,
                                                                                autoescape=True)))
    return {r["subject"]: dict(r) for r in rows.mappings()}


_ANY = object()


def watch_state_set(conn, subject, state, since=None, data=None, expect=_ANY):
    """Record `state` for `subject`; True when this call changed it.

    expect=None: only if no state is recorded yet (a first observation; a
    concurrent one wins and this returns False). expect=<the state dict
    read before>: only if the stored state is still that one (compare and
    set, so of two daemons seeing the same transition one records it).
    Without expect: insert or overwrite (watermarks).
    """
    since = since or timeutils.utcnow()
    if expect is None or expect is _ANY:
        try:
            with conn.begin_nested():
                conn.execute(T_WATCH.insert().values(subject=subject, state=state,
                                                     since=since, data=data))
            return True
        except sa_exc.IntegrityError:
            if expect is None:
                return False
    query = T_WATCH.update().where(T_WATCH.c.subject == subject)
    if expect is not _ANY:
        query = query.where(T_WATCH.c.state == expect["state"],
                            T_WATCH.c.since == expect["since"])
    result = conn.execute(query.values(state=state, since=since, data=data))
    return result.rowcount == 1
