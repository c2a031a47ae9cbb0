"""/v1/deployments: rollouts, pushed by pipelines or seen in Kubernetes.

Writes (POST, PATCH) need a 'write' token. A deployment is addressed by
radar's id (a number) or, when it was pushed, by the caller's own id,
which therefore may not be a number.
"""

import re
import uuid

from sqlalchemy import exc as sa_exc

from radar.api import auth
from radar.api.v1 import base, types
from radar.common import exception, timeutils
from radar.db import deployments as db_deploy
from radar.db import models

RESULTS = models.DEPLOY_RESULTS
FINAL = (models.SUCCEEDED, models.FAILED, models.ROLLED_BACK, models.SUPERSEDED)
# Moves out of a final result that are allowed: a success undone later.
LATE_MOVES = {(models.SUCCEEDED, models.ROLLED_BACK)}
REVISION = re.compile(r"[0-9a-fA-F]{4,64}")
MAX_IMAGES = 100
MAX_REPLICAS = 2 ** 31 - 1


def _get(ident):
    row = db_deploy.deployment_get(base.session(),
                                   base.parse_text("id", ident, required=True))
    if row is None:
        raise base.not_found("Deployment", ident)
    return row


def _text(name, value, max_length, required=False):
    """A body string: stripped, '' as absent, no control characters."""
    if value is None or not types.is_set(value):
        value = None
    elif isinstance(value, str):
        value = value.strip()
    if required and not value:
        raise base.invalid(name, "is required")
    return base.parse_text(name, value, max_length=max_length) if value else None


def _url(name, value):
    value = _text(name, value, 1024)
    if value is not None and not re.match(r"https?://[^\s/]+", value, re.IGNORECASE):
        raise base.invalid(name, "expected an http:// or https:// URL")
    return value


def _result(value):
    value = _text("result", value, 16)
    if value is None:
        return None
    return base.parse_choice("result", value, RESULTS, upper=True)


def _count(name, value):
    if value is None:
        raise base.invalid(name, "may not be null")
    if isinstance(value, bool) or not 0 <= value <= MAX_REPLICAS:
        raise base.invalid(name, "expected a whole number from 0 to %d" % MAX_REPLICAS)
    return value


def _images(value):
    if value is None or not types.is_set(value):
        return None
    if len(value) > MAX_IMAGES:
        raise base.invalid("images", "at most %d containers" % MAX_IMAGES)
    out = {}
    for container, image in value.items():
        if not isinstance(container, str) or not isinstance(image, str):
            raise base.invalid("images", "expected an object of container name: image")
        container = base.parse_text("images", container.strip(), required=True)
        out[container] = base.parse_text("images", image.strip(), max_length=1024,
                                         required=True)
    return out


def _create_values(body):
    values = {
        "service": _text("service", body.service, 255, required=True),
        "environment": _text("environment", body.environment, 64),
        "wave": _text("wave", body.wave, 64),
        "version": _text("version", body.version, 255),
        "cluster": _text("cluster", body.cluster, 255),
        "namespace": _text("namespace", body.namespace, 255),
        "message": _text("message", body.message, 1024),
        "url": _url("url", body.url),
        "images": _images(body.images),
    }
    revision = _text("revision", body.revision, 64)
    if revision is not None:
        if not REVISION.fullmatch(revision):
            raise base.invalid("revision", "expected a git commit id (4 to 64 hexadecimal "
                                           "digits)")
        # Gerrit reports revisions in lower case; DORA's lead time matches on them.
        revision = revision.lower()
    values["revision"] = revision
    now = timeutils.utcnow()
    started = base.parse_time("started_at", _text("started_at", body.started_at, 64))
    finished = base.parse_time("finished_at", _text("finished_at", body.finished_at, 64))
    result = _result(body.result) or models.IN_PROGRESS
    if finished is not None and result == models.IN_PROGRESS:
        raise base.invalid("finished_at", "a deployment IN_PROGRESS has not finished; give "
                                          "its result too")
    started = started or (finished if finished is not None and finished < now else now)
    if result in FINAL and finished is None:
        finished = max(now, started)
    if finished is not None and finished < started:
        raise base.invalid("finished_at", "is before started_at")
    values.update(result=result, started_at=started, finished_at=finished)
    return {k: v for k, v in values.items() if v is not None}


def _uid(body):
    uid = _text("id", body.id, 255)
    if uid is None:
        return str(uuid.uuid4())
    if uid.isascii() and uid.isdigit():
        raise base.invalid("id", "must not be a number (numbers are radar's deployment ids)")
    if "/" in uid:
        raise base.invalid("id", "must not contain '/'")
    return uid


