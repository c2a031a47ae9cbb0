"""The Kubernetes source in the daemon, against the fake kube-apiserver.

The real ``kubernetes`` client (configured from a kubeconfig file, as in
production) talks to tests/fakes/kube.py over loopback; the tests play the
Deployment controller with status patches between the daemon's cycles and
check what the Collector's run_once() stored, on SQLite and MariaDB.
"""

import datetime as dt
import logging
import threading
import time

import pytest
import sqlalchemy as sa
from kubernetes import client

from radar import conf as radar_conf
from radar.common import timeutils
from radar.db import api as db_api
from radar.db import models
from radar_daemon import service
from radar_daemon.sources import kubernetes as kube_source
from tests.fakes import kube as fake_kube
from tests.functional import daemon_helpers

NS = "shop"
SHA1, SHA2 = "1" * 40, "2" * 40
T_DEP = models.Deployment.__table__
T_EV = models.DeploymentEvent.__table__


@pytest.fixture
def kube():
    with fake_kube.FakeKube(max_watch_seconds=0.1) as fake:
        yield fake
    assert fake.errors == [], "the fake served objects the Kubernetes schemas reject"


@pytest.fixture
def api(kube):
    return client.AppsV1Api(kube.api_client())


@pytest.fixture
def ctl(api):
    return fake_kube.Controller(api)


def _conf(tmp_path, db_url, kube, **extra):
    opts = {"kubeconfig": kube.kubeconfig(tmp_path / "kubeconfig"), "namespaces": NS,
            "cluster": "prod-east", "environment": "production", "watch_timeout": "0.15"}
    opts.update(extra)
    path = daemon_helpers.write_conf(tmp_path, db_url, "[kubernetes]\nsources = k8s\n"
                                     "[kubernetes:k8s]\n" + "".join(
                                         "%s = %s\n" % kv for kv in opts.items()))
    return radar_conf.load(["--config-file", path])


@pytest.fixture
def collector(tmp_path, db_url, engine, kube):
    def make(**extra):
        return service.Collector(_conf(tmp_path, db_url, kube, **extra), engine, holder="t")
    return make


def cycle(col):
    outcome = col.run_once()
    assert not isinstance(outcome["k8s"], Exception), outcome["k8s"]
    return outcome["k8s"]


def rows(engine):
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(
            sa.select(T_DEP).order_by(T_DEP.c.started_at, T_DEP.c.id)).mappings()]


def history(engine, uid):
    with engine.connect() as conn:
        return [(r.result, r.updated_replicas, r.available_replicas) for r in conn.execute(
            sa.select(T_EV).join(T_DEP, T_DEP.c.id == T_EV.c.deployment_id)
            .where(T_DEP.c.uid == uid).order_by(T_EV.c.id))]


def by_revision(engine, name="web"):
    return {r["rollout_revision"]: r for r in rows(engine) if r["name"] == name}


def create(api, name="web", image="web:1.4.2", wave=None, sha=SHA1, service_name="web",
           replicas=3):
    labels = {"app.kubernetes.io/name": service_name}
    if wave:
        labels["radar/wave"] = wave
    return api.create_namespaced_deployment(NS, fake_kube.deployment(
        name, image, labels=labels, template_annotations={"radar/revision": sha},
        replicas=replicas))


def set_image(api, name, image, sha):
    return api.patch_namespaced_deployment(name, NS, {"spec": {"template": {
        "metadata": {"annotations": {"radar/revision": sha}},
        "spec": {"containers": [{"name": name, "image": image}]}}}})


def roll_out(ctl, name, revision, old=0):
    """The controller takes a new template through to the end, step by step."""
    ctl.observe(NS, name, revision)
    ctl.progress(NS, name, 1, 0, old=old)
    ctl.progress(NS, name, 3, 3)
    ctl.complete(NS, name)


def parse(stamp):
    return timeutils.parse_iso(stamp)


