"""The OpenAPI 3 document served at /v1/openapi.json.

Schemas come from the WSME types (radar.api.v1.types), so the document
cannot drift from what the API serializes; tests check real responses
against it and fuzz the API from it.
"""

import copy

import radar
from radar.api.v1 import types

HEALTH = ["GREEN", "YELLOW", "RED", "SILENT", "UNKNOWN"]
RESULTS = ["SUCCESS", "FAILURE", "MERGE_FAILED", "CANCELED", "UNKNOWN"]


def _q(name, description, schema=None, required=False):
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or {"type": "string", "maxLength": 255}}


def _path(name, description, schema=None):
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema or {"type": "string", "minLength": 1, "maxLength": 255}}


TIME = {"type": "string", "format": "date-time",
        "description": "ISO-8601 date or time, UTC when no offset is given"}
SINCE = _q("since", "Start of the window (inclusive); default: 'until' minus "
                    "[api] default_window_days (7).", TIME)
UNTIL = _q("until", "End of the window (exclusive); default: now.", TIME)
PROJECT = _q("project", "Only this Gerrit project (e.g. openstack/nova).")
LIMIT = _q("limit", "Page size; default [api] default_limit (100), lowered to "
                    "[api] max_limit (1000).", {"type": "integer", "minimum": 1})
Q = _q("q", "Case-insensitive substring of the name.")
FORMAT = _q("format", "csv for CSV instead of JSON (also: Accept: text/csv).",
            {"type": "string", "enum": ["json", "csv"]})
WINDOW = [SINCE, UNTIL]


def _sort(fields):
    values = []
    for f in fields:
        values += [f, "-" + f]
    return _q("sort", "Sort key; prefix '-' for descending.", {"type": "string",
                                                                 "enum": values})


def _ref(name):
    return {"$ref": "#/components/schemas/%s" % name}


def _list(name):
    return {"type": "array", "items": _ref(name)}


def _ok(schema, csv=False, status="200", description="OK", total=False):
    content = {"application/json": {"schema": schema}}
    if csv:
        content["text/csv"] = {"schema": {"type": "string"}}
    resp = {"description": description, "content": content,
            "headers": {"X-Request-Id": {"schema": {"type": "string"}}}}
    if total:
        resp["headers"]["X-Total-Count"] = {
            "description": "Items in the whole list (all pages).",
            "schema": {"type": "integer", "minimum": 0}}
    return {status: resp}


def _errors(*codes):
    descriptions = {
        "400": "Invalid argument or body; the message names the argument and why.",
        "401": "Missing, unknown or revoked token.",
        "403": "The token lacks the scope this request needs.",
        "404": "No such resource.",
        "405": "Method not allowed.",
        "409": "Conflict with the current state (duplicate name...).",
        "413": "Request body too large.",
        "414": "Query string too long.",
        "415": "Body is not JSON.",
        "500": "Server error: a generic message and the request id.",
    }
    out = {}
    for code in ("400", "404", "405", "414", "500") + codes:
        out[code] = {"description": descriptions[code],
                     "content": {"application/json": {"schema": _ref("Error")}}}
    return out


def _op(summary, params, responses, tags, body=None, secured=None, op_id=None):
    op = {"summary": summary, "operationId": op_id, "tags": tags,
          "parameters": params, "responses": responses}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": _ref(body)}}}
    if secured:
        op["security"] = [{"bearer": []}]
        op["description"] = "Needs a token with the '%s' scope%s." % (
            secured, "" if secured == "admin" else " (or 'admin')")
    return op


SYSTEM_ID = _path("id", "CI system id or name (case-insensitive).")
SUMMARY_SORT = _sort([f for f in types.SUMMARY_FIELDS if f != "accounts"])


