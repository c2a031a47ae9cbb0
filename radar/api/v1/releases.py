"""/v1/releases: releases, their task workflow and its history (writes need a 'write' token).

Bodies are checked here field by field (types, lengths, dates) before
anything is written, so a bad request stores nothing and its 400 names
the field.
"""

import datetime as dt
import re

from radar.api import auth
from radar.api.v1 import base, types
from radar.common import timeutils
from radar.conf import releases as releases_conf
from radar.db import models
from radar.db import releases as db_releases

VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+~-]{0,63}$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
STATUSES = ("GREEN", "RED")
MAX_ADVISORIES = 100
MAX_BUILDS = 50
# A pipeline's clock may run a little ahead of ours; further is a mistake.
FUTURE_SLACK = dt.timedelta(minutes=10)


def _version(value):
    if not isinstance(value, str) or not VERSION.match(value):
        raise base.invalid("version", "expected letters, digits, '.', '_', '+', '~' or '-' "
                                      "(at most 64, starting with a letter or digit), got %s"
                           % base._show(value))
    return value


def _task_name(value):
    if not releases_conf.TASK_NAME.match(value or ""):
        raise base.invalid("task", "expected a task name such as stage-testing, got %s"
                           % base._show(value))
    return value


# --- body checks ---------------------------------------------------------------------


def _object(name, value, allowed):
    if not isinstance(value, dict):
        raise base.invalid(name, "expected a JSON object, got %s" % _json_type(value))
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise base.invalid(name, "unknown attribute %s (expected: %s)"
                           % (base._show(unknown[0]), ", ".join(allowed)))
    return value


def _json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _string(name, value, max_length, required=False):
    if value is None:
        if required:
            raise base.invalid(name, "a value is required")
        return None
    if not isinstance(value, str):
        raise base.invalid(name, "expected a string, got %s" % _json_type(value))
    value = value.strip()
    if not value:
        if required:
            raise base.invalid(name, "a value is required")
        return None
    if len(value) > max_length:
        raise base.invalid(name, "longer than %d characters" % max_length)
    # Messages may span lines; nothing else may hold control characters.
    allowed = "\n\t" if max_length > 1024 else ""
    if any(ord(c) < 32 and c not in allowed for c in value):
        raise base.invalid(name, "control characters are not allowed")
    return value


def _url(name, value):
    value = _string(name, value, 1024)
    if value is not None and not re.match(r"^https?://[^\s/]+", value, re.IGNORECASE):
        raise base.invalid(name, "expected an http:// or https:// URL, got %s"
                           % base._show(value))
    return value


