"""Tests for radar.ci.classifier.

Composed fixtures cover every case of gerrit-wire-format.md §8; the real
recorded data in ../shared/data/gerrit/ (never copied into the repository)
is checked message by message with values read off by hand.
"""

import json
import pathlib
import random
import string
import time

import pytest

from radar.ci import classifier as c
from radar.db import models

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "classifier"
REPO_ROOT = HERE.parents[1]
DATA = REPO_ROOT.parent / "shared" / "data" / "gerrit"

DEFAULT_RECHECK = r"(?im)^\s*recheck(?:\s+(?P<target>[^\s].*?))?\s*$"


def fixture(name):
    return (FIXTURES / name).read_text(encoding="utf-8")


def failed(cls):
    return sum(not j.passed for j in cls.jobs)


def non_voting(cls):
    return sum(not j.voting for j in cls.jobs)


def summary(cls):
    """The values checked by hand for each real message."""
    return (cls.kind, cls.result, cls.pipeline, cls.vote, len(cls.jobs), failed(cls),
            non_voting(cls))


def by_name(cls):
    return {j.name: j for j in cls.jobs}


# --------------------------------------------------------------------------
# Interface

def test_result_constants_are_the_models_ones():
    assert (c.SUCCESS, c.FAILURE, c.MERGE_FAILED, c.CANCELED, c.UNKNOWN) == models.RESULTS
    assert (c.REPORT, c.START, c.VOTE_REMOVAL, c.CHATTER) == (
        "report", "start", "vote_removal", "chatter")
    assert c.VERIFIED_LABELS == ("Verified", "VRIF")


# --------------------------------------------------------------------------
# parse_header (§2.5)

@pytest.mark.parametrize("text, patchset, votes, removed, body", [
    ("Patch Set 2: Verified+1\n\nBuild succeeded (check pipeline).",
     2, {"Verified": 1}, [], "Build succeeded (check pipeline)."),
    ("Patch Set 3: Code-Review+2 Workflow+1", 3, {"Code-Review": 2, "Workflow": 1}, [], ""),
    ("Patch Set 1: Code-Review-1\n\n(2 comments)\n\nJust some nit picks.",
     1, {"Code-Review": -1}, [], "(2 comments)\n\nJust some nit picks."),
    ("Patch Set 1: -Verified", 1, {}, ["Verified"], ""),
    ("Patch Set 3: -Verified\n\nStarting gate jobs.", 3, {}, ["Verified"], "Starting gate jobs."),
    # Gerrit ≈2.6 printed a removal as Label+0.
    ("Patch Set 5: Verified+0 Code-Review-2", 5, {"Code-Review": -2}, ["Verified"], ""),
    ("Patch Set 12:", 12, {}, [], ""),
    ("Uploaded patch set 1.", 1, {}, [], ""),
    ("Uploaded patch set 3: Commit message was updated.", 3, {}, [],
     "Commit message was updated."),
    ("Patch Set 2: Patch Set 1 was rebased", 2, {}, [], "Patch Set 1 was rebased"),
    # Votes collapsed onto the header line with the text still parse.
    ("Patch Set 2: Verified+2 Build succeeded.", 2, {"Verified": 2}, [], "Build succeeded."),
    ("Patch Set 1: VRIF-1\r\n\r\nBuild failed.", 1, {"VRIF": -1}, [], "Build failed."),
    # stream-events comments have no header.
    ("Build succeeded.\n\n- job http://x/ : SUCCESS in 1s\n", None, {}, [],
     "Build succeeded.\n\n- job http://x/ : SUCCESS in 1s"),
    ("", None, {}, [], ""),
    # Without the colon it is not Gerrit's header.
    ("Patch Set 2 was rebased", None, {}, [], "Patch Set 2 was rebased"),
])
def test_parse_header(text, patchset, votes, removed, body):
    header = c.parse_header(text)
    assert header == c.Header(patchset=patchset, votes=votes, removed=removed, body=body)


# --------------------------------------------------------------------------
# §8.1 Zuul v3+ job line vocabulary

def test_zuul_v3_check_failure_every_job_form():
    cls = c.classify_ci_message(fixture("zuul_v3_check_failure.txt"))
    assert (cls.kind, cls.result, cls.pipeline, cls.patchset) == (c.REPORT, c.FAILURE, "check", 4)
    assert (cls.vote_label, cls.vote) == ("Verified", -1)
    assert cls.headline.startswith("Build failed (check pipeline).  For information")
    assert cls.truncated is False
    jobs = by_name(cls)
    # "Skipped 2 jobs" and the buildset URL line are not jobs.
    assert len(cls.jobs) == 9
    assert [j.name for j in cls.jobs][:2] == ["example-tox-pep8", "example-tox-py311"]
    assert jobs["example-tox-pep8"] == c.JobLine(
        name="example-tox-pep8",
        url="https://zuul.example.org/t/example/build/1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6",
        result="SUCCESS", voting=True, duration_s=192.0, detail=None, passed=True)
    assert jobs["example-tox-py311"].result == "FAILURE"
    assert jobs["example-tox-py311"].duration_s == 3723.0
    assert jobs["example-tox-docs"].result == "POST_FAILURE"
    assert jobs["example-functional"].result == "RETRY_LIMIT"
    assert jobs["example-functional"].duration_s == 721.0
    grenade = jobs["example-grenade"]
    assert (grenade.result, grenade.url, grenade.duration_s, grenade.passed) == (
        "NODE_FAILURE", None, None, False)
    cover = jobs["example-tox-cover"]
    assert (cover.result, cover.detail, cover.duration_s) == (
        "ERROR", "Project example/missing does not exist", 3.0)
    slow = jobs["example-tempest-slow"]
    assert (slow.result, slow.voting, slow.duration_s, slow.detail) == (
        "TIMED_OUT", False, 7200.0, None)
    skipped = jobs["example-requirements-check"]
    assert (skipped.result, skipped.duration_s, skipped.passed) == ("SKIPPED", None, True)
    assert jobs["example-releasenotes"].voting is False
    assert failed(cls) == 6