def _paths():
    p = {}
    p["/"] = {"get": _op("Version document", [], dict(_ok(_ref("VersionDocument"))),
                         ["meta"], op_id="version")}
    p["/v1"] = {"get": _op("The v1 API and its resources", [], dict(_ok(_ref("V1Document"))),
                           ["meta"], op_id="v1")}
    p["/v1/openapi.json"] = {"get": _op("This document", [], {"200": {
        "description": "OpenAPI 3 document",
        "content": {"application/json": {"schema": {"type": "object"}}}}},
        ["meta"], op_id="openapi")}
    p["/v1/systems"] = {"get": _op(
        "Every CI system with its summary for the window",
        WINDOW + [PROJECT, Q, _q("health", "Only systems in this health state.",
                                 {"type": "string", "enum": HEALTH}),
                  _q("enabled", "Only enabled (true) or disabled (false) systems.",
                     {"type": "boolean"}),
                  SUMMARY_SORT, LIMIT, _q("marker", "Id of the last system of the previous "
                                                    "page.", {"type": "integer",
                                                              "minimum": 0}),
                  FORMAT],
        dict(_ok(_list("SystemSummary"), csv=True, total=True), **_errors()),
        ["systems"], op_id="listSystems")}
    p["/v1/systems/{id}"] = {
        "get": _op("One CI system: summary, settings and operators",
                   [SYSTEM_ID] + WINDOW + [PROJECT],
                   dict(_ok(_ref("SystemDetail")), **_errors()), ["systems"],
                   op_id="getSystem"),
        "put": _op("Change a CI system's settings (only the attributes given)",
                   [SYSTEM_ID], dict(_ok(_ref("SystemDetail")),
                                     **_errors("401", "403", "409", "413", "415")),
                   ["systems"], body="SystemSettings", secured="admin",
                   op_id="updateSystem"),
    }
    p["/v1/systems/{id}/series"] = {"get": _op(
        "The summary fields per interval, for trend charts",
        [SYSTEM_ID] + WINDOW + [_q("interval", "Bucket size (UTC days, or weeks from "
                                               "Monday); default day.",
                                   {"type": "string", "enum": ["day", "week"]}), PROJECT,
                                FORMAT],
        dict(_ok(_list("SeriesPoint"), csv=True, total=True), **_errors()),
        ["systems"], op_id="systemSeries")}
    p["/v1/systems/{id}/missed"] = {"get": _op(
        "Eligible patch sets the system did not report on",
        [SYSTEM_ID] + WINDOW + [PROJECT, LIMIT,
                                _q("marker", "'change/patchset' of the last item of the "
                                             "previous page."), FORMAT],
        dict(_ok(_list("MissedPatchset"), csv=True, total=True), **_errors()),
        ["systems"], op_id="systemMissed")}
    p["/v1/systems/{id}/jobs"] = {"get": _op(
        "Per job: runs, results, success rate, flaky count, duration",
        [SYSTEM_ID] + WINDOW + [PROJECT, _sort(["name", "runs", "success_rate", "flaky",
                                                "median_duration_s", "last_run"]),
                                LIMIT, _q("marker", "Name of the last job of the previous "
                                                    "page."), FORMAT],
        dict(_ok(_list("JobStat"), csv=True, total=True), **_errors()),
        ["systems"], op_id="systemJobs")}
    report_filters = WINDOW + [
        PROJECT,
        _q("result", "Only reports with this result.", {"type": "string", "enum": RESULTS}),
        _q("pipeline", "Only reports from this pipeline (check, gate...).",
           {"type": "string", "maxLength": 64}),
        _q("change", "Only reports on this change number.",
           {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}),
        LIMIT,
        _q("marker", "Id of the last report of the previous page.",
           {"type": "integer", "minimum": 1}),
        FORMAT]
    p["/v1/systems/{id}/reports"] = {"get": _op(
        "The system's reports, newest first, with job lines",
        [SYSTEM_ID] + report_filters,
        dict(_ok(_list("Report"), csv=True, total=True), **_errors()),
        ["systems"], op_id="systemReports")}
    p["/v1/systems/{id}/badge.svg"] = {"get": _op(
        "README badge: health and success rate", [SYSTEM_ID] + WINDOW + [PROJECT],
        dict({"200": {"description": "SVG badge (cacheable)",
                      "content": {"image/svg+xml": {"schema": {"type": "string"}}}}},
             **_errors()), ["systems"], op_id="systemBadge")}
    p["/v1/reports"] = {"get": _op(
        "All reports, newest first, with filters",
        [_q("system", "CI system id or name.")] + report_filters,
        dict(_ok(_list("Report"), csv=True, total=True), **_errors()),
        ["reports"], op_id="listReports")}
    p["/v1/compare"] = {"get": _op(
        "Side by side summaries and the pairwise agreement matrix",
        [_q("systems", "Comma-separated CI system ids or names (at most 20).",
            {"type": "string", "minLength": 1, "maxLength": 2000}, required=True)]
        + WINDOW + [PROJECT],
        dict(_ok(_ref("Comparison")), **_errors()), ["systems"], op_id="compare")}
    p["/v1/projects"] = {"get": _op(
        "Projects and the CI systems that report on them",
        WINDOW + [Q, _sort(["name", "changes", "patchsets"]), LIMIT,
                  _q("marker", "Name of the last project of the previous page."), FORMAT],
        dict(_ok(_list("ProjectSummary"), csv=True, total=True), **_errors()),
        ["projects"], op_id="listProjects")}
    p["/v1/projects/{name}"] = {"get": _op(
        "One project (the name may contain '/')",
        [_path("name", "Project name, e.g. openstack/nova (slashes allowed).")] + WINDOW,
        dict(_ok(_ref("ProjectSummary")), **_errors()), ["projects"], op_id="getProject")}
    p["/v1/changes/{number}"] = {"get": _op(
        "Pipeline view of a change: patch sets, reports, rechecks",
        [_path("number", "Change number.", {"type": "integer", "minimum": 1,
                                            "maximum": 2**31 - 1}),
         _q("source", "Source name, when the number exists on several.",
            {"type": "string", "maxLength": 64})],
        dict(_ok(_ref("ChangeView")), **_errors("409")), ["changes"], op_id="getChange")}
    p["/v1/operators"] = {
        "get": _op("CI operators", [Q, LIMIT, _q("marker", "Id of the last operator of "
                                                           "the previous page.",
                                                 {"type": "integer", "minimum": 0}), FORMAT],
                   dict(_ok(_list("Operator"), csv=True, total=True), **_errors()),
                   ["operators"], op_id="listOperators"),
        "post": _op("Register an operator, optionally linked to CI systems", [],
                    dict(_ok(_ref("Operator"), status="201", description="Created"),
                         **_errors("401", "403", "409", "413", "415")),
                    ["operators"], body="OperatorInput", secured="write",
                    op_id="createOperator"),
    }
    operator_id = _path("id", "Operator id or name.")
    p["/v1/operators/{id}"] = {
        "get": _op("One operator", [operator_id], dict(_ok(_ref("Operator")), **_errors()),
                   ["operators"], op_id="getOperator"),
        "put": _op("Change an operator; 'systems' replaces the links", [operator_id],
                   dict(_ok(_ref("Operator")), **_errors("401", "403", "409", "413", "415")),
                   ["operators"], body="OperatorInput", secured="write",
                   op_id="updateOperator"),
        "delete": _op("Remove an operator", [operator_id],
                      dict({"204": {"description": "Deleted"}}, **_errors("401", "403")),
                      ["operators"], secured="write", op_id="deleteOperator"),
    }
    _release_paths(p)
    p["/v1/collector"] = {"get": _op(
        "Per source: last collection, last error, lag, staleness", [FORMAT],
        dict(_ok(_list("CollectorSource"), csv=True, total=True), **_errors()),
        ["collector"], op_id="collector")}
    _subscription_paths(p)
    _deployment_paths(p)
    _event_paths(p)
    p["/metrics"] = {"get": _op("Prometheus metrics", [], {"200": {
        "description": "Prometheus text exposition",
        "content": {"text/plain": {"schema": {"type": "string"}}}}}, ["meta"],
        op_id="metrics")}
    return p


