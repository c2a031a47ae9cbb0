"""A fake kube-apiserver for apps/v1 Deployments, speaking the real wire format.

Wire format: shared reference ``devops-anchors.md`` §5.1 and §5.3 (option 2).
Drive it with the official ``kubernetes`` client over loopback::

    with FakeKube() as kube:
        api = client.AppsV1Api(kube.api_client())
        api.create_namespaced_deployment("shop", deployment("web", "web:1"))

What it does like a real server:

* ``/apis/apps/v1/deployments`` and ``/apis/apps/v1/namespaces/{ns}/deployments``
  list (``kind: DeploymentList``, items without kind/apiVersion, a string
  ``metadata.resourceVersion``) at one snapshot: ``limit`` pages carry a
  ``continue`` token bound to that snapshot, and a token older than the
  compaction floor answers 410 Expired. ``labelSelector`` (equality and set
  based) and ``fieldSelector`` on metadata.name/metadata.namespace.
* ``watch=true``: chunked newline-delimited JSON events after
  ``resourceVersion`` (none or "0": synthetic ADDED for the current state);
  an object leaving the selector arrives as DELETED, entering it as ADDED;
  ``allowWatchBookmarks`` gets a BOOKMARK every ``bookmark_interval`` seconds
  and when the watch ends; ``timeoutSeconds`` ends the stream cleanly; a
  resourceVersion below the floor gets one ``ERROR`` event (Status 410
  Expired), as a real server sends it.
* Writes: create (uid, creationTimestamp, generation 1, defaults), get,
  replace (409 on a stale resourceVersion), patch (strategic merge - lists of
  named items merge by name -, JSON merge and JSON patch), delete; the main
  resource never changes status and bumps ``generation`` when the spec
  changes; ``/status`` changes only status, so tests play the controller.

Every object stored and every list, event and Status served is validated
against the Kubernetes JSON schemas of the ``kubernetes-validate`` package
(strict: unknown fields are errors). An invalid write answers 422 like the
API server's validation; anything invalid served is kept in ``fake.errors``
(the fixture asserts it stays empty).

Faults: :meth:`FakeKube.compact` (raise the floor: old watches and continue
tokens get 410), :meth:`FakeKube.drop_watch_after` (cut the next watch's
connection mid-stream, without the closing chunk, after n events),
``max_watch_seconds`` (the server ends watches early, as API servers do).
``fake.requests`` logs (method, path, query dict) of every request.
"""

import base64
import copy
import datetime as dt
import functools
import http.server
import json
import re
import socket
import threading
import time
import urllib.parse
import uuid

import jsonschema
from kubernetes import client
from kubernetes_validate import utils as kv_utils
from referencing import Registry, Resource

SCHEMA_VERSION = kv_utils.latest_version()
REVISION = "deployment.kubernetes.io/revision"

_PATH = re.compile(r"^/apis/apps/v1(?:/namespaces/(?P<ns>[^/]+))?/deployments"
                   r"(?:/(?P<name>[^/]+))?(?:/(?P<sub>status))?$")


@functools.cache
def _validator(kind, api_version):
    """One compiled validator per kind (kubernetes_validate.validate() re-reads
    the 1.8 MB definitions on every call; the files are the same)."""
    folder = "kubernetes-json-schema/v%s-local-strict" % SCHEMA_VERSION
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = kv_utils.schema_contents("%s/%s-%s.json" % (folder, kind.lower(), api),
                                      SCHEMA_VERSION)
    definitions = kv_utils.schema_contents("%s/_definitions.json" % folder, SCHEMA_VERSION)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema)
                                                      @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def validate(obj, kind=None, api_version=None):
    """Raise jsonschema.ValidationError unless obj is a valid `kind`.

    Status and WatchEvent are meta/v1 kinds (files status-meta-v1.json...).
    """
    _validator(kind or obj["kind"], api_version or obj["apiVersion"]).validate(obj)


def now_iso():
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def deployment(name, images, labels=None, annotations=None, template_labels=None,
               template_annotations=None, replicas=3):
    """A Deployment manifest; images: "image" or {container: image}."""
    if isinstance(images, str):
        images = {name: images}
    selector = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": dict(labels or {}),
                     "annotations": dict(annotations or {})},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": dict(selector, **(template_labels or {})),
                             "annotations": dict(template_annotations or {})},
                "spec": {"containers": [{"name": c, "image": i}
                                        for c, i in images.items()]}}}}


