"""/v1/subscriptions: ownership, validation, the secret shown once, test sends,
the delivery log; responses checked against the OpenAPI document."""

import json
import logging

import pytest

from radar.db import events as db_events
from radar.db import subscriptions as db_subs
from radar_daemon import delivery
from tests.functional.api.test_basics import assert_envelope
from tests.functional.api.test_openapi import check
from tests.functional.receivers import HttpReceiver, verify

API_PORT = 8080  # [api] port's default, the webtest app's "own" port


def bearer(token):
    return {"Authorization": "Bearer %s" % token}


@pytest.fixture
def hook():
    r = HttpReceiver((200,))
    yield r
    r.close()


@pytest.fixture
def tokens(make_token):
    return {"alice": make_token("write", name="alice"), "bob": make_token("write", name="bob"),
            "admin": make_token("admin", name="root")}


def create(app, token, body, status=201):
    resp = app.post_json("/v1/subscriptions", body, headers=bearer(token),
                         expect_errors=status != 201)
    assert resp.status_int == status, resp.text
    return resp


def test_lifecycle_ownership_and_the_secret_shown_once(app, api_conf, tokens, hook, engine,
                                                       caplog):
    caplog.set_level(logging.DEBUG)
    doc = app.get("/v1/openapi.json").json
    alice, bob, admin = tokens["alice"], tokens["bob"], tokens["admin"]
    resp = create(app, alice, {"name": "zuul health", "kind": "webhook", "target": hook.url,
                               "filters": {"types": ["system.health_changed"],
                                           "systems": ["zuul", "zuul"]}})
    check(resp, doc, "/v1/subscriptions", "post")
    sub = resp.json
    secret = sub["secret"]
    assert len(secret) == 64 and int(secret, 16) >= 0
    assert resp.headers["Location"].endswith("/v1/subscriptions/%d" % sub["id"])
    assert sub["filters"] == {"types": ["system.health_changed"], "systems": ["zuul"],
                              "projects": [], "products": [], "services": []}
    assert (sub["kind"], sub["target"], sub["owner"], sub["paused"]) == (
        "webhook", hook.url, "alice", False)
    path = "/v1/subscriptions/%d" % sub["id"]

    # Never again: not in show, list, resume, test; stored for signing.
    shown = app.get(path, headers=bearer(alice))
    check(shown, doc, "/v1/subscriptions/{id}")
    assert "secret" not in shown.json
    with engine.connect() as conn:
        assert db_subs.subscription_get(conn, sub["id"])["secret"] == secret

    # Someone else's subscription does not exist for them; an admin sees all.
    assert_envelope(app.get(path, headers=bearer(bob), expect_errors=True), 404)
    assert_envelope(app.delete(path, headers=bearer(bob), expect_errors=True), 404)
    assert app.get("/v1/subscriptions", headers=bearer(bob)).json == []
    create(app, bob, {"name": "bob's", "kind": "email", "target": "bob@example.org"})
    listed = app.get("/v1/subscriptions", headers=bearer(admin))
    check(listed, doc, "/v1/subscriptions")
    assert [s["name"] for s in listed.json] == ["bob's", "zuul health"]
    assert listed.headers["X-Total-Count"] == "2"
    assert [s["name"] for s in app.get("/v1/subscriptions",
                                       headers=bearer(alice)).json] == ["zuul health"]
    assert app.get(path, headers=bearer(admin)).json["owner"] == "alice"
    # Reads need a token too (subscriptions are private).
    assert_envelope(app.get("/v1/subscriptions", expect_errors=True), 401)

    # The test send: a signed sample event; not queued.
    tested = app.post_json(path + "/test", {}, headers=bearer(alice))
    check(tested, doc, "/v1/subscriptions/{id}/test", "post")
    assert tested.json["delivered"] is True and tested.json["status_code"] == 200
    request = hook.requests[-1]
    payload = json.loads(request["body"])
    assert payload["event"]["type"] == "radar.test" and payload["version"] == 1
    assert payload["delivery"] is None and payload["event"]["id"] == 0
    assert request["headers"]["X-Radar-Delivery"] == tested.json["delivery"]
    assert verify(secret, request)

    # Events reach it through the sender; the delivery log shows them.
    with engine.begin() as conn:
        db_events.event_create(conn, "e1", {"type": "system.health_changed",
                                            "system": "zuul", "title": "Zuul is RED"})
        db_events.event_create(conn, "e2", {"type": "system.silent", "system": "zuul",
                                            "title": "Zuul is silent"})
    assert delivery.DeliverySender(api_conf, engine).run_once()["delivered"] == 1
    log = app.get(path + "/deliveries", headers=bearer(alice))
    check(log, doc, "/v1/subscriptions/{id}/deliveries")
    assert [(d["event_type"], d["status"], d["last_status_code"]) for d in log.json] == [
        ("system.health_changed", "DELIVERED", 200)]
    assert [a["status_code"] for a in log.json[0]["history"]] == [200]
    assert app.get(path + "/deliveries", params={"status": "failed"},
                   headers=bearer(alice)).json == []
    counts = app.get(path, headers=bearer(alice)).json
    assert (counts["delivered"], counts["pending"], counts["failed"]) == (1, 0, 0)

    resumed = app.post_json(path + "/resume", {}, headers=bearer(alice))
    check(resumed, doc, "/v1/subscriptions/{id}/resume", "post")
    assert resumed.json["paused"] is False and "secret" not in resumed.json

    deleted = app.delete(path, headers=bearer(alice))
    check(deleted, doc, "/v1/subscriptions/{id}", "delete")
    assert_envelope(app.get(path, headers=bearer(alice), expect_errors=True), 404)
    assert_envelope(app.get(path + "/deliveries", headers=bearer(alice),
                            expect_errors=True), 404)
    assert secret not in caplog.text