def _date(name, value):
    value = _string(name, value, 10)
    if value is None:
        return None
    try:
        if not DATE.match(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise base.invalid(name, "expected a date YYYY-MM-DD, got %s"
                           % base._show(value)) from None


def _bool(name, value):
    if value is None:
        return None
    if not isinstance(value, bool):
        raise base.invalid(name, "expected true or false, got %s" % _json_type(value))
    return value


def _advisories(value):
    if value is None:
        return None
    if not isinstance(value, list):
        raise base.invalid("advisories", "expected an array, got %s" % _json_type(value))
    if len(value) > MAX_ADVISORIES:
        raise base.invalid("advisories", "at most %d advisories" % MAX_ADVISORIES)
    out = []
    for i, item in enumerate(value):
        where = "advisories[%d]" % i
        _object(where, item, ("id", "url", "state"))
        out.append({"id": _string(where + ".id", item.get("id"), 64, required=True),
                    "url": _url(where + ".url", item.get("url")),
                    "state": _string(where + ".state", item.get("state"), 64)})
    return out


def _builds(value):
    if value is None:
        return None
    if not isinstance(value, dict):
        raise base.invalid("builds", "expected an object {arch: build}, got %s"
                           % _json_type(value))
    if len(value) > MAX_BUILDS:
        raise base.invalid("builds", "at most %d builds" % MAX_BUILDS)
    out = {}
    for arch, build in value.items():
        arch = _string("builds", arch, 64, required=True)
        out[arch] = _string("builds.%s" % arch, build, 255, required=True)
    return out


def _shipment(value):
    if value is None:
        return None
    _object("shipment", value, ("url", "state", "shipped"))
    return {"url": _url("shipment.url", value.get("url")),
            "state": _string("shipment.state", value.get("state"), 64),
            "shipped": bool(_bool("shipment.shipped", value.get("shipped")))}


def release_values(body):
    """The columns a PUT /v1/releases/{version} body sets (only those given)."""
    _object("body", body, db_releases.RELEASE_FIELDS)
    checks = {
        "product": lambda v: _string("product", v, 64),
        "flow_type": lambda v: _string("flow_type", v, 32),
        "target_date": lambda v: _date("target_date", v),
        "jira_url": lambda v: _url("jira_url", v),
        "advisories": _advisories,
        "builds": _builds,
        "shipment": _shipment,
    }
    values = {field: checks[field](body[field]) for field in db_releases.RELEASE_FIELDS
              if field in body}
    if values.get("product") is not None and not VERSION.match(values["product"]):
        raise base.invalid("product", "expected letters, digits, '.', '_', '+', '~' or '-', "
                                      "got %s" % base._show(values["product"]))
    return values


def task_values(body):
    """(status, at, url, message) of a PUT .../tasks/{task} body."""
    _object("body", body, ("status", "url", "message", "at"))
    status = _string("status", body.get("status"), 16, required=True)
    status = base.parse_choice("status", status, models.TASK_STATES, upper=True)
    at = None
    if body.get("at") is not None:
        if not isinstance(body["at"], str):
            raise base.invalid("at", "expected an ISO-8601 time string, got %s"
                               % _json_type(body["at"]))
        at = base.parse_time("at", body["at"])
        if at > timeutils.utcnow() + FUTURE_SLACK:
            raise base.invalid("at", "is in the future")
    return (status, at, _url("url", body.get("url")),
            _string("message", body.get("message"), 2048))


# --- responses ---------------------------------------------------------------------------


def _summary(release, cls=types.ReleaseSummary):
    data = dict(release)
    if data.get("target_date") is not None:
        data["target_date"] = data["target_date"].isoformat()
    return cls.from_dict(data)


def _detail(release):
    # An object either way: the document's schema (and clients) need not
    # tell a missing shipment from one not shipped.
    shipment = release.get("shipment") or {"url": None, "state": None, "shipped": False}
    return _summary(dict(release, shipment=shipment), types.ReleaseDetail)


def _get(version):
    release = db_releases.release_get(base.session(), _version(version))
    if release is None:
        raise base.not_found("Release", version)
    return release


class ReleasesController(base.Resource):
    routes = (
        ("GET", (), "get_all"),
        ("GET", ("tasks", "stats"), "task_stats"),
        ("GET", ("*",), "get_one"),
        ("PUT", ("*",), "put"),
        ("PUT", ("*", "tasks", "*"), "put_task"),
    )

    @base.expose([types.ReleaseSummary], types.text, types.text, types.text, types.text,
                 types.text, types.text)
    def get_all(self, product=None, status=None, done=None, since=None, limit=None,
                marker=None):
        product = base.parse_text("product", product, max_length=64)
        status = base.parse_choice("status", status, STATUSES, upper=True)
        done = base.parse_bool("done", done)
        since = base.parse_time("since", since)
        limit = base.parse_limit(limit)
        marker = base.parse_text("marker", marker, max_length=64)
        items, total = db_releases.release_list(base.session(), product=product,
                                                status=status, done=done, since=since,
                                                limit=limit, marker=marker)
        if items is None:
            raise base.invalid("marker", "no release %s in this list" % base._show(marker))
        base.set_header("X-Total-Count", total)
        return [_summary(r) for r in items]

    @base.expose(types.ReleaseDetail, types.text)
    def get_one(self, version):
        return _detail(_get(version))

    @base.expose([types.ReleaseTaskStat], types.text, types.text, types.text)
    def task_stats(self, product=None, since=None, until=None):
        product = base.parse_text("product", product, max_length=64)
        since = base.parse_time("since", since)
        until = base.parse_time("until", until)
        if since is not None and until is not None and since >= until:
            raise base.invalid("until", "must be later than since")
        rows = db_releases.release_task_stats(base.session(), product=product, since=since,
                                              until=until)
        return [types.ReleaseTaskStat.from_dict(r) for r in rows]

    @base.expose(types.ReleaseDetail, types.text, body=types.raw_json, status_code=200)
    def put(self, version, body):
        session = base.session()
        auth.require("write")
        version = _version(version)
        values = release_values(body)
        workflow = releases_conf.workflow(base.conf())
        release, created = db_releases.release_put(session, version, values, workflow)
        session.commit()
        if created:
            base.set_header("Location", "%s/v1/releases/%s" % (base.host_url(), version))
            return types.with_status(_detail(release), 201)
        return _detail(release)

    @base.expose(types.ReleaseDetail, types.text, types.text, body=types.raw_json)
    def put_task(self, version, task, body):
        session = base.session()
        token = auth.require("write")
        version = _version(version)
        task = _task_name(task)
        status, at, url, message = task_values(body)
        db_releases.release_task_set(session, version, task, status, at=at, url=url,
                                     message=message, actor=token["name"])
        session.commit()
        return _detail(_get(version))
