"""radar_daemon.rollout: kubectl's rollout status rules and the rollout tracking."""

import datetime as dt
import json
import pathlib
import types

import kubernetes_validate
import yaml
from kubernetes import client

from radar.conf import kubernetes as kube_conf
from radar.db import models
from radar_daemon import rollout
from tests.fakes import kube as fake_kube

OPTS = types.SimpleNamespace(
    service_label="app.kubernetes.io/name", environment_label="radar/environment",
    environment="", wave_label="radar/wave", version_label="app.kubernetes.io/version",
    revision_annotation="radar/revision", revision_label="radar/revision")
AT = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)


def dep(image="web:1", revision=1, generation=1, observed=1, replicas=3, status=None,
        conditions=(), **kwargs):
    obj = fake_kube.deployment("web", image, replicas=replicas, **kwargs)
    obj["metadata"].update(uid="u-1", namespace="shop", generation=generation,
                           creationTimestamp="2026-03-01T11:00:00Z")
    if revision:
        obj["metadata"]["annotations"][rollout.REVISION_ANNOTATION] = str(revision)
    obj["status"] = dict({"observedGeneration": observed}, **(status or {}))
    obj["status"]["conditions"] = [
        {"type": "Progressing", "status": s, "reason": r, "lastUpdateTime": t,
         "lastTransitionTime": t} for s, r, t in conditions]
    fake_kube.validate(obj)  # fixtures are real Deployments
    return obj


def counts(replicas, updated, available):
    return {"replicas": replicas, "updatedReplicas": updated, "readyReplicas": available,
            "availableReplicas": available}


def test_status_follows_kubectl_rollout_status():
    # 1. the controller has not observed the new generation
    s = rollout.rollout_status(dep(generation=2, observed=1, status=counts(3, 3, 3)))
    assert s.state == rollout.WAITING
    # 2. the progress deadline passed, whatever the counts say
    s = rollout.rollout_status(dep(status=counts(4, 1, 3), conditions=[
        ("False", "ProgressDeadlineExceeded", "2026-03-01T11:10:00Z")]))
    assert (s.state, s.message) == (rollout.FAILED,
                                    'deployment "web" exceeded its progress deadline')
    # 3. not every replica is new yet
    s = rollout.rollout_status(dep(status=counts(4, 1, 3)))
    assert s.state == rollout.PROGRESSING and "1 out of 3 new replicas" in s.message
    # 4. old replicas still terminating
    s = rollout.rollout_status(dep(status=counts(4, 3, 3)))
    assert "1 old replicas are pending termination" in s.message
    # 5. new replicas not yet available
    s = rollout.rollout_status(dep(status=counts(3, 3, 2)))
    assert "2 of 3 updated replicas are available" in s.message
    # 6. complete by the counts, even before the condition says so (conditions lag)
    s = rollout.rollout_status(dep(status=counts(3, 3, 3), conditions=[
        ("True", "ReplicaSetUpdated", "2026-03-01T11:05:00Z")]))
    assert (s.state, s.replicas, s.updated, s.ready, s.available) == (
        rollout.COMPLETE, 3, 3, 3, 3)
    assert rollout.result_of(s.state) == models.SUCCEEDED


def test_status_of_a_client_model_object():
    # As the client's Watch builds its event objects.
    model = client.ApiClient().deserialize(json.dumps(dep(status=counts(3, 3, 1))),
                                           "V1Deployment", "application/json")
    assert isinstance(model, client.V1Deployment)
    assert rollout.rollout_status(model).available == 1
    assert rollout.rollout_uid(model) == "u-1:1"


def test_describe_reads_labels_template_and_image():
    obj = dep(image="registry:5000/team/web:2.3.1@sha256:abc", labels={
        "app.kubernetes.io/name": "shop-web", "radar/wave": "canary"},
        template_labels={"radar/environment": "staging"},
        annotations={"radar/revision": "d" * 40},
        template_annotations={"radar/revision": "e" * 40})
    values = rollout.describe(obj, OPTS, "prod-east")
    assert values == {"cluster": "prod-east", "namespace": "shop", "name": "web",
                      "service": "shop-web", "environment": "staging", "wave": "canary",
                      "version": "2.3.1",
                      "images": {"web": "registry:5000/team/web:2.3.1@sha256:abc"},
                      "revision": "e" * 40}  # the template's annotation wins
    bare = rollout.describe(dep(image="web"), OPTS, "c")
    assert (bare["service"], bare["version"], bare["environment"], bare["revision"]) == (
        "web", None, None, None)
    assert rollout.describe(dep(), types.SimpleNamespace(
        **dict(vars(OPTS), environment="production")), "c")["environment"] == "production"


def test_template_hash_ignores_status_and_metadata():
    a = dep(status=counts(3, 3, 3))
    b = dep(revision=7, generation=9, observed=9, labels={"x": "y"})
    assert rollout.template_hash(a) == rollout.template_hash(b)
    assert rollout.template_hash(a) != rollout.template_hash(dep(image="web:2"))