def test_test_send_reports_the_receivers_failure(app, tokens):
    failing = HttpReceiver((500,))
    try:
        sub = create(app, tokens["alice"], {"name": "f", "kind": "slack",
                                            "target": failing.url + "/T0/B0/SLACKSECRET"}).json
        assert "secret" not in sub
        assert "SLACKSECRET" not in json.dumps(sub)
        assert sub["target"] == "http://127.0.0.1:%d/..." % failing.server.server_address[1]
        result = app.post_json("/v1/subscriptions/%d/test" % sub["id"], {},
                               headers=bearer(tokens["alice"])).json
        assert (result["delivered"], result["status_code"]) == (False, 500)
        assert json.loads(failing.requests[0]["body"])["text"].startswith("[INFO] Test")
        listed = app.get("/v1/subscriptions", headers=bearer(tokens["alice"]))
        assert "SLACKSECRET" not in listed.text
    finally:
        failing.close()


SECRET = "given-secret-0123456789"
BAD = [
    ({"kind": "webhook", "target": "http://x.example/"}, "name"),
    ({"name": "n", "target": "http://x.example/"}, "kind"),
    ({"name": "n", "kind": "sms", "target": "+4912345"}, "kind"),
    ({"name": "n", "kind": "webhook"}, "target"),
    ({"name": "n", "kind": "webhook", "target": "ftp://x.example/f"}, "target"),
    ({"name": "n", "kind": "webhook", "target": "file:///etc/passwd"}, "target"),
    ({"name": "n", "kind": "slack", "target": "javascript:alert(1)"}, "target"),
    ({"name": "n", "kind": "webhook", "target": "gopher://x.example:70/"}, "target"),
    ({"name": "n", "kind": "webhook", "target": "not a url"}, "target"),
    ({"name": "n", "kind": "webhook", "target": "http://"}, "target"),
    ({"name": "n", "kind": "webhook", "target": "http://x.example:99999/"}, "target"),
    ({"name": "n", "kind": "webhook", "target": "http://bad_host!/"}, "target"),
    ({"name": "n", "kind": "webhook", "target": "https://user:pw@x.example/"}, "target"),
    ({"name": "n", "kind": "webhook", "target": "http://x.example/\r\nHost: y"}, "target"),
    ({"name": "n", "kind": "webhook", "target": "http://x.example/" + "a" * 1100}, "target"),
    # The radar server itself: its own port on loopback, any spelling.
    ({"name": "n", "kind": "webhook", "target": "http://127.0.0.1:%d/v1" % API_PORT}, "target"),
    ({"name": "n", "kind": "webhook", "target": "http://localhost:%d/" % API_PORT}, "target"),
    ({"name": "n", "kind": "webhook", "target": "http://LOCALHOST.:%d/" % API_PORT}, "target"),
    ({"name": "n", "kind": "webhook", "target": "http://[::1]:%d/" % API_PORT}, "target"),
    ({"name": "n", "kind": "webhook", "target": "http://2130706433:%d/" % API_PORT}, "target"),
    ({"name": "n", "kind": "webhook", "target": "http://127.1:%d/" % API_PORT}, "target"),
    ({"name": "n", "kind": "webhook", "target": "http://0.0.0.0:%d/" % API_PORT}, "target"),
    ({"name": "n", "kind": "webhook", "target": "http://[::ffff:127.0.0.1]:%d/" % API_PORT},
     "target"),
    # ... and the Host the request came in with (webtest: localhost:80).
    ({"name": "n", "kind": "webhook", "target": "http://localhost/hook"}, "target"),
    # ... and [notifications] public_url.
    ({"name": "n", "kind": "webhook", "target": "https://radar.example.org/x"}, "target"),
    ({"name": "n", "kind": "email", "target": "not-an-address"}, "target"),
    ({"name": "n", "kind": "email", "target": "a@b.example\r\nBcc: c@d.example"}, "target"),
    ({"name": "n", "kind": "email", "target": "http://x.example/"}, "target"),
    ({"name": "n", "kind": "webhook", "target": "http://x.example/", "secret": SECRET + "\n"},
     "secret"),
    ({"name": "n", "kind": "webhook", "target": ["http://x.example/"]}, "target"),
    ({"name": "n", "kind": "webhook", "target": "http://x.example/",
      "filters": {"types": ["system.exploded"]}}, "filters.types"),
    ({"name": "n", "kind": "webhook", "target": "http://x.example/",
      "filters": {"systems": [""]}}, "filters.systems"),
    ({"name": "n", "kind": "webhook", "target": "http://x.example/",
      "filters": {"systems": ["s%d" % i for i in range(51)]}}, "filters.systems"),
    ({"name": "n", "kind": "webhook", "target": "http://x.example/",
      "filters": {"colours": ["red"]}}, "colours"),
    ({"name": "n", "kind": "webhook", "target": "http://x.example/", "secret": "short"},
     "secret"),
    ({"name": "n", "kind": "webhook", "target": "http://x.example/",
      "secret": "with spaces in it 0123456789"}, "secret"),
    ({"name": "n", "kind": "slack", "target": "http://x.example/", "secret": SECRET},
     "secret"),
    ({"name": "n" * 300, "kind": "webhook", "target": "http://x.example/"}, "name"),
]


