"""Statistics over hand-built scenarios whose every number is worked out by hand.

Runs on SQLite and MariaDB (the `session` fixture of tests/conftest.py).

The scenario (times are offsets from T0 = Thursday 2026-03-05 00:00 UTC,
"d3 01:00" = T0 + 3 days + 1 hour; now = d6 12:00; grace 3 h, silence 24 h):

project org/nova; systems zuul (reference), acme-ci, silent-ci (configured
to cover org/nova); project org/neutron; system neutron-ci.

change  ps  created     zuul                acme-ci                         silent-ci
101     1   d0 01:00    S d0 01:10 (600)    F d0 01:20 (1200); recheck      S d0 01:05 (300)
                                            d0 02:00; S d0 02:30 (retry 1800)
102     1   d1 00:00    S d1 00:05 (300)    F d1 00:15 (900)    (merged: suspect failure)
103     1   d2 00:00    S d2 00:01:40 (100) -- missed
104     1   d3 00:00    S d3 00:20 (1200)   -- (superseded at d3 00:30: not eligible)
104     2   d3 00:30    S d3 00:41:40 (700) S d3 01:00 (1800)
105     1   d4 00:00    S d4 00:06:40 (400) MERGE_FAILED d4 00:10 (600)
106     1   d5 00:00    S d5 00:16:40 (1000) S d5 00:18:20 (1100) "Build succeeded."
                                            with a failed non-voting job
107     1   d6 10:30    S d6 10:43:20 (800) S d6 10:55 (1500)  (younger than the grace
                                                                 period: not yet due)
neutron: 201/1 d2 12:00 -> neutron-ci F d2 12:30 (1800); 202/1 d4 00:00 -> F d6 09:00
(205200).
"""

import datetime as dt
import hashlib
import itertools
import random
from fractions import Fraction

import pytest
import sqlalchemy as sa

from radar.db import models
from radar.stats import rollups, systems
from radar.stats.window import Window

UTC = dt.UTC
T0 = dt.datetime(2026, 3, 5, tzinfo=UTC)           # a Thursday
NOW = T0 + dt.timedelta(days=6, hours=12)
URL = "https://review.example.org/"


def at(day, hours=0, minutes=0, seconds=0):
    return T0 + dt.timedelta(days=day, hours=hours, minutes=minutes, seconds=seconds)


class Builder:
    """Rows straight into the tables, with attempt and latency as the daemon sets them."""

    def __init__(self, session):
        self.s = session
        self._seq = itertools.count(1)
        self.source = self._insert(models.Source, name="review", type="rest", url=URL,
                                   web_url=None, created_at=T0)
        self.human = self._insert(models.Account, source_id=self.source, key="jane",
                                  username="jane", name="Jane")
        self.keys = set()
        self._reports = {}           # (system, ps) -> [report ids]

    def _insert(self, model, **values):
        result = self.s.execute(model.__table__.insert().values(**values))
        return result.inserted_primary_key[0]

    def project(self, name):
        return self._insert(models.Project, source_id=self.source, name=name)

    def system(self, name, reference=False, projects=None):
        system_id = self._insert(models.CiSystem, name=name, display_name=name.title(),
                                 reference=reference, enabled=True, origin="config",
                                 projects=projects, created_at=T0, updated_at=T0)
        account = self._insert(models.Account, source_id=self.source, key=name,
                               username=name, name=name.title(), ci_system_id=system_id)
        return {"id": system_id, "account": account}

    def change(self, project, number, status="NEW"):
        change_id = self._insert(
            models.Change, source_id=self.source, number=number, project_id=project,
            branch="master", subject="change %d" % number, status=status, created=T0,
            updated=T0, merged_at=None)
        return {"id": change_id, "number": number, "project": project, "patchsets": []}

    def patchset(self, change, number, created):
        ps_id = self._insert(models.PatchSet, change_id=change["id"], number=number,
                             created=created, revision="%040d" % (change["number"] * 100 + number))
        if change["patchsets"]:
            prev = change["patchsets"][-1]
            self.s.execute(models.PatchSet.__table__.update()
                           .where(models.PatchSet.__table__.c.id == prev["id"])
                           .values(superseded_at=created))
        ps = {"id": ps_id, "change": change, "number": number, "created": created}
        change["patchsets"].append(ps)
        return ps

    def message(self, ps, author, when, text):
        n = next(self._seq)
        return self._insert(models.Message, source_id=self.source,
                            fingerprint=hashlib.sha1(b"%d" % n).hexdigest(),
                            change_id=ps["change"]["id"], patchset_number=ps["number"],
                            author_id=author, date=when, text=text)

    def recheck(self, ps, when, system=None):
        msg = self.message(ps, self.human, when, "recheck")
        return {"id": self._insert(models.RecheckRequest, message_id=msg, patchset_id=ps["id"],
                                   account_id=self.human,
                                   ci_system_id=system["id"] if system else None,
                                   requested_at=when),
                "at": when}

    def report(self, system, ps, result, when, recheck=None, jobs=()):
        earlier = self._reports.setdefault((system["id"], ps["id"]), [])
        attempt = len(earlier) + 1
        if recheck is not None:
            latency = (when - recheck["at"]).total_seconds()
        elif attempt == 1:
            latency = (when - ps["created"]).total_seconds()
        else:
            latency = None
        msg = self.message(ps, system["account"], when, "Build %s." % result)
        report_id = self._insert(
            models.CiReport, message_id=msg, ci_system_id=system["id"],
            account_id=system["account"], change_id=ps["change"]["id"], patchset_id=ps["id"],
            project_id=ps["change"]["project"], pipeline="check", result=result,
            reported_at=when, attempt=attempt,
            recheck_id=recheck["id"] if recheck else None, latency_s=latency)
        earlier.append(report_id)
        for position, (name, job_result, voting, duration, url) in enumerate(jobs):
            self._insert(models.CiJobResult, report_id=report_id, position=position, name=name,
                         result=job_result, voting=voting, duration_s=duration, url=url)
        self.keys.add((system["id"], ps["change"]["project"], when.date()))
        return report_id


