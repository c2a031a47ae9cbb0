"""Database API for subscriptions and the delivery queue.

`subscription_<verb>` and `delivery_<verb>(conn_or_session, ...)`.

Exactly once: delivery_enqueue() inserts one row per (subscription,
event) (a unique key) and advances the subscription's last_event_id in
the same transaction. A sender takes due rows with delivery_claim(),
which marks them as its own until `claimed_until`, so two senders (or a
restarted one) never send a row at the same time while a crashed
sender's rows come back when its claim expires. A delivery can still be
sent twice if a sender dies after the receiver answered and before the
result is stored: receivers dedupe on the delivery id.
"""

import datetime as dt
import secrets

import sqlalchemy as sa

from radar.common import timeutils
from radar.db import events as db_events
from radar.db import models

T_SUBS = models.Subscription.__table__
T_DELIVERIES = models.Delivery.__table__
T_ATTEMPTS = models.DeliveryAttempt.__table__
T_EVENTS = models.Event.__table__

KINDS = ("webhook", "slack", "email")
PENDING, DELIVERED, FAILED = "PENDING", "DELIVERED", "FAILED"
DELIVERY_STATES = (PENDING, DELIVERED, FAILED)
# The events a subscription may ask for (the detector's vocabulary).
EVENT_TYPES = db_events.TYPES
# filter name -> event column it matches.
FILTERS = {"types": "type", "systems": "system", "projects": "project",
           "products": "product", "services": "service"}
# An event committed late (a detector's transaction that began before a
# later one committed) may get a lower id than events already matched;
# events this recent are matched again (deliveries are unique, so twice
# is harmless).
SETTLE = dt.timedelta(seconds=120)
ENQUEUE_BATCH = 500


def _dict(row):
    return dict(row) if row is not None else None


# --- subscriptions ------------------------------------------------------------------


def subscription_create(conn, name, kind, target, filters=None, secret=None,
                        owner_token_id=None, now=None):
    """Insert a subscription; it gets the events that arrive from now on."""
    now = now or timeutils.utcnow()
    newest = conn.execute(sa.select(sa.func.max(T_EVENTS.c.id))).scalar() or 0
    ident = conn.execute(T_SUBS.insert().values(
        name=name, kind=kind, target=target, secret=secret,
        filters={k: list(v) for k, v in (filters or {}).items() if v},
        owner_token_id=owner_token_id, created_at=now, last_event_id=newest,
        consecutive_failures=0)).inserted_primary_key[0]
    return subscription_get(conn, ident)


def subscription_get(conn, subscription_id):
    row = conn.execute(sa.select(T_SUBS).where(T_SUBS.c.id == subscription_id)).mappings()
    return _dict(row.first())


def subscription_list(conn, owner_token_id=None, all_owners=False):
    """Newest first; only the owner's unless all_owners."""
    query = sa.select(T_SUBS).order_by(T_SUBS.c.id.desc())
    if not all_owners:
        query = query.where(T_SUBS.c.owner_token_id == owner_token_id)
    return [dict(r) for r in conn.execute(query).mappings()]


def subscription_counts(conn, subscription_ids):
    """{id: {"PENDING": n, "DELIVERED": n, "FAILED": n, "last_delivered_at": t}}."""
    out = {i: {s: 0 for s in DELIVERY_STATES} | {"last_delivered_at": None}
           for i in subscription_ids}
    if not subscription_ids:
        return out
    rows = conn.execute(
        sa.select(T_DELIVERIES.c.subscription_id, T_DELIVERIES.c.status,
                  sa.func.count(), sa.func.max(T_DELIVERIES.c.delivered_at))
        .where(T_DELIVERIES.c.subscription_id.in_(list(subscription_ids)))
        .group_by(T_DELIVERIES.c.subscription_id, T_DELIVERIES.c.status))
    for sub_id, status, count, delivered_at in rows:
        out[sub_id][status] = count
        if status == DELIVERED:
            out[sub_id]["last_delivered_at"] = timeutils.as_utc(delivered_at) \
                if delivered_at else None
    return out


def subscription_delete(conn, subscription_id):
    """Remove it with its queue and delivery log; False if it did not exist."""
    ids = sa.select(T_DELIVERIES.c.id).where(T_DELIVERIES.c.subscription_id == subscription_id)
    conn.execute(T_ATTEMPTS.delete().where(T_ATTEMPTS.c.delivery_id.in_(ids)))
    conn.execute(T_DELIVERIES.delete().where(T_DELIVERIES.c.subscription_id == subscription_id))
    return conn.execute(T_SUBS.delete().where(T_SUBS.c.id == subscription_id)).rowcount > 0


def subscription_pause(conn, subscription_id, reason, now=None):
    conn.execute(T_SUBS.update().where(T_SUBS.c.id == subscription_id,
                                       T_SUBS.c.paused_at.is_(None))
                 .values(paused_at=now or timeutils.utcnow(), paused_reason=reason[:1024]))


