"""CI bindings move release tasks from Zuul-style reports ingested by the
real daemon (Collector.run_once), on SQLite and MariaDB, idempotently."""

import dataclasses
import datetime as dt

import sqlalchemy as sa

from radar.db import models
from radar.db import releases as db_releases
from radar_daemon import release_bindings, service
from tests.functional.api.conftest import ACME, T0, ZUUL, change, ci_message, human

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
BINDINGS = [
    r"stage-testing = Acme CI : ^release-stage-test$ : ^release-(?P<product>\d+\.\d+)$",
    r"image-signed-check = Acme CI : ^sig-check : ^release-(?P<version>\d+\.\d+\.\d+)$",
    r"take-ownership = Zuul : ^own$",
]
WORKFLOW = ["take-ownership", "stage-testing", "image-signed-check"]


class ListSource:
    """A source that yields its records as one batch on every poll."""

    def __init__(self, name, records):
        self.name = name
        self.records = list(records)

    def poll(self, cursor):
        yield self.records, {"polls": (cursor or {}).get("polls", 0) + 1}


def on(branch, number, messages):
    return dataclasses.replace(change(number, messages=messages), branch=branch)


def collect(conf, engine, records, name="review"):
    collector = service.Collector(conf, engine, sources=[ListSource(name, records)],
                                  holder="test")
    outcome = collector.run_once()
    assert not isinstance(outcome[name], Exception), outcome
    return collector


def tasks(session, version):
    release = db_releases.release_get(session, version)
    return {t["name"]: t for t in release["tasks"]}, release


def event_count(engine):
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(
            models.ReleaseTaskEvent.__table__)).scalar_one()


def test_bound_jobs_move_tasks_once(make_conf, db_url, engine, session):
    conf = make_conf(**{"database.connection": db_url,
                        "ci.accounts": ["Zuul=zuul", "Acme CI=acme-ci"],
                        "releases.workflow": WORKFLOW, "releases.bindings": BINDINGS})
    for version, created in (("4.19.1", T0 - 24 * H), ("4.19.2", T0 - H),
                             ("4.20.1", T0 + 3 * H)):
        db_releases.release_put(session, version, {}, WORKFLOW, now=created)
    session.commit()

    records = [
        on("release-4.19", 3001, [
            ci_message("FAILURE", T0 + 30 * M, 1, [("release-stage-test", "FAILURE"),
                                                   ("unrelated", "SUCCESS")], author=ACME),
            # Not the bound system: ignored.
            ci_message("SUCCESS", T0 + H, 1, [("release-stage-test", "SUCCESS")], author=ZUUL),
            ci_message("SUCCESS", T0 + 2 * H, 1, [("release-stage-test", "SUCCESS")],
                       author=ACME),
        ]),
        # The branch does not match.
        on("master", 3002, [ci_message("SUCCESS", T0 + 20 * M, 1,
                                       [("release-stage-test", "SUCCESS")], author=ACME)]),
        # Two matching lines, one failed: FAIL.
        on("release-4.19.1", 3003, [ci_message("FAILURE", T0 + 50 * M, 1,
                                               [("sig-check-x86", "SUCCESS"),
                                                ("sig-check-arm", "FAILURE")], author=ACME)]),
        # No branch regex: the dotted number in the branch.
        on("stable/4.19.2", 3005, [ci_message("SUCCESS", T0 + 40 * M, 1, [("own", "SUCCESS")])]),
        # 4.20.1 was created after this report: not about it.
        on("release-4.20", 3004, [ci_message("SUCCESS", T0 + H, 1, [("own", "SUCCESS")])]),
    ]
    collect(conf, engine, records)

    session.rollback()  # a new snapshot (MariaDB: repeatable read)
    by_name, release = tasks(session, "4.19.2")
    stage = by_name["stage-testing"]
    # The job ran 2m 10s before its first report: the task started then.
    assert stage["status"] == "PASS"
    assert stage["started_at"] == T0 + 30 * M - dt.timedelta(seconds=130)
    assert stage["finished_at"] == T0 + 2 * H
    assert stage["duration_s"] == 5400 + 130
    assert stage["url"] == "https://logs.example.org/release-stage-test"
    assert "change 3001,1" in stage["message"]
    assert by_name["take-ownership"]["status"] == "PASS"
    assert by_name["image-signed-check"]["status"] == "NOT_STARTED"
    assert [(e["task"], e["from_status"], e["status"], e["actor"]) for e in release["history"]] \
        == [("stage-testing", "NOT_STARTED", "FAIL", "ci:acme ci"),
            ("take-ownership", "NOT_STARTED", "PASS", "ci:zuul"),
            ("stage-testing", "FAIL", "PASS", "ci:acme ci")]
    assert (release["status"], release["done"]) == ("GREEN", False)

    by_name, release = tasks(session, "4.19.1")
    assert by_name["image-signed-check"]["status"] == "FAIL"
    assert by_name["stage-testing"]["status"] == "NOT_STARTED"
    assert release["status"] == "RED"
    assert {t["status"] for t in tasks(session, "4.20.1")[0].values()} == {"NOT_STARTED"}
    moved = event_count(engine)
    assert moved == 4

    # Idempotent: again; without the watermark (a lost WatchState); after
    # the patch set's reports are re-derived under new ids by a new message.
    with engine.connect() as conn:
        source_id = conn.execute(sa.select(models.Source.__table__.c.id)).scalar_one()
    assert release_bindings.apply(conf, engine, source_id) == 0
    with engine.begin() as conn:
        conn.execute(models.WatchState.__table__.delete())
    assert release_bindings.apply(conf, engine, source_id) == 0
    with engine.connect() as conn:
        old_ids = set(conn.execute(sa.select(models.CiReport.__table__.c.id)).scalars())
    collect(conf, engine, [on("release-4.19", 3001, records[0].messages + [
        human("looks good", T0 + 3 * H, 1)])], name="review")
    with engine.connect() as conn:
        new_ids = set(conn.execute(sa.select(models.CiReport.__table__.c.id)).scalars())
    assert new_ids - old_ids, "the reports were not re-derived"
    assert event_count(engine) == moved

    # A later failure after PASS is not applied (PASS is final) and breaks nothing;
    # a failure on 4.19.1's signing is superseded by a later success.
    later = [
        on("release-4.19", 3001, records[0].messages + [
            ci_message("FAILURE", T0 + 4 * H, 1, [("release-stage-test", "FAILURE")],
                       author=ACME)]),
        on("release-4.19.1", 3003, records[2].messages + [
            ci_message("SUCCESS", T0 + 5 * H, 1, [("sig-check-x86", "SUCCESS"),
                                                  ("sig-check-arm", "SUCCESS")], author=ACME)]),
    ]
    collect(conf, engine, later, name="review")
    session.rollback()  # a new snapshot (MariaDB: repeatable read)
    assert tasks(session, "4.19.2")[0]["stage-testing"]["status"] == "PASS"
    by_name, release = tasks(session, "4.19.1")
    assert by_name["image-signed-check"]["status"] == "PASS"
    assert release["status"] == "GREEN"
    assert event_count(engine) == moved + 1