def build(session):
    b = Builder(session)
    nova = b.project("org/nova")
    neutron = b.project("org/neutron")
    zuul = b.system("zuul", reference=True)
    acme = b.system("acme-ci")
    silent = b.system("silent-ci", projects=["org/nova"])
    nci = b.system("neutron-ci")
    log = "https://logs.example.org/%s"

    c101 = b.change(nova, 101, status="MERGED")
    ps = b.patchset(c101, 1, at(0, 1))
    b.report(silent, ps, "SUCCESS", at(0, 1, 5))
    b.report(zuul, ps, "SUCCESS", at(0, 1, 10))
    b.report(acme, ps, "FAILURE", at(0, 1, 20), jobs=[
        ("acme-tempest", "FAILURE", True, 1500.0, log % "1"),
        ("acme-grenade", "FAILURE", False, 2100.0, log % "2")])
    rc = b.recheck(ps, at(0, 2))
    b.report(acme, ps, "SUCCESS", at(0, 2, 30), recheck=rc, jobs=[
        ("acme-tempest", "SUCCESS", True, 1200.0, log % "3"),
        ("acme-grenade", "SUCCESS", False, 2000.0, log % "4")])

    c102 = b.change(nova, 102, status="MERGED")
    ps = b.patchset(c102, 1, at(1))
    b.report(zuul, ps, "SUCCESS", at(1, 0, 5))
    b.report(acme, ps, "FAILURE", at(1, 0, 15), jobs=[
        ("acme-tempest", "FAILURE", True, 1300.0, log % "5"),
        ("acme-grenade", "SKIPPED", False, None, None)])

    c103 = b.change(nova, 103)
    ps = b.patchset(c103, 1, at(2))
    b.report(zuul, ps, "SUCCESS", at(2, 0, 1, 40))

    c104 = b.change(nova, 104)
    ps1 = b.patchset(c104, 1, at(3))
    b.report(zuul, ps1, "SUCCESS", at(3, 0, 20))
    ps2 = b.patchset(c104, 2, at(3, 0, 30))
    b.report(zuul, ps2, "SUCCESS", at(3, 0, 41, 40))
    b.report(acme, ps2, "SUCCESS", at(3, 1))

    c105 = b.change(nova, 105)
    ps = b.patchset(c105, 1, at(4))
    b.report(zuul, ps, "SUCCESS", at(4, 0, 6, 40))
    b.report(acme, ps, "MERGE_FAILED", at(4, 0, 10))

    c106 = b.change(nova, 106)
    ps = b.patchset(c106, 1, at(5))
    b.report(zuul, ps, "SUCCESS", at(5, 0, 16, 40))
    b.report(acme, ps, "SUCCESS", at(5, 0, 18, 20), jobs=[
        ("acme-tempest", "SUCCESS", True, 1000.0, log % "6"),
        ("acme-grenade", "FAILURE", False, 2000.0, log % "7")])

    c107 = b.change(nova, 107)
    ps = b.patchset(c107, 1, at(6, 10, 30))
    b.report(zuul, ps, "SUCCESS", at(6, 10, 43, 20))
    b.report(acme, ps, "SUCCESS", at(6, 10, 55))

    c201 = b.change(neutron, 201)
    ps = b.patchset(c201, 1, at(2, 12))
    b.report(nci, ps, "FAILURE", at(2, 12, 30))
    c202 = b.change(neutron, 202)
    ps = b.patchset(c202, 1, at(4))
    b.report(nci, ps, "FAILURE", at(6, 9))

    systems.rebuild_rollups(session, b.keys)
    session.commit()
    return {"zuul": zuul["id"], "acme": acme["id"], "silent": silent["id"],
            "neutron": nci["id"], "nova": nova, "neutron_project": neutron, "builder": b}


@pytest.fixture
def world(session):
    return build(session)


@pytest.fixture
def sconf(make_conf):
    return make_conf(**{"stats.health_min_reports": 1})


WINDOW = Window(T0, NOW)


def by_name(items):
    return {i["name"]: i for i in items}


def summaries(session, conf, window=WINDOW, **kw):
    return by_name(systems.system_summaries(session, conf, window, now=NOW, **kw))


# --- the whole window -----------------------------------------------------------


def test_summary_keys_are_the_contract(session, world, sconf):
    for item in systems.system_summaries(session, sconf, WINDOW, now=NOW):
        assert tuple(item) == systems.SUMMARY_KEYS