# §8.2 pipeline from the tag, then from the headline

def test_zuul_v3_pipeline_only_in_tag_and_non_voting_failure_under_success():
    cls = c.classify_ci_message(fixture("zuul_v3_gate_success_tagged.txt"),
                                tag="autogenerated:zuul:gate")
    assert (cls.kind, cls.result, cls.pipeline, cls.vote) == (c.REPORT, c.SUCCESS, "gate", 2)
    assert cls.headline == "Build succeeded."
    # The indented warning line is not a job.
    assert [j.name for j in cls.jobs] == [
        "example-tox-pep8", "example-tox-py311", "example-integration", "example-docs-publish"]
    assert by_name(cls)["example-tox-py311"].duration_s == 14.0
    integration = by_name(cls)["example-integration"]
    assert (integration.result, integration.voting, integration.passed) == (
        "FAILURE", False, False)


def test_zuul_v3_without_tag_has_no_pipeline():
    cls = c.classify_ci_message(fixture("zuul_v3_gate_success_tagged.txt"))
    assert cls.pipeline is None
    assert cls.result == c.SUCCESS


def test_tag_pipeline_wins_over_headline():
    cls = c.classify_ci_message("Patch Set 1: Verified+1\n\nBuild succeeded (gate pipeline).",
                                tag="autogenerated:zuul:check")
    assert cls.pipeline == "check"
    cls = c.classify_ci_message("Patch Set 1: Verified+1\n\nBuild succeeded (gate pipeline).",
                                tag="jenkins-gerrit-trigger")
    assert cls.pipeline == "gate"


# §8.3 Zuul gate sequence

def test_zuul_gate_start_then_result():
    start = c.classify_ci_message("Patch Set 3: -Verified\n\nStarting gate jobs.",
                                  tag="autogenerated:zuul:gate")
    assert (start.kind, start.result, start.pipeline, start.vote, start.patchset) == (
        c.START, None, "gate", None, 3)
    job = "- example-py311 https://zuul.example.org/t/e/build/0a1b2c3d4e5f : {}in 9m 00s"
    ok = c.classify_ci_message(
        "Patch Set 3: Verified+2\n\nBuild succeeded (gate pipeline).\n\n" + job.format("SUCCESS "))
    assert (ok.kind, ok.result, ok.pipeline, ok.vote_label, ok.vote) == (
        c.REPORT, c.SUCCESS, "gate", "Verified", 2)
    bad = c.classify_ci_message(
        "Patch Set 3: Verified-2\n\nBuild failed (gate pipeline).\n\n" + job.format("FAILURE "))
    assert (bad.kind, bad.result, bad.vote, failed(bad)) == (c.REPORT, c.FAILURE, -2, 1)


# §8.4 merge failures and cancel

@pytest.mark.parametrize("text, result", [
    ("Patch Set 2: Verified-1\n\nMerge Failed.\n\nThis change or one of its cross-repo "
     "dependencies was unable to be automatically merged with the current state of its "
     "repository. Please rebase the change and upload a new patchset.", c.MERGE_FAILED),
    ("Patch Set 2: Verified-1\n\nThis change depends on a change that failed to merge.",
     c.MERGE_FAILED),
    ("Patch Set 2: Verified-1\n\nThis change or one of its cross-repo dependencies was unable "
     "to be automatically merged with the current state of its repository. Please rebase the "
     "change and upload a new patchset." + " Really." * 40, c.MERGE_FAILED),
    ("Patch Set 2: Verified-1\n\nThis change was unable to be automatically merged with the "
     "current state of the repository. Please rebase your change and upload a new patchset.",
     c.MERGE_FAILED),
    ("Patch Set 4:\n\nBuild canceled.", c.CANCELED),
    ("Patch Set 4: -Verified\n\nBuild canceled (gate pipeline).", c.CANCELED),
])
def test_merge_failed_and_canceled(text, result):
    cls = c.classify_ci_message(text)
    assert (cls.kind, cls.result, cls.jobs) == (c.REPORT, result, [])
    # Rule 1: the headline beats the -1 vote.
    assert len(cls.headline) <= c.MAX_HEADLINE


def test_long_headline_is_capped():
    cls = c.classify_ci_message("Patch Set 2:\n\nMerge Failed. " + "x" * 1000)
    assert cls.result == c.MERGE_FAILED
    assert len(cls.headline) == 255


# §8.5 truncated reports

def test_truncated_successful_jobs_omitted():
    cls = c.classify_ci_message(fixture("zuul_truncated_omitted.txt"))
    assert (cls.kind, cls.result, cls.pipeline, cls.truncated) == (
        c.REPORT, c.FAILURE, "check", True)
    assert [(j.result, j.duration_s) for j in cls.jobs] == [
        ("FAILURE", 422.0), ("TIMED_OUT", 10804.0)]


def test_truncated_text_cut():
    cls = c.classify_ci_message(fixture("zuul_truncated_cut.txt"))
    assert (cls.result, cls.truncated) == (c.FAILURE, True)
    # The cut line has no " : RESULT" and is not a job.
    assert [j.name for j in cls.jobs] == ["example-job-001", "example-job-002"]


def test_not_truncated_when_marker_absent():
    cls = c.classify_ci_message("Patch Set 1:\n\nBuild succeeded.\n\n- a http://x/ : SUCCESS")
    assert cls.truncated is False


# §8.6 Zuul 2.x