def subscription_resume(conn, subscription_id, now=None):
    """Unpause; what queued meanwhile is due at once."""
    now = now or timeutils.utcnow()
    conn.execute(T_SUBS.update().where(T_SUBS.c.id == subscription_id)
                 .values(paused_at=None, paused_reason=None, consecutive_failures=0))
    conn.execute(T_DELIVERIES.update().where(T_DELIVERIES.c.subscription_id == subscription_id,
                                             T_DELIVERIES.c.status == PENDING)
                 .values(next_attempt_at=now))
    return subscription_get(conn, subscription_id)


def matches(filters, event):
    """Does an event (dict with type, system, ...) pass a subscription's filters?

    An absent or empty list matches everything; values compare without case.
    """
    for name, column in FILTERS.items():
        wanted = (filters or {}).get(name)
        if not wanted:
            continue
        value = event.get(column)
        if value is None or value.lower() not in {w.lower() for w in wanted}:
            return False
    return True


# --- the queue ----------------------------------------------------------------------


def delivery_enqueue(conn, subscription_id, now=None, limit=ENQUEUE_BATCH):
    """Queue the new events that match one subscription; returns how many.

    Run it in its own transaction: the queue rows and the subscription's
    new last_event_id are committed together. A concurrent enqueue of the
    same subscription either finds last_event_id moved (and does nothing)
    or hits the unique key (IntegrityError: roll back, try next cycle).
    """
    now = now or timeutils.utcnow()
    sub = subscription_get(conn, subscription_id)
    if sub is None:
        return 0
    cols = [T_EVENTS.c.id, T_EVENTS.c.created_at] + [T_EVENTS.c[c] for c in FILTERS.values()]
    new = conn.execute(sa.select(*cols).where(T_EVENTS.c.id > sub["last_event_id"])
                       .order_by(T_EVENTS.c.id).limit(limit)).mappings().all()
    # Late committers: recent events below the mark not yet queued here.
    already = sa.select(T_DELIVERIES.c.id).where(
        T_DELIVERIES.c.subscription_id == subscription_id,
        T_DELIVERIES.c.event_id == T_EVENTS.c.id)
    late = conn.execute(sa.select(*cols).where(
        T_EVENTS.c.id <= sub["last_event_id"], T_EVENTS.c.created_at >= now - SETTLE,
        T_EVENTS.c.created_at > sub["created_at"], ~sa.exists(already))
        .order_by(T_EVENTS.c.id).limit(limit)).mappings().all()
    if new:
        moved = conn.execute(T_SUBS.update().where(
            T_SUBS.c.id == subscription_id, T_SUBS.c.last_event_id == sub["last_event_id"])
            .values(last_event_id=new[-1]["id"])).rowcount
        if not moved:
            return 0
    rows = [{"subscription_id": subscription_id, "event_id": e["id"], "status": PENDING,
             "attempts": 0, "next_attempt_at": now, "created_at": now}
            for e in list(late) + list(new) if matches(sub["filters"], e)]
    if rows:
        conn.execute(T_DELIVERIES.insert(), rows)
    return len(rows)


def delivery_claim(conn, holder, ttl_s, limit, now=None):
    """Take up to `limit` due deliveries of unpaused subscriptions for `holder`.

    Returns [{"delivery": row, "subscription": row, "event": row, "claim": str}].
    Commit before sending: the claim is what keeps others away.
    """
    now = now or timeutils.utcnow()
    free = sa.or_(T_DELIVERIES.c.claimed_until.is_(None), T_DELIVERIES.c.claimed_until < now)
    candidates = [r[0] for r in conn.execute(
        sa.select(T_DELIVERIES.c.id).join(T_SUBS, T_SUBS.c.id == T_DELIVERIES.c.subscription_id)
        .where(T_DELIVERIES.c.status == PENDING, T_DELIVERIES.c.next_attempt_at <= now, free,
               T_SUBS.c.paused_at.is_(None))
        .order_by(T_DELIVERIES.c.next_attempt_at, T_DELIVERIES.c.id).limit(limit))]
    if not candidates:
        return []
    claim = ("%s:%s" % (holder, secrets.token_hex(6)))[-255:]
    # The guard repeats the conditions: whoever updates a row first owns it.
    conn.execute(T_DELIVERIES.update().where(
        T_DELIVERIES.c.id.in_(candidates), T_DELIVERIES.c.status == PENDING, free)
        .values(claimed_by=claim, claimed_until=now + dt.timedelta(seconds=ttl_s)))
    rows = conn.execute(
        sa.select(T_DELIVERIES, T_SUBS.c.name.label("s_name"), T_SUBS.c.kind.label("s_kind"),
                  T_SUBS.c.target.label("s_target"), T_SUBS.c.secret.label("s_secret"))
        .join(T_SUBS, T_SUBS.c.id == T_DELIVERIES.c.subscription_id)
        .where(T_DELIVERIES.c.id.in_(candidates), T_DELIVERIES.c.claimed_by == claim)
        .order_by(T_DELIVERIES.c.next_attempt_at, T_DELIVERIES.c.id)).mappings().all()
    events = {e["id"]: dict(e) for e in conn.execute(
        sa.select(T_EVENTS).where(T_EVENTS.c.id.in_({r["event_id"] for r in rows})))
        .mappings()}
    out = []
    for r in rows:
        delivery = {c.name: r[c.name] for c in T_DELIVERIES.c}
        sub = {"id": r["subscription_id"], "name": r["s_name"], "kind": r["s_kind"],
               "target": r["s_target"], "secret": r["s_secret"]}
        out.append({"delivery": delivery, "subscription": sub,
                    "event": events[r["event_id"]], "claim": claim})
    return out


