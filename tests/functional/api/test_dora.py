"""/v1/dora: each metric worked out by hand on small scenarios pushed through
the API, with Gerrit changes ingested for the lead time (SQLite and MariaDB).

The window is four whole weeks, Monday 2026-01-05 to Monday 2026-02-02.
"""

import datetime as dt

import pytest

from tests.functional.api.conftest import change, load
from tests.functional.api.test_basics import assert_envelope

UTC = dt.UTC
JAN5 = dt.datetime(2026, 1, 5, tzinfo=UTC)
SINCE, UNTIL = "2026-01-05", "2026-02-02"
H = 3600.0
D = 86400.0


def iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class Pusher:
    def __init__(self, app, token):
        self.app = app
        self.headers = {"Authorization": "Bearer " + token}
        self.n = 0

    def push(self, service, finished, result="SUCCEEDED", environment="production",
             started=None, **extra):
        self.n += 1
        body = dict(extra, id="d%d" % self.n, service=service, environment=environment,
                    result=result, started_at=iso(started or finished - dt.timedelta(minutes=5)),
                    finished_at=iso(finished))
        resp = self.app.post_json("/v1/deployments", body, headers=self.headers)
        assert resp.status_int == 201
        return resp.json

    def patch(self, ident, **body):
        return self.app.patch_json("/v1/deployments/%s" % ident, body, headers=self.headers,
                                   expect_errors=True)


@pytest.fixture
def pusher(app, make_token):
    return Pusher(app, make_token("write"))


def dora(app, **params):
    params.setdefault("since", SINCE)
    params.setdefault("until", UNTIL)
    resp = app.get("/v1/dora", params)
    assert resp.status_int == 200
    return {m["name"]: m for m in resp.json["metrics"]}


def day(n, hour=12):
    """Day n of the window (0 = Monday 2026-01-05) at `hour`."""
    return JAN5 + dt.timedelta(days=n, hours=hour)


def test_too_little_data(app, pusher):
    body = app.get("/v1/dora", {"since": SINCE, "until": UNTIL}).json
    assert (body["since"], body["until"]) == ("2026-01-05T00:00:00+00:00",
                                              "2026-02-02T00:00:00+00:00")
    metrics = {m["name"]: m for m in body["metrics"]}
    assert list(metrics) == ["deployment_frequency", "lead_time", "change_failure_rate",
                             "recovery_time"]
    for m in metrics.values():
        assert (m["value"], m["tier"]) == (None, None), m
        assert m["note"]
    assert metrics["deployment_frequency"]["note"] == \
        "no finished production deployment in the window"
    assert metrics["recovery_time"]["note"] == "no failed production deployment in the window"
    assert "at least 5" in metrics["change_failure_rate"]["note"]
    # Staging does not count as production, unless asked for.
    pusher.push("web", day(1), environment="staging")
    assert dora(app)["deployment_frequency"]["value"] is None
    staging = dora(app, environment="staging")["deployment_frequency"]
    assert (staging["value"], staging["count"], staging["tier"]) == (0.0, 1, None)
    assert "30 whole days" in staging["note"]
    # A window without a whole week of UTC days.
    pusher.push("web", day(1))
    short = dora(app, since="2026-01-05T12:00:00Z", until="2026-01-12T11:00:00Z")
    assert short["deployment_frequency"]["value"] is None
    assert short["deployment_frequency"]["note"] == "the window holds no whole week of UTC days"
    # One success: lead time has no Gerrit change to match.
    assert "merged Gerrit change" in dora(app)["lead_time"]["note"]
    # A failure never followed by a success.
    pusher.push("web", day(2), result="FAILED")
    rec = dora(app)["recovery_time"]
    assert rec["value"] is None and rec["note"].startswith("1 failed production deployments")
    # Bad arguments.
    for params, word in (({"since": "soon"}, "since"), ({"until": "2026-01-01"}, "until"),
                         ({"service": "x" * 300}, "service"), ({"bogus": "1"}, "bogus"),
                         ({"since": "1990-01-01", "until": "2026-01-01"}, "since")):
        resp = app.get("/v1/dora", dict({"since": SINCE}, **params), expect_errors=True)
        assert word in assert_envelope(resp, 400)


