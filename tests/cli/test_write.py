"""Commands that change something, tokens, and the API's 4xx errors, live.

Write commands are checked by reading the API afterwards; every error is one
line on stderr with a non-zero exit status and no traceback. The error and
exit-status checks run the installed `radar` script in a subprocess.
"""

import json

import pytest

from tests.cli import expect as x

OPERATOR = ["id", "name", "email", "contact", "systems", "created_at"]
OPERATOR_KINDS = {"created_at": x.when}
A = ["--since", "2013-06-01", "--until", "2019-01-01"]


def one_error_line(result, status=1):
    assert result.rc == status, result
    lines = result.err.splitlines()
    assert len(lines) == 1, result
    assert "Traceback" not in result.err
    return lines[0]


def api_error(live, path, params=None):
    resp = live.http.get(live.url + path, params=params, timeout=30)
    assert resp.status_code >= 400
    return resp.status_code, resp.json()["faultstring"]


def test_operator_commands(live):
    created = live.cli("operator", "create", "Infra Team", "--email", "infra@example.org",
                       "--contact", "#openstack-infra", "--system", "Jenkins", "-f", "json",
                       token="write")
    assert created.rc == 0, created
    shown = json.loads(created.out)
    api = live.get("/v1/operators/%d" % shown["id"])
    assert shown == {c: api[c] for c in OPERATOR}
    assert api["systems"] == ["jenkins"]

    # The real script, the token from RADAR_TOKEN.
    other = live.proc("operator", "create", "Vendor Ops", "--system",
                      "mellanox external testing", "-f", "value", "-c", "id", token="write")
    assert other.rc == 0 and other.err == "", other
    vendor_id = int(other.out)

    operators = live.get_all("/v1/operators")
    assert [o["name"] for o in operators] == ["Infra Team", "Vendor Ops"]
    for fmt in ("table", "json", "yaml", "csv", "value"):
        result = live.cli("operator", "list", "-f", fmt)
        assert result.rc == 0, result
        x.check_list(result.out, fmt, OPERATOR, operators, OPERATOR_KINDS)
    result = live.cli("operator", "list", "--search", "vendor", "-f", "json")
    assert json.loads(result.out) == [{c: operators[1][c] for c in OPERATOR}]
    for fmt in ("table", "json", "yaml", "value", "shell"):
        result = live.cli("operator", "show", str(vendor_id), "-f", fmt)
        assert result.rc == 0, result
        x.check_one(result.out, fmt, OPERATOR, operators[1], OPERATOR_KINDS)

    # Links: add (canonical names, idempotent), remove.
    result = live.cli("operator", "add", "system", "Infra Team", "Mellanox External Testing",
                      "jenkins-bot", token="write")
    assert (result.rc, result.out, result.err) == (0, "", "")
    assert live.cli("operator", "add", "system", "Infra Team", "JENKINS-BOT",
                    token="write").rc == 0
    systems = live.get("/v1/operators/Infra%20Team")["systems"]
    assert sorted(systems) == ["jenkins", "jenkins-bot", "mellanox external testing"]
    assert live.cli("operator", "remove", "system", "Infra Team", "jenkins",
                    token="write").rc == 0
    assert sorted(live.get("/v1/operators/Infra%20Team")["systems"]) == [
        "jenkins-bot", "mellanox external testing"]
    result = live.proc("operator", "remove", "system", "Infra Team", "jenkins", token="write")
    assert one_error_line(result) == "radar: operator Infra Team does not run 'jenkins'"
    result = live.proc("operator", "add", "system", "Infra Team", "no such ci", token="write")
    assert one_error_line(result) == "radar: CI system 'no such ci' not found (HTTP 404)"

    # The operator shows up on its systems.
    system = json.loads(live.cli("system", "show", "jenkins-bot", "-f", "json").out)
    assert system["operators"] == ["Infra Team"]

    # set: only what is given; '' clears; --no-system unlinks everything.
    result = live.cli("operator", "set", "Infra Team", "--name", "Infra", "--email", "",
                      "--no-system", token="write")
    assert (result.rc, result.err) == (0, ""), result
    api = live.get("/v1/operators/Infra")
    assert (api["email"], api["contact"], api["systems"]) == (None, "#openstack-infra", [])
    result = live.cli("operator", "set", "Infra", "--system", "jenkins", "--system",
                      "plumgrid ci", token="write")
    assert result.rc == 0
    assert sorted(live.get("/v1/operators/Infra")["systems"]) == ["jenkins", "plumgrid ci"]
    result = live.proc("operator", "set", "Infra", token="write")
    assert one_error_line(result).startswith("radar: nothing to change")

    # A duplicate name: the server's 409 message.
    result = live.proc("operator", "create", "vendor ops", token="write")
    line = one_error_line(result)
    assert line.startswith("radar: ") and line.endswith("(HTTP 409)")

    # delete: several at once; an unknown one is reported and fails the command.
    result = live.proc("operator", "delete", "Infra", str(vendor_id), token="write")
    assert (result.rc, result.err) == (0, ""), result
    assert live.get_all("/v1/operators") == []
    result = live.proc("operator", "delete", "Infra", token="write")
    status, message = api_error(live, "/v1/operators/Infra")
    assert status == 404
    assert one_error_line(result) == "radar: %s (HTTP 404)" % message


