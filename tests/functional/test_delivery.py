"""The delivery sender against real receivers on loopback, on SQLite and MariaDB.

HTTP receivers (200; 500 then 200; one that hangs) and an aiosmtpd SMTP
server; events are stored with radar.db.events (as the detector does).
Time is injected: retries and claim expiry need no sleeping.
"""

import datetime as dt
import json
import logging
import random
import threading
import time

import pytest
import sqlalchemy as sa

from radar import conf as radar_conf
from radar.db import events as db_events
from radar.db import models
from radar.db import subscriptions as db_subs
from radar_daemon import delivery, service
from tests.functional import daemon_helpers
from tests.functional.receivers import HttpReceiver, SmtpReceiver, verify

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SECRET = "s3cret-" + "x" * 20


class Clock:
    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def receivers():
    made = []

    def factory(*answers):
        r = HttpReceiver(answers or (200,))
        made.append(r)
        return r
    yield factory
    for r in made:
        r.close()


@pytest.fixture
def conf(make_conf, db_url):
    return make_conf(**{"database.connection": db_url, "notifications.http_timeout": 2.0,
                        "notifications.retry_backoff_base": 30,
                        "notifications.retry_backoff_max": 600,
                        "notifications.pause_after_failures": 3,
                        "notifications.public_url": "https://radar.example.org/"})


def add_event(engine, key, type_, now=T0, **values):
    with engine.begin() as conn:
        return db_events.event_create(conn, key, dict(
            type=type_, title="%s: %s" % (type_, key), occurred_at=now,
            url="#/system/%s" % values.get("system", "x"), **values), now=now)


def subscribe(engine, name, kind, target, filters=None, secret=None, now=T0):
    with engine.begin() as conn:
        return db_subs.subscription_create(conn, name, kind, target, filters=filters,
                                           secret=secret, now=now)["id"]


def sender(conf, engine, clock, holder="a"):
    return delivery.DeliverySender(conf, engine, holder=holder, clock=clock,
                                   rng=random.Random(7))


def deliveries(engine, sub_id):
    t = models.Delivery.__table__
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(t).where(t.c.subscription_id == sub_id)
                                              .order_by(t.c.id)).mappings()]


def test_right_events_reach_right_subscriptions_once(conf, engine, receivers):
    clock = Clock()
    before = add_event(engine, "old", "system.silent", system="zuul")
    zuul_hook, release_slack, everything = receivers(), receivers(), receivers()
    a = subscribe(engine, "zuul health", "webhook", zuul_hook.url, secret=SECRET,
                  filters={"types": ["system.health_changed"], "systems": ["Zuul"]})
    b = subscribe(engine, "4.19 releases", "slack", release_slack.url,
                  filters={"products": ["4.19"]})
    c = subscribe(engine, "all", "webhook", everything.url, secret="another-secret-12345")
    e1 = add_event(engine, "e1", "system.health_changed", system="zuul", severity="warning")
    add_event(engine, "e2", "system.health_changed", system="acme ci")
    e3 = add_event(engine, "e3", "release.red", product="4.19", release="4.19.2")
    add_event(engine, "e4", "release.red", product="4.18", release="4.18.9")

    first = sender(conf, engine, clock).run_once()
    assert first["queued"] == 1 + 1 + 4 and first["delivered"] == 6
    # Again, and from a second sender: nothing more.
    assert sender(conf, engine, clock).run_once()["sent"] == 0
    assert sender(conf, engine, clock, holder="b").run_once()["sent"] == 0

    assert [p["event"]["id"] for p in zuul_hook.payloads()] == [e1]
    assert len(release_slack.requests) == 1
    assert sorted(p["event"]["id"] for p in everything.payloads()) == sorted(
        [e1, e3, e1 + 1, e3 + 1])
    assert before not in [p["event"]["id"] for p in everything.payloads()]

    # The versioned payload, the headers, the signature over the exact body.
    req = zuul_hook.requests[0]
    payload = json.loads(req["body"])
    assert payload["version"] == 1
    assert payload["subscription"] == {"id": a, "name": "zuul health"}
    assert payload["delivery"] == deliveries(engine, a)[0]["id"]
    assert req["headers"]["X-Radar-Delivery"] == str(payload["delivery"])
    assert req["headers"]["X-Radar-Event"] == "system.health_changed"
    assert req["headers"]["Content-Type"] == "application/json"
    event = payload["event"]
    assert set(event) == set(db_events.PUBLIC_FIELDS)
    assert (event["type"], event["system"], event["severity"]) == (
        "system.health_changed", "zuul", "warning")
    assert event["url"] == "https://radar.example.org/#/system/zuul"
    assert dt.datetime.fromisoformat(event["occurred_at"]) == T0
    assert verify(SECRET, req)
    assert not verify("wrong-secret-0000000", req)
    tampered = dict(req, body=req["body"].replace(b"warning", b"critical"))
    assert not verify(SECRET, tampered)
    assert all(verify("another-secret-12345", r) for r in everything.requests)
    ids = [r["headers"]["X-Radar-Delivery"] for r in everything.requests]
    assert len(set(ids)) == 4

    # Slack: text and blocks, no signature.
    slack = json.loads(release_slack.requests[0]["body"])
    assert "release.red: e3" in slack["text"] and slack["blocks"][0]["type"] == "section"
    assert "X-Radar-Signature" not in release_slack.requests[0]["headers"]

    rows = deliveries(engine, c)
    assert [r["status"] for r in rows] == ["DELIVERED"] * 4
    assert all(r["last_status_code"] == 200 and r["attempts"] == 1 for r in rows)
    assert deliveries(engine, b)[0]["delivered_at"] == T0