def _deploy_days(pusher, service, weeks):
    """weeks: deployment days per week, oldest week first; two deployments on
    the first day of each week (a day counts once), a failure on the last day."""
    for week, count in enumerate(weeks):
        for d in range(count):
            pusher.push(service, day(7 * week + d, hour=9))
        if count:
            pusher.push(service, day(7 * week, hour=15))
        pusher.push(service, day(7 * week + 6), result="FAILED")


def test_deployment_frequency_tiers(app, pusher):
    _deploy_days(pusher, "elite", [5, 5, 4, 6])     # median 5 -> ELITE
    _deploy_days(pusher, "high", [4, 5, 4, 5])      # median 4.5 -> HIGH
    _deploy_days(pusher, "weekly", [1, 0, 1, 2])    # median 1 -> HIGH
    _deploy_days(pusher, "rare", [0, 0, 1, 0])      # median 0, 28 days: no tier
    expected = {"elite": (5.0, 20, "ELITE"), "high": (4.5, 18, "HIGH"),
                "weekly": (1.0, 4, "HIGH"), "rare": (0.0, 1, None)}
    for service, (value, count, tier) in expected.items():
        m = dora(app, service=service)["deployment_frequency"]
        assert (m["value"], m["count"], m["tier"], m["unit"]) == (value, count, tier,
                                                                  "days/week"), service
    # Every service together: days 0-4, 7-11, 14-17 (+ 'weekly' on 21, 22), 21-26.
    together = dora(app)["deployment_frequency"]
    assert (together["value"], together["count"], together["tier"]) == (5.0, 20, "ELITE")
    # 60 days (two 30-day periods back from 2026-02-02): one deployment day in each
    # period -> MEDIUM; one day in sixty -> LOW.
    pusher.push("monthly", dt.datetime(2025, 12, 10, 9, tzinfo=UTC))
    pusher.push("monthly", dt.datetime(2026, 1, 20, 9, tzinfo=UTC))
    pusher.push("yearly", dt.datetime(2026, 1, 20, 9, tzinfo=UTC))
    for service, tier in (("monthly", "MEDIUM"), ("yearly", "LOW")):
        m = dora(app, service=service, since="2025-12-04")["deployment_frequency"]
        assert (m["value"], m["tier"]) == (0.0, tier), m


def test_lead_time_matches_merged_changes(app, pusher, api_conf, engine):
    load(api_conf, engine, [
        change(2001, status="MERGED", created=day(-3), merged_at=day(5, hour=8)),
        change(2002, patchsets=2, status="MERGED", created=day(-3),
               merged_at=day(7, hour=0)),
        change(2003, status="NEW", created=day(-3)),
    ])
    rev = {n: "%040x" % n for n in (200100, 200200, 200201, 200300)}
    # 2001 rolls out in three waves; the rollout ends with green: 4 h after the merge.
    for wave, hour in (("canary", 10), ("blue", 11), ("green", 12)):
        pusher.push("api", day(5, hour), wave=wave, version="v1",
                    revision=rev[200100].upper())
    # 2002: staging first (ignored), then its first patch set (not what merged),
    # then the current one two days after the merge.
    pusher.push("api", day(7, hour=6), environment="staging", version="v2",
                revision=rev[200201])
    pusher.push("api", day(8, hour=0), version="v2a", revision=rev[200200])
    pusher.push("api", day(9, hour=0), version="v2", revision=rev[200201])
    # Not merged: no lead time. 2001 deployed again: not its first deployment.
    pusher.push("api", day(10), version="v3", revision=rev[200300])
    pusher.push("api", day(15), version="v1b", revision=rev[200100])

    m = dora(app)["lead_time"]
    assert (m["value"], m["count"], m["tier"], m["unit"]) == ((4 * H + 2 * D) / 2, 2, "HIGH",
                                                              "seconds")
    m = dora(app, until="2026-01-12")["lead_time"]
    assert (m["value"], m["count"], m["tier"]) == (4 * H, 1, "ELITE")
    # From day 12 on only the repeat of 2001's revision: nothing first-deployed.
    m = dora(app, since="2026-01-17")["lead_time"]
    assert m["value"] is None and "first time" in m["note"]
    # Another service deploying 2002 later counts on its own.
    pusher.push("worker", day(16, hour=0), revision=rev[200201])
    m = dora(app, service="worker")["lead_time"]
    assert (m["value"], m["count"], m["tier"]) == (9 * D, 1, "MEDIUM")
    m = dora(app)["lead_time"]
    assert (m["value"], m["count"]) == (2 * D, 3)