@pytest.fixture
def public_app(make_conf, db_url, engine):
    import webtest

    from radar.api import app as api_app
    conf = make_conf(**{"database.connection": db_url, "api.access_log": False,
                        "notifications.public_url": "https://radar.example.org"})
    return webtest.TestApp(api_app.setup_app(conf, engine=engine))


def test_bad_input_is_refused(public_app, tokens, caplog):
    caplog.set_level(logging.DEBUG)
    h = bearer(tokens["alice"])
    for body, argument in BAD:
        resp = public_app.post_json("/v1/subscriptions", body, headers=h, expect_errors=True)
        message = assert_envelope(resp, 400)
        assert argument in message, (body, message)
        if "secret" in body:
            assert body["secret"] not in message
    assert SECRET not in caplog.text
    for body in ([], "text", {"name": "n", "kind": "webhook", "target": 5},
                 {"name": "n", "kind": "webhook", "target": "http://x.example/",
                  "filters": ["types"]}):
        resp = public_app.post_json("/v1/subscriptions", body, headers=h, expect_errors=True)
        assert resp.status_int in (400, 415), body
    for path in ("/v1/subscriptions/abc", "/v1/subscriptions/0",
                 "/v1/subscriptions/99999999999"):
        assert_envelope(public_app.get(path, headers=h, expect_errors=True), 400)
    assert_envelope(public_app.get("/v1/subscriptions/12", headers=h, expect_errors=True), 404)
    assert public_app.get("/v1/subscriptions", headers=h).json == []
    # Not the radar server: another port on loopback, a given secret, an address.
    ok = [{"name": "n", "kind": "webhook", "target": "http://127.0.0.1:%d/" % (API_PORT + 1),
           "secret": SECRET},
          {"name": "n", "kind": "webhook", "target": "https://radar.example.org:8443/"},
          {"name": "n", "kind": "email", "target": "o'neil+ci@mail.example.org"}]
    for body in ok:
        resp = create(public_app, tokens["alice"], body)
        assert ("secret" in resp.json) == (body["kind"] == "webhook")
        if "secret" in body:
            assert resp.json["secret"] == SECRET
    assert SECRET not in caplog.text
    writes = bearer(tokens["alice"])
    for path in ("/v1/subscriptions/1/test", "/v1/subscriptions/1/resume"):
        assert_envelope(public_app.get(path, headers=writes, expect_errors=True), 405)