def test_retries_with_backoff_then_delivered(conf, engine, receivers):
    clock = Clock()
    flaky = receivers(500, 200)
    sub = subscribe(engine, "flaky", "webhook", flaky.url, secret=SECRET)
    add_event(engine, "f1", "deployment.failed", service="api")
    s = sender(conf, engine, clock)
    assert s.run_once() == {"queued": 1, "sent": 1, "delivered": 0, "retrying": 1, "failed": 0}
    row = deliveries(engine, sub)[0]
    assert (row["status"], row["attempts"], row["last_status_code"]) == ("PENDING", 1, 500)
    wait = (row["next_attempt_at"] - T0).total_seconds()
    assert 15 <= wait <= 30  # base 30 s, jitter in its upper half
    clock.advance(wait - 1)
    assert s.run_once()["sent"] == 0  # not due yet
    clock.advance(2)
    assert s.run_once()["delivered"] == 1
    assert len(flaky.requests) == 2
    # The same delivery, the same bytes: receivers dedupe on X-Radar-Delivery.
    assert flaky.requests[0]["body"] == flaky.requests[1]["body"]
    assert len({r["headers"]["X-Radar-Delivery"] for r in flaky.requests}) == 1
    with engine.connect() as conn:
        attempts = db_subs.delivery_attempts(conn, [row["id"]])[row["id"]]
        subrow = db_subs.subscription_get(conn, sub)
    assert [a["status_code"] for a in attempts] == [500, 200]
    assert subrow["consecutive_failures"] == 0 and subrow["paused_at"] is None


def test_backoff_doubles_up_to_the_cap():
    rng = random.Random(1)
    for attempts, full in ((1, 30), (2, 60), (3, 120), (6, 600), (20, 600)):
        for _ in range(20):
            assert full / 2 <= delivery.backoff(attempts, 30, 600, rng) <= full


def test_pauses_after_failures_and_resumes(conf, engine, receivers):
    clock = Clock()
    dead = receivers(503)
    sub = subscribe(engine, "dead", "webhook", dead.url, secret=SECRET)
    add_event(engine, "d1", "system.silent", system="zuul")
    add_event(engine, "d2", "system.silent", system="acme")
    s = sender(conf, engine, clock)
    for _ in range(3):
        stats = s.run_once()
        # One request per cycle: the second delivery waits with the first.
        assert stats["sent"] == 1, stats
        clock.advance(10 ** 4)
    assert len(dead.requests) == 3
    with engine.connect() as conn:
        row = db_subs.subscription_get(conn, sub)
    assert row["paused_at"] is not None
    assert row["paused_reason"] == ("paused after 3 failed attempts in a row; the last: "
                                    "HTTP 503")
    assert s.run_once()["sent"] == 0  # paused: nothing goes out
    dead.answers = [200]
    with engine.begin() as conn:
        db_subs.subscription_resume(conn, sub, now=clock())
    assert s.run_once()["delivered"] == 2
    assert [r["status"] for r in deliveries(engine, sub)] == ["DELIVERED", "DELIVERED"]


def test_gives_up_after_max_retry_age(make_conf, db_url, engine, receivers):
    conf = make_conf(**{"database.connection": db_url, "notifications.max_retry_age": 100,
                        "notifications.retry_backoff_base": 40,
                        "notifications.pause_after_failures": 50})
    clock = Clock()
    dead = receivers(500)
    sub = subscribe(engine, "dead", "webhook", dead.url, secret=SECRET)
    add_event(engine, "g1", "release.shipped", product="4.19")
    s = sender(conf, engine, clock)
    statuses = []
    for _ in range(6):
        stats = s.run_once()
        statuses.append(stats)
        clock.advance(200)
        if stats["failed"]:
            break
    assert statuses[-1]["failed"] == 1
    row = deliveries(engine, sub)[0]
    assert row["status"] == "FAILED" and row["attempts"] == len(dead.requests) >= 2
    assert s.run_once()["sent"] == 0