DEPLOY_RESULTS = ("IN_PROGRESS", "SUCCEEDED", "FAILED", "ROLLED_BACK", "SUPERSEDED")


def _deployment_paths(p):
    """/v1/deployments and /v1/dora (issue 6); writes need a 'write' token."""
    tags = ["deployments"]
    service = _q("service", "Only this service.")
    environment = _q("environment", "Only this environment.",
                     {"type": "string", "maxLength": 64})
    deploy_id = _path("id", "radar's deployment id (a number) or, for a pushed deployment, "
                            "the caller's own id.")
    p["/v1/deployments"] = {
        "get": _op(
            "Deployments, newest first (by started_at); 'since'/'until' bound started_at",
            [service, environment,
             _q("wave", "Only this wave (canary, blue, green...).",
                {"type": "string", "maxLength": 64}),
             _q("result", "Only deployments with this result.",
                {"type": "string", "enum": list(DEPLOY_RESULTS)}),
             _q("version", "Only this version."),
             _q("since", "Only deployments started at or after this time.", TIME),
             _q("until", "Only deployments started before this time.", TIME),
             LIMIT, _q("marker", "Id of the last deployment of the previous page.",
                       {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}), FORMAT],
            dict(_ok(_list("Deployment"), csv=True, total=True), **_errors()), tags,
            op_id="listDeployments"),
        "post": _op(
            "Record a deployment (source 'api'; 'id' is the caller's unique id, a uuid "
            "when absent); 'result' defaults to IN_PROGRESS",
            [], dict(_ok(_ref("DeploymentDetail"), status="201", description="Created"),
                     **_errors("401", "403", "409", "413", "415")),
            tags, body="DeploymentInput", secured="write", op_id="createDeployment"),
    }
    p["/v1/deployments/waves"] = {"get": _op(
        "Rollouts per service, environment and version with their waves, newest first",
        [service, environment] + WINDOW,
        dict(_ok(_list("Rollout"), total=True), **_errors()), tags, op_id="deploymentWaves")}
    p["/v1/deployments/{id}"] = {
        "get": _op("One deployment with its history", [deploy_id],
                   dict(_ok(_ref("DeploymentDetail")), **_errors()), tags,
                   op_id="getDeployment"),
        "patch": _op("Report progress or the result; a final result may only move from "
                     "SUCCEEDED to ROLLED_BACK (else 409)", [deploy_id],
                     dict(_ok(_ref("DeploymentDetail")),
                          **_errors("401", "403", "409", "413", "415")),
                     tags, body="DeploymentUpdate", secured="write",
                     op_id="updateDeployment"),
    }
    p["/v1/dora"] = {"get": _op(
        "DORA metrics of production deployments (doc: deployments.rst); default window "
        "the last [dora] default_window_days (90)",
        [service, _q("environment", "Count this environment as production (default: [dora] "
                                    "production_environments).",
                     {"type": "string", "maxLength": 64}),
         _q("since", "Start of the window (inclusive).", TIME),
         _q("until", "End of the window (exclusive); default: now.", TIME)],
        dict(_ok(_ref("DoraReport")), **_errors()), ["dora"], op_id="dora")}