def test_zuul_v2_lines_without_job_names():
    cls = c.classify_ci_message(fixture("zuul_v2_no_names.txt"))
    assert (cls.kind, cls.result, cls.vote) == (c.REPORT, c.SUCCESS, 1)
    assert [(j.name, j.result, j.duration_s, j.voting) for j in cls.jobs] == [
        ("gate-example-pep8", "SUCCESS", 243.0, True),
        ("gate-example-python27", "SUCCESS", 3723.0, True),
        ("check-example-dsvm-full", "FAILURE", 3312.0, False),
        ("example-unit", "NOT_REGISTERED", None, True),
        ("example-nightly", "LOST", 0.0, True),
    ]
    assert cls.jobs[0].url == "http://logs.example.org/12/34512/3/check/gate-example-pep8/abc1234"


def test_zuul_v2_result_from_job_lines_when_no_headline_or_vote():
    text = ("Patch Set 1:\n\n- http://logs.example.org/12/34512/1/check/gate-a/abc1234 : SUCCESS"
            " in 4m 03s\n- http://logs.example.org/12/34512/1/check/gate-b/def5678 : UNSTABLE"
            " in 1m 00s")
    cls = c.classify_ci_message(text)
    assert (cls.kind, cls.result, cls.headline, failed(cls)) == (c.REPORT, c.FAILURE, None, 1)


@pytest.mark.parametrize("url, name", [
    ("http://logs.openstack.org/68/92468/1/check/gate-neutron-pep8/e8aebe6", "gate-neutron-pep8"),
    ("http://docs-draft.openstack.org/68/92468/1/gate/gate-neutron-docs/5e5b424/doc/build/html/",
     "gate-neutron-docs"),
    ("https://jenkins.example.org/job/nova-unit/12/", "nova-unit"),
    ("https://jenkins.example.org/job/folder/job/nova-lint/3/console", "nova-lint"),
    ("http://ci.example.net/logs/my-job/6f1d2c3b4a59/", "my-job"),
    # The OpenStack layout names the job even when it looks like a folder.
    ("http://logs.example.org/12/34512/3/post/docs/0a1b2c3", "docs"),
    ("http://64.119.130.115/92468/1/", "64.119.130.115"),
    ("http://", "http://"),
])
def test_job_name_from_url(url, name):
    cls = c.classify_ci_message(f"Patch Set 1:\n\n- {url} : SUCCESS in 1s")
    assert [j.name for j in cls.jobs] == [name]


# §8.7 Jenkins Gerrit Trigger

def test_gerrit_trigger_build_started():
    cls = c.classify_ci_message(
        "Patch Set 1:\n\nBuild Started https://jenkins.example.org/job/nova-unit/12/ (1/2)",
        tag="jenkins-gerrit-trigger")
    assert (cls.kind, cls.result, cls.pipeline, cls.jobs) == (c.START, None, None, [])


def test_gerrit_trigger_build_successful():
    cls = c.classify_ci_message(
        "Patch Set 1: Verified+1\n\nBuild Successful \n\n"
        "https://jenkins.example.org/job/nova-unit/12/ : SUCCESS",
        tag="jenkins-gerrit-trigger")
    assert (cls.kind, cls.result, cls.vote, cls.headline) == (
        c.REPORT, c.SUCCESS, 1, "Build Successful")
    assert cls.jobs == [c.JobLine(name="nova-unit", url="https://jenkins.example.org/job/nova-unit/12/",
                                  result="SUCCESS", voting=True, duration_s=None, detail=None,
                                  passed=True)]


def test_gerrit_trigger_build_failed_with_message_block_and_skipped():
    cls = c.classify_ci_message(fixture("gerrit_trigger_failed_block.txt"))
    assert (cls.kind, cls.result, cls.patchset, cls.vote) == (c.REPORT, c.FAILURE, None, None)
    assert [(j.name, j.result, j.voting, j.passed) for j in cls.jobs] == [
        ("example-unit", "FAILURE", True, False),
        ("example-lint", "SUCCESS", True, True),
        ("example-docs", "SUCCESS", False, True),
    ]
    assert cls.jobs[0].detail == "Unit tests failed: 3 errors see the console for details"


def test_gerrit_trigger_two_builds_failed():
    cls = c.classify_ci_message(
        "Patch Set 2: Verified-1\n\nBuild Failed \n\nhttps://j.example.org/job/a/1/ : FAILURE"
        "\n\nhttps://j.example.org/job/b/2/ : SUCCESS")
    assert (cls.result, len(cls.jobs), failed(cls)) == (c.FAILURE, 2, 1)


def test_gerrit_trigger_one_line_block():
    cls = c.classify_ci_message("Build Failed \n\nhttps://j.example.org/job/a/1/ : FAILURE "
                                "<<< tests broke >>>")
    assert cls.jobs[0].detail == "tests broke"


def test_gerrit_trigger_unstable_votes_code_review():
    cls = c.classify_ci_message(
        "Patch Set 1: Code-Review-1\n\nBuild Unstable \n\n"
        "https://j.example.org/job/a/1/ : UNSTABLE")
    assert (cls.kind, cls.result, cls.vote_label, cls.vote) == (c.REPORT, c.FAILURE, None, None)
    assert cls.jobs[0].result == "UNSTABLE" and not cls.jobs[0].passed


def test_gerrit_trigger_no_builds_executed_is_unknown_report():
    cls = c.classify_ci_message("Patch Set 1:\n\nNo Builds Executed ")
    assert (cls.kind, cls.result) == (c.REPORT, c.UNKNOWN)


def test_gerrit_trigger_aborted_is_canceled():
    cls = c.classify_ci_message(
        "Patch Set 1:\n\nBuild Aborted \n\nhttps://j.example.org/job/a/1/ : ABORTED")
    assert (cls.kind, cls.result, cls.jobs[0].result) == (c.REPORT, c.CANCELED, "ABORTED")