def _update_values(body, row):
    values = {}
    if types.is_set(body.result):
        result = _result(body.result)
        if result is None:
            raise base.invalid("result", "may not be empty")
        old = row["result"]
        if result != old and old in FINAL and (old, result) not in LATE_MOVES:
            raise exception.Conflict("Deployment %s already ended %s; it cannot become %s"
                                     % (row["id"], old, result))
        values["result"] = result
    if types.is_set(body.finished_at):
        finished = base.parse_time("finished_at", _text("finished_at", body.finished_at, 64))
        if finished is None:
            raise base.invalid("finished_at", "may not be empty")
        values["finished_at"] = finished
    for field in ("message", "url"):
        value = getattr(body, field)
        if types.is_set(value):
            values[field] = (_url(field, value) if field == "url"
                             else _text(field, value, 1024))
    for field in ("replicas", "updated_replicas", "ready_replicas", "available_replicas"):
        value = getattr(body, field)
        if types.is_set(value):
            values[field] = _count(field, value)
    result = values.get("result", row["result"])
    finished = values.get("finished_at", row["finished_at"])
    if result == models.IN_PROGRESS and "finished_at" in values:
        raise base.invalid("finished_at", "a deployment IN_PROGRESS has not finished; give "
                                          "its result too")
    if result in FINAL and finished is None:
        finished = values["finished_at"] = max(timeutils.utcnow(), row["started_at"])
    if finished is not None and finished < row["started_at"]:
        raise base.invalid("finished_at", "is before started_at")
    return values


def _need(body):
    if body is None:
        raise exception.Invalid("The request needs a JSON object body")


def detail(row):
    history = db_deploy.deployment_history(base.session(), row["id"])
    return types.DeploymentDetail.from_dict(
        row, history=[types.DeploymentStep.from_dict(h) for h in history])


class DeploymentsController(base.Resource):
    routes = (
        ("GET", (), "get_all"),
        ("POST", (), "post"),
        ("GET", ("waves",), "waves"),
        ("GET", ("*",), "get_one"),
        ("PATCH", ("*",), "patch"),
    )

    @base.expose([types.Deployment], types.text, types.text, types.text, types.text,
                 types.text, types.text, types.text, types.text, types.text)
    def get_all(self, service=None, environment=None, wave=None, result=None, version=None,
                since=None, until=None, limit=None, marker=None):
        filters = {
            "service": base.parse_text("service", service),
            "environment": base.parse_text("environment", environment, max_length=64),
            "wave": base.parse_text("wave", wave, max_length=64),
            "result": base.parse_choice("result", result, RESULTS, upper=True),
            "version": base.parse_text("version", version),
            "since": base.parse_time("since", since),
            "until": base.parse_time("until", until),
        }
        if filters["since"] and filters["until"] and filters["since"] >= filters["until"]:
            raise base.invalid("until", "must be later than since")
        limit = base.parse_limit(limit)
        marker = base.parse_int("marker", marker, minimum=1, maximum=2 ** 31 - 1)
        total, page = db_deploy.deployment_list(base.session(), limit, marker=marker,
                                                **filters)
        if page is None:
            raise base.invalid("marker", "no deployment %d in this list" % marker)
        base.set_header("X-Total-Count", total)
        base.mark_csv(types.Deployment.fields())
        return [types.Deployment.from_dict(r) for r in page]

    @base.expose(types.DeploymentDetail, types.text)
    def get_one(self, ident):
        return detail(_get(ident))

    @base.expose([types.Rollout], types.text, types.text, types.text, types.text)
    def waves(self, service=None, environment=None, since=None, until=None):
        service = base.parse_text("service", service)
        environment = base.parse_text("environment", environment, max_length=64)
        window = base.parse_window(since, until)
        rollouts = db_deploy.deployment_waves(
            base.session(), base.conf().dora.wave_order, service=service,
            environment=environment, since=window.since, until=window.until)
        base.set_header("X-Total-Count", len(rollouts))
        return [types.Rollout.from_dict(r, waves=[
            types.RolloutWave(wave=w["wave"], deployment_id=w["id"], result=w["result"],
                              started_at=w["started_at"], finished_at=w["finished_at"])
            for w in r["waves"]]) for r in rollouts]

    @base.expose(types.DeploymentDetail, body=types.DeploymentInput, status_code=201)
    def post(self, body):
        session = base.session()
        auth.require("write")
        _need(body)
        uid = _uid(body)
        values = _create_values(body)
        if db_deploy.deployment_exists(session, db_deploy.API_SOURCE, uid):
            raise exception.Conflict("A deployment with id %r already exists" % uid[:80])
        try:
            with session.begin_nested():
                ident, _, _ = db_deploy.deployment_record(
                    session, db_deploy.API_SOURCE, uid, values, at=timeutils.utcnow())
        except sa_exc.IntegrityError:
            # Another request stored the same id in between.
            raise exception.Conflict("A deployment with id %r already exists"
                                     % uid[:80]) from None
        session.commit()
        base.set_header("Location", "%s/v1/deployments/%d" % (base.host_url(), ident))
        return detail(db_deploy.deployment_get(session, ident))

    @base.expose(types.DeploymentDetail, types.text, body=types.DeploymentUpdate)
    def patch(self, ident, body):
        session = base.session()
        auth.require("write")
        row = _get(ident)
        _need(body)
        values = _update_values(body, row)
        if values:
            db_deploy.deployment_record(session, row["source"], row["uid"], values,
                                        at=timeutils.utcnow())
            session.commit()
        return detail(db_deploy.deployment_get(session, row["id"]))
