"""radar-daemon against a real database (SQLite and MariaDB).

Figures for the real recorded data were worked out by hand from the files
in ../shared/data/gerrit (see the comments) and are asserted exactly.
"""

import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
import time

import sqlalchemy as sa

from radar import conf as radar_conf
from radar.db import engine as db_engine
from radar.db import migration, models
from radar_daemon import cmd, service
from tests.functional import daemon_helpers, snapshot

DRIVERLOG = "driverlog__sample_review.json"
ELASTIC = "elastic-recheck__gerrit_events.json"
PERCEVAL = "grimoirelab-perceval__gerrit_reviews_page_1"


def _count(engine, table, *where):
    with engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(table)
        for clause in where:
            query = query.where(clause)
        return conn.execute(query).scalar()


def _results_by_system(engine):
    r, s = models.CiReport.__table__, models.CiSystem.__table__
    with engine.connect() as conn:
        rows = conn.execute(sa.select(s.c.name, r.c.result, sa.func.count())
                            .join(s, s.c.id == r.c.ci_system_id)
                            .group_by(s.c.name, r.c.result)).all()
    return {(name, result): n for name, result, n in rows}


def test_import_real_data(engine, db_url, tmp_path, shared_data, capsys):
    conf = daemon_helpers.write_conf(tmp_path, db_url)
    rc = cmd.main(["--config-file", conf, "import", "--source", "openstack",
                   str(shared_data / DRIVERLOG), str(shared_data / ELASTIC)])
    assert rc == 0
    rc = cmd.main(["--config-file", conf, "import", "--source", "wikimedia",
                   str(shared_data / PERCEVAL)])
    assert rc == 0
    out = capsys.readouterr().out
    assert "40 new messages" in out and "31 new messages" in out

    # 40 + 10 + 31 raw messages, every one kept.
    assert _count(engine, models.Message.__table__) == 81
    results = _results_by_system(engine)
    # driverlog (change 92468): Mellanox PS1 "Build failed." and NEC PS2
    # "Build failed." are the only failures among its 20 reports.
    assert results[("mellanox external testing", "FAILURE")] == 1
    assert results[("nec openstack ci", "FAILURE")] == 1
    # VMware Mine Sweeper: PS1 twice (the "-Verified" in between is a vote
    # removal, not a report), PS2 once.
    assert results[("vmware mine sweeper", "SUCCESS")] == 3
    # Jenkins: 92468 PS1 check, PS2 check, PS2 gate twice (4), plus the 10
    # elastic-recheck events, 3 of them "Build failed.".
    assert results[("jenkins", "SUCCESS")] == 4 + 7
    assert results[("jenkins", "FAILURE")] == 3
    # Huawei CI only said "Starting check jobs.": a system, but no report.
    assert not any(name == "huawei ci" for name, _ in results)
    # Wikimedia change 415319: 8 failed jenkins-bot runs after 6 human
    # rechecks; change 416443: one success.
    assert results[("jenkins-bot", "FAILURE")] == 8
    assert results[("jenkins-bot", "SUCCESS")] == 1
    assert _count(engine, models.RecheckRequest.__table__) == 6
    # Humans never become CI systems (Hashar voted Verified+2 by hand).
    names = {n for (n, _r) in results}
    assert not names & {"hashar", "addshore", "armando migliaccio", "gehel"}

    r = models.CiReport.__table__
    with engine.connect() as conn:
        first = conn.execute(sa.select(r.c.latency_s, r.c.attempt).join(
            models.CiSystem.__table__).where(
            models.CiSystem.__table__.c.name == "jenkins-bot").order_by(r.c.reported_at)).all()
    # First report 1519835359 - PS1 upload 1519834597; first retry 1519839401
    # - recheck 1519835712.
    assert first[0] == (762.0, 1)
    assert first[1] == (3689.0, 2)
    # Stream events without eventCreatedOn have no real time: no latency.
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(r).join(
            models.Change.__table__).where(models.Change.__table__.c.number == 60244,
                                           r.c.latency_s.is_(None))).scalar() == 1


def test_import_twice_changes_nothing_and_reparse_agrees(engine, db_url, tmp_path,
                                                        shared_data):
    conf = daemon_helpers.write_conf(tmp_path, db_url)
    files = [str(shared_data / f) for f in (DRIVERLOG, ELASTIC, PERCEVAL)]
    assert cmd.main(["--config-file", conf, "import", *files]) == 0
    first = snapshot.everything(engine)
    assert first["reports"] and first["jobs"] and first["rollups"]
    assert cmd.main(["--config-file", conf, "import", *files]) == 0
    assert snapshot.everything(engine) == first
    assert cmd.main(["--config-file", conf, "reparse"]) == 0
    assert snapshot.everything(engine) == first


def test_bad_records_are_skipped_and_the_rest_goes_on(engine, db_url, tmp_path, capsys):
    events = list(daemon_helpers.stream_events(2))
    lines = [json.dumps(e) for e in events]
    lines.insert(2, '{"type": "comment-added", "change": {"number": ')  # cut short
    lines.insert(3, '{"type": "comment-added", "change": {"project": "x"}}')
    path = tmp_path / "events.json"
    path.write_text("\n".join(lines) + "\n")
    conf = daemon_helpers.write_conf(tmp_path, db_url)
    assert cmd.main(["--config-file", conf, "import", str(path)]) == 0
    captured = capsys.readouterr()
    assert "2 skipped" in captured.out
    assert _count(engine, models.Change.__table__) == 2
    assert _count(engine, models.CiReport.__table__) == 4


