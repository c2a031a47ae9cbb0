"""Kubernetes Deployment rollouts: pure functions, no I/O.

A rollout is one template generation of a Deployment, named by the
controller's revision annotation (``deployment.kubernetes.io/revision``);
its uid is ``<Deployment uid>:<revision>``.

Progress is judged as ``kubectl rollout status`` does (reference
devops-anchors.md §5.2): the controller must have observed the generation,
then ``ProgressDeadlineExceeded`` is a failure, else the updated, total and
available replica counts decide; conditions alone can lag, counts do not.

Rollbacks. Rolling back (``kubectl rollout undo`` or re-applying an older
manifest) makes the controller reuse the older ReplicaSet under a NEW
revision number, so a rollback is a new revision whose pod template equals
an older revision's. radar compares a hash of the whole ``spec.template``
(canonical JSON) kept per revision in the source's cursor, not only images
and git revision: an environment or resource change reverted is a rollback
too, and an unrelated change that keeps the images is not mistaken for one.
This needs no ReplicaSet reads (no extra permission or request); the price
is that revisions made before radar first saw the Deployment are unknown.

Outcomes: the rollout that is rolled back becomes ROLLED_BACK (even if it
had finished); an unfinished rollout replaced by a newer revision becomes
SUPERSEDED, as does one whose Deployment is deleted before it finishes. A
FAILED rollout stays FAILED unless it later completes (the controller kept
trying and the pods came up): then SUCCEEDED. A SUCCEEDED rollout is final;
scaling or pod churn afterwards is not part of it.
"""

import collections
import hashlib
import json

from radar.common import timeutils
from radar.db import models

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
# Template hashes kept per Deployment: as far back as rollbacks are detected
# (the Deployment default revisionHistoryLimit is 10).
TEMPLATES_KEPT = 10

WAITING = "waiting"      # the controller has not observed the new generation
PROGRESSING = "progressing"
COMPLETE = "complete"
FAILED = "failed"

FINAL = (models.SUCCEEDED, models.ROLLED_BACK, models.SUPERSEDED)

Status = collections.namedtuple("Status", "state message replicas updated ready available")

_API_CLIENT = None


def as_dict(obj):
    """A Deployment as the API's JSON dict (camelCase), from a dict or V1Deployment."""
    if isinstance(obj, dict):
        return obj
    global _API_CLIENT
    if _API_CLIENT is None:
        from kubernetes import client  # only for model objects
        _API_CLIENT = client.ApiClient()
    return _API_CLIENT.sanitize_for_serialization(obj)