def test_email_over_smtp(make_conf, db_url, engine):
    smtp = SmtpReceiver(refuse=["nobody@example.org"])
    try:
        conf = make_conf(**{"database.connection": db_url,
                            "notifications.smtp_host": "127.0.0.1",
                            "notifications.smtp_port": smtp.port,
                            "notifications.from_address": "radar@example.org",
                            "notifications.smtp_timeout": 5.0})
        clock = Clock()
        ok = subscribe(engine, "ops mail", "email", "ops@example.org",
                       filters={"services": ["api"]})
        refused = subscribe(engine, "bad mail", "email", "nobody@example.org")
        add_event(engine, "m1", "deployment.rolled_back", service="api",
                  environment="production", severity="critical")
        stats = sender(conf, engine, clock).run_once()
        assert stats["delivered"] == 1 and stats["retrying"] == 1
        assert len(smtp.messages) == 1
        got = smtp.messages[0]
        assert got["to"] == ["ops@example.org"] and got["from"] == "radar@example.org"
        msg = got["message"]
        assert msg["Subject"] == "deployment.rolled_back: m1"
        assert msg["X-Radar-Event"] == "deployment.rolled_back"
        assert msg["X-Radar-Delivery"] == str(deliveries(engine, ok)[0]["id"])
        body = msg.get_content()
        assert "Service:   api" in body and "Severity:  critical" in body
        bad = deliveries(engine, refused)[0]
        assert bad["status"] == "PENDING" and bad["last_status_code"] == 550
        assert "recipient refused" in bad["last_error"]
    finally:
        smtp.close()


def test_hanging_receiver_does_not_delay_collection(make_conf, db_url, engine, receivers,
                                                     tmp_path):
    hang = receivers("hang")
    log = daemon_helpers.write_stream(tmp_path / "s.log", 20)
    conf_file = daemon_helpers.write_conf(tmp_path, db_url, """
[gerrit]
sources = log
[gerrit:log]
type = files
paths = %s
[notifications]
http_timeout = 20
""" % log)
    conf = radar_conf.load(["--config-file", conf_file])
    subscribe(engine, "hangs", "webhook", hang.url, secret=SECRET)
    add_event(engine, "h1", "system.silent", system="zuul")
    stop = threading.Event()
    s = delivery.DeliverySender(conf, engine, holder="sender", stop_event=stop)
    thread = threading.Thread(target=s.run, args=(60,), daemon=True)
    thread.start()
    try:
        assert hang.wait_for(1), "the sender never reached the receiver"
        collector = service.Collector(conf, engine, holder="collector")
        started = time.monotonic()
        outcome = collector.run_once()
        elapsed = time.monotonic() - started
        # The collection finished while the receiver still held the request.
        assert hang.requests and not hang.released.is_set()
        assert thread.is_alive()
        assert outcome["log"].reports > 0
        assert elapsed < 10, "collection took %.1fs while a receiver hung" % elapsed
    finally:
        stop.set()
        hang.close()
        thread.join(timeout=25)


def test_restart_between_detection_and_delivery(conf, engine, receivers):
    """Stop after the event is stored, after it is queued, and with it claimed
    by a sender that died: each time it is delivered exactly once."""
    clock = Clock()
    hook = receivers()
    sub = subscribe(engine, "hook", "webhook", hook.url, secret=SECRET)
    e1 = add_event(engine, "r1", "release.task_failed", product="4.19")
    # 1. Detected, then the daemon stops: a new sender queues and sends it.
    assert sender(conf, engine, clock, holder="first").run_once()["delivered"] == 1
    # 2. Queued by one sender that then stops: the next one sends it.
    e2 = add_event(engine, "r2", "release.task_failed", product="4.19")
    assert sender(conf, engine, clock, holder="second").enqueue() == 1
    # 3. Claimed by a sender that dies before sending (its claim is committed).
    third = sender(conf, engine, clock, holder="third")
    with engine.begin() as conn:
        claimed = db_subs.delivery_claim(conn, "third", third.claim_ttl, 10, now=clock())
    assert [c["event"]["id"] for c in claimed] == [e2]
    restarted = sender(conf, engine, clock, holder="restarted")
    assert restarted.run_once()["sent"] == 0  # still claimed by the dead one
    clock.advance(third.claim_ttl + 1)
    assert restarted.run_once()["delivered"] == 1
    for _ in range(2):
        clock.advance(10 ** 5)
        assert sender(conf, engine, clock, holder="later").run_once()["sent"] == 0
    assert [p["event"]["id"] for p in hook.payloads()] == [e1, e2]
    assert [r["status"] for r in deliveries(engine, sub)] == ["DELIVERED", "DELIVERED"]


