"""radar subscription ...: against the real radar-api over HTTP, with a real
webhook receiver on loopback and the daemon's sender delivering events."""

import json

import pytest

from radar import conf as radar_conf
from radar.db import engine as db_engine
from radar.db import events as db_events
from radar_daemon import delivery
from tests.cli.conftest import _make_token, serve
from tests.functional.api.test_server import free_port
from tests.functional.receivers import HttpReceiver, verify


@pytest.fixture(scope="module")
def live(db_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("subs")
    port = free_port()
    conf_file = tmp / "radar.conf"
    conf_file.write_text(
        "[DEFAULT]\nstate_path = %s\n\n[database]\nconnection = %s\n\n"
        "[api]\nhost = 127.0.0.1\nport = %d\nworkers = 1\naccess_log = true\n"
        % (tmp / "state", db_url, port))
    tokens = {"admin": _make_token(db_url, ["admin"], "cli-admin"),
              "write": _make_token(db_url, ["write"], "cli-write")}
    with serve(conf_file, port, tokens, tmp) as server:
        yield server


def test_subscription_commands(live, db_url):
    hook = HttpReceiver((200,))
    try:
        made = live.cli("subscription", "create", "zuul watch", "--webhook", hook.url,
                        "--type", "system.health_changed", "--system", "zuul", "-f", "json",
                        token="write")
        assert made.rc == 0, made
        sub = json.loads(made.out)
        secret = sub["secret"]
        assert len(secret) == 64 and sub["filters"]["systems"] == ["zuul"]
        ident = str(sub["id"])

        shown = live.cli("subscription", "show", ident, "-f", "json", token="write")
        assert shown.rc == 0, shown
        assert "secret" not in json.loads(shown.out) and secret not in shown.out
        table = live.cli("subscription", "list", token="write")
        assert table.rc == 0 and "zuul watch" in table.out
        assert "types=system.health_changed; systems=zuul" in table.out
        assert secret not in table.out

        tested = live.cli("subscription", "test", ident, "-f", "json", token="write")
        assert tested.rc == 0, tested
        assert json.loads(tested.out)["delivered"] is True
        assert verify(secret, hook.requests[-1])

        # An event, delivered by the daemon's sender, shows in the log.
        engine = db_engine.create_engine(url=db_url)
        try:
            with engine.begin() as conn:
                db_events.event_create(conn, "cli-1", {"type": "system.health_changed",
                                                       "system": "zuul", "title": "Zuul: RED"})
            conf = radar_conf.load(["--config-file", str(live.conf_file)])
            assert delivery.DeliverySender(conf, engine).run_once()["delivered"] == 1
        finally:
            engine.dispose()
        log = live.cli("subscription", "deliveries", ident, "-f", "json", token="write")
        assert log.rc == 0, log
        rows = json.loads(log.out)
        assert [(r["event_type"], r["status"], r["last_status_code"]) for r in rows] == [
            ("system.health_changed", "DELIVERED", 200)]
        resumed = live.cli("subscription", "resume", ident, "-f", "value", "-c", "paused",
                           token="write")
        assert resumed.rc == 0 and resumed.out.strip() == "false", resumed

        # The radar server itself is refused; so is a test that fails; one line each.
        own = live.cli("subscription", "create", "loop", "--webhook", live.url + "/v1",
                       token="write")
        assert own.rc == 1 and "points at this radar server" in own.err
        assert len(own.err.splitlines()) == 1
        hook.answers = [503]
        failed = live.cli("subscription", "test", ident, token="write")
        assert failed.rc == 1 and "not delivered: HTTP 503" in failed.err
        no_token = live.cli("subscription", "list")
        assert no_token.rc == 1 and "needs an API token" in no_token.err
        # Another token does not see it; an admin does.
        other = live.cli("subscription", "show", ident, token="admin")
        assert other.rc == 0
        assert live.cli("subscription", "delete", ident, token="write").rc == 0
        gone = live.cli("subscription", "show", ident, token="write")
        assert gone.rc == 1 and "HTTP 404" in gone.err
        # The secret is not in the API's log either.
        assert secret not in (live.tmp / "radar-api.log").read_text()
    finally:
        hook.close()