# §8.8 free-form third-party CIs

@pytest.mark.parametrize("text, result", [
    ("Patch Set 1:\n\nPassed using XenServer 6.2 with Nova 2014.1; logs at http://x/y", c.SUCCESS),
    ("Patch Set 1:\n\nFailed using XenServer 6.2; logs at http://x/y", c.FAILURE),
    ("Patch Set 1:\n\nArista third party testing FAILED [ https://a.example/s/1 ]", c.FAILURE),
    ("Patch Set 1:\n\nFAILED: https://db.example/x", c.FAILURE),
    ("Patch Set 1:\n\nDoesn't seem to work", c.FAILURE),
    ("Patch Set 1:\n\nTests failed.", c.FAILURE),
    ("Patch Set 1:\n\nBuild successful.", c.SUCCESS),
    ("Patch Set 1:\n\nGate pipeline build succeeded.", c.SUCCESS),
])
def test_free_form_headlines_without_vote(text, result):
    cls = c.classify_ci_message(text)
    assert (cls.kind, cls.result, cls.vote) == (c.REPORT, result, None)


def test_free_form_unknown_text_with_vote_uses_vote():
    cls = c.classify_ci_message("Patch Set 1: Verified-1\n\nSomething went sideways, see log.")
    assert (cls.kind, cls.result, cls.vote) == (c.REPORT, c.FAILURE, -1)


def test_headline_beats_vote():
    cls = c.classify_ci_message("Patch Set 1: Verified-1\n\nBuild succeeded.")
    assert (cls.result, cls.vote) == (c.SUCCESS, -1)


def test_hyper_v_custom_job_text_is_kept():
    cls = c.classify_ci_message(
        "Patch Set 1:\n\nBuild succeeded.\n\n"
        "- http://10.0.0.5/555/1/ : Looks good to me in 36m 10s")
    assert cls.result == c.SUCCESS
    assert cls.jobs == [c.JobLine(name="10.0.0.5", url="http://10.0.0.5/555/1/",
                                  result="Looks good to me", voting=True, duration_s=2170.0,
                                  detail=None, passed=True)]


def test_custom_job_text_that_does_not_mean_success():
    cls = c.classify_ci_message("Patch Set 1:\n\n- job http://x/1 : Test run failed in 5m 00s")
    assert (cls.result, cls.jobs[0].result, cls.jobs[0].passed) == (
        c.FAILURE, "Test run failed", False)


def test_job_rules_non_voting():
    nv = " (non-voting)"
    # Non-voting failures are left out...
    text = f"Patch Set 1:\n\n- a http://x/a : SUCCESS\n- b http://x/b : FAILURE{nv}"
    assert c.classify_ci_message(text).result == c.SUCCESS
    # ...unless every job is non-voting.
    text = f"Patch Set 1:\n\n- a http://x/a : SUCCESS{nv}\n- b http://x/b : FAILURE{nv}"
    assert c.classify_ci_message(text).result == c.FAILURE
    text = f"Patch Set 1:\n\n- a http://x/a : SUCCESS in 1s{nv}\n- b http://x/b : SKIPPED{nv}"
    assert c.classify_ci_message(text).result == c.SUCCESS


@pytest.mark.parametrize("line, expected", [
    ("- j http://x/1 : failure in 2m 05s", ("FAILURE", 125.0, None, True)),
    ("* j http://x/1 : SUCCESS in 1h 00m 00s", ("SUCCESS", 3600.0, None, True)),
    ("- j http://x/1 : SUCCESS in 43m 0s (97.40% avg)", ("SUCCESS", 2580.0, "(97.40% avg)", True)),
    ("- j http://x/1 : ERROR Job ran in 5s fine in 7s", ("ERROR", 7.0, "Job ran in 5s fine", True)),
    ("- j j : MERGE_CONFLICT", ("MERGE_CONFLICT", None, None, True)),
    ("- j http://x/1 : CONFIG_ERROR", ("CONFIG_ERROR", None, None, True)),
    ("- j http://x/1 : DISK_FULL in 3s (non-voting)", ("DISK_FULL", 3.0, None, False)),
    ("- j build/0123abcd : EXCEPTION", ("EXCEPTION", None, None, True)),
    ("http://j.example.org/job/j/1/ : NOT_BUILT", ("NOT_BUILT", None, None, True)),
])
def test_job_line_forms(line, expected):
    cls = c.classify_ci_message("Patch Set 1:\n\n" + line)
    assert len(cls.jobs) == 1
    job = cls.jobs[0]
    assert (job.result, job.duration_s, job.detail, job.voting) == expected
    assert job.name == "j"


@pytest.mark.parametrize("line", [
    "Skipped 2 jobs",
    "All Logs: http://ci.example.com/logs/refs-changes-68-92468-1",
    "- check-tempest-dsvm-full: https://bugs.launchpad.net/bugs/1253896",
    "- Note : this is prose",
    "  - j http://x/1 : SUCCESS",
    "see http://x/1 : SUCCESS",
    "- j http://x/1 : ",
])
def test_not_job_lines(line):
    assert c.classify_ci_message("Patch Set 1:\n\nBuild succeeded.\n\n" + line).jobs == []


def test_job_field_caps():
    long_name = "n" * 400
    long_url = "http://x/" + "u" * 2000
    text = (f"Patch Set 1:\n\n- {long_name} {long_url} : ERROR {'d' * 600} in 1s\n"
            f"- j2 http://x/2 : {'Looks good ' * 20}in 2s")
    jobs = c.classify_ci_message(text).jobs
    assert (len(jobs[0].name), len(jobs[0].url), len(jobs[0].detail)) == (255, 1024, 255)
    assert len(jobs[1].result) == 64 and jobs[1].passed