def _event_paths(p):
    """/v1/events and its Atom feed (issue 7; doc: events.rst)."""
    from radar.db import events as db_events

    def one_or_more(values):
        alt = "|".join(v.replace(".", "\\.") for v in values)
        return {"type": "string", "maxLength": 255,
                "pattern": "^(%s)(,(%s))*$" % (alt, alt)}

    filters = [
        _q("type", "Only these event types (comma-separated): %s."
           % ", ".join(db_events.TYPES), one_or_more(db_events.TYPES)),
        _q("system", "Only events of this CI system (id or name)."),
        _q("project", "Only events of this Gerrit project."),
        _q("product", "Only events of this product's releases (e.g. 4.19)."),
        _q("release", "Only events of this release version."),
        _q("service", "Only events of this deployed service."),
        _q("severity", "Only these severities (comma-separated): info, warning, critical.",
           one_or_more(db_events.SEVERITIES)),
        _q("since", "Only events that occurred at or after this time.", TIME),
        _q("until", "Only events that occurred before this time.", TIME),
        LIMIT,
        _q("marker", "Id of the last event of the previous page.",
           {"type": "integer", "minimum": 1}),
    ]
    p["/v1/events"] = {"get": _op(
        "Events (state transitions), newest first", filters + [FORMAT],
        dict(_ok(_list("Event"), csv=True, total=True), **_errors()), ["events"],
        op_id="listEvents")}
    p["/v1/events.atom"] = {"get": _op(
        "The same events as an Atom 1.0 feed, newest first", filters,
        dict({"200": {"description": "Atom 1.0 feed",
                      "content": {"application/atom+xml": {"schema": {"type": "string"}}}}},
             **_errors()), ["events"], op_id="eventsFeed")}


