"""Every read command, in every output format, against the API's own answers.

The `live` fixture (conftest.py) serves the real recorded Gerrit data from
SQLite and from MariaDB through the real radar-api. For each command the
expected rows are built from what the API answers to the same request
(fetched with requests, pages followed by hand), then compared with what
`radar` printed: exact machine values in json, yaml, csv, value and shell,
readable values in tables.
"""

import datetime as dt
import json
import os
import pty
import subprocess

import pytest

from tests.cli import conftest
from tests.cli import expect as x

W = ["--since", conftest.MAY_2014[0], "--until", conftest.MAY_2014[1]]
W_PARAMS = {"since": conftest.MAY_2014[0], "until": conftest.MAY_2014[1]}
A = ["--since", conftest.ALL_TIME[0], "--until", conftest.ALL_TIME[1]]
A_PARAMS = {"since": conftest.ALL_TIME[0], "until": conftest.ALL_TIME[1]}

SUMMARY_FIELDS = [
    "id", "name", "display_name", "accounts", "reference", "enabled", "reports",
    "successes", "failures", "merge_failures", "other_results", "success_rate",
    "first_attempt_success_rate", "final_success_rate", "patchsets_reported",
    "eligible_patchsets", "coverage", "missed", "latency_p50_s", "latency_p90_s",
    "retry_latency_p50_s", "rechecks", "flaky_patchsets", "flake_rate", "agreement",
    "suspect_failures", "last_seen", "health", "health_reason",
]
SYSTEM_LIST = ["name", "health", "reports", "success_rate", "coverage", "latency_p50_s",
               "last_seen"]
SERIES = ["start", "end", "reports", "successes", "failures", "success_rate", "coverage",
          "latency_p50_s", "health"]
MISSED = ["change", "patchset", "project", "branch", "subject", "created", "url"]
JOBS = ["name", "runs", "results", "success_rate", "flaky", "median_duration_s", "voting",
        "last_run", "last_log_url"]
REPORTS = ["id", "system", "change", "patchset", "project", "pipeline", "result",
           "reported_at", "latency_s", "retry"]
REPORTS_LONG = ["id", "system", "system_name", "system_id", "change", "patchset", "project",
                "branch", "pipeline", "result", "vote_label", "vote", "headline", "reported_at",
                "attempt", "retry", "latency_s", "url", "jobs"]
COMPARE = ["name", "health", "reports", "success_rate", "final_success_rate", "coverage",
           "latency_p50_s", "flake_rate"]
PROJECT = ["name", "source", "changes", "patchsets", "systems"]
CHANGE = ["patchset", "system", "attempt", "retry", "result", "vote", "reported_at",
          "latency_s", "jobs"]
CHANGE_LONG = CHANGE + ["pipeline", "headline", "url"]
COLLECTOR = ["name", "type", "status", "last_success_at", "stale", "last_error_at",
             "last_error"]

REPORT_KINDS = {"reported_at": x.when, "latency_s": x.span, "jobs": x.job_lines,
                "vote": x.plain}
JOB_KINDS = {"success_rate": x.pct, "median_duration_s": x.span, "last_run": x.when}


def project_systems(systems):
    return "\n".join(
        "%s: %s, %s success, coverage %s, %s reports, last seen %s" % (
            s["name"], s["health"], x.pct(s["success_rate"]), x.pct(s["coverage"]),
            s["reports"], x.when(s["last_seen"]))
        for s in systems) or x.DASH


# --- the expected answers, from the API ----------------------------------------------


def system_show_item(api):
    item = dict(api)
    item["projects"] = api["settings"]["projects"]
    item["recheck_pattern"] = api["settings"]["recheck_pattern"]
    item["operators"] = [o["name"] for o in api["operators"]]
    return item


SYSTEM_SHOW_KINDS = dict(
    x.SUMMARY,
    projects=lambda v: "(derived from where it reported)" if v is None else ", ".join(v),
    recheck_pattern=lambda v: "(the server's default)" if v is None else v)


def compare_rows(api):
    names = [s["name"] for s in api["systems"]]
    rows = []
    for system in api["systems"]:
        row = dict(system)
        for other in names:
            row["vs " + other] = api["agreement"].get(system["name"], {}).get(other)
        rows.append(row)
    return COMPARE + ["vs " + n for n in names], rows