# START / VOTE_REMOVAL / CHATTER

@pytest.mark.parametrize("text, pipeline", [
    ("Patch Set 1:\n\nStarting check jobs.\nhttp://status.example.org/zuul/", "check"),
    ("Patch Set 1:\n\nStarting gate-and-submit-swat jobs.", "gate-and-submit-swat"),
    ("Patch Set 2:\n\nBuild Started https://j.example.org/job/a/1/", None),
    ("Patch Set 2:\n\nTesting started, see http://ci.example/92468", None),
    ("Patch Set 2:\n\nBuild is in progress", None),
])
def test_start_notices(text, pipeline):
    cls = c.classify_ci_message(text)
    assert (cls.kind, cls.result, cls.pipeline) == (c.START, None, pipeline)


def test_vote_removal():
    cls = c.classify_ci_message("Patch Set 1: -Verified")
    assert (cls.kind, cls.result, cls.vote_label, cls.vote, cls.patchset) == (
        c.VOTE_REMOVAL, None, None, None, 1)
    assert c.classify_ci_message("Patch Set 1: Verified+0").kind == c.VOTE_REMOVAL
    # A removal with a result is a report.
    assert c.classify_ci_message("Patch Set 1: -Verified\n\nBuild failed.").result == c.FAILURE


@pytest.mark.parametrize("text", [
    fixture("elastic_recheck_bot.txt"),
    "Patch Set 3:\n\n(1 comment)",
    "Patch Set 3:",
    "Hello from the CI team.",
    "",
])
def test_chatter(text):
    cls = c.classify_ci_message(text)
    assert (cls.kind, cls.result, cls.jobs, cls.vote) == (c.CHATTER, None, [], None)


def test_other_label_vote_is_unknown_report():
    cls = c.classify_ci_message("Patch Set 1: Code-Review+1")
    assert (cls.kind, cls.result, cls.vote_label) == (c.REPORT, c.UNKNOWN, None)


# External votes (stream-events approvals)

def test_votes_from_outside_the_text():
    text = ("Build failed.  For information on how to proceed, see http://x\n\n"
            "- a http://x/a : FAILURE")
    cls = c.classify_ci_message(text, votes={"VRIF": "-1"})
    assert (cls.result, cls.vote_label, cls.vote, cls.patchset) == (c.FAILURE, "Verified", -1, None)
    cls = c.classify_ci_message("Nothing to see", votes={"VRIF": "2"})
    assert (cls.kind, cls.result, cls.vote_label, cls.vote) == (c.REPORT, c.SUCCESS, "Verified", 2)
    # The header wins over outside votes, and a header removal cancels them.
    cls = c.classify_ci_message("Patch Set 1: Verified-1", votes={"Verified": 1})
    assert (cls.result, cls.vote) == (c.FAILURE, -1)
    assert c.classify_ci_message("Patch Set 1: -Verified", votes={"Verified": 1}).kind == \
        c.VOTE_REMOVAL
    # Junk values are ignored, zero is no vote.
    cls = c.classify_ci_message("x", votes={"Verified": "lots", 3: 1, "VRIF": 0, "Foo": None})
    assert cls.kind == c.CHATTER


# §8.9 recheck

@pytest.mark.parametrize("text, expected", [
    ("Patch Set 1:\n\nrecheck", (True, None)),
    ("Patch Set 1:\n\nrecheck cisco-ci", (True, "cisco-ci")),
    ("Patch Set 1:\n\n  Recheck  Cisco-CI  ", (True, "cisco-ci")),
    ("Patch Set 4: Code-Review+1\n\n(1 comment)\n\nrecheck", (True, None)),
    ("recheck", (True, None)),
    ("Patch Set 1:\n\nrecheck bug 1253896", (True, None)),
    ("Patch Set 1:\n\nrecheck no bug", (True, None)),
    ("Patch Set 1:\n\nI think we need a recheck", (False, None)),
    ("Patch Set 1:\n\nrecheck-vmware", (False, None)),
    ("Patch Set 1:\n\nBuild failed. on my laptop too", (False, None)),
    ("", (False, None)),
])
def test_parse_recheck_default_pattern(text, expected):
    assert c.parse_recheck(text, DEFAULT_RECHECK) == expected


@pytest.mark.parametrize("text, pattern, expected", [
    ("Patch Set 1:\n\nrecheck-vmware", r"(?im)^\s*recheck-(?P<target>vmware)\s*$",
     (True, "vmware")),
    ("Patch Set 2:\n\nrecheck-nec", r"(?im)^\s*recheck-(?P<target>nec)\s*$", (True, "nec")),
    ("Patch Set 2:\n\nrun-cisco", r"(?im)^\s*run-(?P<target>cisco)\s*$", (True, "cisco")),
    ("Patch Set 2:\n\nrun-cisco", r"(?im)^\s*recheck-(?P<target>nec)\s*$", (False, None)),
    ("Patch Set 2:\n\nrecheck", r"(?i)^recheck$", (True, None)),
])
def test_parse_recheck_system_patterns(text, pattern, expected):
    assert c.parse_recheck(text, pattern) == expected


def test_human_mentioning_build_failed_is_not_a_recheck_or_system_message():
    # Whether a message is a CI report depends on its author (checked by the
    # caller); the classifier only says this is no recheck and not Gerrit's.
    text = "Patch Set 1:\n\nBuild failed. Looks like the gate is broken again."
    assert c.parse_recheck(text, DEFAULT_RECHECK) == (False, None)
    assert c.is_gerrit_system_message(text, None) is False


# §8.10 Gerrit system messages