def test_rollout_succeeds(collector, api, ctl, engine):
    col = collector()
    cycle(col)  # the first list of an empty namespace
    dep = create(api)
    ctl.observe(NS, "web", 1)
    ctl.progress(NS, "web", 1, 0)
    cycle(col)
    (row,) = rows(engine)
    assert (row["result"], row["updated_replicas"], row["available_replicas"]) == \
        ("IN_PROGRESS", 1, 0)
    assert row["message"] == ("Waiting for deployment 'web' rollout to finish: 1 out of 3 "
                              "new replicas have been updated...")
    ctl.progress(NS, "web", 3, 2)
    done = ctl.complete(NS, "web")
    cycle(col)

    (row,) = rows(engine)
    assert row["source"] == "k8s" and row["uid"] == "%s:1" % dep.metadata.uid
    assert {k: row[k] for k in ("cluster", "namespace", "name", "service", "environment",
                                "wave", "version", "images", "revision", "rollout_revision",
                                "generation", "result", "replicas", "updated_replicas",
                                "ready_replicas", "available_replicas")} == {
        "cluster": "prod-east", "namespace": NS, "name": "web", "service": "web",
        "environment": "production", "wave": None, "version": "1.4.2",
        "images": {"web": "web:1.4.2"}, "revision": SHA1, "rollout_revision": 1,
        "generation": 1, "result": "SUCCEEDED", "replicas": 3, "updated_replicas": 3,
        "ready_replicas": 3, "available_replicas": 3}
    # A new Deployment's first rollout starts at its creation; it ends when the
    # controller said NewReplicaSetAvailable.
    assert row["started_at"] == dep.metadata.creation_timestamp
    available = [c for c in done.status.conditions if c.reason == "NewReplicaSetAvailable"]
    assert row["finished_at"] == available[0].last_update_time
    # Every step the controller wrote, once, in order.
    assert history(engine, row["uid"]) == [("IN_PROGRESS", 0, 0), ("IN_PROGRESS", 1, 0),
                                           ("IN_PROGRESS", 3, 2), ("SUCCEEDED", 3, 3)]
    # Later scaling or churn is not part of a finished rollout; a quiet cycle
    # changes nothing (and the cursor was stored).
    ctl.progress(NS, "web", 3, 2)
    cycle(col)
    assert rows(engine) == [row] and len(history(engine, row["uid"])) == 4
    with engine.connect() as conn:
        sid = db_api.source_get_or_create(conn, "k8s", "kubernetes")
        state = db_api.collector_state_get(conn, sid)
    assert state["last_error"] is None
    assert state["cursor"]["rv"][NS] == api.list_namespaced_deployment(
        NS).metadata.resource_version


def test_stuck_rollout_fails_then_rollback(collector, api, ctl, engine):
    create(api)
    roll_out(ctl, "web", 1)
    col = collector()
    cycle(col)
    # Found at rest by the first list: the baseline, not a rollout radar saw.
    assert rows(engine) == []

    set_image(api, "web", "web:1.5.0", SHA2)
    ctl.observe(NS, "web", 2)
    ctl.progress(NS, "web", 1, 0, old=3)
    cycle(col)
    assert by_revision(engine)[2]["result"] == "IN_PROGRESS"
    stuck = ctl.deadline_exceeded(NS, "web")
    cycle(col)
    failed = by_revision(engine)[2]
    assert failed["result"] == "FAILED" and failed["version"] == "1.5.0"
    assert failed["message"] == 'deployment "web" exceeded its progress deadline'
    assert failed["finished_at"] == stuck.status.conditions[-1].last_update_time

    # kubectl rollout undo: the controller reuses revision 1's template as 3.
    set_image(api, "web", "web:1.4.2", SHA1)
    ctl.observe(NS, "web", 3)
    ctl.progress(NS, "web", 2, 0, old=1)
    cycle(col)
    revs = by_revision(engine)
    assert revs[2]["result"] == "ROLLED_BACK"
    assert revs[2]["message"] == ("rolled back: revision 3 returns to the template of "
                                  "revision 1")
    assert revs[2]["finished_at"] == failed["finished_at"]  # it had ended already
    assert revs[3]["result"] == "IN_PROGRESS" and revs[3]["revision"] == SHA1
    assert revs[3]["message"].startswith("rollback to revision 1: ")
    ctl.progress(NS, "web", 3, 3)
    ctl.complete(NS, "web")
    cycle(col)
    revs = by_revision(engine)
    assert [revs[r]["result"] for r in (2, 3)] == ["ROLLED_BACK", "SUCCEEDED"]
    assert [h[0] for h in history(engine, revs[2]["uid"])] == [
        "IN_PROGRESS", "IN_PROGRESS", "FAILED", "ROLLED_BACK"]

    # A new template that only keeps the images is not a rollback.
    api.patch_namespaced_deployment("web", NS, {"spec": {"template": {"spec": {
        "containers": [{"name": "web", "env": [{"name": "LOG", "value": "debug"}]}]}}}})
    roll_out(ctl, "web", 4)
    cycle(col)
    revs = by_revision(engine)
    assert [revs[r]["result"] for r in (2, 3, 4)] == ["ROLLED_BACK", "SUCCEEDED",
                                                      "SUCCEEDED"]