def test_acme_summary(session, world, sconf):
    acme = summaries(session, sconf)["acme-ci"]
    assert acme == {
        "id": world["acme"], "name": "acme-ci", "display_name": "Acme-Ci",
        "accounts": ["acme-ci"], "reference": False, "enabled": True,
        # 101 F, 101 S (retry), 102 F, 104/2 S, 105 MERGE_FAILED, 106 S, 107 S
        "reports": 7, "successes": 4, "failures": 2, "merge_failures": 1, "other_results": 0,
        "success_rate": 4 / 6,                       # MERGE_FAILED left out
        # first reports: 101 F, 102 F, 104 S, 105 MF, 106 S, 107 S
        "first_attempt_success_rate": 3 / 5,
        # last reports: 101 S, 102 F, 104 S, 105 MF, 106 S, 107 S
        "final_success_rate": 4 / 5,
        "patchsets_reported": 6,
        # 101, 102, 103, 104/2, 105, 106 (104/1 superseded after 30 min, 107 not due)
        "eligible_patchsets": 6, "coverage": 5 / 6, "missed": 1,
        # [600, 900, 1100, 1200, 1500, 1800]: even count
        "latency_p50_s": 1150.0, "latency_p90_s": 1650.0,
        "retry_latency_p50_s": 1800.0, "rechecks": 1,
        "flaky_patchsets": 1, "flake_rate": 1 / 2,
        # with zuul: 101 S/S, 102 F/S, 104/2 S/S, 106 S/S, 107 S/S (105 MF left out)
        "agreement": 4 / 5, "suspect_failures": 1,
        "last_seen": at(6, 10, 55),
        "health": "YELLOW",
        "health_reason": "success rate 66.7% below 80.0%; coverage 83.3% (1 of 6 eligible "
                         "patch sets missed) below 90.0%",
    }


def test_reference_summary(session, world, sconf):
    zuul = summaries(session, sconf)["zuul"]
    assert zuul["reference"] is True
    assert (zuul["reports"], zuul["successes"], zuul["failures"]) == (8, 8, 0)
    assert zuul["success_rate"] == 1.0
    assert zuul["first_attempt_success_rate"] == zuul["final_success_rate"] == 1.0
    assert zuul["patchsets_reported"] == 8
    # 104/1 was superseded within the grace period but zuul reported anyway.
    assert (zuul["eligible_patchsets"], zuul["missed"], zuul["coverage"]) == (7, 0, 1.0)
    # [100, 300, 400, 600, 700, 800, 1000, 1200]: p90 rank 6.3
    assert zuul["latency_p50_s"] == 650.0
    assert zuul["latency_p90_s"] == pytest.approx(1060.0, abs=1e-9)
    assert zuul["retry_latency_p50_s"] is None and zuul["rechecks"] == 0
    assert zuul["flaky_patchsets"] == 0 and zuul["flake_rate"] is None
    assert zuul["agreement"] is None and zuul["suspect_failures"] == 0
    assert zuul["last_seen"] == at(6, 10, 43, 20)
    assert zuul["health"] == "GREEN"
    assert zuul["health_reason"] == ("success rate 100.0%; coverage 100.0% "
                                     "(0 of 7 eligible patch sets missed)")


def test_silent_system(session, world, sconf):
    silent = summaries(session, sconf)["silent-ci"]
    assert (silent["reports"], silent["successes"], silent["success_rate"]) == (1, 1, 1.0)
    assert (silent["eligible_patchsets"], silent["missed"]) == (6, 5)
    assert silent["coverage"] == 1 / 6
    assert silent["latency_p50_s"] == silent["latency_p90_s"] == 300.0
    assert silent["agreement"] == 1.0
    assert silent["last_seen"] == at(0, 1, 5)
    assert silent["health"] == "SILENT"
    assert silent["health_reason"] == ("no report for 6d 10h (threshold 1d 0h) while "
                                       "eligible patch sets arrived")


def test_red_system_and_other_project(session, world, sconf):
    nci = summaries(session, sconf)["neutron-ci"]
    assert (nci["reports"], nci["failures"], nci["success_rate"]) == (2, 2, 0.0)
    assert (nci["eligible_patchsets"], nci["coverage"], nci["missed"]) == (2, 1.0, 0)
    assert nci["flake_rate"] == 0.0 and nci["flaky_patchsets"] == 0
    # [1800, 205200]
    assert nci["latency_p50_s"] == 103500.0
    assert nci["latency_p90_s"] == pytest.approx(184860.0, abs=1e-9)
    assert nci["agreement"] is None
    assert nci["health"] == "RED"
    assert nci["health_reason"] == "success rate 0.0% below 50.0%"


def test_project_filter_and_system_ids(session, world, sconf):
    nova = summaries(session, sconf, project="org/nova")
    assert set(nova) == {"zuul", "acme-ci", "silent-ci", "neutron-ci"}
    assert nova["acme-ci"] == summaries(session, sconf)["acme-ci"]
    assert nova["neutron-ci"]["reports"] == 0
    assert nova["neutron-ci"]["last_seen"] is None
    assert nova["neutron-ci"]["eligible_patchsets"] == 0
    unknown = summaries(session, sconf, project="no/such")
    assert unknown["acme-ci"]["reports"] == 0 and unknown["acme-ci"]["coverage"] is None
    only = systems.system_summaries(session, sconf, WINDOW, system_ids=[world["acme"]], now=NOW)
    assert [s["name"] for s in only] == ["acme-ci"]
    assert only[0] == summaries(session, sconf)["acme-ci"]