def change_rows(api, system=None):
    rows = []
    for ps in api["patchsets"]:
        reports = [r for r in ps["reports"] if system is None or r["system"] == system]
        if not reports and system is None:
            rows.append({"patchset": ps["number"]})
        for r in sorted(reports, key=lambda r: (r["system"], r["reported_at"], r["id"])):
            rows.append(dict(r, patchset=ps["number"]))
    return rows


def badge_item(live, api, project):
    url = "%s/v1/systems/%s/badge.svg?project=%s" % (
        live.url, api["name"].replace(" ", "%20"), project.replace("/", "%2F"))
    alt = "%s CI health" % api["display_name"]
    return {"name": api["name"], "health": api["health"], "success_rate": api["success_rate"],
            "badge_url": url, "markdown": "![%s](%s)" % (alt, url),
            "rst": ".. image:: %s\n   :alt: %s" % (url, alt)}


def collector_status(source):
    if source["last_error"] and (source["last_success_at"] is None
                                 or source["last_error_at"] >= source["last_success_at"]):
        return "failing"
    return "stale" if source["stale"] else "ok"


class CompareKinds(dict):
    """'vs <system>' columns: agreement, a percentage."""

    def get(self, key, default=None):
        return x.pct if key.startswith("vs ") else super().get(key, default)


def missed_key(i):
    return "%s/%s" % (i["change"], i["patchset"])