def test_import_from_stdin(engine, db_url, tmp_path, monkeypatch):
    data = "".join(json.dumps(e) + "\n" for e in daemon_helpers.stream_events(3))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.encode())))
    conf = daemon_helpers.write_conf(tmp_path, db_url)
    assert cmd.main(["--config-file", conf, "import", "-"]) == 0
    assert _count(engine, models.CiReport.__table__) == 6


def _files_conf(tmp_path, db_url, log, poll_interval=1):
    return daemon_helpers.write_conf(tmp_path, db_url, """
[gerrit]
sources = log
poll_interval = %d
[gerrit:log]
type = files
paths = %s
[daemon]
batch_size = 50
""" % (poll_interval, log))


def test_files_source_tails_a_growing_log(engine, db_url, tmp_path):
    events = [json.dumps(e) + "\n" for e in daemon_helpers.stream_events(10)]
    log = tmp_path / "stream.log"
    half = len(events) // 2
    log.write_text("".join(events[:half]) + events[half][:20])  # a partial line
    conf = _files_conf(tmp_path, db_url, log)
    assert cmd.main(["--config-file", conf, "run-once"]) == 0
    reports_first = _count(engine, models.CiReport.__table__)
    assert 0 < reports_first < 20
    with open(log, "a") as fh:
        fh.write(events[half][20:] + "".join(events[half + 1:]))
    assert cmd.main(["--config-file", conf, "run-once"]) == 0
    # 10 changes x 2 systems + 1 retry (change 7).
    assert _count(engine, models.CiReport.__table__) == 21
    state = models.CollectorState.__table__
    with engine.connect() as conn:
        row = conn.execute(sa.select(state)).mappings().one()
    assert row["cycles"] == 2 and row["failures"] == 0
    assert row["last_success_at"] is not None
    assert list(row["cursor"]["files"].values())[0]["offset"] == log.stat().st_size


def test_leases_keep_two_daemons_apart(engine, db_url, tmp_path):
    log = daemon_helpers.write_stream(tmp_path / "s.log", 3)
    conf = radar_conf.load(["--config-file", _files_conf(tmp_path, db_url, log)])
    first = service.Collector(conf, engine, holder="a")
    second = service.Collector(conf, engine, holder="b")
    assert not isinstance(first.run_once()["log"], str)
    assert second.run_once() == {"log": "leased elsewhere"}
    # A crashed holder's lease expires.
    lease = models.Lease.__table__
    with engine.begin() as conn:
        conn.execute(lease.update().values(expires_at=_past()))
    assert not isinstance(second.run_once()["log"], str)
    assert first.run_once() == {"log": "leased elsewhere"}


def _past():
    return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)


def _spawn(conf, *args):
    # Output goes to a file beside the config, for reading after a failure.
    with open(conf + ".log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "radar_daemon.cmd", "--config-file",
                                 conf, *args], stdout=log, stderr=subprocess.STDOUT)


def _wait_for(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sigterm_stops_within_a_second(engine, db_url, tmp_path):
    log = daemon_helpers.write_stream(tmp_path / "s.log", 5)
    # Between two cycles, where a daemon spends nearly all its time.
    conf = _files_conf(tmp_path, db_url, log, poll_interval=300)
    proc = _spawn(conf, "run")
    try:
        state = models.CollectorState.__table__
        assert _wait_for(lambda: _count(engine, state, state.c.last_success_at.is_not(None)))
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        assert time.monotonic() - started < 1.0
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    # A clean stop releases the lease.
    assert _count(engine, models.Lease.__table__) == 0


def test_sigkill_mid_ingest_loses_and_duplicates_nothing(engine, db_url, tmp_path):
    log = daemon_helpers.write_stream(tmp_path / "big.log", 1500)
    conf = _files_conf(tmp_path, db_url, log)
    proc = _spawn(conf, "run-once")
    messages = models.Message.__table__
    try:
        assert _wait_for(lambda: _count(engine, messages) > 200)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    interrupted_at = _count(engine, messages)
    # Let the dead daemon's lease expire, then start again.
    with engine.begin() as conn:
        conn.execute(models.Lease.__table__.update().values(expires_at=_past()))
    assert cmd.main(["--config-file", conf, "run-once"]) == 0
    assert cmd.main(["--config-file", conf, "run-once"]) == 0

    reference_url = "sqlite:///%s" % (tmp_path / "reference.sqlite")
    migration.upgrade(reference_url)
    (tmp_path / "ref").mkdir()
    ref_conf = _files_conf(tmp_path / "ref", reference_url, log)
    assert cmd.main(["--config-file", ref_conf, "run-once"]) == 0
    reference = db_engine.create_engine(url=reference_url)
    expected = snapshot.everything(reference)
    reference.dispose()
    got = snapshot.everything(engine)
    assert interrupted_at < expected["messages"]
    assert got["messages"] == expected["messages"]
    assert got == expected


def test_ci_identity_from_configuration(engine, db_url, tmp_path, shared_data):
    conf = daemon_helpers.write_conf(tmp_path, db_url, """
[ci]
accounts = Ryu CI=neutronryu, Upstream=jenkins
ignore_accounts = huawei-ci
discover_pattern =
reference_systems = upstream
""")
    assert cmd.main(["--config-file", conf, "import", str(shared_data / DRIVERLOG)]) == 0
    s = models.CiSystem.__table__
    with engine.connect() as conn:
        systems = {r.name: r for r in conn.execute(sa.select(s))}
    # Discovery off: only the two configured accounts are CI systems; the
    # display name comes from the configuration.
    assert set(systems) == {"ryu ci", "upstream"}
    assert systems["upstream"].reference and not systems["ryu ci"].reference
    assert systems["ryu ci"].origin == "config"
    results = _results_by_system(engine)
    assert results == {("ryu ci", "SUCCESS"): 1, ("upstream", "SUCCESS"): 4}