def test_observe_a_rollout_from_start_to_end():
    entry, records = rollout.observe(None, dep(revision=0, observed=0), AT, OPTS, "c")
    assert (entry, records) == (None, [])  # no revision stamped yet
    entry, records = rollout.observe(None, dep(status=counts(0, 0, 0)), AT, OPTS, "c")
    ((uid, values, at),) = records
    assert uid == "u-1:1" and at == AT
    assert values["result"] == models.IN_PROGRESS
    assert values["started_at"] == dt.datetime(2026, 3, 1, 11, 0, tzinfo=dt.UTC)
    entry, records = rollout.observe(entry, dep(status=counts(3, 3, 3), conditions=[
        ("True", "NewReplicaSetAvailable", "2026-03-01T11:04:00Z")]), AT, OPTS, "c")
    assert records[0][1]["result"] == models.SUCCEEDED
    assert records[0][1]["finished_at"] == dt.datetime(2026, 3, 1, 11, 4, tzinfo=dt.UTC)
    # Finished is final: scaling afterwards is not this rollout.
    assert rollout.observe(entry, dep(replicas=5, status=counts(5, 5, 3)), AT, OPTS,
                           "c")[1] == []


def test_baseline_rollouts_are_remembered_not_recorded():
    entry, records = rollout.observe(None, dep(status=counts(3, 3, 3)), AT, OPTS, "c",
                                     baseline=True)
    assert records == [] and entry["templates"] == {"1": rollout.template_hash(dep())}
    # Its successor is recorded, and the unrecorded baseline is left alone.
    entry, records = rollout.observe(entry, dep(image="web:2", revision=2,
                                                status=counts(3, 0, 3)), AT, OPTS, "c")
    assert [r[0] for r in records] == ["u-1:2"]


def test_failed_stays_failed_until_it_completes():
    entry, _ = rollout.observe(None, dep(status=counts(3, 1, 2), conditions=[
        ("False", "ProgressDeadlineExceeded", "2026-03-01T11:10:00Z")]), AT, OPTS, "c")
    assert entry["result"] == models.FAILED
    entry, records = rollout.observe(entry, dep(status=counts(3, 2, 2)), AT, OPTS, "c")
    assert records[0][1]["result"] == models.FAILED
    entry, records = rollout.observe(entry, dep(status=counts(3, 3, 3)), AT, OPTS, "c")
    assert records[0][1]["result"] == models.SUCCEEDED


def test_rollback_and_supersede():
    entry, _ = rollout.observe(None, dep(status=counts(3, 3, 3)), AT, OPTS, "c")
    entry, _ = rollout.observe(entry, dep("web:2", revision=2, status=counts(3, 3, 3)),
                               AT, OPTS, "c")
    # Revision 3 brings revision 1's template back: 2 was rolled back.
    entry, records = rollout.observe(entry, dep(revision=3, status=counts(4, 1, 3)),
                                     AT, OPTS, "c")
    assert [(uid, v["result"]) for uid, v, _ in records] == [
        ("u-1:2", models.ROLLED_BACK), ("u-1:3", models.IN_PROGRESS)]
    assert "finished_at" not in records[0][1]  # it had finished before
    assert records[1][1]["message"].startswith("rollback to revision 1: ")
    # Revision 4 arrives while 3 is unfinished: 3 is superseded, now.
    entry, records = rollout.observe(entry, dep("web:4", revision=4, status=counts(4, 0, 3)),
                                     AT, OPTS, "c")
    assert [(uid, v["result"]) for uid, v, _ in records] == [
        ("u-1:3", models.SUPERSEDED), ("u-1:4", models.IN_PROGRESS)]
    assert records[0][1]["finished_at"] == AT
    # A stale view (an older revision) changes nothing.
    assert rollout.observe(entry, dep(revision=3), AT, OPTS, "c") == (entry, [])
    # Deleted while unfinished: superseded too.
    ((uid, values, _),) = rollout.forget(entry, AT)
    assert (uid, values["result"]) == ("u-1:4", models.SUPERSEDED)
    assert rollout.forget(None, AT) == []


def test_template_history_is_bounded():
    entry, _ = rollout.observe(None, dep(status=counts(3, 3, 3)), AT, OPTS, "c")
    for rev in range(2, 15):
        entry, _ = rollout.observe(entry, dep("web:%d" % rev, revision=rev,
                                              status=counts(3, 3, 3)), AT, OPTS, "c")
    assert sorted(entry["templates"], key=int) == [str(r) for r in range(5, 15)]


def test_image_tag():
    assert rollout.image_tag("nginx") is None
    assert rollout.image_tag("registry:5000/nginx") is None
    assert rollout.image_tag("registry:5000/nginx:1.27") == "1.27"
    assert rollout.image_tag("nginx@sha256:ab") == "sha256:ab"


def test_example_manifest_is_valid_and_read_as_documented():
    path = pathlib.Path(__file__).resolve().parents[2] / "etc" / "kubernetes-deployment.yaml"
    docs = list(yaml.safe_load_all(path.read_text()))
    for doc in docs:
        kubernetes_validate.validate(doc, fake_kube.SCHEMA_VERSION, strict=True)
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    assert rollout.describe(deployment, OPTS, "prod-east") == {
        "cluster": "prod-east", "namespace": "shop", "name": "shop-api-canary",
        "service": "shop-api", "environment": "production", "wave": "canary",
        "version": "2.4.0", "images": {"api": "registry.example.org/shop/api:2.4.0"},
        "revision": "3f2c1a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39"}
    # The defaults radar reads are the option defaults.
    defaults = {o.name: o.default for o in kube_conf.SOURCE_OPTS}
    assert {k: defaults[k] for k in vars(OPTS)} == vars(OPTS)
