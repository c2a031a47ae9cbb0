"""The fake kube-apiserver behaves as the real one does, for the official client."""

import kubernetes_validate
import pytest
import requests
from kubernetes import client, watch

from tests.fakes import kube as fake_kube

NS = "shop"


@pytest.fixture
def kube():
    with fake_kube.FakeKube(max_watch_seconds=0.2) as fake:
        yield fake
    assert fake.errors == []


@pytest.fixture
def api(kube):
    return client.AppsV1Api(kube.api_client())


def raw(api, name):
    return api.api_client.sanitize_for_serialization(api.read_namespaced_deployment(name, NS))


def events(api, **kwargs):
    kwargs.setdefault("timeout_seconds", 1)
    return [(e["type"], e["raw_object"]) for e in watch.Watch().stream(
        api.list_namespaced_deployment, NS, **kwargs)]


def test_served_objects_pass_kubernetes_validate(api, kube):
    api.create_namespaced_deployment(NS, fake_kube.deployment("web", "web:1"))
    fake_kube.Controller(api).complete(NS, "web")
    obj = raw(api, "web")
    # The package's own entry point agrees with the fake's cached validators.
    assert kubernetes_validate.validate(obj, fake_kube.SCHEMA_VERSION, strict=True)
    assert obj["metadata"]["uid"] and obj["metadata"]["creationTimestamp"]
    assert obj["spec"]["progressDeadlineSeconds"] == 600  # server defaults
    # Invalid objects are refused like the API server's validation does (sent
    # raw: the client itself refuses unknown fields).
    bad = fake_kube.deployment("bad", "web:1")
    bad["spec"]["replica"] = 3
    resp = requests.post(kube.url + "/apis/apps/v1/namespaces/shop/deployments", json=bad,
                         timeout=5)
    assert resp.status_code == 422
    assert resp.json()["reason"] == "Invalid" and "'replica' was unexpected" in resp.text


def test_generation_status_and_conflicts(api):
    api.create_namespaced_deployment(NS, fake_kube.deployment("web", "web:1"))
    api.patch_namespaced_deployment("web", NS, {"metadata": {"labels": {"a": "b"}}})
    assert raw(api, "web")["metadata"]["generation"] == 1  # metadata is not the spec
    api.patch_namespaced_deployment_status("web", NS, {"status": {"replicas": 2},
                                                       "spec": {"replicas": 9}})
    obj = raw(api, "web")
    assert (obj["metadata"]["generation"], obj["spec"]["replicas"],
            obj["status"]["replicas"]) == (1, 3, 2)  # /status changes only status
    # JSON patch (a list body) on the spec bumps the generation.
    api.patch_namespaced_deployment("web", NS, [
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "web:2"}])
    obj = raw(api, "web")
    assert obj["metadata"]["generation"] == 2
    assert obj["spec"]["template"]["spec"]["containers"][0]["image"] == "web:2"
    stale = dict(obj, metadata=dict(obj["metadata"], resourceVersion="1"))
    with pytest.raises(client.ApiException) as exc:
        api.replace_namespaced_deployment("web", NS, stale)
    assert exc.value.status == 409


def test_list_pages_at_one_snapshot_and_expired_continue(api, kube):
    for name in ("a", "b", "c"):
        api.create_namespaced_deployment(NS, fake_kube.deployment(name, "x:1"))
    first = api.list_namespaced_deployment(NS, limit=2)
    assert [d.metadata.name for d in first.items] == ["a", "b"]
    assert first.metadata.remaining_item_count == 1
    api.create_namespaced_deployment(NS, fake_kube.deployment("d", "x:1"))
    api.delete_namespaced_deployment("c", NS)
    rest = api.list_namespaced_deployment(NS, limit=2, _continue=first.metadata._continue)
    # The continuation still sees the snapshot of the first page.
    assert [d.metadata.name for d in rest.items] == ["c"]
    assert rest.metadata.resource_version == first.metadata.resource_version
    kube.compact()
    with pytest.raises(client.ApiException) as exc:
        api.list_namespaced_deployment(NS, limit=2, _continue=first.metadata._continue)
    assert exc.value.status == 410


def test_watch_selector_bookmarks_and_expiry(api, kube):
    api.create_namespaced_deployment(NS, fake_kube.deployment("web", "x:1"))
    start = kube.resource_version
    # "0": the current state as synthetic ADDED events.
    assert [t for t, _ in events(api, resource_version="0")] == ["ADDED"]
    api.patch_namespaced_deployment("web", NS, {"metadata": {"labels": {"tier": "front"}}})
    api.patch_namespaced_deployment("web", NS, {"metadata": {"labels": {"tier": "back"}}})
    seen = events(api, resource_version=start, label_selector="tier in (front)",
                  allow_watch_bookmarks=True)
    # Entering the selector is ADDED, leaving it DELETED; then the closing bookmark.
    assert [t for t, _ in seen] == ["ADDED", "DELETED", "BOOKMARK"]
    assert seen[-1][1] == {"kind": "Deployment", "apiVersion": "apps/v1",
                           "metadata": {"resourceVersion": kube.resource_version}}
    kube.compact()
    with pytest.raises(client.ApiException) as exc:
        events(api, resource_version=start)
    assert exc.value.status == 410 and "too old resource version" in exc.value.reason


def test_selectors():
    match = fake_kube.label_matcher("app=web,tier!=db,env in (prod, stage),!legacy,track")
    assert match({"app": "web", "env": "prod", "track": "1"})
    assert not match({"app": "web", "env": "prod", "track": "1", "legacy": "y"})
    assert not match({"app": "web", "env": "dev", "track": "1"})
    assert not match({"app": "web", "tier": "db", "env": "prod", "track": "1"})
    assert fake_kube.field_matcher("metadata.name=web")({"metadata": {"name": "web"}})