@pytest.mark.parametrize("text, tag", [
    ("Uploaded patch set 1.", None),
    ("Uploaded patch set 3: Commit message was updated.", "autogenerated:gerrit:newPatchSet"),
    ("Uploaded patch set 3: Patch Set 2 was rebased.", None),
    ("Patch Set 2: Patch Set 1 was rebased", None),
    ("Patch Set 21: Patch Set 20 was rebased\n\nOutdated Votes:\n* Verified+1 by Zuul", None),
    ("Patch Set 1: Cherry Picked from branch master.", None),
    ("Patch Set 2: Commit message was updated.", None),
    ("Change has been successfully merged into the git repository.", None),
    ("Change has been successfully merged by Jane Doe", None),
    ("Change has been successfully cherry-picked as 0123abc by Jane Doe", None),
    ("Abandoned\n\nNo longer needed", None),
    ("Restored", None),
    ("Removed reviewer Jane Doe.", None),
    ("Removed Verified-1 by ci-bot <>\n", None),
    ("Removed Code-Review+2 by Jane Doe <jane@example.org>", None),
    ("Anything at all", "autogenerated:gerrit:merged"),
    ("Build succeeded.", "autogenerated:gerrit:abandon"),
])
def test_gerrit_system_messages(text, tag):
    assert c.is_gerrit_system_message(text, tag) is True
    cls = c.classify_ci_message(text, tag=tag)
    assert (cls.kind, cls.result) == (c.CHATTER, None)


@pytest.mark.parametrize("text, tag", [
    ("Patch Set 1: Verified+1\n\nBuild succeeded.", "autogenerated:zuul:check"),
    ("Patch Set 1:\n\nrecheck", None),
    ("Patch Set 1: -Verified", None),
    ("Patch Set 1:\n\nI abandoned hope. Restored it later.", None),
    ("", None),
])
def test_not_gerrit_system_messages(text, tag):
    assert c.is_gerrit_system_message(text, tag) is False


# --------------------------------------------------------------------------
# Real recorded data (gerrit-wire-format.md §8; data/gerrit/README.md)

def load_json(name):
    path = DATA / name
    assert path.exists(), f"shared data not found at {path}"
    return json.loads(path.read_text(encoding="utf-8"))


DRIVERLOG_CI = {"jenkins", "huawei-ci", "plumgrid-ci", "mellanox", "arista-test", "bsn",
                "hyper-v-ci", "cisco_neutron_ci", "vmwareminesweeper", "nec-openstack-ci",
                "neutronryu"}

# index -> (kind, result, pipeline, vote, jobs, failed jobs, non-voting jobs), read by hand.
DRIVERLOG_EXPECTED = {
    1: (c.START, None, "check", None, 0, 0, 0),           # Jenkins "Starting check jobs."
    2: (c.START, None, "check", None, 0, 0, 0),           # Huawei CI
    3: (c.REPORT, c.SUCCESS, None, 1, 0, 0, 0),           # PLUMgrid "PASSED: https://db.tt/..."
    4: (c.REPORT, c.FAILURE, None, None, 2, 1, 0),        # Mellanox "Build failed."
    5: (c.REPORT, c.SUCCESS, None, 1, 0, 0, 0),           # Arista "... testing PASSED"
    6: (c.REPORT, c.SUCCESS, None, 1, 2, 0, 0),           # Big Switch "Tests succeeded."
    7: (c.REPORT, c.SUCCESS, None, None, 1, 0, 0),        # Hyper-V "Looks good to me"
    8: (c.REPORT, c.SUCCESS, None, None, 1, 0, 0),        # Cisco
    9: (c.REPORT, c.SUCCESS, None, 1, 13, 2, 4),          # Jenkins check, 2 non-voting failures
    11: (c.REPORT, c.SUCCESS, None, 1, 1, 0, 0),          # VMware, job lines only
    14: (c.VOTE_REMOVAL, None, None, None, 0, 0, 0),      # VMware "-Verified"
    15: (c.REPORT, c.SUCCESS, None, 1, 1, 0, 0),
    21: (c.START, None, "check", None, 0, 0, 0),
    22: (c.REPORT, c.FAILURE, None, None, 0, 0, 0),       # NEC "Build failed. Leave a comment..."
    23: (c.REPORT, c.SUCCESS, None, 1, 0, 0, 0),
    24: (c.REPORT, c.SUCCESS, None, 1, 2, 0, 0),          # Neutron Ryu
    25: (c.REPORT, c.SUCCESS, None, None, 1, 0, 0),
    26: (c.REPORT, c.SUCCESS, None, 1, 0, 0, 0),
    27: (c.REPORT, c.SUCCESS, None, 1, 1, 0, 0),
    28: (c.REPORT, c.SUCCESS, None, 1, 2, 0, 0),
    29: (c.REPORT, c.SUCCESS, None, None, 1, 0, 0),
    31: (c.REPORT, c.SUCCESS, None, 1, 2, 0, 0),          # Mellanox PS2
    32: (c.REPORT, c.SUCCESS, None, 1, 13, 1, 4),
    35: (c.START, None, "check", None, 0, 0, 0),          # "-Verified" + "Starting check jobs."
    36: (c.REPORT, c.SUCCESS, None, 1, 13, 0, 4),
    37: (c.START, None, "gate", None, 0, 0, 0),
    38: (c.REPORT, c.SUCCESS, None, 2, 9, 0, 0),          # gate, Verified+2
    39: (c.CHATTER, None, None, None, 0, 0, 0),           # Gerrit's merge message, as Jenkins
}


def test_driverlog_every_ci_message():
    review = load_json("driverlog__sample_review.json")
    comments = review["comments"]
    ci = {i for i, m in enumerate(comments) if m["reviewer"]["username"] in DRIVERLOG_CI}
    assert ci == set(DRIVERLOG_EXPECTED)
    got = {i: summary(c.classify_ci_message(comments[i]["message"])) for i in ci}
    assert got == DRIVERLOG_EXPECTED


