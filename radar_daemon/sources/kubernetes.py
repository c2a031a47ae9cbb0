"""Deployment rollouts from a Kubernetes cluster: list, then watch, per cycle.

The pull model of the daemon holds: each cycle lists a namespace it has no
resourceVersion for (paginated with ``continue``), then watches from the
stored resourceVersion (with bookmarks) for ``watch_timeout`` seconds and
returns. A 410 Gone (the version was compacted away) re-lists and
reconciles: Deployments that vanished in the gap end their rollouts as a
DELETED event would have. A watch cut by the network resumes from the last
version received, so nothing is missed or seen twice.

What the source remembers (each namespace's resourceVersion, and per
Deployment its current rollout and recent template hashes, see
radar_daemon.rollout) is the cursor; the Collector stores it after the
batch it belongs to is committed. Replays after a crash are harmless:
deployment_record() is idempotent.
"""

import copy
import json
import logging
import math
import os
import threading
import time

import urllib3
from kubernetes import client, config, watch

from radar.common import exception, timeutils
from radar.db import api as db_api
from radar.db import deployments as db_deployments
from radar_daemon import ingest, rollout

LOG = logging.getLogger(__name__)

ALL = "*"  # the cursor's key for "all namespaces"
# No-op events (status churn of finished rollouts, bookmarks) are committed
# at most this often; rollout changes are committed at once.
QUIET_COMMIT_S = 5.0


def api_client(opts):
    """An ApiClient for the source, or ConfigError saying why there is none."""
    cfg = client.Configuration()
    context = opts.context or None
    try:
        if opts.kubeconfig:
            if not os.path.exists(opts.kubeconfig):
                raise exception.ConfigError("kubeconfig %s does not exist" % opts.kubeconfig)
            config.load_kube_config(config_file=opts.kubeconfig, context=context,
                                    client_configuration=cfg, persist_config=False)
            return client.ApiClient(cfg)
        try:
            config.load_incluster_config(client_configuration=cfg)
            return client.ApiClient(cfg)
        except config.ConfigException:
            pass
        candidates = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
        candidates.append(os.path.expanduser("~/.kube/config"))
        found = [p for p in candidates if os.path.exists(p)]
        if not found:
            raise exception.ConfigError(
                "not running in a cluster and no kubeconfig (%s)" % ", ".join(candidates))
        config.load_kube_config(config_file=found[0], context=context,
                                client_configuration=cfg, persist_config=False)
        return client.ApiClient(cfg)
    except config.ConfigException as exc:
        raise exception.ConfigError("kubeconfig: %s" % exc) from None


class _Relist(Exception):
    """The stored resourceVersion expired (410): list again."""