# --- selectors --------------------------------------------------------------------

_SET = re.compile(r"^\s*([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)\s*$")


def _split_selector(text):
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur.strip():
        parts.append(cur)
    return parts


def label_matcher(text):
    """A predicate on a labels dict for a Kubernetes label selector string."""
    tests = []
    for part in _split_selector(text or ""):
        m = _SET.match(part)
        if m:
            key, op = m.group(1), m.group(2)
            values = {v.strip() for v in m.group(3).split(",") if v.strip()}
            if op == "in":
                tests.append(lambda lb, k=key, vs=values: lb.get(k) in vs)
            else:
                tests.append(lambda lb, k=key, vs=values: lb.get(k) not in vs)
            continue
        part = part.strip()
        if "!=" in part:
            key, value = (s.strip() for s in part.split("!=", 1))
            tests.append(lambda lb, k=key, v=value: lb.get(k) != v)
        elif "=" in part:
            key, value = (s.strip() for s in part.split("=", 1))
            value = value.lstrip("=").strip()
            tests.append(lambda lb, k=key, v=value: lb.get(k) == v)
        elif part.startswith("!"):
            negated = part[1:].strip()
            tests.append(lambda lb, k=negated: k not in lb)
        else:
            tests.append(lambda lb, k=part: k in lb)
    return lambda labels: all(t(labels or {}) for t in tests)


def field_matcher(text):
    tests = []
    for part in _split_selector(text or ""):
        neg = "!=" in part
        key, value = (s.strip() for s in re.split(r"!=|==|=", part, maxsplit=1))
        path = {"metadata.name": "name", "metadata.namespace": "namespace"}.get(key)
        if path is None:
            raise ValueError("field label not supported: %s" % key)
        tests.append(lambda o, p=path, v=value, n=neg: (o["metadata"].get(p) == v) != n)
    return lambda obj: all(t(obj) for t in tests)


# --- patches ----------------------------------------------------------------------


def merge_patch(target, patch, strategic=False):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif (strategic and isinstance(value, list) and isinstance(result.get(key), list)
              and value and all(isinstance(v, dict) and "name" in v for v in value)):
            # Strategic merge: lists of named items (containers, env...) merge by name.
            merged = {item["name"]: item for item in copy.deepcopy(result[key])}
            order = [item["name"] for item in result[key]]
            for item in value:
                if item["name"] in merged:
                    merged[item["name"]] = merge_patch(merged[item["name"]], item, True)
                else:
                    merged[item["name"]] = copy.deepcopy(item)
                    order.append(item["name"])
            result[key] = [merged[n] for n in order]
        else:
            result[key] = merge_patch(result.get(key), value, strategic)
    return result


def json_patch(target, operations):
    result = copy.deepcopy(target)
    for op in operations:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        parent = result
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1]
        if isinstance(parent, list):
            last = len(parent) if last == "-" else int(last)
        if op["op"] in ("add", "replace"):
            if isinstance(parent, list) and op["op"] == "add":
                parent.insert(last, op["value"])
            else:
                parent[last] = op["value"]
        elif op["op"] == "remove":
            del parent[last]
        else:
            raise ValueError("unsupported JSON patch op %s" % op["op"])
    return result


# --- the server -------------------------------------------------------------------


class ApiError(Exception):
    def __init__(self, code, reason, message):
        super().__init__(message)
        self.code, self.reason, self.message = code, reason, message

    def status(self):
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}