def test_young_patchset_becomes_due(session, world, sconf):
    # At d6 13:31 patch set 107 (d6 10:30) is older than the 3 h grace period:
    # eligible for acme (reported) and zuul (reported).
    later = at(6, 13, 31)
    acme = by_name(systems.system_summaries(session, sconf, WINDOW, now=later))["acme-ci"]
    assert (acme["eligible_patchsets"], acme["missed"]) == (7, 1)
    # A patch set created at d6 11:00 with no report is missed only once due.
    b = world["builder"]
    c = b.change(world["nova"], 108)
    b.patchset(c, 1, at(6, 11))
    session.commit()
    window = Window(T0, at(6, 14, 1))
    before = by_name(systems.system_summaries(session, sconf, window, now=at(6, 13, 59)))
    after = by_name(systems.system_summaries(session, sconf, window, now=at(6, 14)))
    assert before["acme-ci"]["missed"] == 1
    assert after["acme-ci"]["missed"] == 2


def test_grace_boundary_is_exact(session, world, make_conf):
    # 104/1 was current for exactly 30 minutes: eligible with a 30-minute grace
    # period, not with 30 minutes and one second.
    exact = make_conf(**{"stats.coverage_grace_period": 1800})
    longer = make_conf(**{"stats.coverage_grace_period": 1801})
    assert summaries(session, exact)["acme-ci"]["eligible_patchsets"] == 8
    assert summaries(session, longer)["acme-ci"]["eligible_patchsets"] == 7


# --- missed, jobs ---------------------------------------------------------------------


def test_missed_patchsets(session, world, sconf):
    missed = systems.missed_patchsets(session, sconf, world["acme"], WINDOW, now=NOW)
    assert missed == [{
        "change": 103, "patchset": 1, "project": "org/nova", "branch": "master",
        "subject": "change 103", "created": at(2),
        "url": "https://review.example.org/c/org/nova/+/103/1"}]
    silent = systems.missed_patchsets(session, sconf, world["silent"], WINDOW, now=NOW)
    assert [(m["change"], m["patchset"]) for m in silent] == [
        (106, 1), (105, 1), (104, 2), (103, 1), (102, 1)]
    assert systems.missed_patchsets(session, sconf, world["acme"], WINDOW,
                                    project="org/neutron", now=NOW) == []


def test_missed_uses_web_url(session, world, sconf):
    session.execute(models.Source.__table__.update().values(web_url="https://web.example.org"))
    session.commit()
    missed = systems.missed_patchsets(session, sconf, world["acme"], WINDOW, now=NOW)
    assert missed[0]["url"] == "https://web.example.org/c/org/nova/+/103/1"


def test_job_stats(session, world, sconf):
    jobs = systems.job_stats(session, sconf, world["acme"], WINDOW)
    assert jobs == [
        {"name": "acme-grenade", "runs": 4,
         "results": {"FAILURE": 2, "SUCCESS": 1, "SKIPPED": 1},
         "success_rate": 1 / 3, "flaky": 1, "median_duration_s": 2000.0, "voting": False,
         "last_log_url": "https://logs.example.org/7", "last_run": at(5, 0, 18, 20)},
        {"name": "acme-tempest", "runs": 4, "results": {"FAILURE": 2, "SUCCESS": 2},
         "success_rate": 0.5, "flaky": 1, "median_duration_s": 1250.0, "voting": True,
         "last_log_url": "https://logs.example.org/6", "last_run": at(5, 0, 18, 20)},
    ]
    assert systems.job_stats(session, sconf, world["acme"], WINDOW, project="no/such") == []


# --- windows: mid-day start, edges, series --------------------------------------------


def test_window_starting_mid_day(session, world, sconf):
    window = Window(at(0, 1, 25), NOW)
    acme = summaries(session, sconf, window)["acme-ci"]
    got = {k: acme[k] for k in (
        "reports", "successes", "failures", "merge_failures", "success_rate",
        "first_attempt_success_rate", "final_success_rate", "patchsets_reported",
        "eligible_patchsets", "coverage", "missed", "latency_p50_s", "latency_p90_s",
        "retry_latency_p50_s", "rechecks", "flaky_patchsets", "flake_rate", "agreement",
        "suspect_failures", "last_seen")}
    assert got == {
        # 101's first FAILURE (d0 01:20) is before the window; its retry is inside.
        "reports": 6, "successes": 4, "failures": 1, "merge_failures": 1,
        "success_rate": 0.8,
        # 101 left out of patch-set numbers: its first report is before the window.
        "first_attempt_success_rate": 0.75, "final_success_rate": 0.75,
        "patchsets_reported": 5,
        # 101 was created before the window.
        "eligible_patchsets": 5, "coverage": 0.8, "missed": 1,
        # [600, 900, 1100, 1500, 1800]: odd count, p90 rank 3.6
        "latency_p50_s": 1100.0, "latency_p90_s": 1680.0,
        "retry_latency_p50_s": 1800.0, "rechecks": 1,
        "flaky_patchsets": 0, "flake_rate": 0.0,
        "agreement": 0.75, "suspect_failures": 1,
        "last_seen": at(6, 10, 55),
    }


