"""The daemon collecting from a fake Gerrit over loopback HTTP (real client,
real database), compared with importing the same recorded data from files."""

import datetime as dt

import sqlalchemy as sa

from radar import conf as radar_conf
from radar.db import engine as db_engine
from radar.db import migration, models
from radar_daemon import cmd, service
from radar_daemon.records import AccountRef
from radar_daemon.sources import gerrit_files
from tests.fakes import gerrit as fake_gerrit
from tests.functional import daemon_helpers, snapshot

RECORDED = ("driverlog__sample_review.json", "grimoirelab-perceval__gerrit_reviews_page_1")


def _rest_conf(tmp_path, db_url, url, extra=""):
    path = daemon_helpers.write_conf(tmp_path, db_url, """
[gerrit]
sources = review
[gerrit:review]
type = rest
url = %s
username = radar
password = secret
# The recorded data is from 2014 and 2018.
initial_days = 9000
page_size = 1
backoff = 0.01
backoff_max = 0.05
retries = 3
%s
""" % (url, extra))
    return radar_conf.load(["--config-file", path])


def _state(engine):
    table = models.CollectorState.__table__
    with engine.connect() as conn:
        return conn.execute(sa.select(table)).mappings().one()


def test_rest_and_file_import_give_identical_reports(engine, db_url, tmp_path, shared_data):
    records = []
    for name in RECORDED:
        records.extend(gerrit_files.iter_records(str(shared_data / name), fmt="query"))
    with fake_gerrit.running() as gerrit:
        gerrit.add_records(records)
        conf = _rest_conf(tmp_path, db_url, gerrit.url)
        outcome = service.Collector(conf, engine).run_once()
        assert outcome["review"].messages_new == 71
        # /a/ with basic auth, the options radar needs, one change a page.
        queries = [r for r in gerrit.requests if r.path.startswith("/a/changes/")]
        assert len(queries) >= 3
        assert set(queries[0].params["o"]) >= {"MESSAGES", "DETAILED_ACCOUNTS",
                                               "ALL_REVISIONS"}
        via_rest = snapshot.everything(engine)

    reference_url = "sqlite:///%s" % (tmp_path / "files.sqlite")
    migration.upgrade(reference_url)
    (tmp_path / "f").mkdir()
    files_conf = daemon_helpers.write_conf(tmp_path / "f", reference_url)
    assert cmd.main(["--config-file", files_conf, "import", "--source", "review",
                     *[str(shared_data / n) for n in RECORDED]]) == 0
    reference = db_engine.create_engine(url=reference_url)
    via_files = snapshot.everything(reference)
    reference.dispose()

    assert via_rest["reports"] and len(via_rest["reports"]) == 29
    assert via_rest == via_files
    state = _state(engine)
    assert state["last_success_at"] and state["last_error"] is None
    assert state["messages_stored"] == 71 and state["reports_stored"] == 29


def test_incremental_polls_and_faults(engine, db_url, tmp_path, shared_data):
    records = list(gerrit_files.iter_records(str(shared_data / RECORDED[0]), fmt="query"))
    with fake_gerrit.running() as gerrit:
        gerrit.add_records(records)
        conf = _rest_conf(tmp_path, db_url, gerrit.url)
        collector = service.Collector(conf, engine)
        # A proxy in front of Gerrit fails twice with HTML pages: retried.
        gerrit.fail_next(2, status=503)
        assert collector.run_once()["review"].messages_new == 40
        first_cursor = _state(engine)["cursor"]
        assert first_cursor["high_water"].startswith("2014-05-09")

        # Nothing new: nothing stored, and the query starts at the high water
        # minus the overlap.
        assert collector.run_once()["review"].messages_new == 0
        last = [r for r in gerrit.requests if r.path.startswith("/a/changes/")][-1]
        assert 'after:"2014-05-09 02:17:41"' in last.params["q"][0]

        # A new CI report arrives.
        gerrit.add_message(92468, "Patch Set 2: Verified-1\n\nBuild failed.\n\n"
                                  "- check-neutron https://ci.example.org/1 : FAILURE in 3m 02s",
                           author=AccountRef(username="mellanox",
                                             name="Mellanox External Testing"),
                           date=dt.datetime(2014, 5, 10, tzinfo=dt.UTC))
        # The server fails for longer than the retries: the cycle fails,
        # the error is recorded, the cursor stays.
        gerrit.fail_next(10, status=500)
        outcome = collector.run_once()["review"]
        assert isinstance(outcome, Exception)
        state = _state(engine)
        assert "500" in state["last_error"] and state["failures"] == 1
        assert state["cursor"] == first_cursor
        # Next cycle: recovered, nothing lost.
        gerrit.clear_faults()
        assert collector.run_once()["review"].messages_new == 1
    results = {r[3] for r in snapshot.everything(engine)["reports"]
               if r[0] == "mellanox external testing"}
    assert results == {"SUCCESS", "FAILURE"}


def test_ci_systems_from_a_gerrit_group(engine, db_url, tmp_path, shared_data):
    records = list(gerrit_files.iter_records(str(shared_data / RECORDED[0]), fmt="query"))
    with fake_gerrit.running() as gerrit:
        gerrit.add_records(records)
        gerrit.add_group("95d633d37a5d6b06df758e57b1370705ec071a57",
                         [AccountRef(username="neutronryu", name="Neutron Ryu"),
                          AccountRef(username="plumgrid-ci", name="PLUMgrid CI")],
                         name="Third-Party CI")
        conf = _rest_conf(tmp_path, db_url, gerrit.url, extra="""
[ci]
group = Third-Party CI
discover_pattern =
""")
        service.Collector(conf, engine).run_once()
    s = models.CiSystem.__table__
    with engine.connect() as conn:
        systems = {r.name: r.origin for r in conn.execute(sa.select(s))}
    # Only the group's members are CI systems; Jenkins is not in the group.
    assert systems == {"neutron ryu": "group", "plumgrid ci": "group"}
