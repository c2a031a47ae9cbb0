"""Content of the derived tables, independent of row ids (for equality checks)."""

import sqlalchemy as sa

from radar.db import models

R = models.CiReport.__table__
J = models.CiJobResult.__table__
M = models.Message.__table__
S = models.CiSystem.__table__
C = models.Change.__table__
P = models.PatchSet.__table__
RR = models.RecheckRequest.__table__
D = models.DailyRollup.__table__


def reports(conn):
    rows = conn.execute(
        sa.select(S.c.name, C.c.number, P.c.number.label("ps"), R.c.result, R.c.pipeline,
                  R.c.vote, R.c.attempt, R.c.latency_s, R.c.reported_at,
                  (R.c.recheck_id.is_not(None)).label("retry"), M.c.fingerprint)
        .join(S, S.c.id == R.c.ci_system_id).join(C, C.c.id == R.c.change_id)
        .join(P, P.c.id == R.c.patchset_id).join(M, M.c.id == R.c.message_id)).all()
    return sorted((tuple(r) for r in rows), key=repr)


def jobs(conn):
    rows = conn.execute(
        sa.select(M.c.fingerprint, J.c.position, J.c.name, J.c.result, J.c.voting,
                  J.c.duration_s, J.c.url)
        .join(R, R.c.id == J.c.report_id).join(M, M.c.id == R.c.message_id)).all()
    return sorted((tuple(r) for r in rows), key=repr)


def rechecks(conn):
    rows = conn.execute(sa.select(M.c.fingerprint, RR.c.target, RR.c.requested_at)
                        .join(M, M.c.id == RR.c.message_id)).all()
    return sorted((tuple(r) for r in rows), key=repr)


def rollups(conn):
    rows = conn.execute(sa.select(S.c.name, D.c.day, D.c.reports, D.c.successes,
                                  D.c.failures, D.c.merge_failures, D.c.retries,
                                  D.c.latencies, D.c.retry_latencies)
                        .join(S, S.c.id == D.c.ci_system_id)).all()
    return sorted(((r[0], r[1], *r[2:7], tuple(r[7] or ()), tuple(r[8] or ())) for r in rows),
                  key=repr)


def everything(engine):
    with engine.connect() as conn:
        return {"reports": reports(conn), "jobs": jobs(conn),
                "rechecks": rechecks(conn), "rollups": rollups(conn),
                "messages": conn.execute(sa.select(sa.func.count()).select_from(M)).scalar()}