def test_driverlog_details():
    comments = load_json("driverlog__sample_review.json")["comments"]

    def cls(i):
        return c.classify_ci_message(comments[i]["message"])

    mellanox = cls(4)
    assert [(j.name, j.result, j.duration_s) for j in mellanox.jobs] == [
        ("Check-MLNX-Neutron-ML2-driver", "SUCCESS", 757.0),
        ("Check-MLNX-Neutron-plugin", "FAILURE", 355.0)]
    assert mellanox.patchset == 1
    hyperv = cls(7).jobs[0]
    assert (hyperv.name, hyperv.result, hyperv.passed, hyperv.duration_s) == (
        "64.119.130.115", "Looks good to me", True, 2170.0)
    assert cls(22).headline.startswith("Build failed. Leave a comment with 'recheck-nec'")
    vmware = cls(11).jobs[0]
    assert (vmware.name, vmware.duration_s, vmware.detail) == (
        "check-tempest-neutron-vmware-nsx", 2580.0, "(102.17% avg)")
    jenkins = cls(9)
    assert sorted(j.name for j in jenkins.jobs if not j.passed) == [
        "check-grenade-dsvm-neutron", "check-tempest-dsvm-neutron-full"]
    assert all(not j.voting for j in jenkins.jobs if not j.passed)
    assert by_name(jenkins)["check-tempest-dsvm-neutron-pg"].duration_s == 3676.0
    gate = cls(38)
    assert (gate.vote_label, gate.patchset) == ("Verified", 2)
    assert all("/gate/" in j.url for j in gate.jobs)
    assert cls(14).patchset == 1
    assert cls(3).headline == "PASSED: https://db.tt/RAjWd5SM"


def test_driverlog_system_messages_and_rechecks():
    comments = load_json("driverlog__sample_review.json")["comments"]
    system = {i for i, m in enumerate(comments) if c.is_gerrit_system_message(m["message"], None)}
    assert system == {0, 20, 39}
    vmware = r"(?im)^\s*recheck-(?P<target>vmware)\s*$"
    humans = [i for i, m in enumerate(comments) if m["reviewer"]["username"] not in DRIVERLOG_CI]
    assert {i for i in humans if c.parse_recheck(comments[i]["message"], vmware)[0]} == {
        10, 12, 13}
    assert c.parse_recheck(comments[10]["message"], vmware) == (True, "vmware")
    # "recheck-vmware" is not a generic recheck.
    assert not any(c.parse_recheck(comments[i]["message"], DEFAULT_RECHECK)[0] for i in humans)


# index -> (kind, result, pipeline, vote, jobs, failed jobs, non-voting jobs)
ELASTIC_EXPECTED = [
    (c.REPORT, c.SUCCESS, None, 1, 11, 0, 0),
    (c.REPORT, c.FAILURE, None, -1, 11, 1, 0),
    (c.REPORT, c.FAILURE, None, -1, 12, 1, 0),
    (c.REPORT, c.SUCCESS, None, 1, 21, 7, 12),    # all 7 failures are non-voting
    (c.REPORT, c.SUCCESS, None, 1, 1, 0, 0),      # gate-noop in 0s
    (c.REPORT, c.FAILURE, None, -1, 11, 2, 0),
    (c.REPORT, c.SUCCESS, None, 1, 11, 2, 2),
    (c.REPORT, c.SUCCESS, None, 1, 10, 0, 0),
    (c.REPORT, c.SUCCESS, None, 2, 7, 0, 3),      # gate, VRIF 2
    (c.REPORT, c.SUCCESS, None, 2, 9, 0, 0),
]


def stream_votes(event):
    return {a["type"]: a["value"] for a in event.get("approvals", [])}


def test_elastic_recheck_every_event():
    events = load_json("elastic-recheck__gerrit_events.json")
    got = [summary(c.classify_ci_message(e["comment"], votes=stream_votes(e))) for e in events]
    assert got == ELASTIC_EXPECTED
    for e in events:
        cls = c.classify_ci_message(e["comment"], votes=stream_votes(e))
        assert cls.patchset is None  # stream-events comments have no header
        assert cls.vote_label == "Verified"  # reported as Verified, not VRIF
    assert c.classify_ci_message(events[4]["comment"]).jobs[0].duration_s == 0.0


def test_elastic_recheck_vote_alone_decides_without_headline():
    events = load_json("elastic-recheck__gerrit_events.json")
    for e, expected in zip(events, ELASTIC_EXPECTED, strict=True):
        jobs_only = e["comment"].split("\n\n", 1)[1]
        cls = c.classify_ci_message(jobs_only, votes=stream_votes(e))
        assert cls.result == expected[1]
        # Without the vote, the voting job lines give the same answer.
        assert c.classify_ci_message(jobs_only).result == expected[1]


def load_perceval():
    path = DATA / "grimoirelab-perceval__gerrit_reviews_page_1"
    assert path.exists(), f"shared data not found at {path}"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return {str(r["number"]): r for r in rows if r.get("type") != "stats"}


# (change, index) -> (kind, result, pipeline, vote, jobs, failed jobs, non-voting jobs)
PERCEVAL_EXPECTED = {
    ("416443", 2): (c.REPORT, c.SUCCESS, None, 2, 1, 0, 0),  # "Main test build succeeded."
    ("415319", 1): (c.REPORT, c.FAILURE, None, -1, 7, 1, 0),
    ("415319", 3): (c.REPORT, c.FAILURE, None, None, 7, 1, 0),
    ("415319", 6): (c.REPORT, c.FAILURE, None, None, 7, 3, 0),
    ("415319", 9): (c.REPORT, c.FAILURE, None, None, 7, 1, 0),
    ("415319", 11): (c.REPORT, c.FAILURE, None, None, 7, 1, 0),
    ("415319", 17): (c.START, None, "gate-and-submit-swat", None, 0, 0, 0),
    ("415319", 18): (c.REPORT, c.FAILURE, "gate", -1, 8, 1, 0),  # "Gate pipeline build failed."
    ("415319", 22): (c.REPORT, c.FAILURE, None, None, 8, 3, 1),
    ("415319", 24): (c.REPORT, c.FAILURE, None, None, 8, 2, 1),
}