def _subscription_paths(p):
    """/v1/subscriptions (issue 7): every operation needs a token."""
    marker = _q("marker", "Id of the last item of the previous page.",
                {"type": "integer", "minimum": 0})
    sub_id = _path("id", "Subscription id.", {"type": "integer", "minimum": 1,
                                              "maximum": 2**31 - 1})
    tags = ["subscriptions"]
    p["/v1/subscriptions"] = {
        "get": _op("Subscriptions of this token (every one for an admin token)",
                   [LIMIT, marker],
                   dict(_ok(_list("Subscription"), total=True), **_errors("401", "403")),
                   tags, secured="write", op_id="listSubscriptions"),
        "post": _op("Subscribe to events: a webhook, a Slack incoming webhook or an "
                    "e-mail address; a webhook's secret is in this answer only", [],
                    dict(_ok(_ref("Subscription"), status="201", description="Created"),
                         **_errors("401", "403", "413", "415")),
                    tags, body="SubscriptionInput", secured="write",
                    op_id="createSubscription"),
    }
    p["/v1/subscriptions/{id}"] = {
        "get": _op("One subscription, with its delivery counts", [sub_id],
                   dict(_ok(_ref("Subscription")), **_errors("401", "403")), tags,
                   secured="write", op_id="getSubscription"),
        "delete": _op("Remove a subscription, its queue and its delivery log", [sub_id],
                      dict({"204": {"description": "Deleted"}}, **_errors("401", "403")),
                      tags, secured="write", op_id="deleteSubscription"),
    }
    p["/v1/subscriptions/{id}/test"] = {"post": _op(
        "Send a sample event (type radar.test) now; not queued, not retried", [sub_id],
        dict(_ok(_ref("SubscriptionTestResult")), **_errors("401", "403")), tags,
        secured="write", op_id="testSubscription")}
    p["/v1/subscriptions/{id}/resume"] = {"post": _op(
        "Resume a paused subscription; what queued meanwhile is due at once", [sub_id],
        dict(_ok(_ref("Subscription")), **_errors("401", "403")), tags,
        secured="write", op_id="resumeSubscription")}
    p["/v1/subscriptions/{id}/deliveries"] = {"get": _op(
        "The delivery log: one item per event, newest first, with every attempt",
        [sub_id, _q("status", "Only deliveries in this state.",
                    {"type": "string", "enum": list(DELIVERY_STATES)}), LIMIT, marker],
        dict(_ok(_list("SubscriptionDelivery"), total=True), **_errors("401", "403")),
        tags, secured="write", op_id="listSubscriptionDeliveries")}


DELIVERY_STATES = ("PENDING", "DELIVERED", "FAILED")


ERROR_SCHEMA = {
    "type": "object",
    "required": ["faultcode", "faultstring", "debuginfo", "code", "request_id"],
    "properties": {
        "faultcode": {"type": "string", "enum": ["Client", "Server"]},
        "faultstring": {"type": "string"},
        "debuginfo": {"nullable": True, "type": "string"},
        "code": {"type": "integer"},
        "request_id": {"type": "string"},
    },
    "additionalProperties": False,
}