def test_concurrent_senders_claim_disjoint_batches(conf, engine, receivers):
    clock = Clock()
    hook = receivers()
    subscribe(engine, "hook", "webhook", hook.url, secret=SECRET)
    for i in range(6):
        add_event(engine, "c%d" % i, "system.silent", system="s%d" % i)
    sender(conf, engine, clock).enqueue()
    with engine.begin() as conn:
        a = db_subs.delivery_claim(conn, "a", 600, 4, now=clock())
    with engine.begin() as conn:
        b = db_subs.delivery_claim(conn, "b", 600, 4, now=clock())
    ids_a = {c["delivery"]["id"] for c in a}
    ids_b = {c["delivery"]["id"] for c in b}
    assert len(ids_a) == 4 and len(ids_b) == 2 and not ids_a & ids_b


def test_late_committed_event_is_still_queued(conf, engine, receivers):
    """An event committed after a later one was queued (a lower id than the
    subscription's mark) is still queued, once."""
    clock = Clock(T0 + dt.timedelta(seconds=2))
    hook = receivers()
    sub = subscribe(engine, "hook", "webhook", hook.url, secret=SECRET)
    later = T0 + dt.timedelta(seconds=1)
    table = models.Event.__table__
    row = {"type": "system.resumed", "system": "zuul", "occurred_at": later,
           "created_at": later, "severity": "info"}
    with engine.begin() as conn:
        conn.execute(table.insert().values(id=1000, key="next", title="next", **row))
    s = sender(conf, engine, clock)
    assert s.run_once()["delivered"] == 1
    with engine.begin() as conn:
        conn.execute(table.insert().values(id=500, key="late", title="late", **row))
    assert s.run_once()["delivered"] == 1
    assert s.run_once()["sent"] == 0
    assert [p["event"]["id"] for p in hook.payloads()] == [1000, 500]
    assert len(deliveries(engine, sub)) == 2
    # Past the settling time, events below the mark are not looked at again.
    with engine.begin() as conn:
        conn.execute(table.insert().values(id=600, key="old", title="old", **row))
    clock.advance(db_subs.SETTLE.total_seconds() + 1)
    assert s.run_once()["queued"] == 0


def test_no_secret_or_target_in_logs(conf, engine, receivers, caplog):
    caplog.set_level(logging.DEBUG)
    clock = Clock()
    failing = receivers(500)
    slack_url = failing.url + "/T000/B000/XXXXSLACKTOKENXXXX"
    subscribe(engine, "s", "slack", slack_url)
    subscribe(engine, "w", "webhook", failing.url + "?token=QUERYTOKEN", secret=SECRET)
    add_event(engine, "l1", "system.silent", system="zuul")
    assert sender(conf, engine, clock).run_once()["retrying"] == 2
    assert "attempt 1 failed: HTTP 500" in caplog.text
    for secret in (SECRET, "SLACKTOKEN", "QUERYTOKEN", failing.url):
        assert secret not in caplog.text


def test_daemon_runs_the_sender_beside_the_collector(engine, db_url, tmp_path, receivers):
    """`radar-daemon run`: the sender thread delivers while a hanging receiver
    holds it, the collector still completes, and SIGTERM stops both at once."""
    import signal
    import subprocess
    import sys

    hang, ok = receivers("hang"), receivers(200)
    log = daemon_helpers.write_stream(tmp_path / "s.log", 5)
    conf_file = daemon_helpers.write_conf(tmp_path, db_url, """
[gerrit]
sources = log
poll_interval = 30
[gerrit:log]
type = files
paths = %s
[notifications]
poll_interval = 1
http_timeout = 30
""" % log)
    # Queued newest subscription first: the hanging receiver's delivery goes first.
    subscribe(engine, "fine", "slack", ok.url, now=dt.datetime.now(dt.UTC))
    subscribe(engine, "hangs", "webhook", hang.url, secret=SECRET, now=dt.datetime.now(dt.UTC))
    add_event(engine, "p1", "system.silent", now=dt.datetime.now(dt.UTC), system="zuul")
    with open(conf_file + ".log", "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "radar_daemon.cmd", "--config-file",
                                 conf_file, "run"], stdout=out, stderr=subprocess.STDOUT)
    try:
        assert hang.wait_for(1, timeout=30), open(conf_file + ".log").read()
        state = models.CollectorState.__table__
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                row = conn.execute(sa.select(state.c.last_success_at)).first()
            if row and row[0]:
                break
            time.sleep(0.1)
        assert row and row[0], "no collection while the receiver hung"
        assert not ok.requests  # the sender is still stuck on the first receiver
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - started < 3
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