def test_mid_day_window_reads_rollups_for_whole_days(session, world, sconf):
    window = Window(at(0, 1, 25), NOW)
    before = summaries(session, sconf, window)
    # Removing the rollup of a whole middle day (d1) removes its report from
    # the counts: whole days come from the rollups ...
    t = models.DailyRollup.__table__
    session.execute(t.delete().where(t.c.ci_system_id == world["acme"], t.c.day == at(1).date()))
    assert summaries(session, sconf, window)["acme-ci"]["reports"] == 5
    # ... and the edge days from ci_reports (removing d0 and d6 rollups changes nothing).
    session.execute(t.delete().where(t.c.day.in_([at(0).date(), at(6).date()])))
    assert summaries(session, sconf, window)["acme-ci"]["reports"] == 5
    # Rebuilding everything restores the exact numbers.
    systems.rebuild_rollups(session, None)
    assert summaries(session, sconf, window) == before


def test_window_inside_one_day(session, world, sconf):
    window = Window(at(0, 1), at(0, 3))
    acme = summaries(session, sconf, window)["acme-ci"]
    assert (acme["reports"], acme["successes"], acme["failures"]) == (2, 1, 1)
    assert (acme["first_attempt_success_rate"], acme["final_success_rate"]) == (0.0, 1.0)
    assert (acme["flaky_patchsets"], acme["flake_rate"]) == (1, 1.0)
    assert acme["latency_p50_s"] == 1200.0 and acme["retry_latency_p50_s"] == 1800.0


def test_daily_series_equals_summaries_of_each_day(session, world, sconf):
    series = systems.system_series(session, sconf, world["acme"], WINDOW, "day", now=NOW)
    assert [(p["start"], p["end"]) for p in series] == [
        (at(d), at(d + 1)) for d in range(6)] + [(at(6), NOW)]
    for point in series:
        alone = systems.system_summaries(session, sconf, Window(point["start"], point["end"]),
                                         system_ids=[world["acme"]], now=NOW)[0]
        assert {k: v for k, v in point.items() if k not in ("start", "end")} == alone
    d0 = series[0]
    assert (d0["reports"], d0["first_attempt_success_rate"], d0["final_success_rate"],
            d0["flaky_patchsets"], d0["eligible_patchsets"], d0["missed"]) == (2, 0.0, 1.0,
                                                                                1, 1, 0)
    assert [p["reports"] for p in series] == [2, 1, 0, 1, 1, 1, 1]
    assert [p["missed"] for p in series] == [0, 0, 1, 0, 0, 0, 0]


def test_weekly_series(session, world, sconf):
    series = systems.system_series(session, sconf, world["acme"], WINDOW, "week", now=NOW)
    # T0 is a Thursday: [Thu, Mon) and [Mon, now).
    assert [(p["start"], p["end"]) for p in series] == [(T0, at(4)), (at(4), NOW)]
    week1, week2 = series
    assert {k: week1[k] for k in (
        "reports", "successes", "failures", "success_rate", "patchsets_reported",
        "first_attempt_success_rate", "final_success_rate", "flaky_patchsets", "flake_rate",
        "eligible_patchsets", "missed", "coverage", "latency_p50_s", "latency_p90_s",
        "retry_latency_p50_s", "agreement", "suspect_failures", "last_seen", "health")} == {
        "reports": 4, "successes": 2, "failures": 2, "success_rate": 0.5,
        "patchsets_reported": 3, "first_attempt_success_rate": 1 / 3,
        "final_success_rate": 2 / 3, "flaky_patchsets": 1, "flake_rate": 0.5,
        "eligible_patchsets": 4, "missed": 1, "coverage": 0.75,
        "latency_p50_s": 1200.0, "latency_p90_s": 1680.0, "retry_latency_p50_s": 1800.0,
        "agreement": 2 / 3, "suspect_failures": 1, "last_seen": at(3, 1), "health": "YELLOW"}
    assert {k: week2[k] for k in (
        "reports", "successes", "merge_failures", "success_rate", "patchsets_reported",
        "final_success_rate", "flake_rate", "eligible_patchsets", "coverage",
        "latency_p50_s", "latency_p90_s", "rechecks", "agreement", "last_seen",
        "health")} == {
        "reports": 3, "successes": 2, "merge_failures": 1, "success_rate": 1.0,
        "patchsets_reported": 3, "final_success_rate": 1.0, "flake_rate": None,
        "eligible_patchsets": 2, "coverage": 1.0, "latency_p50_s": 1100.0,
        "latency_p90_s": 1420.0, "rechecks": 0, "agreement": 1.0,
        "last_seen": at(6, 10, 55), "health": "GREEN"}