def _schemas():
    schemas = {cls.__name__: types.openapi_schema(cls) for cls in types.RESPONSE_TYPES}
    schemas["Error"] = ERROR_SCHEMA
    return schemas


_CACHE = {}


def document(host_url=None):
    if "doc" not in _CACHE:
        _CACHE["doc"] = {
            "openapi": "3.0.3",
            "info": {"title": "radar API", "version": radar.__version__,
                     "description": "CI health statistics from Gerrit review traffic. "
                                    "Reads are public; writes need "
                                    "'Authorization: Bearer <token>'."},
            "paths": _paths(),
            "components": {
                "schemas": _schemas(),
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            },
        }
    doc = copy.deepcopy(_CACHE["doc"])
    if host_url:
        doc["servers"] = [{"url": host_url.rstrip("/")}]
    return doc


TASK_STATES = ("NOT_STARTED", "IN_PROGRESS", "PASS", "FAIL")


def _release_paths(p):
    """/v1/releases (issue 6); writes need a 'write' token."""
    tags = ["releases"]
    version = _path("version", "Release version, e.g. 4.19.1.",
                    {"type": "string", "minLength": 1, "maxLength": 64,
                     "pattern": r"^[A-Za-z0-9][A-Za-z0-9._+~-]{0,63}$"})
    task = _path("task", "Task name from the workflow, e.g. stage-testing.",
                 {"type": "string", "minLength": 1, "maxLength": 64,
                  "pattern": r"^[a-z0-9][a-z0-9._-]{0,63}$"})
    product = _q("product", "Only this product (e.g. 4.19).",
                 {"type": "string", "maxLength": 64})
    p["/v1/releases"] = {"get": _op(
        "Releases newest first, each with its tasks (the heatmap)",
        [product,
         _q("status", "Only GREEN releases (no task failed) or RED ones.",
            {"type": "string", "enum": ["GREEN", "RED"]}),
         _q("done", "Only releases whose tasks all passed (true) or not (false).",
            {"type": "boolean"}),
         _q("since", "Only releases created at or after this time.", TIME),
         LIMIT, _q("marker", "Version of the last release of the previous page.",
                   {"type": "string", "maxLength": 64})],
        dict(_ok(_list("ReleaseSummary"), total=True), **_errors()), tags,
        op_id="listReleases")}
    p["/v1/releases/tasks/stats"] = {"get": _op(
        "Per task over releases: durations (median, p90), failures, failure rate",
        [product, _q("since", "Only releases created at or after this time.", TIME),
         _q("until", "Only releases created before this time.", TIME)],
        dict(_ok(_list("ReleaseTaskStat")), **_errors()), tags, op_id="releaseTaskStats")}
    p["/v1/releases/{version}"] = {
        "get": _op("One release: tasks, advisories, builds, shipment and task history",
                   [version], dict(_ok(_ref("ReleaseDetail")), **_errors()), tags,
                   op_id="getRelease"),
        "put": _op("Create (201, with the workflow's tasks NOT_STARTED) or update (200) a "
                   "release; only the attributes given change", [version],
                   dict(_ok(_ref("ReleaseDetail")),
                        **_ok(_ref("ReleaseDetail"), status="201", description="Created"),
                        **_errors("401", "403", "409", "413", "415")),
                   tags, body="ReleaseInput", secured="write", op_id="putRelease"),
    }
    p["/v1/releases/{version}/tasks/{task}"] = {"put": _op(
        "Move a task (%s); PASS is final (409), the same status again changes nothing"
        % ", ".join(TASK_STATES), [version, task],
        dict(_ok(_ref("ReleaseDetail")), **_errors("401", "403", "409", "413", "415")),
        tags, body="ReleaseTaskInput", secured="write", op_id="setReleaseTask")}
