"""Tokens (radar-manage) and the writes they allow: operators, system settings."""

import sqlalchemy as sa

from radar.api import auth
from radar.cmd import manage
from radar.db import models
from tests.functional.api.conftest import basic_scenario
from tests.functional.api.test_basics import assert_envelope


def bearer(token):
    return {"Authorization": "Bearer %s" % token}


def test_reads_are_public_writes_need_a_token(app):
    assert app.get("/v1/operators").json == []
    resp = app.post_json("/v1/operators", {"name": "Ann"}, expect_errors=True)
    assert "token" in assert_envelope(resp, 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_tokens(app, make_token, caplog):
    good = make_token("write")
    for header in ("Bearer nope", "Bearer " + good[:-1], "Bearer " + good + "x",
                   "Basic dXNlcjpwYXNz", "Bearer", "Bearer " + "é" * 10,
                   "Bearer " + "a" * 5000, "bearer' OR 1=1 --"):
        resp = app.post_json("/v1/operators", {"name": "Ann"},
                             headers={"Authorization": header}, expect_errors=True)
        assert_envelope(resp, 401)
    resp = app.post_json("/v1/operators", {"name": "Ann"}, headers=bearer(good))
    assert resp.status_int == 201
    # Never logged.
    assert good not in caplog.text


def test_revoked_token(app, make_token, engine, api_conf):
    token = make_token("write", name="bot")
    assert app.post_json("/v1/operators", {"name": "A"}, headers=bearer(token)).status_int == 201
    with engine.begin() as conn:
        conn.execute(models.ApiToken.__table__.update().values(revoked_at=sa.func.now()))
    assert_envelope(app.post_json("/v1/operators", {"name": "B"}, headers=bearer(token),
                                  expect_errors=True), 401)


def test_tokens_are_stored_hashed(make_token, engine):
    token = make_token("admin")
    with engine.connect() as conn:
        rows = conn.execute(sa.select(models.ApiToken.__table__)).mappings().all()
    assert len(rows) == 1
    assert rows[0]["token_hash"] == auth.hash_token(token)
    assert token not in str(dict(rows[0]))


def test_radar_manage_token_lifecycle(app, api_conf, capsys, tmp_path, db_url):
    conf_file = tmp_path / "radar.conf"
    conf_file.write_text("[database]\nconnection = %s\n" % db_url)
    args = ["--config-file", str(conf_file), "token"]
    assert manage.main(args + ["create", "--name", "deployer", "--scope", "admin"]) == 0
    out = capsys.readouterr().out
    token = [line.split(": ", 1)[1] for line in out.splitlines()
             if line.startswith("token: ")][0]
    assert manage.main(args + ["list"]) == 0
    listing = capsys.readouterr().out
    assert "deployer" in listing and "admin" in listing and token not in listing
    resp = app.post_json("/v1/operators", {"name": "Ops"}, headers=bearer(token))
    assert resp.status_int == 201
    assert manage.main(args + ["revoke", "deployer"]) == 0
    assert manage.main(args + ["revoke", "deployer"]) == 1
    assert_envelope(app.post_json("/v1/operators", {"name": "Ops2"}, headers=bearer(token),
                                  expect_errors=True), 401)


def test_operator_crud_and_links(app, make_token, api_conf, engine):
    basic_scenario(api_conf, engine)
    h = bearer(make_token("write"))
    resp = app.post_json("/v1/operators", {"name": "Acme Ops", "email": "ops@acme.example",
                                           "systems": ["acme ci"]}, headers=h)
    assert resp.status_int == 201
    op = resp.json
    assert op["systems"] == ["acme ci"]
    assert resp.headers["Location"].endswith("/v1/operators/%d" % op["id"])
    assert app.get("/v1/operators/%d" % op["id"]).json == op
    assert app.get("/v1/operators/Acme Ops").json["id"] == op["id"]
    assert app.get("/v1/operators/ACME OPS").json["id"] == op["id"]
    # Duplicate name (case-insensitive) -> 409.
    assert_envelope(app.post_json("/v1/operators", {"name": "acme ops"}, headers=h,
                                  expect_errors=True), 409)
    # Unknown system -> 400 naming the attribute.
    msg = assert_envelope(app.post_json("/v1/operators", {"name": "X", "systems": ["nope"]},
                                        headers=h, expect_errors=True), 400)
    assert "systems" in msg
    # Linked operators show on the system.
    detail = app.get("/v1/systems/acme ci").json
    assert [o["name"] for o in detail["operators"]] == ["Acme Ops"]
    resp = app.put_json("/v1/operators/%d" % op["id"], {"contact": "#acme on IRC",
                                                        "systems": ["acme ci", "zuul"]},
                        headers=h)
    assert resp.json["contact"] == "#acme on IRC"
    assert resp.json["systems"] == ["acme ci", "zuul"]
    assert resp.json["email"] == "ops@acme.example"
    listing = app.get("/v1/operators")
    assert listing.headers["X-Total-Count"] == "1"
    resp = app.delete("/v1/operators/%d" % op["id"], headers=h)
    assert resp.status_int == 204 and resp.body == b""
    assert_envelope(app.get("/v1/operators/%d" % op["id"], expect_errors=True), 404)
    assert app.get("/v1/systems/acme ci").json["operators"] == []


def test_operator_bad_bodies(app, make_token):
    h = bearer(make_token("write"))
    cases = [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"name": "x" * 300}, "name"),
        ({"name": "ok", "unknown": 1}, "unknown"),
        ({"name": "ok", "systems": "zuul"}, "systems"),
        ({"name": 12}, "name"),
        ({"name": "42"}, "name"),
    ]
    for body, word in cases:
        msg = assert_envelope(app.post_json("/v1/operators", body, headers=h,
                                            expect_errors=True), 400)
        assert word in msg, (body, msg)
    for raw, ctype, code in [(b"[1, 2]", "application/json", 400),
                             (b"{not json", "application/json", 400),
                             (b"\xff\xfe{}", "application/json", 400),
                             (b'{"name": "x"}', "text/plain", 415),
                             (b"", "application/json", 400),
                             (b"[" * 100000 + b"]" * 100000, "application/json", 400),
                             (b'"just a string"', "application/json", 400)]:
        resp = app.post("/v1/operators", raw, headers=dict(h, **{"Content-Type": ctype}),
                        expect_errors=True)
        assert_envelope(resp, code)