def test_flaky_respects_new_patchsets(session, world, sconf):
    """FAILURE then SUCCESS on one patch set is flaky unless a new patch set came in between."""
    b = world["builder"]
    project = b.project("org/flip")
    flip = b.system("flip-ci")

    def runs(number, day, steps):
        change = b.change(project, number)
        ps1 = b.patchset(change, 1, at(day))
        for hours, what in steps:
            if what == "new":
                b.patchset(change, 2, at(day, hours))
            else:
                b.report(flip, ps1, what, at(day, hours),
                         jobs=[("flip-job", what, True, 60.0, None)])

    runs(301, 1, [(1, "FAILURE"), (2, "new"), (3, "SUCCESS")])          # not flaky
    runs(302, 2, [(0.5, "new"), (1, "FAILURE"), (2, "SUCCESS")])        # both after
    runs(303, 3, [(1, "FAILURE"), (2, "SUCCESS"), (5, "new")])          # both before
    runs(304, 4, [(1, "FAILURE"), (2, "new"), (3, "FAILURE"), (4, "SUCCESS")])  # after
    runs(305, 5, [(1, "FAILURE"), (1.5, "SUCCESS"), (2, "new"), (3, "SUCCESS")])  # before
    systems.rebuild_rollups(session, b.keys)
    session.commit()
    got = summaries(session, sconf)["flip-ci"]
    assert (got["flaky_patchsets"], got["flake_rate"]) == (4, 0.8)
    assert got["patchsets_reported"] == 5
    jobs = systems.job_stats(session, sconf, flip["id"], WINDOW)
    assert [(j["name"], j["flaky"], j["runs"]) for j in jobs] == [("flip-job", 4, 12)]
    series = systems.system_series(session, sconf, flip["id"], WINDOW, "day", now=NOW)
    assert [p["flaky_patchsets"] for p in series] == [0, 0, 1, 1, 1, 1, 0]


# --- compare, projects ---------------------------------------------------------------


def test_compare(session, world, sconf):
    result = systems.compare(session, sconf, [world["acme"], world["zuul"], world["silent"]],
                             WINDOW, now=NOW)
    assert [s["name"] for s in result["systems"]] == ["acme-ci", "zuul", "silent-ci"]
    acme, zuul, silent = result["systems"]
    # 104/1 (superseded within the grace period) was reported by zuul, so it
    # is eligible for every compared system.
    assert (acme["eligible_patchsets"], acme["missed"], acme["coverage"]) == (7, 2, 5 / 7)
    assert (zuul["eligible_patchsets"], zuul["missed"]) == (7, 0)
    assert (silent["eligible_patchsets"], silent["missed"]) == (7, 6)
    assert result["agreement"] == {
        "acme-ci": {"zuul": 0.8, "silent-ci": 1.0},
        "zuul": {"acme-ci": 0.8, "silent-ci": 1.0},
        "silent-ci": {"acme-ci": 1.0, "zuul": 1.0},
    }
    # Systems covering different projects share no patch sets.
    apart = systems.compare(session, sconf, [world["acme"], world["neutron"]], WINDOW, now=NOW)
    assert [s["reports"] for s in apart["systems"]] == [0, 0]
    assert apart["agreement"] == {"acme-ci": {"neutron-ci": None},
                                  "neutron-ci": {"acme-ci": None}}


def test_project_summaries(session, world, sconf):
    projects = systems.project_summaries(session, sconf, WINDOW, now=NOW)
    assert [(p["name"], p["source"], p["changes"], p["patchsets"]) for p in projects] == [
        ("org/neutron", "review", 2, 2), ("org/nova", "review", 7, 8)]
    neutron, nova = projects
    assert [(s["name"], s["reports"], s["coverage"], s["success_rate"])
            for s in neutron["systems"]] == [("neutron-ci", 2, 1.0, 0.0)]
    assert [(s["name"], s["reports"], s["eligible_patchsets"], s["coverage"],
             s["success_rate"]) for s in nova["systems"]] == [
        ("acme-ci", 7, 6, 5 / 6, 4 / 6), ("silent-ci", 1, 6, 1 / 6, 1.0),
        ("zuul", 8, 7, 1.0, 1.0)]
    only = systems.project_summaries(session, sconf, WINDOW, project="org/neutron", now=NOW)
    assert [p["name"] for p in only] == ["org/neutron"]


# --- health inputs: stale collector ------------------------------------------------------


def test_stale_collector_makes_health_unknown(session, world, sconf):
    t = models.CollectorState.__table__
    session.execute(t.insert().values(source_id=world["builder"].source,
                                      last_success_at=NOW - dt.timedelta(hours=2)))
    session.commit()
    zuul = summaries(session, sconf)["zuul"]
    assert zuul["health"] == "UNKNOWN"
    assert "stale" in zuul["health_reason"]
    # A window that ended before the last successful collection is complete.
    past = summaries(session, sconf, Window(T0, at(6)))["zuul"]
    assert past["health"] == "GREEN"


# --- rollups ---------------------------------------------------------------------------


def rollup_rows(session):
    t = models.DailyRollup.__table__
    return [dict(r) for r in session.execute(
        sa.select(t).order_by(t.c.ci_system_id, t.c.project_id, t.c.day)).mappings()]


def test_rollup_rows_are_exact(session, world):
    t = models.DailyRollup.__table__
    row = session.execute(sa.select(t).where(t.c.ci_system_id == world["acme"],
                                             t.c.day == at(0).date())).mappings().one()
    assert dict(row) == {
        "ci_system_id": world["acme"], "project_id": world["nova"], "day": at(0).date(),
        "reports": 2, "successes": 1, "failures": 1, "merge_failures": 0, "canceled": 0,
        "unknown": 0, "retries": 1, "latencies": [1200.0], "retry_latencies": [1800.0],
        "last_report_at": at(0, 2, 30)}
    # One row per (system, project, day) with reports: 7 zuul days (d2 has
    # 103 only), acme 6 (no d2), silent 1, neutron 2.
    assert len(rollup_rows(session)) == 7 + 6 + 1 + 2