# name: (argv, kind, expected(live) -> (columns, items), table kinds, exit status)
CASES = {
    "system list": (
        ["system", "list"] + W, "list",
        lambda live: (SYSTEM_LIST, live.get_all("/v1/systems", W_PARAMS)),
        x.SUMMARY, 0),
    "system list --long --sort --limit": (
        ["system", "list"] + A + ["--long", "--sort", "-success_rate", "--limit", "7"],
        "list",
        lambda live: (SUMMARY_FIELDS,
                      live.get_all("/v1/systems", dict(A_PARAMS, sort="-success_rate"))[:7]),
        x.SUMMARY, 0),
    "system list filters": (
        ["system", "list"] + W + ["--health", "green", "--project", "openstack/neutron",
                                  "--search", "i", "--enabled"], "list",
        lambda live: (SYSTEM_LIST, live.get_all("/v1/systems", dict(
            W_PARAMS, health="GREEN", project="openstack/neutron", q="i", enabled="true"))),
        x.SUMMARY, 0),
    "system show": (
        ["system", "show", "Jenkins"] + W, "one",
        lambda live: (SUMMARY_FIELDS + ["origin", "projects", "recheck_pattern", "operators"],
                      system_show_item(live.get("/v1/systems/Jenkins", W_PARAMS))),
        SYSTEM_SHOW_KINDS, 0),
    "system series": (
        ["system", "series", "jenkins", "--since", "2014-05-04", "--until", "2014-05-10"],
        "list",
        lambda live: (SERIES, live.get("/v1/systems/jenkins/series",
                                       {"since": "2014-05-04", "until": "2014-05-10"})),
        x.SUMMARY, 0),
    "system series --interval week --long": (
        ["system", "series", "jenkins", "--since", "2013-12-01", "--until", "2014-06-01",
         "--interval", "week", "--long"], "list",
        lambda live: (["start", "end"] + SUMMARY_FIELDS, live.get(
            "/v1/systems/jenkins/series",
            {"since": "2013-12-01", "until": "2014-06-01", "interval": "week"})),
        x.SUMMARY, 0),
    "system missed": (
        ["system", "missed", "NEC OpenStack CI"] + W, "list",
        lambda live: (MISSED, live.get_all("/v1/systems/nec%20openstack%20ci/missed",
                                           W_PARAMS, key=missed_key)),
        {"created": x.when}, 0),
    "system jobs": (
        ["system", "jobs", "jenkins"] + A + ["--sort", "-runs"], "list",
        lambda live: (JOBS, live.get_all("/v1/systems/jenkins/jobs",
                                         dict(A_PARAMS, sort="-runs"), key="name")),
        JOB_KINDS, 0),
    "system reports": (
        ["system", "reports", "jenkins"] + A + ["--result", "failure"], "list",
        lambda live: (REPORTS, live.get_all("/v1/systems/jenkins/reports",
                                            dict(A_PARAMS, result="FAILURE"))),
        REPORT_KINDS, 0),
    "system reports --long --limit": (
        ["system", "reports", "jenkins-bot"] + A + ["--long", "--limit", "6"], "list",
        lambda live: (REPORTS_LONG,
                      live.get_all("/v1/systems/jenkins-bot/reports", A_PARAMS)[:6]),
        REPORT_KINDS, 0),
    "system compare": (
        ["system", "compare", "jenkins", "mellanox external testing", "VMware Mine Sweeper"]
        + W, "list",
        lambda live: compare_rows(live.get("/v1/compare", dict(
            W_PARAMS, systems="jenkins,mellanox external testing,VMware Mine Sweeper"))),
        CompareKinds(x.SUMMARY), 0),
    "system badge": (
        ["system", "badge", "jenkins", "--project", "openstack/neutron"], "one",
        lambda live: (["name", "health", "success_rate", "badge_url", "markdown", "rst"],
                      badge_item(live, live.get("/v1/systems/jenkins",
                                                {"project": "openstack/neutron"}),
                                 "openstack/neutron")),
        {"success_rate": x.pct}, 0),
    "project list": (
        ["project", "list"] + A, "list",
        lambda live: (PROJECT, live.get_all("/v1/projects", A_PARAMS, key="name")),
        {"systems": project_systems}, 0),
    "project list --sort --search": (
        ["project", "list"] + A + ["--sort", "-patchsets", "--search", "openstack",
                                   "--limit", "6"], "list",
        lambda live: (PROJECT, live.get_all("/v1/projects", dict(
            A_PARAMS, sort="-patchsets", q="openstack"), key="name")[:6]),
        {"systems": project_systems}, 0),
    "project show": (
        ["project", "show", "openstack/neutron"] + W, "one",
        lambda live: (PROJECT, live.get("/v1/projects/openstack/neutron", W_PARAMS)),
        {"systems": project_systems}, 0),
    "change show": (
        ["change", "show", "92468"], "list",
        lambda live: (CHANGE, change_rows(live.get("/v1/changes/92468"))),
        dict(REPORT_KINDS, vote=x.vote), 0),
    "change show --long --system": (
        ["change", "show", "415319", "--long", "--system", "jenkins-bot"], "list",
        lambda live: (CHANGE_LONG, change_rows(live.get("/v1/changes/415319"),
                                               system="jenkins-bot")),
        dict(REPORT_KINDS, vote=x.vote), 0),
    "report list": (
        ["report", "list"] + A, "list",
        lambda live: (REPORTS, live.get_all("/v1/reports", A_PARAMS)[:100]),
        REPORT_KINDS, 0),
    "report list filters --long": (
        ["report", "list"] + A + ["--system", "Jenkins-Bot", "--change", "415319",
                                  "--pipeline", "gate", "--long"], "list",
        lambda live: (REPORTS_LONG, live.get_all("/v1/reports", dict(
            A_PARAMS, system="Jenkins-Bot", change=415319, pipeline="gate"))),
        REPORT_KINDS, 0),
    "collector status": (
        ["collector", "status"] + [a for c in COLLECTOR for a in ("-c", c)], "list",
        lambda live: (COLLECTOR, [dict(s, status=collector_status(s))
                                  for s in live.get("/v1/collector")]),
        {"last_success_at": x.when, "last_error_at": x.when}, 1),
}

FORMATS = {"list": ("table", "json", "yaml", "csv", "value"),
           "one": ("table", "json", "yaml", "value", "shell")}
PARAMS = [pytest.param(name, f, id="%s-%s" % (name.replace(" ", "_"), f))
          for name, case in CASES.items() for f in FORMATS[case[1]]]

_expected = {}


def expected(live, name):
    key = (live.url, name)
    if key not in _expected:
        _expected[key] = CASES[name][2](live)
    columns, items = _expected[key]
    return list(columns), items