def condition(dep, kind):
    for cond in (dep.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def rollout_status(dep):
    """Status of the Deployment's current rollout (kubectl rollout status rules)."""
    dep = as_dict(dep)
    meta, spec, status = dep["metadata"], dep.get("spec") or {}, dep.get("status") or {}
    name = meta.get("name")
    want = spec.get("replicas", 1)
    replicas = status.get("replicas") or 0
    updated = status.get("updatedReplicas") or 0
    ready = status.get("readyReplicas") or 0
    available = status.get("availableReplicas") or 0

    def result(state, message):
        return Status(state, message, want, updated, ready, available)

    if (meta.get("generation") or 0) > (status.get("observedGeneration") or 0):
        return result(WAITING, "Waiting for deployment spec update to be observed...")
    progressing = condition(dep, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return result(FAILED, 'deployment "%s" exceeded its progress deadline' % name)
    paused = " (paused)" if spec.get("paused") else ""
    if updated < want:
        return result(PROGRESSING, "Waiting for deployment %r rollout to finish: %d out of "
                      "%d new replicas have been updated...%s" % (name, updated, want, paused))
    if replicas > updated:
        return result(PROGRESSING, "Waiting for deployment %r rollout to finish: %d old "
                      "replicas are pending termination...%s"
                      % (name, replicas - updated, paused))
    if available < updated:
        return result(PROGRESSING, "Waiting for deployment %r rollout to finish: %d of %d "
                      "updated replicas are available...%s" % (name, available, updated, paused))
    return result(COMPLETE, 'deployment "%s" successfully rolled out' % name)


def result_of(state):
    """The deployment result a rollout status maps to."""
    return {COMPLETE: models.SUCCEEDED, FAILED: models.FAILED}.get(state, models.IN_PROGRESS)


def revision(dep):
    """The controller's rollout revision (int), 0 before it stamped one."""
    value = ((as_dict(dep)["metadata"].get("annotations") or {})
             .get(REVISION_ANNOTATION) or "0")
    try:
        return int(value)
    except ValueError:
        return 0


def rollout_uid(dep, rev=None):
    dep = as_dict(dep)
    return "%s:%d" % (dep["metadata"]["uid"], revision(dep) if rev is None else rev)


def template_hash(dep):
    """Identity of the pod template: equal templates, equal hashes."""
    template = (as_dict(dep).get("spec") or {}).get("template") or {}
    text = json.dumps(template, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _lookup(key, *mappings):
    if not key:
        return None
    for mapping in mappings:
        if mapping and mapping.get(key):
            return mapping[key]
    return None


def describe(dep, opts, cluster):
    """What a rollout records about its Deployment, from labels and the template.

    opts: the [kubernetes:<name>] options (the *_label/annotation keys).
    """
    dep = as_dict(dep)
    meta = dep["metadata"]
    template = (dep.get("spec") or {}).get("template") or {}
    tmeta = template.get("metadata") or {}
    labels, tlabels = meta.get("labels") or {}, tmeta.get("labels") or {}
    containers = (template.get("spec") or {}).get("containers") or []
    images = {c["name"]: c.get("image") for c in containers}
    version = _lookup(opts.version_label, labels, tlabels)
    if version is None and containers:
        version = image_tag(containers[0].get("image"))
    return {
        "cluster": cluster,
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "service": _lookup(opts.service_label, labels, tlabels) or meta.get("name"),
        "environment": _lookup(opts.environment_label, labels, tlabels)
        or opts.environment or None,
        "wave": _lookup(opts.wave_label, labels, tlabels),
        "version": version,
        "images": images,
        "revision": _lookup(opts.revision_annotation, tmeta.get("annotations"),
                            meta.get("annotations"))
        or _lookup(opts.revision_label, tlabels, labels),
    }


def image_tag(image):
    """'registry:5000/app:1.2@sha256:..' -> '1.2'; no tag -> the digest or None."""
    if not image:
        return None
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.rsplit(":", 1)[1]
    return digest or None


def _time(cond, fallback):
    stamp = cond and (cond.get("lastUpdateTime") or cond.get("lastTransitionTime"))
    try:
        return timeutils.parse_iso(stamp) if stamp else fallback
    except ValueError:
        return fallback


def _finished_at(dep, at):
    """When the rollout ended: the controller's last Progressing update (the
    deadline, or the step that completed it), not when radar read it."""
    stamp = _time(condition(dep, "Progressing"), at)
    return min(stamp, at)


def observe(entry, dep, at, opts, cluster, baseline=False):
    """Advance one Deployment's rollout tracking with a new view of it.

    entry: what the source remembers of this Deployment (None when new; a
    JSON-able dict kept in the cursor). baseline: the first list of a
    namespace - a Deployment found at rest there is remembered, not recorded
    (radar did not see that rollout happen).
    Returns (entry, [(rollout uid, values for deployment_record, at)]).
    """
    dep = as_dict(dep)
    meta = dep["metadata"]
    status = rollout_status(dep)
    rev = revision(dep)
    if status.state == WAITING or rev == 0:
        # The controller has not stamped the new revision yet; its next write will.
        return entry, []
    thash = template_hash(dep)
    records = []
    new = False
    if entry is None:
        entry = {"namespace": meta.get("namespace"), "name": meta.get("name"),
                 "uid": meta["uid"], "rev": rev, "result": None, "recorded": False,
                 "templates": {str(rev): thash}}
        if baseline and status.state == COMPLETE:
            entry["result"] = models.SUCCEEDED
            return entry, []
        new = True
    elif rev < entry["rev"]:
        return entry, []  # an older view than one already handled
    elif rev > entry["rev"]:
        entry = dict(entry, templates=dict(entry["templates"]))
        records.extend(_end_previous(entry, rev, thash, at))
        entry.update(rev=rev, result=None, recorded=False, rollback_of=_rollback_of(
            entry, rev, thash))
        entry["templates"][str(rev)] = thash
        kept = sorted(entry["templates"], key=int)[-TEMPLATES_KEPT:]
        entry["templates"] = {r: entry["templates"][r] for r in kept}
        new = True
    elif not entry["recorded"] or entry["result"] in FINAL:
        # At rest since the baseline, or finished: later scaling is not this rollout.
        return entry, records

    result = result_of(status.state)
    if entry.get("result") == models.FAILED and result == models.IN_PROGRESS:
        result = models.FAILED  # a failure is not undone by more waiting, only by success
    values = describe(dep, opts, cluster)
    message = status.message
    if entry.get("rollback_of"):
        message = "rollback to revision %s: %s" % (entry["rollback_of"], message)
    values.update(result=result, message=message[:1024], replicas=status.replicas,
                  updated_replicas=status.updated, ready_replicas=status.ready,
                  available_replicas=status.available, rollout_revision=rev,
                  generation=meta.get("generation"))
    if result in (models.SUCCEEDED, models.FAILED):
        values["finished_at"] = _finished_at(dep, at)
    if new:
        start = at
        if rev == 1 and meta.get("creationTimestamp"):
            # A new Deployment's first rollout starts when it was created.
            start = timeutils.parse_iso(meta["creationTimestamp"])
        if values.get("finished_at") and values["finished_at"] < start:
            start = values["finished_at"]  # seen only after it ended (e.g. a relist)
        values["started_at"] = start
    entry = dict(entry, result=result, recorded=True)
    records.append((rollout_uid(dep, rev), values, at))
    return entry, records


def _rollback_of(entry, rev, thash):
    older = [int(r) for r, h in entry["templates"].items() if h == thash and int(r) < rev]
    return max(older) if older else None


def _end_previous(entry, rev, thash, at):
    """The previous rollout of a Deployment that has a new revision `rev`."""
    if not entry["recorded"]:
        return []
    uid = "%s:%d" % (entry["uid"], entry["rev"])
    back_to = _rollback_of(entry, rev, thash)
    unfinished = entry["result"] == models.IN_PROGRESS
    if back_to is not None and entry["result"] != models.ROLLED_BACK:
        values = {"result": models.ROLLED_BACK,
                  "message": "rolled back: revision %d returns to the template of "
                             "revision %d" % (rev, back_to)}
    elif unfinished:
        values = {"result": models.SUPERSEDED,
                  "message": "superseded by revision %d before it finished" % rev}
    else:
        return []
    if unfinished:
        values["finished_at"] = at
    return [(uid, values, at)]


def forget(entry, at):
    """The Deployment is gone (deleted, or no longer selected): end its rollout."""
    if entry is None or not entry.get("recorded") or entry["result"] != models.IN_PROGRESS:
        return []
    return [("%s:%d" % (entry["uid"], entry["rev"]),
             {"result": models.SUPERSEDED, "finished_at": at,
              "message": "the Deployment was deleted (or left the watched set) before "
                         "the rollout finished"}, at)]