def test_rebuild_all_and_keys_agree(session, world):
    by_keys = rollup_rows(session)
    session.execute(models.DailyRollup.__table__.delete())
    systems.rebuild_rollups(session, None)
    assert rollup_rows(session) == by_keys
    # Rebuilding a key whose reports are gone deletes its row; unknown keys are a no-op.
    t = models.CiReport.__table__
    jobs = models.CiJobResult.__table__
    ids = [r.id for r in session.execute(sa.select(t.c.id).where(
        t.c.ci_system_id == world["neutron"]))]
    session.execute(jobs.delete().where(jobs.c.report_id.in_(ids)))
    session.execute(t.delete().where(t.c.id.in_(ids)))
    rollups.rebuild(session, {(world["neutron"], world["neutron_project"], at(2).date()),
                              (world["neutron"], world["neutron_project"], at(6).date()),
                              (world["acme"], world["nova"], at(30).date())})
    assert len(rollup_rows(session)) == 7 + 6 + 1


def test_rebuild_with_a_small_batch(session, world, monkeypatch):
    expected = rollup_rows(session)
    session.execute(models.DailyRollup.__table__.delete())
    monkeypatch.setattr(rollups, "BATCH", 2)
    systems.rebuild_rollups(session, world["builder"].keys)
    assert rollup_rows(session) == expected


# --- randomized cross-check against a direct reading of DESIGN.md §5 ------------------


def _reference(b, systems_by_id, ref_ids, reports, patchsets, window, now, grace, covers):
    """Every number straight from the in-memory records, no SQL, no rollups."""
    since, until = window.since, window.until
    out = {}
    for sid in systems_by_id:
        mine = [r for r in reports if r["s"] == sid]
        inside = [r for r in mine if since <= r["at"] < until]
        res = [r["result"] for r in inside]
        succ, fail = res.count("SUCCESS"), res.count("FAILURE")
        lat = sorted(r["lat"] for r in inside if r["attempt"] == 1 and not r["retry"])
        rlat = sorted(r["lat"] for r in inside if r["retry"])
        by_ps = {}
        for r in sorted(inside, key=lambda r: r["attempt"]):
            by_ps.setdefault(r["ps"], []).append(r)
        scoped = {p: rs for p, rs in by_ps.items() if rs[0]["attempt"] == 1}
        first = [rs[0]["result"] for rs in scoped.values()]
        final = {p: rs[-1]["result"] for p, rs in scoped.items()}
        flaky = failed = 0
        for p, rs in scoped.items():
            sup = patchsets[p]["sup"]
            if any(r["result"] == "FAILURE" for r in rs):
                failed += 1
            side = [(r["at"], r["result"], sup is not None and r["at"] >= sup) for r in rs]
            if any(f[1] == "FAILURE" and g[1] == "SUCCESS" and f[0] < g[0] and f[2] == g[2]
                   for f in side for g in side):
                flaky += 1
        pairs = agree = suspect = 0
        for p, mine_final in final.items():
            ref_finals = []
            for rid in ref_ids:
                if rid == sid:
                    continue
                rrs = sorted((r for r in reports if r["s"] == rid and r["ps"] == p
                              and since <= r["at"] < until), key=lambda r: r["attempt"])
                if rrs and rrs[0]["attempt"] == 1:
                    ref_finals.append(rrs[-1]["result"])
            for rf in ref_finals:
                if mine_final in VERDICTS and rf in VERDICTS:
                    pairs += 1
                    agree += mine_final == rf
            if mine_final == "FAILURE" and "SUCCESS" in ref_finals and patchsets[p]["merged"]:
                suspect += 1
        eligible = covered = 0
        reported_ps = {r["ps"] for r in mine}
        for p, ps in patchsets.items():
            if not (since <= ps["created"] < until) or ps["project"] not in covers[sid]:
                continue
            if ps["created"] > now - grace:
                continue
            timely = ps["sup"] is None or ps["sup"] - ps["created"] >= grace
            if timely or p in reported_ps:
                eligible += 1
                covered += p in reported_ps
        seen = [r["at"] for r in mine if r["at"] < until]
        out[sid] = {
            "reports": len(inside), "successes": succ, "failures": fail,
            "merge_failures": res.count("MERGE_FAILED"),
            "other_results": len(res) - succ - fail - res.count("MERGE_FAILED"),
            "success_rate": succ / (succ + fail) if succ + fail else None,
            "first_attempt_success_rate": (first.count("SUCCESS") / (
                first.count("SUCCESS") + first.count("FAILURE"))
                if first.count("SUCCESS") + first.count("FAILURE") else None),
            "final_success_rate": (list(final.values()).count("SUCCESS") / (
                list(final.values()).count("SUCCESS") + list(final.values()).count("FAILURE"))
                if list(final.values()).count("SUCCESS") + list(final.values()).count("FAILURE")
                else None),
            "patchsets_reported": len(scoped), "eligible_patchsets": eligible,
            "coverage": covered / eligible if eligible else None, "missed": eligible - covered,
            "latency_p50_s": _np_linear(lat, 0.5), "latency_p90_s": _np_linear(lat, 0.9),
            "retry_latency_p50_s": _np_linear(rlat, 0.5),
            "rechecks": sum(1 for r in inside if r["retry"]),
            "flaky_patchsets": flaky, "flake_rate": flaky / failed if failed else None,
            "agreement": agree / pairs if pairs else None, "suspect_failures": suspect,
            "last_seen": max(seen) if seen else None,
        }
    return out