@pytest.mark.parametrize("name,fmt", PARAMS)
def test_output_matches_the_api(live, name, fmt):
    argv, kind, _, kinds, status = CASES[name]
    columns, items = expected(live, name)
    result = live.cli(*argv, "-f", fmt)
    assert result.rc == status, result
    if status == 0:
        assert result.err == "", result
    if kind == "list":
        assert items, "the case should print something: %s" % name
        x.check_list(result.out, fmt, columns, items, kinds)
    else:
        x.check_one(result.out, fmt, columns, items, kinds)
    if name.startswith("change show") and fmt == "table":
        assert result.out.startswith("Change %s: " % argv[2])


# --- a few values checked by hand, and behaviour around the formats ---------------------


def test_hand_checked_values(live):
    """Jenkins over all time: 14 reports, 11 successes (78.6%), YELLOW (see test_daemon)."""
    out = live.cli("system", "list", *A, "-f", "json", "--long").out
    jenkins = [s for s in json.loads(out) if s["name"] == "jenkins"][0]
    assert (jenkins["reports"], jenkins["successes"], jenkins["failures"]) == (14, 11, 3)
    assert jenkins["success_rate"] == pytest.approx(11 / 14)
    header, rows = x.parse_table(live.cli("system", "show", "jenkins", *A).out)
    shown = dict((r[0], r[1]) for r in rows)
    assert shown["success_rate"] == "78.6%"
    assert shown["reports"] == "14"
    assert shown["last_seen"] == "2014-05-09T02:22:41Z"
    assert shown["health"] == "YELLOW"
    header, rows = x.parse_table(live.cli("system", "list", *A, "--sort", "name").out)
    bot = [r for r in rows if r[0] == "jenkins-bot"][0]
    assert bot[1:4] == ["RED", "9", "11.1%"]


def test_columns_and_cliff_sorting(live):
    result = live.cli("system", "list", *W, "-c", "name", "-c", "success_rate",
                      "--sort-column", "success_rate", "--sort-descending", "-f", "json")
    assert result.rc == 0 and result.err == ""
    rows = json.loads(result.out)
    assert list(rows[0]) == ["name", "success_rate"]
    rates = [r["success_rate"] for r in rows if r["success_rate"] is not None]
    assert rates == sorted(rates, reverse=True)
    # The same sort on a table (cells wrap the values) sorts the values, not the text.
    result = live.cli("system", "list", *W, "-c", "name", "-c", "latency_p50_s",
                      "--sort-column", "latency_p50_s")
    assert result.rc == 0 and "Could not sort" not in result.err
    api = {s["name"]: s["latency_p50_s"] for s in live.get_all("/v1/systems", W_PARAMS)}
    _, rows = x.parse_table(result.out)
    shown = [api[r[0]] for r in rows if api[r[0]] is not None]
    assert shown == sorted(shown)