def test_change_failure_rate_and_recovery(app, pusher):
    # v1 in three waves counts once.
    for wave in ("canary", "blue", "green"):
        pusher.push("pay", day(1, 10), wave=wave, version="v1")
    pusher.push("pay", day(2, 10), wave="canary", version="v2", result="FAILED")
    pusher.push("pay", day(2, 10.5), version="v3")                   # recovers in 30 min
    v4 = pusher.push("pay", day(3, 0), version="v4")
    pusher.push("pay", day(4, 12), version="v5")                     # recovers v4 in 36 h
    pusher.push("pay", day(5), version="v6")
    pusher.push("pay", day(6), version="v7", result="ROLLED_BACK")  # not recovered
    # Another environment's success does not recover production.
    pusher.push("pay", day(7), environment="staging", version="v8")

    before = dora(app)["change_failure_rate"]
    assert (before["value"], before["count"], before["tier"]) == (2 / 7, 7, "LOW")
    assert pusher.patch(v4["id"], result="ROLLED_BACK").status_int == 200
    m = dora(app)
    cfr, rec = m["change_failure_rate"], m["recovery_time"]
    assert (cfr["value"], cfr["count"], cfr["tier"], cfr["unit"]) == (3 / 7, 7, "LOW",
                                                                      "ratio")
    assert (rec["value"], rec["count"], rec["tier"]) == ((0.5 * H + 36 * H) / 2, 2, "HIGH")
    assert "1 not recovered" in rec["note"]
    # Fewer than [dora] min_deployments finished deployments: no rate.
    few = dora(app, until="2026-01-08")
    assert few["change_failure_rate"]["value"] is None
    assert few["change_failure_rate"]["count"] == 3
    assert (few["recovery_time"]["value"], few["recovery_time"]["tier"]) == (0.5 * H, "ELITE")


def test_change_failure_rate_boundaries(app, pusher):
    ids = [pusher.push("cfr", day(i % 28, 8 + i % 10), version="v%d" % i)["id"]
           for i in range(20)]
    for failed, tier in ((0, "ELITE"), (1, "ELITE"), (2, "HIGH"), (3, "MEDIUM"),
                         (4, "LOW")):
        if failed:
            assert pusher.patch(ids[failed], result="ROLLED_BACK").status_int == 200
        m = dora(app, service="cfr")["change_failure_rate"]
        assert (m["value"], m["count"], m["tier"]) == (failed / 20, 20, tier)


def test_recovery_time_boundaries(app, pusher):
    cases = {"hour": (3600, "HIGH"), "quick": (3599, "ELITE"), "day": (86400, "MEDIUM"),
             "week": (7 * 86400, "LOW"), "days": (6 * 86400, "MEDIUM")}
    for service, (seconds, _) in cases.items():
        pusher.push(service, day(1), result="FAILED")
        pusher.push(service, day(1) + dt.timedelta(seconds=seconds))
    for service, (seconds, tier) in cases.items():
        m = dora(app, service=service)["recovery_time"]
        assert (m["value"], m["count"], m["tier"]) == (seconds, 1, tier), service