def _np_linear(xs, q):
    if not xs:
        return None
    h = (len(xs) - 1) * Fraction(q).limit_denominator(10)
    lo = int(h)
    if lo + 1 >= len(xs):
        return float(xs[lo])
    return float(Fraction(xs[lo]) + (h - lo) * (Fraction(xs[lo + 1]) - Fraction(xs[lo])))


VERDICTS = ("SUCCESS", "FAILURE")


@pytest.mark.parametrize("seed", [1, 2])
def test_random_scenarios_match_the_definitions(session, make_conf, seed):
    rng = random.Random(seed)
    conf = make_conf(**{"stats.health_min_reports": 1})
    grace = dt.timedelta(seconds=conf.stats.coverage_grace_period)
    b = Builder(session)
    projects = [b.project("org/a"), b.project("org/b")]
    sys_rows = [b.system("ref", reference=True), b.system("x-ci"),
                b.system("y-ci", projects=["org/b"])]
    systems_by_id = {s["id"]: s for s in sys_rows}
    covers = {sys_rows[0]["id"]: set(projects), sys_rows[1]["id"]: set(projects),
              sys_rows[2]["id"]: {projects[1]}}
    reports, patchsets = [], {}
    results = ["SUCCESS"] * 5 + ["FAILURE"] * 3 + ["MERGE_FAILED", "CANCELED", "UNKNOWN"]
    for number in range(1, 41):
        project = rng.choice(projects)
        change = b.change(project, 1000 + number,
                          status="MERGED" if rng.random() < 0.5 else "NEW")
        t = T0 + dt.timedelta(seconds=rng.randint(0, 9 * 86400))
        for ps_number in range(1, rng.randint(1, 3) + 1):
            ps = b.patchset(change, ps_number, t)
            if ps_number > 1:
                patchsets[change["patchsets"][-2]["id"]]["sup"] = t
            patchsets[ps["id"]] = {"created": t, "sup": None, "project": project,
                                   "merged": None}
            events = []
            for s in sys_rows:
                if rng.random() < 0.2 or (s is sys_rows[2] and project != projects[1]):
                    continue
                at_ = t + dt.timedelta(seconds=rng.randint(60, 20000))
                for _ in range(rng.randint(1, 3)):
                    events.append((at_, s))
                    at_ += dt.timedelta(seconds=rng.randint(60, 30000))
            recheck = None
            if rng.random() < 0.4:
                recheck = (t + dt.timedelta(seconds=rng.randint(100, 40000)), None)
            for at_, s in sorted(events, key=lambda e: (e[0], e[1]["id"])):
                rc = None
                if recheck and at_ > recheck[0]:
                    if recheck[1] is None:
                        recheck = (recheck[0], b.recheck(ps, recheck[0]))
                    rc = recheck[1]
                result = rng.choice(results)
                before = sum(1 for r in reports if r["s"] == s["id"] and r["ps"] == ps["id"])
                b.report(s, ps, result, at_, recheck=rc)
                lat = (at_ - rc["at"]).total_seconds() if rc else (
                    (at_ - t).total_seconds() if before == 0 else None)
                reports.append({"s": s["id"], "ps": ps["id"], "at": at_, "result": result,
                                "attempt": before + 1, "retry": rc is not None, "lat": lat})
            t += dt.timedelta(seconds=rng.randint(600, 30000))
    # Merged flags as stored.
    merged = {c: st for c, st in session.execute(sa.select(models.Change.__table__.c.id,
                                                           models.Change.__table__.c.status))}
    ps_change = {p: c for p, c in session.execute(sa.select(models.PatchSet.__table__.c.id,
                                                            models.PatchSet.__table__.c.change_id))}
    for p in patchsets:
        patchsets[p]["merged"] = merged[ps_change[p]] == "MERGED"
    systems.rebuild_rollups(session, b.keys)
    session.commit()
    now = T0 + dt.timedelta(days=10, hours=3)
    windows = [Window(T0, now), Window(at(1, 7, 13), at(8, 2, 5)), Window(at(2, 5), at(2, 23))]
    for _ in range(3):
        start = T0 + dt.timedelta(seconds=rng.randint(0, 8 * 86400))
        windows.append(Window(start, start + dt.timedelta(seconds=rng.randint(3600, 5 * 86400))))
    ref_ids = [sys_rows[0]["id"]]
    totals = dict.fromkeys(("flaky_patchsets", "suspect_failures", "rechecks", "missed"), 0)
    for window in windows:
        got = {s["id"]: s for s in systems.system_summaries(session, conf, window, now=now)}
        for s in got.values():
            for k in totals:
                totals[k] += s[k]
        want = _reference(b, systems_by_id, ref_ids, reports, patchsets, window, now, grace,
                          covers)
        for sid, expected in want.items():
            actual = {k: got[sid][k] for k in expected}
            assert actual == expected, (window, sid)
    # The scenarios exercise every rule.
    assert all(totals.values()), totals
    for interval in ("day", "week"):
        series = systems.system_series(session, conf, sys_rows[1]["id"], windows[1], interval,
                                       now=now)
        for point in series:
            bucket = Window(point["start"], point["end"])
            want = _reference(b, systems_by_id, ref_ids, reports, patchsets, bucket, now, grace,
                              covers)[sys_rows[1]["id"]]
            assert {k: point[k] for k in want} == want, (interval, bucket)