def test_relative_since_is_a_window_back_from_now(live):
    before = dt.datetime.now(dt.UTC)
    result = live.cli("system", "list", "--since", "4w", "--long", "-f", "json")
    after = dt.datetime.now(dt.UTC)
    assert result.rc == 0, result
    since = (before - dt.timedelta(weeks=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    api = live.get_all("/v1/systems", {"since": since})
    assert json.loads(result.out) == [{c: s[c] for c in SUMMARY_FIELDS} for s in api]
    assert (after - before).total_seconds() < 60
    # The recorded data is years old: nothing was reported in the last four weeks.
    assert all(s["reports"] == 0 for s in json.loads(result.out))


def test_limit_zero_lists_every_report(live):
    result = live.cli("report", "list", *A, "--limit", "0", "-f", "value", "-c", "id")
    every = live.get_all("/v1/reports", A_PARAMS)
    assert len(every) > conftest.PAGE
    assert result.out.split() == [str(r["id"]) for r in every]
    result = live.cli("report", "list", *A, "--limit", "7", "-f", "value", "-c", "id")
    assert result.out.split() == [str(r["id"]) for r in every[:7]]


def test_empty_list_prints_nothing(live):
    result = live.cli("report", "list", "--since", "2030-01-01", "--until", "2030-02-01",
                      "-f", "json")
    assert (result.rc, json.loads(result.out), result.err) == (0, [], "")


def test_badge_url_serves_the_badge(live):
    out = live.cli("system", "badge", "mellanox external testing", "-f", "json").out
    badge = json.loads(out)
    assert badge["badge_url"] == live.url + "/v1/systems/mellanox%20external%20testing/badge.svg"
    resp = live.http.get(badge["badge_url"], timeout=30)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("image/svg+xml")
    assert "Mellanox External Testing" in resp.text


def _run_on_a_terminal(live, argv, env=None):
    """`radar argv` with stdout on a pseudo-terminal; returns the bytes printed."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([conftest.radar_bin(), "--url", live.url] + argv,
                                stdout=slave, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                env=conftest.clean_env(COLUMNS="400", **(env or {})))
        os.close(slave)
        slave = None
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=60)
        proc.stderr.close()
        return proc.returncode, b"".join(chunks).decode()
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)


def test_health_is_coloured_on_a_terminal_only(live):
    rc, out = _run_on_a_terminal(live, ["system", "list"] + A)
    assert rc == 0
    assert "\033[31mRED\033[0m" in out and "\033[33mYELLOW\033[0m" in out
    rc, out = _run_on_a_terminal(live, ["system", "list"] + A, env={"NO_COLOR": "1"})
    assert rc == 0 and "\033[" not in out and "RED" in out
    rc, out = _run_on_a_terminal(live, ["system", "list"] + A + ["-f", "json"])
    assert rc == 0 and "\033[" not in out
    piped = live.proc("system", "list", *A)
    assert piped.rc == 0 and "\033[" not in piped.out and "| RED " in piped.out


def test_real_command_happy_paths(live):
    """The installed console script, as a user runs it (RADAR_URL from the environment)."""
    result = live.proc("system", "show", "jenkins", *A, "-f", "json")
    assert result.rc == 0 and result.err == ""
    assert json.loads(result.out)["success_rate"] == live.get("/v1/systems/jenkins",
                                                               A_PARAMS)["success_rate"]
    result = live.proc("change", "show", "92468", "-f", "csv", "-c", "system", "-c", "result")
    assert result.rc == 0
    header, rows = x.parse_csv(result.out)
    assert header == ["system", "result"] and ["mellanox external testing", "FAILURE"] in rows
    result = live.proc("collector", "status")
    assert result.rc == 1  # every source imported with `import` only: never collected
    assert "stale" in result.out
    assert result.err.strip().splitlines() == [
        "radar: 2 of 2 sources not ok: openstack stale, wikimedia stale"]


def test_collector_status_ok_after_a_collection_cycle(live):
    """radar-daemon run-once (files sources) marks both sources collected: exit 0."""
    daemon = os.path.join(os.path.dirname(conftest.radar_bin()), "radar-daemon")
    done = subprocess.run([daemon, "--config-file", str(live.conf_file), "run-once"],
                          capture_output=True, text=True, timeout=300,
                          env=conftest.clean_env())
    assert done.returncode == 0, done.stderr
    result = live.proc("collector", "status", "-f", "json")
    assert (result.rc, result.err) == (0, ""), result
    sources = json.loads(result.out)
    api = live.get("/v1/collector")
    assert [s["status"] for s in sources] == ["ok", "ok"]
    for shown, answer in zip(sources, api, strict=True):
        assert shown["last_success_at"] == answer["last_success_at"]
        assert shown["lag_s"] == pytest.approx(answer["lag_s"], abs=30)
    result = live.cli("collector", "status")
    _, rows = x.parse_table(result.out)
    assert [r[2] for r in rows] == ["ok", "ok"] and result.rc == 0


def test_interactive_shell(live):
    """`radar` without a command reads commands from stdin; global options apply."""
    done = subprocess.run([conftest.radar_bin(), "--url", live.url],
                          input="system show jenkins -f value -c name -c reports\n",
                          capture_output=True, text=True, timeout=60, env=conftest.clean_env())
    assert done.stdout.split() == ["jenkins", "0"], (done.stdout, done.stderr)
    assert "is not a radar command" not in done.stdout + done.stderr
