"""Helpers for daemon tests: config files and composed stream-events traffic."""

import json


def write_conf(tmp_path, db_url, extra="", name="radar.conf"):
    path = tmp_path / name
    path.write_text("[DEFAULT]\nstate_path = %s\n[database]\nconnection = %s\n%s\n"
                    % (tmp_path / "state", db_url, extra))
    return str(path)


def _account(name):
    return {"name": name, "username": name.lower().replace(" ", "-"),
            "email": "%s@example.org" % name.lower().replace(" ", ".")}


def stream_events(changes, start=1_700_000_000, systems=("Zuul", "Cisco CI"),
                  fail_every=5):
    """Yield stream-events dicts: an upload, then one report per CI, per change.

    Deterministic: change n's report from system i fails when
    (n + i) % fail_every == 0; every 7th change gets a human recheck and a
    second report from the first system.
    """
    owner = _account("Ana Souza")
    t = start
    for n in range(1, changes + 1):
        number = 1000 + n
        change = {"project": "openstack/p%d" % (n % 3), "branch": "master",
                  "id": "I%040x" % number, "number": number,
                  "subject": "change %d" % number, "owner": owner,
                  "url": "https://review.example.org/%d" % number, "status": "NEW"}
        ps = {"number": 1, "revision": "%040x" % (number * 7), "ref":
              "refs/changes/%02d/%d/1" % (number % 100, number),
              "uploader": owner, "createdOn": t}
        yield {"type": "patchset-created", "change": change, "patchSet": ps,
               "uploader": owner, "eventCreatedOn": t}
        for i, system in enumerate(systems):
            t += 60
            ok = (n + i) % fail_every != 0
            vote = "1" if ok else "-1"
            word = "SUCCESS" if ok else "FAILURE"
            text = ("Patch Set 1: Verified%s\n\nBuild %s.\n\n"
                    "- unit https://ci.example.org/%d/%d/unit : SUCCESS in 1m 02s\n"
                    "- tempest https://ci.example.org/%d/%d/tempest : %s in 30m 10s\n"
                    % ("+1" if ok else "-1", "succeeded" if ok else "failed",
                       number, i, number, i, word))
            yield {"type": "comment-added", "change": change, "patchSet": ps,
                   "author": _account(system), "comment": text,
                   "approvals": [{"type": "Verified", "description": "Verified",
                                  "value": vote, "oldValue": "0"}],
                   "eventCreatedOn": t}
        if n % 7 == 0:
            t += 30
            yield {"type": "comment-added", "change": change, "patchSet": ps,
                   "author": owner, "comment": "Patch Set 1:\n\nrecheck",
                   "approvals": [], "eventCreatedOn": t}
            t += 90
            yield {"type": "comment-added", "change": change, "patchSet": ps,
                   "author": _account(systems[0]),
                   "comment": "Patch Set 1: Verified+1\n\nBuild succeeded.\n\n"
                              "- unit https://ci.example.org/%d/r/unit : SUCCESS in 58s\n"
                              % number,
                   "approvals": [{"type": "Verified", "description": "Verified",
                                  "value": "1", "oldValue": "-1"}],
                   "eventCreatedOn": t}
        t += 600


def write_stream(path, changes, **kwargs):
    with open(path, "w") as fh:
        for event in stream_events(changes, **kwargs):
            fh.write(json.dumps(event) + "\n")
    return path