class FakeKube:
    def __init__(self, bookmark_interval=None, max_watch_seconds=None):
        self.bookmark_interval = bookmark_interval
        self.max_watch_seconds = max_watch_seconds
        self.requests = []
        self.errors = []
        self._cond = threading.Condition()
        self._rv = 1000
        self._floor = 0
        # key (ns, name) -> [(rv, object or None)], oldest first.
        self._versions = {}
        # (rv, key, old object or None, new object or None)
        self._history = []
        self._drop_after = None
        self._closing = False
        self._server = None
        self._thread = None

    # -- lifecycle --

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        fake = self

        class Handler(_Handler):
            pass
        Handler.fake = fake
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self._server.server_address[1]

    def configuration(self):
        cfg = client.Configuration()
        cfg.host = self.url
        return cfg

    def api_client(self):
        return client.ApiClient(self.configuration())

    def kubeconfig(self, path, context="fake", token="secret-token"):
        """Write a kubeconfig pointing at this server (for config.load_kube_config)."""
        data = {"apiVersion": "v1", "kind": "Config", "current-context": context,
                "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
                "users": [{"name": "tester", "user": {"token": token}}],
                "contexts": [{"name": context, "context": {"cluster": "fake",
                                                           "user": "tester"}}]}
        with open(path, "w") as f:
            json.dump(data, f)
        return str(path)

    # -- faults --

    @property
    def resource_version(self):
        with self._cond:
            return str(self._rv)

    def compact(self):
        """Forget history up to now: older watch starts and continue tokens get 410."""
        with self._cond:
            self._floor = self._rv
            self._history = [h for h in self._history if h[0] > self._floor]
            for key, versions in list(self._versions.items()):
                keep = [v for v in versions if v[0] > self._floor]
                older = [v for v in versions if v[0] <= self._floor]
                if older and older[-1][1] is not None:
                    keep.insert(0, older[-1])
                if keep:
                    self._versions[key] = keep
                else:
                    del self._versions[key]

    def drop_watch_after(self, events):
        """Cut the next watch's connection after it sent `events` events."""
        with self._cond:
            self._drop_after = events

    # -- storage --

    def _current(self, key):
        versions = self._versions.get(key)
        return versions[-1][1] if versions else None

    def _at(self, rv):
        """{key: object} at resource version rv (a list snapshot)."""
        state = {}
        for key, versions in self._versions.items():
            obj = None
            for version_rv, version_obj in versions:
                if version_rv <= rv:
                    obj = version_obj
            if obj is not None:
                state[key] = obj
        return state

    def _write(self, key, new):
        """Store a new version (None deletes); caller holds the lock."""
        old = self._current(key)
        self._rv += 1
        if new is not None:
            new = copy.deepcopy(new)
            new["metadata"]["resourceVersion"] = str(self._rv)
            self._check(new, "Deployment", "apps/v1", store=True)
        self._versions.setdefault(key, []).append((self._rv, new))
        self._history.append((self._rv, key, old, new))
        self._cond.notify_all()
        return new

    def _check(self, obj, kind, api_version, store=False):
        try:
            validate(obj, kind, api_version)
        except jsonschema.ValidationError as exc:
            if store:
                raise ApiError(422, "Invalid", "%s is invalid: %s" % (kind, exc.message)) \
                    from None
            self.errors.append("%s: %s" % (kind, exc.message))

    # -- handlers (called with parsed requests) --

    def create(self, ns, body):
        meta = body.setdefault("metadata", {})
        if meta.get("namespace", ns) != ns:
            raise ApiError(400, "BadRequest", "the namespace of the object does not match")
        with self._cond:
            key = (ns, meta.get("name"))
            if self._current(key) is not None:
                raise ApiError(409, "AlreadyExists",
                               'deployments.apps "%s" already exists' % key[1])
            obj = copy.deepcopy(body)
            obj.update(apiVersion="apps/v1", kind="Deployment")
            obj["metadata"].update(namespace=ns, uid=str(uuid.uuid4()), generation=1,
                                   creationTimestamp=now_iso())
            spec = obj.setdefault("spec", {})
            spec.setdefault("replicas", 1)
            spec.setdefault("revisionHistoryLimit", 10)
            spec.setdefault("progressDeadlineSeconds", 600)
            spec.setdefault("strategy", {"type": "RollingUpdate", "rollingUpdate": {
                "maxUnavailable": "25%", "maxSurge": "25%"}})
            obj["status"] = {}
            return self._write(key, obj)

    def get(self, ns, name):
        with self._cond:
            obj = self._current((ns, name))
        if obj is None:
            raise ApiError(404, "NotFound", 'deployments.apps "%s" not found' % name)
        return copy.deepcopy(obj)

    def update(self, ns, name, sub, body=None, patch=None, patch_type=None):
        with self._cond:
            old = self._current((ns, name))
            if old is None:
                raise ApiError(404, "NotFound", 'deployments.apps "%s" not found' % name)
            if patch is not None:
                if patch_type == "json":
                    body = json_patch(old, patch)
                else:
                    body = merge_patch(old, patch, strategic=patch_type == "strategic")
            else:
                stale = body.get("metadata", {}).get("resourceVersion")
                if stale and stale != old["metadata"]["resourceVersion"]:
                    raise ApiError(409, "Conflict", "Operation cannot be fulfilled on "
                                   'deployments.apps "%s": the object has been modified; '
                                   "please apply your changes to the latest version and "
                                   "try again" % name)
            new = copy.deepcopy(old)
            if sub == "status":
                new["status"] = body.get("status", {})
            else:
                meta = body.get("metadata", {})
                for field in ("labels", "annotations"):
                    new["metadata"][field] = meta.get(field) or {}
                new["spec"] = body.get("spec", {})
                if new["spec"] != old["spec"]:
                    new["metadata"]["generation"] = old["metadata"]["generation"] + 1
            return self._write((ns, name), new)

    def delete(self, ns, name):
        with self._cond:
            old = self._current((ns, name))
            if old is None:
                raise ApiError(404, "NotFound", 'deployments.apps "%s" not found' % name)
            self._write((ns, name), None)
        return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                "details": {"name": name, "group": "apps", "kind": "deployments",
                            "uid": old["metadata"]["uid"]}}

    def list(self, ns, query):
        labels = label_matcher(query.get("labelSelector"))
        fields = field_matcher(query.get("fieldSelector"))
        limit = int(query.get("limit") or 0)
        token = query.get("continue")
        with self._cond:
            if token:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
                rv, start = state["rv"], tuple(state["start"])
                if rv < self._floor:
                    raise ApiError(410, "Expired", "The provided continue parameter is too "
                                   "old to display a consistent list result. You can start "
                                   "a new list without the continue parameter.")
            else:
                rv, start = self._rv, None
            snapshot = self._at(rv)
        keys = sorted(k for k, o in snapshot.items()
                      if (ns is None or k[0] == ns) and labels(o["metadata"].get("labels"))
                      and fields(o))
        if start is not None:
            keys = [k for k in keys if k > start]
        page, rest = (keys[:limit], keys[limit:]) if limit else (keys, [])
        items = []
        for key in page:
            item = copy.deepcopy(snapshot[key])
            item.pop("kind", None)
            item.pop("apiVersion", None)
            items.append(item)
        meta = {"resourceVersion": str(rv)}
        if rest:
            meta["continue"] = base64.urlsafe_b64encode(
                json.dumps({"rv": rv, "start": list(page[-1])}).encode()).decode()
            meta["remainingItemCount"] = len(rest)
        result = {"kind": "DeploymentList", "apiVersion": "apps/v1", "metadata": meta,
                  "items": items}
        self._check(result, "DeploymentList", "apps/v1")
        return result

    def watch(self, ns, query, send, abort):
        """Stream events until the timeout, a drop or the server stops."""
        labels = label_matcher(query.get("labelSelector"))
        fields = field_matcher(query.get("fieldSelector"))
        timeout = float(query.get("timeoutSeconds") or 1800)
        if self.max_watch_seconds is not None:
            timeout = min(timeout, self.max_watch_seconds)
        deadline = time.monotonic() + timeout
        bookmarks = query.get("allowWatchBookmarks") == "true"
        since = query.get("resourceVersion")

        def matches(obj):
            return (obj is not None and (ns is None or obj["metadata"]["namespace"] == ns)
                    and labels(obj["metadata"].get("labels")) and fields(obj))

        sent = 0

        def event(kind, obj):
            """Send one event; True when the connection was cut after it."""
            nonlocal sent
            obj = copy.deepcopy(obj)
            ev = {"type": kind, "object": obj}
            self._check(ev, "WatchEvent", "meta/v1")
            if kind == "ERROR":
                self._check(obj, "Status", "meta/v1")
            elif kind != "BOOKMARK":
                # A bookmark's object is deliberately incomplete (only
                # metadata.resourceVersion), as real servers send it.
                self._check(obj, "Deployment", "apps/v1")
            send(ev)
            if kind in ("ADDED", "MODIFIED", "DELETED"):
                sent += 1
                if drop_after is not None and sent >= drop_after:
                    abort()
                    return True
            return False

        with self._cond:
            drop_after, self._drop_after = self._drop_after, None
            if since in (None, "", "0"):
                cursor = self._rv
                initial = [o for k, o in sorted(self._at(cursor).items()) if matches(o)]
            else:
                cursor, initial = int(since), []
                if cursor < self._floor:
                    expired = ApiError(410, "Expired", "too old resource version: %d (%d)"
                                       % (cursor, self._floor)).status()
                    initial = None
        if initial is None:
            event("ERROR", expired)
            return
        for obj in initial:
            if event("ADDED", obj):
                return
        last_bookmark = time.monotonic()
        while True:
            with self._cond:
                pending = [h for h in self._history if h[0] > cursor]
                if not pending and not self._closing:
                    wait = deadline - time.monotonic()
                    if bookmarks and self.bookmark_interval:
                        wait = min(wait, last_bookmark + self.bookmark_interval
                                   - time.monotonic())
                    if wait > 0:
                        self._cond.wait(wait)
                    pending = [h for h in self._history if h[0] > cursor]
                closing = self._closing
                latest = self._rv
            for rv, _key, old, new in pending:
                cursor = rv
                was, now = matches(old), matches(new)
                if was and now:
                    cut = event("MODIFIED", new)
                elif now:
                    cut = event("ADDED", new)
                elif was:
                    cut = event("DELETED", new or dict(old, metadata=dict(
                        old["metadata"], resourceVersion=str(rv))))
                else:
                    cut = False
                if cut:
                    return
            cursor = max(cursor, latest) if not pending else cursor
            ended = closing or time.monotonic() >= deadline
            due = (self.bookmark_interval is not None
                   and time.monotonic() - last_bookmark >= self.bookmark_interval)
            if bookmarks and (ended or due):
                event("BOOKMARK", {"kind": "Deployment", "apiVersion": "apps/v1",
                                   "metadata": {"resourceVersion": str(cursor)}})
                last_bookmark = time.monotonic()
            if ended:
                return


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake = None

    def log_message(self, *args):  # keep test output quiet
        pass

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"null") if length else None

    def _reply(self, code, payload):
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _dispatch(self, method):
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        self.fake.requests.append((method, parsed.path, query))
        body = self._body() if method in ("POST", "PUT", "PATCH") else None
        m = _PATH.match(parsed.path)
        try:
            if not m:
                raise ApiError(404, "NotFound", "the server could not find the requested "
                               "resource")
            ns, name, sub = m.group("ns"), m.group("name"), m.group("sub")
            if name is None:
                if method == "GET" and query.get("watch") in ("true", "1"):
                    return self._watch(ns, query)
                if method == "GET":
                    return self._reply(200, self.fake.list(ns, query))
                if method == "POST" and ns:
                    return self._reply(201, self.fake.create(ns, body or {}))
            elif method == "GET":
                return self._reply(200, self.fake.get(ns, name))
            elif method == "PUT":
                return self._reply(200, self.fake.update(ns, name, sub, body=body))
            elif method == "PATCH":
                kind = self.headers.get("Content-Type", "")
                patch_type = ("json" if "json-patch" in kind else
                              "merge" if "merge-patch" in kind else
                              "strategic" if "strategic" in kind else None)
                if patch_type is None:
                    raise ApiError(415, "UnsupportedMediaType",
                                   "the body of the request was in an unknown format")
                return self._reply(200, self.fake.update(ns, name, sub, patch=body,
                                                         patch_type=patch_type))
            elif method == "DELETE" and sub is None:
                return self._reply(200, self.fake.delete(ns, name))
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method")
        except ApiError as exc:
            status = exc.status()
            self.fake._check(status, "Status", "meta/v1")
            return self._reply(exc.code, status)

    def _watch(self, ns, query):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def send(event):
            data = json.dumps(event).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        dropped = []

        def abort():
            # Cut the connection without the closing chunk: the client sees a
            # broken stream, as when a load balancer drops it.
            dropped.append(True)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

        try:
            self.fake.watch(ns, query, send, abort)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            dropped.append(True)
        except Exception as exc:  # a bug in the fake: make the test fail
            self.fake.errors.append("watch failed: %r" % exc)
            dropped.append(True)
        if dropped:
            self.close_connection = True
            return
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away first

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")