class KubernetesSource:
    type = "kubernetes"

    def __init__(self, name, opts, api_client, stop_event=None, batch_size=200):
        self.name = name
        self.opts = opts
        self.cluster = opts.cluster or name
        self.api = client.AppsV1Api(api_client)
        self.url = api_client.configuration.host
        self.stop_event = stop_event or threading.Event()
        self.batch_size = batch_size

    def writer(self, engine):
        return RolloutWriter(engine, self.name, self.url)

    # -- the cycle --

    def poll(self, cursor):
        """Yield (records, cursor): list what needs listing, then watch."""
        state = copy.deepcopy(cursor) if cursor else {}
        state.setdefault("rv", {})
        state.setdefault("deployments", {})
        keys = [ns for ns in self.opts.namespaces if ns] or [ALL]
        deadline = time.monotonic() + self.opts.watch_timeout
        for key in keys:
            if state["rv"].get(key) is None and not self.stop_event.is_set():
                yield from self._list(key, state)
        for i, key in enumerate(keys):
            share = (deadline - time.monotonic()) / (len(keys) - i)
            if share <= 0 or self.stop_event.is_set():
                break
            yield from self._watch(key, state, time.monotonic() + share)

    def _call(self, key, **kwargs):
        if key == ALL:
            return self.api.list_deployment_for_all_namespaces, (), kwargs
        return self.api.list_namespaced_deployment, (key,), kwargs

    def _list(self, key, state):
        """Page through a namespace; reconcile what vanished since the last version."""
        baseline = key not in state["rv"]  # never listed: existing rollouts are history
        committed = copy.deepcopy(state)
        at = timeutils.utcnow()
        token, seen, records = None, set(), []
        while True:
            kwargs = {"limit": self.opts.page_size, "_preload_content": False,
                      "_request_timeout": self.opts.timeout}
            if self.opts.label_selector:
                kwargs["label_selector"] = self.opts.label_selector
            if token:
                kwargs["_continue"] = token
            func, args, kwargs = self._call(key, **kwargs)
            try:
                resp = func(*args, **kwargs)
            except urllib3.exceptions.HTTPError as exc:
                raise _unreachable(self.name, exc) from None
            except client.ApiException as exc:
                if exc.status == 410 and token:
                    # The snapshot expired between pages: start the list over.
                    LOG.info("source %s: list continue token expired; listing %s again",
                             self.name, key)
                    token, seen = None, set()
                    state.clear()
                    state.update(copy.deepcopy(committed))
                    continue
                raise _api_error(self.name, exc) from None
            data = json.loads(resp.data)
            for item in data.get("items") or []:
                seen.add(item["metadata"]["uid"])
                records.extend(self._observe(state, item, at, baseline))
            token = (data.get("metadata") or {}).get("continue")
            if not token:
                break
            if len(records) >= self.batch_size:
                # Pages are committed as they come; the cursor moves only after
                # the whole list (a crash lists again from the start).
                yield records, committed
                records = []
        for uid, entry in list(state["deployments"].items()):
            if uid not in seen and (key == ALL or entry["namespace"] == key):
                records.extend(rollout.forget(entry, at))
                del state["deployments"][uid]
        state["rv"][key] = data["metadata"]["resourceVersion"]
        if baseline:
            LOG.info("source %s: %s listed: %d Deployments", self.name,
                     "all namespaces" if key == ALL else "namespace %s" % key, len(seen))
        yield records, copy.deepcopy(state)

    def _observe(self, state, obj, at, baseline=False):
        uid = obj["metadata"]["uid"]
        entry, records = rollout.observe(state["deployments"].get(uid), obj, at, self.opts,
                                         self.cluster, baseline=baseline)
        if entry is not None:
            state["deployments"][uid] = entry
        return records

    def _watch(self, key, state, until):
        """Watch until `until` (monotonic), re-watching after server ends and drops."""
        while not self.stop_event.is_set():
            remaining = until - time.monotonic()
            if remaining <= 0:
                return
            try:
                yield from self._watch_once(key, state, remaining)
            except _Relist:
                LOG.info("source %s: resourceVersion %s expired (410); listing %s again",
                         self.name, state["rv"].get(key), key)
                state["rv"][key] = None
                yield from self._list(key, state)

    def _watch_once(self, key, state, seconds):
        w = watch.Watch()
        kwargs = {"resource_version": state["rv"][key], "allow_watch_bookmarks": True,
                  "timeout_seconds": max(1, math.ceil(seconds)),
                  "_request_timeout": seconds + self.opts.timeout}
        if self.opts.label_selector:
            kwargs["label_selector"] = self.opts.label_selector
        func, args, kwargs = self._call(key, **kwargs)
        done = threading.Event()
        threading.Thread(target=self._stop_watch, args=(w, done, seconds), daemon=True,
                         name="kube-watch-stop-%s" % self.name).start()
        pending, last_commit, received = [], time.monotonic(), 0
        try:
            for event in w.stream(func, *args, **kwargs):
                received += 1
                kind, obj = event["type"], event["raw_object"]
                at = timeutils.utcnow()
                if kind in ("ADDED", "MODIFIED"):
                    pending.extend(self._observe(state, obj, at))
                elif kind == "DELETED":
                    entry = state["deployments"].pop(obj["metadata"]["uid"], None)
                    pending.extend(rollout.forget(entry, at))
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if rv:
                    state["rv"][key] = rv
                if pending or time.monotonic() - last_commit >= QUIET_COMMIT_S:
                    yield pending, copy.deepcopy(state)
                    pending, last_commit = [], time.monotonic()
        except client.ApiException as exc:
            if exc.status == 410:
                raise _Relist() from None
            raise _api_error(self.name, exc) from None
        except (urllib3.exceptions.ProtocolError, urllib3.exceptions.ReadTimeoutError) as exc:
            # Cut mid-stream (a proxy, a restarting API server): resume from
            # the last version received; pause first if it gave us nothing.
            if not self.stop_event.is_set():
                LOG.info("source %s: watch of %s dropped (%s); resuming from %s",
                         self.name, key, exc, state["rv"][key])
                if not received:
                    self.stop_event.wait(min(1.0, seconds))
        except urllib3.exceptions.HTTPError as exc:
            if not self.stop_event.is_set():
                raise _unreachable(self.name, exc) from None
        finally:
            done.set()
        # What the stream ended on (bookmarks, churn) is committed too.
        yield [], copy.deepcopy(state)

    def _stop_watch(self, w, done, seconds):
        """Cut the watch's socket when the daemon stops, so stopping is immediate."""
        limit = time.monotonic() + seconds + self.opts.timeout + 5
        while not done.is_set() and time.monotonic() < limit:
            if self.stop_event.wait(0.1):
                w.stop()
                return


def _unreachable(name, exc):
    return exception.SourceError("kubernetes source %s: cannot reach the API server: %s"
                                 % (name, getattr(exc, "reason", None) or exc))


def _api_error(name, exc):
    return exception.SourceError("kubernetes source %s: HTTP %s %s" % (
        name, exc.status, (exc.reason or "").strip()))


class RolloutWriter:
    """Writes a batch of rollout records; the Collector's counterpart of Ingester."""

    def __init__(self, engine, source_name, url=None):
        self.engine = engine
        self.source_name = source_name
        with engine.begin() as conn:
            self.source_id = db_api.source_get_or_create(conn, source_name, "kubernetes",
                                                         url=url)

    def ingest(self, records, errors=None):
        stats = ingest.IngestStats(records=len(records))
        if not records:
            return stats
        with self.engine.begin() as conn:
            for uid, values, at in records:
                _id, old, new = db_deployments.deployment_record(conn, self.source_name,
                                                                 uid, values, at=at)
                if old != new:
                    LOG.info("source %s: rollout %s/%s revision %s: %s",
                             self.source_name, values.get("namespace") or "",
                             values.get("name") or uid, values.get("rollout_revision") or
                             uid.rsplit(":", 1)[-1], new)
                stats.changes += 1
        return stats