def test_superseded_and_deleted(collector, api, ctl, engine):
    col = collector()
    cycle(col)
    create(api)
    roll_out(ctl, "web", 1)
    set_image(api, "web", "web:1.5.0", SHA2)
    ctl.observe(NS, "web", 2)
    ctl.progress(NS, "web", 1, 0, old=3)
    # A newer template before revision 2 finished.
    set_image(api, "web", "web:1.5.1", "3" * 40)
    ctl.observe(NS, "web", 3)
    cycle(col)
    revs = by_revision(engine)
    assert [revs[r]["result"] for r in (1, 2, 3)] == ["SUCCEEDED", "SUPERSEDED",
                                                      "IN_PROGRESS"]
    assert revs[2]["message"] == "superseded by revision 3 before it finished"
    assert revs[2]["finished_at"] is not None
    assert revs[2]["finished_at"] <= revs[3]["started_at"] + dt.timedelta(seconds=1)
    api.delete_namespaced_deployment("web", NS)
    cycle(col)
    assert by_revision(engine)[3]["result"] == "SUPERSEDED"
    assert by_revision(engine)[3]["message"].startswith("the Deployment was deleted")


def test_canary_then_blue_then_green(collector, api, ctl, engine):
    col = collector()
    cycle(col)
    for wave in ("canary", "blue", "green"):
        create(api, name="shop-%s" % wave, image="registry:5000/shop/api:2.0.0", wave=wave,
               service_name="shop-api", sha=SHA2)
        roll_out(ctl, "shop-%s" % wave, 1)
        cycle(col)
        # Each wave is recorded once its Deployment finished, before the next starts.
        assert [(r["wave"], r["result"]) for r in rows(engine)][-1] == (wave, "SUCCEEDED")
    recorded = rows(engine)
    assert [(r["service"], r["wave"], r["version"], r["revision"], r["result"])
            for r in recorded] == [("shop-api", w, "2.0.0", SHA2, "SUCCEEDED")
                                   for w in ("canary", "blue", "green")]
    assert recorded[0]["finished_at"] <= recorded[1]["started_at"]
    assert recorded[1]["finished_at"] <= recorded[2]["started_at"]


def test_watch_dropped_and_resumed(collector, api, ctl, engine, kube):
    col = collector(watch_timeout="0.5")
    cycle(col)
    base = int(kube.resource_version)
    create(api)
    ctl.observe(NS, "web", 1)  # two writes: the revision annotation, then status
    ctl.progress(NS, "web", 1, 0)
    ctl.progress(NS, "web", 2, 1)
    ctl.progress(NS, "web", 3, 3)
    ctl.complete(NS, "web")
    # The connection is cut after 2 of the 7 events the watch owes us.
    kube.drop_watch_after(2)
    watches_before = len(_watches(kube))
    cycle(col)
    watches = _watches(kube)[watches_before:]
    # Resumed in the same cycle from the version of the second event received.
    assert len(watches) >= 2
    assert int(watches[1]["resourceVersion"]) == base + 2
    (row,) = rows(engine)
    assert row["result"] == "SUCCEEDED"
    assert history(engine, row["uid"]) == [("IN_PROGRESS", 0, 0), ("IN_PROGRESS", 1, 0),
                                           ("IN_PROGRESS", 2, 1), ("SUCCEEDED", 3, 3)]


def test_restart_resumes_and_replays_are_harmless(collector, api, ctl, engine, kube):
    col = collector()
    cycle(col)
    create(api)
    ctl.observe(NS, "web", 1)
    ctl.progress(NS, "web", 1, 0)
    cycle(col)
    before = _state(engine)
    ctl.progress(NS, "web", 3, 3)
    ctl.complete(NS, "web")
    cycle(col)
    (row,) = rows(engine)
    steps = history(engine, row["uid"])
    assert row["result"] == "SUCCEEDED" and len(steps) == 3
    # A crash after the batch was committed but before its cursor was: the
    # restarted daemon watches again from the older cursor (no list).
    with engine.begin() as conn:
        sid = db_api.source_get_or_create(conn, "k8s", "kubernetes")
        db_api.collector_state_update(conn, sid, cursor=before)
    lists, watches = len(_lists(kube)), len(_watches(kube))
    cycle(collector())
    assert len(_lists(kube)) == lists and len(_watches(kube)) > watches
    assert _watches(kube)[watches]["resourceVersion"] == before["rv"][NS]
    assert rows(engine) == [row] and history(engine, row["uid"]) == steps


def _watches(kube):
    return [q for method, _path, q in list(kube.requests) if q.get("watch") == "true"]


def _lists(kube):
    return [q for method, _path, q in list(kube.requests)
            if method == "GET" and "watch" not in q]


