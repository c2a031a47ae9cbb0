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