def test_system_settings_need_admin(app, make_token, api_conf, engine):
    basic_scenario(api_conf, engine)
    writer = bearer(make_token("write", name="w"))
    admin = bearer(make_token("admin", name="a"))
    body = {"display_name": "Acme Storage CI", "projects": ["openstack/cinder"],
            "recheck_pattern": "(?i)^recheck acme$", "reference": False}
    resp = app.put_json("/v1/systems/acme ci", body, headers=writer, expect_errors=True)
    assert "admin" in assert_envelope(resp, 403)
    assert_envelope(app.put_json("/v1/systems/acme ci", body, expect_errors=True), 401)
    resp = app.put_json("/v1/systems/acme ci", body, headers=admin)
    settings = resp.json["settings"]
    assert settings["display_name"] == "Acme Storage CI"
    assert settings["projects"] == ["openstack/cinder"]
    assert settings["recheck_pattern"] == "(?i)^recheck acme$"
    assert resp.json["display_name"] == "Acme Storage CI"
    # Only the attributes given change; null projects = derived again.
    resp = app.put_json("/v1/systems/acme ci", {"projects": None, "enabled": False},
                        headers=admin)
    assert resp.json["settings"]["projects"] is None
    assert resp.json["settings"]["enabled"] is False
    assert resp.json["settings"]["display_name"] == "Acme Storage CI"
    for bad, word in [({"recheck_pattern": "(unclosed"}, "recheck_pattern"),
                      ({"display_name": ""}, "display_name"),
                      ({"reference": None}, "reference"),
                      ({"projects": [""]}, "projects"),
                      ({"color": "red"}, "color")]:
        msg = assert_envelope(app.put_json("/v1/systems/acme ci", bad, headers=admin,
                                           expect_errors=True), 400)
        assert word in msg, msg
    assert_envelope(app.put_json("/v1/systems/nope", body, headers=admin,
                                 expect_errors=True), 404)


def test_lone_surrogates_and_4_byte_characters(app, make_token):
    h = bearer(make_token("write"))
    resp = app.post("/v1/operators", b'{"name": "bad \\ud800 name"}',
                    headers=dict(h, **{"Content-Type": "application/json"}),
                    expect_errors=True)
    assert "Unicode" in assert_envelope(resp, 400)
    resp = app.post_json("/v1/operators", {"name": "CI team \U0001f916", "contact": "é"},
                         headers=h)
    assert resp.json["name"] == "CI team \U0001f916"
    assert app.get("/v1/operators/%d" % resp.json["id"]).json["contact"] == "é"


def test_found_by_fuzzing(app, make_token):
    # '²'.isdigit() is True but int('²') fails: not an id, just a name.
    assert_envelope(app.get("/v1/operators/%C2%B2", expect_errors=True), 404)
    assert_envelope(app.get("/v1/systems/%D9%A3", expect_errors=True), 404)
    # Bodies above WebOb's spooling threshold leave no temporary file open.
    h = bearer(make_token("write"))
    big = {"name": "big", "contact": "x" * 1000, "padding": ["y" * 1000] * 200}
    assert_envelope(app.post_json("/v1/operators", big, headers=h, expect_errors=True), 400)
    resp = app.get("/v1/operators", params={"q": "a"}, headers={"Content-Length": "0"})
    assert resp.status_int == 200