def test_410_relists_and_finds_a_missed_delete(collector, api, ctl, engine, kube):
    col = collector()
    cycle(col)
    create(api, name="web")
    create(api, name="worker", service_name="worker")
    for name in ("web", "worker"):
        ctl.observe(NS, name, 1)
        ctl.progress(NS, name, 1, 0)
    cycle(col)
    assert {r["name"]: r["result"] for r in rows(engine)} == {"web": "IN_PROGRESS",
                                                              "worker": "IN_PROGRESS"}
    # While the daemon is away: web finishes, worker is deleted, and the
    # history is compacted past the stored resourceVersion.
    ctl.progress(NS, "web", 3, 3)
    ctl.complete(NS, "web")
    api.delete_namespaced_deployment("worker", NS)
    kube.compact()
    lists_before = len(_lists(kube))
    cycle(col)
    assert len(_lists(kube)) == lists_before + 1  # the 410 made it list again
    result = {r["name"]: (r["result"], r["message"]) for r in rows(engine)}
    assert result["web"][0] == "SUCCEEDED"
    assert result["worker"][0] == "SUPERSEDED"
    assert result["worker"][1].startswith("the Deployment was deleted")
    # The relist's version is the cursor: the next cycle watches, no list.
    cycle(col)
    assert len(_lists(kube)) == lists_before + 1


def test_bookmarks_advance_the_cursor(collector, api, engine, kube):
    create(api, name="other", service_name="other")
    col = collector(label_selector="app.kubernetes.io/name=web")
    cycle(col)
    listed = _state(engine)["rv"][NS]
    # Churn outside the selector: no event is sent, only bookmarks move on.
    for i in range(3):
        api.patch_namespaced_deployment("other", NS, {"metadata": {"labels": {"n": str(i)}}})
    kube.bookmark_interval = 0.05
    cycle(col)
    assert int(_state(engine)["rv"][NS]) == int(kube.resource_version) > int(listed)
    assert rows(engine) == []
    assert all(q.get("allowWatchBookmarks") == "true" for q in _watches(kube))
    assert all(q.get("labelSelector") == "app.kubernetes.io/name=web" for q in _watches(kube))


def _state(engine):
    with engine.connect() as conn:
        sid = db_api.source_get_or_create(conn, "k8s", "kubernetes")
        return db_api.collector_state_get(conn, sid)["cursor"]


def test_list_pages_with_continue(collector, api, ctl, engine, kube):
    col = collector(page_size="2", namespaces="")  # all namespaces
    cycle(col)
    for i in range(5):
        create(api, name="svc%d" % i, service_name="svc%d" % i)
        ctl.observe(NS, "svc%d" % i, 1)
    kube.compact()  # the next watch gets 410: the relist must page
    cycle(col)
    pages = [q for q in _lists(kube) if q.get("limit") == "2"]
    assert len(pages) == 1 + 3  # the first (empty) list, then 2 + 2 + 1 items
    assert [bool(q.get("continue")) for q in pages[1:]] == [False, True, True]
    assert all("/namespaces/" not in p for m, p, q in kube.requests if "limit" in q)
    assert sorted(r["name"] for r in rows(engine)) == ["svc%d" % i for i in range(5)]
    assert {r["result"] for r in rows(engine)} == {"IN_PROGRESS"}


def test_stops_at_once_during_a_watch(collector, kube):
    col = collector(watch_timeout="30")
    kube.max_watch_seconds = None
    thread = threading.Thread(target=col.run, args=(60,), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not _watches(kube) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _watches(kube), "the daemon never started watching"
    time.sleep(0.2)
    stopped = time.monotonic()
    col.stop_event.set()
    thread.join(5)
    assert not thread.is_alive() and time.monotonic() - stopped < 2


def test_unreachable_api_server_is_a_recorded_error(collector, engine, kube):
    col = collector()
    kube.stop()
    outcome = col.run_once()["k8s"]
    assert "cannot reach the API server" in str(outcome)
    with engine.connect() as conn:
        sid = db_api.source_get_or_create(conn, "k8s", "kubernetes")
        state = db_api.collector_state_get(conn, sid)
    assert state["failures"] == 1 and "cannot reach the API server" in state["last_error"]


def test_disabled_without_config(tmp_path, db_url, engine, monkeypatch, caplog):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    monkeypatch.setenv("HOME", str(tmp_path))
    path = daemon_helpers.write_conf(tmp_path, db_url, "[kubernetes]\nsources = k8s\n")
    conf = radar_conf.load(["--config-file", path])
    with caplog.at_level(logging.WARNING, logger="radar_daemon.service"):
        col = service.Collector(conf, engine)
    assert col.sources == []
    lines = [r.getMessage() for r in caplog.records if "k8s" in r.getMessage()]
    assert lines == ["kubernetes source k8s disabled: not running in a cluster and no "
                     "kubeconfig (%s, %s)" % (tmp_path / "missing",
                                              tmp_path / ".kube" / "config")]
    assert col.run_once() == {}
    # A kubeconfig named but missing is said as plainly.
    opts = conf["kubernetes:k8s"]
    conf.set_override("kubeconfig", str(tmp_path / "nope"), group="kubernetes:k8s")
    with pytest.raises(Exception, match="kubeconfig .*nope does not exist"):
        kube_source.api_client(opts)