# --- playing the Deployment controller --------------------------------------------


class Controller:
    """What the Deployment controller would write, through the real client.

    Tests call these between daemon cycles: a rollout is ``observe()`` (the
    controller sees the new generation and stamps the revision), then
    ``progress()`` steps, then ``complete()`` or ``deadline_exceeded()``.
    """

    def __init__(self, api):
        self.api = api  # client.AppsV1Api

    def _read(self, ns, name):
        return self.api.api_client.sanitize_for_serialization(
            self.api.read_namespaced_deployment(name, ns))

    def _status(self, ns, name, status):
        return self.api.patch_namespaced_deployment_status(name, ns, {"status": status})

    @staticmethod
    def _condition(kind, status, reason, message, at=None):
        at = at or now_iso()
        return {"type": kind, "status": status, "reason": reason, "message": message,
                "lastUpdateTime": at, "lastTransitionTime": at}

    def observe(self, ns, name, revision):
        """Stamp the rollout revision and observe the generation (new RS created)."""
        obj = self._read(ns, name)
        self.api.patch_namespaced_deployment(
            name, ns, {"metadata": {"annotations": {REVISION: str(revision)}}})
        status = dict(obj.get("status") or {})
        status.update(observedGeneration=obj["metadata"]["generation"],
                      replicas=status.get("replicas", 0) or 0, updatedReplicas=0)
        status["conditions"] = [self._condition(
            "Progressing", "True", "NewReplicaSetCreated",
            'Created new replica set "%s-%s"' % (name, revision))]
        if status.get("availableReplicas"):
            status["conditions"].append(self._condition(
                "Available", "True", "MinimumReplicasAvailable",
                "Deployment has minimum availability."))
        return self._status(ns, name, status)

    def progress(self, ns, name, updated, available, old=None):
        """The new ReplicaSet has `updated` pods, `available` of them available;
        `old` pods of older ReplicaSets remain."""
        obj = self._read(ns, name)
        status = dict(obj.get("status") or {})
        total = updated + (old or 0)
        status.update(replicas=total, updatedReplicas=updated, readyReplicas=available
                      + (old or 0), availableReplicas=available + (old or 0))
        status["unavailableReplicas"] = max(0, obj["spec"]["replicas"] - available
                                            - (old or 0)) or None
        if status["unavailableReplicas"] is None:
            del status["unavailableReplicas"]
        status["conditions"] = [self._condition(
            "Progressing", "True", "ReplicaSetUpdated",
            'ReplicaSet "%s" is progressing.' % name)]
        return self._status(ns, name, status)

    def complete(self, ns, name, at=None):
        obj = self._read(ns, name)
        n = obj["spec"]["replicas"]
        status = dict(obj.get("status") or {})
        status.update(observedGeneration=obj["metadata"]["generation"], replicas=n,
                      updatedReplicas=n, readyReplicas=n, availableReplicas=n)
        status.pop("unavailableReplicas", None)
        status["conditions"] = [
            self._condition("Available", "True", "MinimumReplicasAvailable",
                            "Deployment has minimum availability.", at),
            self._condition("Progressing", "True", "NewReplicaSetAvailable",
                            'ReplicaSet "%s" has successfully progressed.' % name, at)]
        return self._status(ns, name, status)

    def deadline_exceeded(self, ns, name, at=None):
        obj = self._read(ns, name)
        status = dict(obj.get("status") or {})
        status["conditions"] = [c for c in status.get("conditions") or []
                                if c["type"] != "Progressing"]
        status["conditions"].append(self._condition(
            "Progressing", "False", "ProgressDeadlineExceeded",
            'ReplicaSet "%s" has timed out progressing.' % name, at))
        return self._status(ns, name, status)
