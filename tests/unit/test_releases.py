"""[releases] configuration checks, release status and task statistics, and
how a CI binding reads a job result and a branch (pure functions)."""

import datetime as dt

import pytest

from radar import conf as radar_conf
from radar.common import exception
from radar.conf import releases as releases_conf
from radar.stats import releases as stats
from radar_daemon import release_bindings

T = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
S = dt.timedelta(seconds=1)


def load(tmp_path, text):
    path = tmp_path / "radar.conf"
    path.write_text("[releases]\n" + text)
    return radar_conf.load(["--config-file", str(path)])


def test_default_workflow_and_a_good_binding(tmp_path):
    conf = load(tmp_path, "bindings = stage-testing = Acme CI : ^release-stage-test$ : "
                          "^release-(?P<version>4\\.19\\.\\d+)$\n"
                          "bindings = take-ownership = Zuul : ^own(?:er)?$\n")
    assert releases_conf.workflow(conf) == [
        "take-ownership", "image-consistency-check", "analyze-candidate-build",
        "analyze-promoted-build", "check-cve-tracker-bug", "push-to-cdn-staging",
        "stage-testing", "image-signed-check", "change-advisory-status"]
    first, second = releases_conf.bindings(conf)
    assert (first.task, first.system) == ("stage-testing", "Acme CI")
    assert first.job.search("release-stage-test")
    assert first.branch.search("release-4.19.3").group("version") == "4.19.3"
    assert (second.task, second.system, second.branch) == ("take-ownership", "Zuul", None)
    assert second.job.search("owner")


@pytest.mark.parametrize("text,needle", [
    ("bindings = deploy-to-mars = Zuul : ^x$\n", "unknown task 'deploy-to-mars'"),
    ("bindings = stage-testing = Zuul : ^(x$\n", "bad job regex"),
    ("bindings = stage-testing = Zuul : ^x$ : [a-\n", "bad branch regex"),
    ("bindings = stage-testing = Zuul:^x$\n", "a colon with spaces"),
    ("bindings = stage-testing Zuul : ^x$\n", "expected '<task> = <CI system>"),
    ("bindings = stage-testing = Zuul : a : b : c\n", "a colon with spaces"),
    ("workflow = a, B\n", "invalid task name 'B'"),
    ("workflow = a, a\n", "listed twice"),
])
def test_bad_configuration_is_one_line(tmp_path, text, needle):
    with pytest.raises(exception.ConfigError) as info:
        load(tmp_path, text)
    message = str(info.value)
    assert needle in message
    assert message.startswith("configuration error: [releases]")
    assert "\n" not in message


def test_release_status():
    assert stats.release_status([]) == ("GREEN", False)
    assert stats.release_status(["PASS", "NOT_STARTED"]) == ("GREEN", False)
    assert stats.release_status(["PASS", "FAIL", "IN_PROGRESS"]) == ("RED", False)
    assert stats.release_status(["PASS", "PASS"]) == ("GREEN", True)


def row(status, start=None, seconds=None, failed=False, finished=False):
    return {"name": "t", "position": 2, "status": status,
            "started_at": T if start is None else start,
            "finished_at": None if seconds is None else T + seconds * S,
            "ever_failed": failed, "ever_finished": finished}


def test_task_stats_hand_worked():
    rows = [row("PASS", seconds=100, finished=True),
            row("PASS", seconds=400, failed=True, finished=True),
            row("FAIL", seconds=200, failed=True, finished=True),
            row("PASS", seconds=300, finished=True),
            # Failed earlier, running again: a failure, no duration.
            row("IN_PROGRESS", failed=True, finished=True),
            row("IN_PROGRESS"), row("NOT_STARTED")]
    (out,) = stats.task_stats(rows)
    # Durations 100, 200, 300, 400: median 250; p90 rank 2.7 -> 300 + 0.7 * 100.
    assert out == {"task": "t", "position": 2, "releases": 7, "finished": 4,
                   "median_duration_s": 250.0, "p90_duration_s": 370.0, "failures": 3,
                   "failure_rate": 3 / 5}


def test_task_stats_order_and_empty():
    rows = [dict(row("NOT_STARTED"), name="b", position=1),
            dict(row("NOT_STARTED"), name="a", position=0)]
    out = stats.task_stats(rows)
    assert [o["task"] for o in out] == ["a", "b"]
    assert out[0]["median_duration_s"] is None and out[0]["failure_rate"] is None


def test_job_results_and_branches():
    assert release_bindings.task_status("SUCCESS") == "PASS"
    for result in ("FAILURE", "POST_FAILURE", "TIMED_OUT", "NODE_FAILURE"):
        assert release_bindings.task_status(result) == "FAIL"
    for result in ("SKIPPED", "CANCELED", "ABORTED", None):
        assert release_bindings.task_status(result) is None
    by_version = releases_conf.parse_binding(
        r"stage-testing = Acme : ^st$ : ^release-(?P<version>\d+\.\d+\.\d+)$",
        ["stage-testing"])
    assert release_bindings.release_keys(by_version, "release-4.19.2") == ("4.19.2", None)
    assert release_bindings.release_keys(by_version, "release-4.19") is None
    by_product = releases_conf.parse_binding(
        r"stage-testing = Acme : ^st$ : ^release-(?P<product>\d+\.\d+)$", ["stage-testing"])
    assert release_bindings.release_keys(by_product, "release-4.19") == (None, "4.19")
    plain = releases_conf.parse_binding(r"stage-testing = Acme : ^st$ : ^release-",
                                        ["stage-testing"])
    assert release_bindings.release_keys(plain, "release-4.19") == ("4.19", "4.19")
    assert release_bindings.release_keys(plain, "release-next") is None
    assert release_bindings.release_keys(plain, "master") is None