def delivery_record(conn, delivery_id, claim, ok, at, status_code=None, error=None,
                    duration_ms=None, next_attempt_at=None, pause_after=None):
    """Log one attempt and move the delivery on; returns its new status.

    ok: DELIVERED. Not ok: PENDING again at next_attempt_at, or FAILED when
    next_attempt_at is None (given up). The subscription's run of failures
    grows or resets; at `pause_after` in a row it is paused with the reason.
    If the claim was lost (expired and taken), the attempt is logged and
    the row left to its new owner (None is returned).
    """
    error = error[:1024] if error else None
    conn.execute(T_ATTEMPTS.insert().values(delivery_id=delivery_id, at=at,
                                            status_code=status_code, error=error,
                                            duration_ms=duration_ms))
    values = {"attempts": T_DELIVERIES.c.attempts + 1, "last_status_code": status_code,
              "last_error": error, "claimed_by": None, "claimed_until": None}
    if ok:
        values.update(status=DELIVERED, delivered_at=at)
    elif next_attempt_at is None:
        values.update(status=FAILED)
    else:
        values.update(next_attempt_at=next_attempt_at)
    held = conn.execute(T_DELIVERIES.update().where(T_DELIVERIES.c.id == delivery_id,
                                                    T_DELIVERIES.c.claimed_by == claim)
                        .values(**values)).rowcount
    if not held:
        return None
    sub_id = conn.execute(sa.select(T_DELIVERIES.c.subscription_id)
                          .where(T_DELIVERIES.c.id == delivery_id)).scalar()
    if ok:
        conn.execute(T_SUBS.update().where(T_SUBS.c.id == sub_id)
                     .values(consecutive_failures=0))
        return DELIVERED
    conn.execute(T_SUBS.update().where(T_SUBS.c.id == sub_id)
                 .values(consecutive_failures=T_SUBS.c.consecutive_failures + 1))
    failures = conn.execute(sa.select(T_SUBS.c.consecutive_failures)
                            .where(T_SUBS.c.id == sub_id)).scalar()
    if pause_after and failures >= pause_after:
        what = "HTTP %d" % status_code if status_code and not error else (error or "failed")
        subscription_pause(conn, sub_id, "paused after %d failed attempts in a row; the last: "
                                         "%s" % (failures, what), now=at)
    return FAILED if next_attempt_at is None else PENDING


def delivery_release(conn, delivery_ids, claim, next_attempt_at):
    """Give back claimed deliveries unsent, due again at next_attempt_at."""
    conn.execute(T_DELIVERIES.update().where(T_DELIVERIES.c.id.in_(list(delivery_ids)),
                                             T_DELIVERIES.c.claimed_by == claim)
                 .values(claimed_by=None, claimed_until=None,
                         next_attempt_at=next_attempt_at))


def delivery_list(conn, subscription_id, status=None):
    """The delivery log, newest first, each with its event and its attempts."""
    query = (sa.select(T_DELIVERIES, T_EVENTS.c.type.label("event_type"),
                       T_EVENTS.c.title.label("event_title"))
             .join(T_EVENTS, T_EVENTS.c.id == T_DELIVERIES.c.event_id)
             .where(T_DELIVERIES.c.subscription_id == subscription_id)
             .order_by(T_DELIVERIES.c.id.desc()))
    if status:
        query = query.where(T_DELIVERIES.c.status == status)
    items = [dict(r) for r in conn.execute(query).mappings()]
    return items


def delivery_attempts(conn, delivery_ids):
    """{delivery id: [attempt dicts, oldest first]}."""
    out = {i: [] for i in delivery_ids}
    if not delivery_ids:
        return out
    rows = conn.execute(sa.select(T_ATTEMPTS).where(T_ATTEMPTS.c.delivery_id.in_(
        list(delivery_ids))).order_by(T_ATTEMPTS.c.id)).mappings()
    for r in rows:
        out[r["delivery_id"]].append(dict(r))
    return out