def test_system_set(live):
    result = live.cli("system", "set", "Jenkins", "--display-name", "Jenkins CI",
                      "--project", "openstack/neutron", "--project", "openstack/nova",
                      "--recheck-pattern", r"^recheck( jenkins)?\b", "--no-reference",
                      "--disable", token="admin")
    assert (result.rc, result.out, result.err) == (0, "", ""), result
    api = live.get("/v1/systems/jenkins")
    assert api["settings"] == {"display_name": "Jenkins CI", "reference": False,
                               "enabled": False,
                               "projects": ["openstack/neutron", "openstack/nova"],
                               "recheck_pattern": r"^recheck( jenkins)?\b"}
    _, rows = x.parse_table(live.cli("system", "show", "jenkins").out)
    shown = {r[0]: r[1] for r in rows}
    assert shown["projects"] == "openstack/neutron, openstack/nova"
    assert shown["recheck_pattern"] == r"^recheck( jenkins)?\b"
    assert shown["enabled"] == "no" and shown["display_name"] == "Jenkins CI"
    listed = json.loads(live.cli("system", "list", "--disabled", "-f", "json").out)
    assert [s["name"] for s in listed] == ["jenkins"]

    result = live.proc("system", "set", "jenkins", "--derive-projects",
                       "--default-recheck-pattern", "--enable", "--reference",
                       "--display-name", "Jenkins", token="admin")
    assert (result.rc, result.err) == (0, ""), result
    assert live.get("/v1/systems/jenkins")["settings"] == {
        "display_name": "Jenkins", "reference": True, "enabled": True, "projects": None,
        "recheck_pattern": None}

    # The server checks the pattern; its message comes through.
    result = live.proc("system", "set", "jenkins", "--recheck-pattern", "(", token="admin")
    line = one_error_line(result)
    assert line.startswith("radar: Invalid value for argument 'recheck_pattern': not a valid "
                           "regular expression") and line.endswith("(HTTP 400)")
    result = live.proc("system", "set", "jenkins", token="admin")
    assert one_error_line(result).startswith("radar: nothing to change")


@pytest.mark.parametrize("argv", [
    ["operator", "create", "Nobody"],
    ["operator", "delete", "Nobody"],
    ["operator", "set", "Nobody", "--email", "x@example.org"],
    ["operator", "add", "system", "Nobody", "jenkins"],
    ["system", "set", "jenkins", "--enable"],
], ids=lambda a: "_".join(a[:2]))
def test_missing_token_says_so(live, argv):
    line = one_error_line(live.proc(*argv))
    assert line == ("radar: 'radar %s' needs an API token: pass --token or set RADAR_TOKEN "
                    "(an administrator creates one with 'radar-manage token create')"
                    % " ".join(argv[:3] if argv[1] in ("add", "remove") else argv[:2]))


def test_wrong_token_and_missing_scope(live):
    result = live.proc("--token", "radar_not-a-real-token", "operator", "create", "Nobody")
    assert one_error_line(result) == ("radar: the API refused the token: Invalid or revoked "
                                      "token. Check --token or RADAR_TOKEN.")
    # A write token may manage operators, not CI system settings (admin).
    result = live.proc("system", "set", "jenkins", "--enable", token="write")
    line = one_error_line(result)
    assert line.startswith("radar: the token is not allowed to do this: ")
    assert line.endswith("(HTTP 403)")
    assert live.tokens["write"] not in result.err + result.out


@pytest.mark.parametrize("argv,path,params", [
    (["system", "show", "no such ci"], "/v1/systems/no%20such%20ci", None),
    (["system", "list", "--sort", "bogus"], "/v1/systems", {"sort": "bogus"}),
    (["system", "series", "jenkins", *A], "/v1/systems/jenkins/series",
     {"since": A[1], "until": A[3]}),
    (["system", "list", "--since", "2014-05-02", "--until", "2014-05-01"], "/v1/systems",
     {"since": "2014-05-02", "until": "2014-05-01"}),
    (["change", "show", "1"], "/v1/changes/1", None),
    (["project", "show", "no/such"], "/v1/projects/no/such", None),
    (["system", "compare", "jenkins", "nothing"], "/v1/compare",
     {"systems": "jenkins,nothing"}),
    (["report", "list", "--system", "jenkins", "--since", "1969-12-01"], "/v1/reports",
     {"system": "jenkins", "since": "1969-12-01"}),
], ids=["404-system", "400-sort", "400-series-too-long", "400-window", "404-change",
        "404-project", "400-compare", "400-since"])
def test_server_messages_come_through(live, argv, path, params):
    status, message = api_error(live, path, params)
    result = live.proc(*argv)
    assert one_error_line(result) == "radar: %s (HTTP %d)" % (message, status)
    assert result.out == ""


def test_debug_shows_the_traceback(live):
    result = live.proc("--debug", "system", "show", "no such ci")
    assert result.rc == 1
    assert "Traceback" in result.err
    assert "ClientError: CI system 'no such ci' not found (HTTP 404)" in result.err