def test_perceval_every_ci_message():
    changes = load_perceval()
    ci = {(n, i) for n, ch in changes.items() for i, m in enumerate(ch["comments"])
          if m["reviewer"]["username"] == "jenkins-bot"}
    assert ci == set(PERCEVAL_EXPECTED)
    got = {(n, i): summary(c.classify_ci_message(changes[n]["comments"][i]["message"]))
           for n, i in ci}
    assert got == PERCEVAL_EXPECTED
    first = c.classify_ci_message(changes["416443"]["comments"][2]["message"])
    assert (first.headline, first.jobs[0].duration_s, first.jobs[0].name) == (
        "Main test build succeeded.", 14.0, "operations-puppet-tests-docker")


def test_perceval_system_messages_and_rechecks():
    changes = load_perceval()
    system = {(n, i) for n, ch in changes.items() for i, m in enumerate(ch["comments"])
              if c.is_gerrit_system_message(m["message"], None)}
    assert system == {("416443", 0), ("416443", 1), ("416443", 4),
                      ("415319", 0), ("415319", 12), ("415319", 25)}
    rechecks = {(n, i) for n, ch in changes.items() for i, m in enumerate(ch["comments"])
                if m["reviewer"]["username"] != "jenkins-bot"
                and c.parse_recheck(m["message"], DEFAULT_RECHECK) == (True, None)}
    assert rechecks == {("415319", i) for i in (2, 5, 8, 10, 21, 23)}


# --------------------------------------------------------------------------
# Robustness: never raise, always within the column sizes

VOCABULARY = [
    "Patch Set 1:", "Patch Set 99999999999: Verified+1", "Verified-1", "-Verified", "VRIF+0",
    "\n", "\n\n", " ", " : ", "- ", "* ", "<<<", ">>>", "(non-voting)", "(skipped)", " in ",
    "1h ", "02m ", "03s", "SUCCESS", "FAILURE", "ERROR", "Looks good", "http://", "https://x/",
    "build/", "/job/", "Build succeeded.", "Build failed.", "Starting ", " jobs.", "Merge Failed.",
    "Build Started", "recheck", "Uploaded patch set", "(check pipeline)", "... (truncated)",
    "\r\n", "\x00", "é", "🙂", "\t", "Removed ", " by ", "Change has been successfully merged",
]


def random_texts(rng, n):
    for _ in range(n):
        kind = rng.random()
        if kind < 0.5:
            yield "".join(rng.choice(VOCABULARY) for _ in range(rng.randint(0, 40)))
        elif kind < 0.8:
            yield "".join(rng.choice(string.printable) for _ in range(rng.randint(0, 300)))
        else:
            yield "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(0, 50)))


def check_invariants(cls):
    assert cls.kind in (c.REPORT, c.START, c.VOTE_REMOVAL, c.CHATTER)
    if cls.kind == c.REPORT:
        assert cls.result in models.RESULTS
    else:
        assert cls.result is None and cls.jobs == []
    assert cls.headline is None or 0 < len(cls.headline) <= 255
    assert cls.pipeline is None or 0 < len(cls.pipeline) <= 64
    for job in cls.jobs:
        assert job.name and len(job.name) <= 255
        assert job.result and len(job.result) <= 64
        assert job.detail is None or 0 < len(job.detail) <= 255
        assert job.url is None or len(job.url) <= 1024
        assert job.duration_s is None or job.duration_s >= 0


def test_fuzz_random_strings_never_raise():
    rng = random.Random(20140506)
    for text in random_texts(rng, 3000):
        tag = rng.choice([None, "", "autogenerated:zuul:", "autogenerated:zuul:check", text[:20]])
        check_invariants(c.classify_ci_message(text, tag=tag, votes={"VRIF": text[:3]}))
        c.parse_header(text)
        c.is_gerrit_system_message(text, tag)
        c.parse_recheck(text, DEFAULT_RECHECK)


def test_fuzz_truncated_real_messages_never_raise():
    texts = [m["message"] for m in load_json("driverlog__sample_review.json")["comments"]]
    texts += [e["comment"] for e in load_json("elastic-recheck__gerrit_events.json")]
    texts += [fixture(p.name) for p in sorted(FIXTURES.glob("*.txt"))]
    for text in texts:
        for end in range(0, len(text) + 1, 13):
            check_invariants(c.classify_ci_message(text[:end]))
            check_invariants(c.classify_ci_message(text[end:]))


def test_non_str_input_does_not_raise():
    for value in (None, 42, b"Build succeeded."):
        check_invariants(c.classify_ci_message(value))
        assert c.parse_header(value).votes == {}
        assert c.is_gerrit_system_message(value, None) is False


def test_hostile_input_is_fast():
    texts = [
        "- " + "a" * 200_000 + " : SUCCESS",
        "- a " + "b " * 50_000 + ": x",
        "Patch Set 1: " + "Verified+1 " * 20_000,
        ("- j http://x/ : ERROR" + " in 1s" * 20_000),
        "Build " * 50_000 + "succeeded",
        "<<<" * 50_000,
        "- j http://x/ : FAILURE <<<\n" + "line\n" * 50_000,
    ]
    started = time.monotonic()
    for text in texts:
        check_invariants(c.classify_ci_message(text))
        c.parse_recheck(text, DEFAULT_RECHECK)
    assert time.monotonic() - started < 10
