"""radar deploy list|show|create|set|waves and radar dora show against a live API.

The lead time is checked on the recorded data: the merged OpenStack change
92468 is "deployed" two hours after its merge through `radar deploy create`.
"""

import datetime as dt
import json

from tests.cli import expect as x
from tests.cli.test_write import one_error_line

FIELDS = ["id", "service", "environment", "wave", "version", "result", "started_at",
          "duration_s"]
KINDS = {"started_at": x.when, "finished_at": x.when, "duration_s": x.span}
DORA = ["name", "value", "unit", "count", "tier", "note"]


def _value(metric):
    v, unit = metric["value"], metric["unit"]
    if v is None:
        return x.DASH
    return x.span(v) if unit == "seconds" else x.pct(v) if unit == "ratio" else \
        "%g %s" % (v, unit)


def test_deploy_and_dora_commands(live):
    change = live.get("/v1/changes/92468")
    merged = dt.datetime.fromisoformat(change["merged_at"])
    revision = max(change["patchsets"], key=lambda p: p["number"])["revision"]
    assert merged and revision
    at = lambda hours: (merged + dt.timedelta(hours=hours)).strftime(  # noqa: E731
        "%Y-%m-%dT%H:%M:%SZ")

    # The canary of 1.0 through the CLI; its id is the pipeline's.
    created = live.cli("deploy", "create", "neutron", "--id", "pipe-1", "--environment",
                       "production", "--wave", "canary", "--service-version", "1.0", "--revision",
                       revision, "--image", "server=neutron:1.0", "--started-at", at(1),
                       "-f", "json", token="write")
    assert created.rc == 0, created
    shown = json.loads(created.out)
    api = live.get("/v1/deployments/pipe-1")
    assert shown == api
    assert (api["result"], api["images"], api["uid"]) == ("IN_PROGRESS",
                                                          {"server": "neutron:1.0"}, "pipe-1")
    result = live.cli("deploy", "set", "pipe-1", "--result", "succeeded", "--finished-at",
                      at(2), "--updated-replicas", "3", "--available-replicas", "3",
                      token="write")
    assert (result.rc, result.out, result.err) == (0, "", "")
    # The real script: blue fails, then 1.1 succeeds half an hour later.
    blue = live.proc("deploy", "create", "neutron", "--environment", "production", "--wave",
                     "blue", "--service-version", "1.0", "--started-at", at(2), "--finished-at",
                     at(3), "--result", "FAILED", "-f", "value", "-c", "id", token="write")
    assert blue.rc == 0 and blue.err == "", blue
    assert live.cli("deploy", "create", "neutron", "--environment", "production",
                    "--service-version", "1.1", "--started-at", at(3), "--finished-at", at(3.5),
                    "--result", "SUCCEEDED", token="write").rc == 0

    items = live.get_all("/v1/deployments")
    assert [i["result"] for i in items] == ["SUCCEEDED", "FAILED", "SUCCEEDED"]
    for fmt in ("table", "json", "csv", "value"):
        result = live.cli("deploy", "list", "-f", fmt)
        assert result.rc == 0, result
        x.check_list(result.out, fmt, FIELDS, items, KINDS)
    result = live.cli("deploy", "list", "--result", "failed", "-f", "json")
    assert [i["id"] for i in json.loads(result.out)] == [int(blue.out)]
    shown = json.loads(live.cli("deploy", "show", "pipe-1", "-f", "json").out)
    assert [s["result"] for s in shown["history"]] == ["IN_PROGRESS", "SUCCEEDED"]
    table = live.cli("deploy", "show", blue.out.strip()).out
    assert "FAILED" in table and "blue" in table

    window = ["--since", at(-24), "--until", at(48)]
    waves = live.get("/v1/deployments/waves", {"since": at(-24), "until": at(48)})
    result = live.cli("deploy", "waves", *window, "-f", "json")
    assert json.loads(result.out) == [{c: w[c] for c in ("service", "environment", "version",
                                                         "state", "started_at", "waves")}
                                      for w in waves]
    assert [(w["version"], w["state"]) for w in waves] == [("1.1", "DONE"),
                                                            ("1.0", "FAILED")]
    assert "canary SUCCEEDED" in live.cli("deploy", "waves", *window).out

    # Lead time runs from the merge to the end of the first successful production
    # rollout that carried the revision: 1.0 carried it but failed at blue.
    report = live.get("/v1/dora", {"since": at(-24), "until": at(48), "service": "neutron"})
    metrics = {m["name"]: m for m in report["metrics"]}
    assert metrics["lead_time"]["value"] is None
    assert metrics["recovery_time"]["value"] == 1800.0
    # Roll 1.2 out with the revision: 5 hours after the merge.
    assert live.cli("deploy", "create", "neutron", "--environment", "prod", "--revision",
                    revision, "--service-version", "1.2", "--started-at", at(4), "--finished-at",
                    at(5), "--result", "SUCCEEDED", token="write").rc == 0
    report = live.get("/v1/dora", {"since": at(-24), "until": at(48), "service": "neutron"})
    lead = {m["name"]: m for m in report["metrics"]}["lead_time"]
    assert (lead["value"], lead["count"], lead["tier"]) == (5 * 3600.0, 1, "ELITE")
    for fmt in ("json", "csv", "value"):
        result = live.cli("dora", "show", "--service", "neutron", *window, "-f", fmt)
        assert result.rc == 0, result
        x.check_list(result.out, fmt, DORA, report["metrics"], {})
    header, rows = x.parse_table(live.cli("dora", "show", "--service", "neutron",
                                          *window).out)
    assert header == DORA
    assert [r[1] for r in rows] == [_value(m) for m in report["metrics"]]
    assert rows[1][1] == "5h" and rows[1][4] == "ELITE"

    # Errors: one line, non-zero exit.
    result = live.proc("deploy", "set", "pipe-1", "--result", "FAILED", token="write")
    assert "cannot become FAILED (HTTP 409)" in one_error_line(result)
    result = live.proc("deploy", "create", "neutron")
    assert "needs an API token" in one_error_line(result)
    result = live.proc("deploy", "create", "neutron", "--id", "pipe-1", token="write")
    assert one_error_line(result) == "radar: A deployment with id 'pipe-1' already exists " \
                                     "(HTTP 409)"
    result = live.proc("deploy", "set", "pipe-1", token="write")
    assert "nothing to change" in one_error_line(result)
    result = live.proc("deploy", "create", "neutron", "--image", "nope", token="write")
    assert "<container>=<image>" in one_error_line(result, status=2)
    result = live.proc("deploy", "show", "nope")
    assert one_error_line(result) == "radar: Deployment 'nope' not found (HTTP 404)"
    result = live.proc("dora", "show", "--since", "2026-01-01", "--until", "2025-01-01")
    assert "until" in one_error_line(result)
