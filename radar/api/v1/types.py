"""Every WSME type of the API; the only module that imports wsme.types.

Types are built from plain dicts (statistics) or from rows read while the
request's session is open, never returned as ORM objects.
"""

import datetime as dt

from wsme import types as wtypes

from radar.common import timeutils

text = wtypes.text
Unset = wtypes.Unset


def is_set(value):
    return value is not wtypes.Unset


class Base(wtypes.Base):
    """from_dict() copies the declared attributes found in a dict."""

    @classmethod
    def fields(cls):
        return [a.name for a in cls._wsme_attributes]

    @classmethod
    def from_dict(cls, data, **extra):
        obj = cls()
        merged = dict(data)
        merged.update(extra)
        for attr in cls._wsme_attributes:
            if attr.name in merged:
                setattr(obj, attr.name, _coerce(attr.datatype, merged[attr.name]))
        return obj

    def as_dict(self):
        out = {}
        for attr in self._wsme_attributes:
            value = getattr(self, attr.name)
            if is_set(value):
                out[attr.name] = value
        return out


def _coerce(datatype, value):
    """Make statistic values fit the declared type (ints from numpy-ish floats...)."""
    if value is None:
        return None
    if datatype is dt.datetime:
        if isinstance(value, str):
            return timeutils.parse_iso(value)
        return timeutils.as_utc(value)
    if datatype is float:
        return float(value)
    if datatype is int:
        return int(value)
    if datatype is bool:
        return bool(value)
    if datatype is wtypes.text:
        return str(value)
    if isinstance(datatype, wtypes.ArrayType):
        return [_coerce(datatype.item_type, v) for v in value]
    if isinstance(datatype, wtypes.DictType):
        return {str(k): _coerce(datatype.value_type, v) for k, v in value.items()}
    if isinstance(datatype, type) and issubclass(datatype, Base) and isinstance(value, dict):
        return datatype.from_dict(value)
    return value


# --- documents --------------------------------------------------------------


class Link(Base):
    rel = text
    href = text


class ApiVersion(Base):
    id = text
    status = text
    links = [Link]


class VersionDocument(Base):
    """GET /: what this server is and which API versions it has."""

    name = text
    description = text
    version = text
    versions = [ApiVersion]


class V1Document(Base):
    id = text
    status = text
    links = [Link]


# --- CI systems ---------------------------------------------------------------


class SystemSummary(Base):
    """One CI system's numbers over a window (DESIGN.md section 5)."""

    id = int
    name = text
    display_name = text
    accounts = [text]
    reference = bool
    enabled = bool
    reports = int
    successes = int
    failures = int
    merge_failures = int
    other_results = int
    success_rate = float
    first_attempt_success_rate = float
    final_success_rate = float
    patchsets_reported = int
    eligible_patchsets = int
    coverage = float
    missed = int
    latency_p50_s = float
    latency_p90_s = float
    retry_latency_p50_s = float
    rechecks = int
    flaky_patchsets = int
    flake_rate = float
    agreement = float
    suspect_failures = int
    last_seen = dt.datetime
    health = text
    health_reason = text


SUMMARY_FIELDS = [a.name for a in SystemSummary._wsme_attributes]


class SeriesPoint(SystemSummary):
    """The summary of one interval [start, end)."""

    start = dt.datetime
    end = dt.datetime


class Operator(Base):
    id = int
    name = text
    email = text
    contact = text
    systems = [text]
    created_at = dt.datetime


class SystemSettings(Base):
    """What an administrator may change on a CI system."""

    display_name = wtypes.wsattr(wtypes.StringType(min_length=1, max_length=255))
    reference = bool
    enabled = bool
    projects = [text]
    recheck_pattern = wtypes.wsattr(wtypes.StringType(max_length=255))


class SystemDetail(SystemSummary):
    origin = text
    settings = SystemSettings
    operators = [Operator]


class MissedPatchset(Base):
    change = int
    patchset = int
    project = text
    branch = text
    subject = text
    created = dt.datetime
    url = text


class JobStat(Base):
    name = text
    runs = int
    results = {text: int}
    success_rate = float
    flaky = int
    median_duration_s = float
    voting = bool
    last_log_url = text
    last_run = dt.datetime


class JobLine(Base):
    name = text
    result = text
    voting = bool
    duration_s = float
    url = text
    detail = text


class Report(Base):
    id = int
    system = text
    system_name = text
    system_id = int
    change = int
    patchset = int
    project = text
    branch = text
    pipeline = text
    result = text
    vote_label = text
    vote = int
    headline = text
    reported_at = dt.datetime
    attempt = int
    retry = bool
    latency_s = float
    url = text
    jobs = [JobLine]


class Recheck(Base):
    requested_at = dt.datetime
    by = text
    target = text
    system = text


class PatchsetView(Base):
    number = int
    revision = text
    created = dt.datetime
    kind = text
    url = text
    rechecks = [Recheck]
    reports = [Report]


class ChangeView(Base):
    """The pipeline view of one change."""

    number = int
    source = text
    project = text
    branch = text
    subject = text
    owner = text
    status = text
    created = dt.datetime
    updated = dt.datetime
    merged_at = dt.datetime
    url = text
    patchsets = [PatchsetView]


class ProjectSystem(Base):
    """One CI system's record on one project."""

    id = int
    name = text
    display_name = text
    enabled = bool
    reports = int
    successes = int
    failures = int
    merge_failures = int
    success_rate = float
    eligible_patchsets = int
    patchsets_reported = int
    coverage = float
    missed = int
    last_seen = dt.datetime
    health = text
    health_reason = text


class ProjectSummary(Base):
    name = text
    source = text
    changes = int
    patchsets = int
    systems = [ProjectSystem]


class Comparison(Base):
    systems = [SystemSummary]
    # agreement[a][b]: share of the patch sets both reported on where the
    # final results agree (null when they share none).
    agreement = {text: wtypes.DictType(text, float)}


class CollectorSource(Base):
    name = text
    type = text
    url = text
    last_attempt_at = dt.datetime
    last_success_at = dt.datetime
    last_error = text
    last_error_at = dt.datetime
    lag_s = float
    stale = bool
    cycles = int
    failures = int
    changes_seen = int
    messages_stored = int
    reports_stored = int
    records_skipped = int


# --- request bodies -------------------------------------------------------------


class OperatorInput(Base):
    name = wtypes.wsattr(wtypes.StringType(min_length=1, max_length=255))
    email = wtypes.wsattr(wtypes.StringType(max_length=255))
    contact = wtypes.wsattr(wtypes.StringType(max_length=1024))
    systems = [text]


# Every response type, for the OpenAPI document.
RESPONSE_TYPES = [
    Link, ApiVersion, VersionDocument, V1Document, SystemSummary, SeriesPoint,
    Operator, SystemSettings, SystemDetail, MissedPatchset, JobStat, JobLine,
    Report, Recheck, PatchsetView, ChangeView, ProjectSystem, ProjectSummary,
    Comparison, CollectorSource, OperatorInput,
]


# --- subscriptions and deliveries (issue 7) -------------------------------------------


class SubscriptionFilters(Base):
    """Which events; an absent or empty list matches every value."""

    types = [text]
    systems = [text]
    projects = [text]
    products = [text]
    services = [text]


class Subscription(Base):
    id = int
    name = text
    kind = text
    # Slack URLs are credentials, and query strings may hold some: shown
    # with their path or query hidden.
    target = text
    filters = SubscriptionFilters
    # The webhook signing key: only in the answer to the POST that made it.
    secret = text
    owner = text
    created_at = dt.datetime
    paused = bool
    paused_at = dt.datetime
    paused_reason = text
    consecutive_failures = int
    pending = int
    delivered = int
    failed = int
    last_delivered_at = dt.datetime


class SubscriptionInput(Base):
    # Plain text, validated by the controller: WSME's own length errors
    # would echo the value (a secret, or a Slack URL) into the 400.
    name = text
    kind = text
    target = text
    # A dict, not SubscriptionFilters: WSME fails with a 500 on a nested
    # object given as a list. Keys are checked by the controller.
    filters = wtypes.DictType(text, [text])
    secret = text


class SubscriptionDeliveryAttempt(Base):
    at = dt.datetime
    status_code = int
    error = text
    duration_ms = int


class SubscriptionDelivery(Base):
    id = int
    event_id = int
    event_type = text
    event_title = text
    status = text
    attempts = int
    next_attempt_at = dt.datetime
    last_status_code = int
    last_error = text
    created_at = dt.datetime
    delivered_at = dt.datetime
    history = [SubscriptionDeliveryAttempt]


class SubscriptionTestResult(Base):
    delivered = bool
    status_code = int
    error = text
    duration_ms = int
    delivery = text


RESPONSE_TYPES += [SubscriptionFilters, Subscription, SubscriptionInput,
                   SubscriptionDeliveryAttempt, SubscriptionDelivery, SubscriptionTestResult]


# --- deployments and DORA (issue 6) -------------------------------------------------


class Deployment(Base):
    id = int
    source = text
    uid = text
    cluster = text
    namespace = text
    name = text
    service = text
    environment = text
    wave = text
    version = text
    revision = text
    images = {text: text}
    result = text
    message = text
    replicas = int
    updated_replicas = int
    ready_replicas = int
    available_replicas = int
    started_at = dt.datetime
    finished_at = dt.datetime
    duration_s = float
    url = text


class DeploymentStep(Base):
    at = dt.datetime
    result = text
    updated_replicas = int
    available_replicas = int
    message = text


class DeploymentDetail(Deployment):
    history = [DeploymentStep]


def _limited(length):
    return wtypes.wsattr(wtypes.StringType(max_length=length))


class DeploymentInput(Base):
    """POST /v1/deployments. Times are text so the controller's 400 names them."""

    id = _limited(255)
    service = _limited(255)
    environment = _limited(64)
    wave = _limited(64)
    version = _limited(255)
    revision = _limited(64)
    images = {text: text}
    cluster = _limited(255)
    namespace = _limited(255)
    url = _limited(1024)
    started_at = _limited(64)
    finished_at = _limited(64)
    result = _limited(16)
    message = _limited(1024)


class DeploymentUpdate(Base):
    """PATCH /v1/deployments/{id}: only the attributes given change."""

    result = _limited(16)
    finished_at = _limited(64)
    message = _limited(1024)
    replicas = int
    updated_replicas = int
    ready_replicas = int
    available_replicas = int
    url = _limited(1024)


class RolloutWave(Base):
    wave = text
    deployment_id = int
    result = text
    started_at = dt.datetime
    finished_at = dt.datetime


class Rollout(Base):
    service = text
    environment = text
    version = text
    state = text
    started_at = dt.datetime
    waves = [RolloutWave]


class DoraMetric(Base):
    name = text
    value = float
    unit = text
    count = int
    tier = text
    note = text


class DoraReport(Base):
    service = text
    environment = text
    since = dt.datetime
    until = dt.datetime
    metrics = [DoraMetric]


RESPONSE_TYPES += [Deployment, DeploymentStep, DeploymentDetail, DeploymentInput,
                   DeploymentUpdate, RolloutWave, Rollout, DoraMetric, DoraReport]


def openapi_schema(cls):
    """JSON schema (OpenAPI 3.0 flavour) of a type, refs to other types."""
    props = {}
    for attr in cls._wsme_attributes:
        props[attr.name] = _schema_of(attr.datatype)
    return {"type": "object", "properties": props, "additionalProperties": False}


def _schema_of(datatype):
    if isinstance(datatype, JsonObject):
        return {"type": "object", "nullable": True}
    if isinstance(datatype, wtypes.UserType) and isinstance(datatype, wtypes.StringType):
        schema = {"type": "string", "nullable": True}
        if datatype.max_length is not None:
            schema["maxLength"] = datatype.max_length
        if datatype.min_length:
            schema["minLength"] = datatype.min_length
        return schema
    if datatype is wtypes.text or datatype is str:
        return {"type": "string", "nullable": True}
    if datatype is int:
        return {"type": "integer", "nullable": True}
    if datatype is float:
        return {"type": "number", "nullable": True}
    if datatype is bool:
        return {"type": "boolean", "nullable": True}
    if datatype is dt.datetime:
        return {"type": "string", "format": "date-time", "nullable": True}
    if isinstance(datatype, wtypes.ArrayType):
        return {"type": "array", "items": _schema_of(datatype.item_type), "nullable": True}
    if isinstance(datatype, wtypes.DictType):
        return {"type": "object", "additionalProperties": _schema_of(datatype.value_type),
                "nullable": True}
    if isinstance(datatype, type) and issubclass(datatype, Base):
        return {"$ref": "#/components/schemas/%s" % datatype.__name__}
    raise TypeError("no schema for %r" % (datatype,))


# --- releases (issue 6) ----------------------------------------------------------------


class RawJson(wtypes.UserType):
    """A request body taken as the JSON object it is and checked by the
    controller: WSME's checks of nested types crash on some wrong JSON
    types (a number where an object is expected) instead of giving a 400."""

    basetype = wtypes.text
    name = "rawjson"


raw_json = RawJson()


class ReleaseTask(Base):
    name = text
    position = int
    status = text
    started_at = dt.datetime
    finished_at = dt.datetime
    duration_s = float
    url = text
    message = text


class ReleaseSummary(Base):
    """One release and its tasks (a row of the heatmap)."""

    version = text
    product = text
    flow_type = text
    target_date = text
    status = text
    done = bool
    shipped = bool
    created_at = dt.datetime
    updated_at = dt.datetime
    tasks = [ReleaseTask]


class ReleaseAdvisory(Base):
    id = text
    url = text
    state = text


class ReleaseShipment(Base):
    url = text
    state = text
    shipped = bool


class ReleaseTaskTransition(Base):
    task = text
    from_status = text
    status = text
    at = dt.datetime
    url = text
    message = text
    actor = text


class ReleaseDetail(ReleaseSummary):
    jira_url = text
    advisories = [ReleaseAdvisory]
    builds = {text: text}
    shipment = ReleaseShipment
    shipped_at = dt.datetime
    history = [ReleaseTaskTransition]


class ReleaseInput(Base):
    """PUT /v1/releases/{version} (documentation; the controller checks the JSON)."""

    product = text
    flow_type = text
    target_date = text
    jira_url = text
    advisories = [ReleaseAdvisory]
    builds = {text: text}
    shipment = ReleaseShipment


class ReleaseTaskInput(Base):
    """PUT /v1/releases/{version}/tasks/{task} (documentation, as ReleaseInput)."""

    status = text
    url = text
    message = text
    at = dt.datetime


class ReleaseTaskStat(Base):
    task = text
    position = int
    releases = int
    finished = int
    median_duration_s = float
    p90_duration_s = float
    failures = int
    failure_rate = float


RESPONSE_TYPES += [ReleaseTask, ReleaseSummary, ReleaseAdvisory, ReleaseShipment,
                   ReleaseTaskTransition, ReleaseDetail, ReleaseInput, ReleaseTaskInput,
                   ReleaseTaskStat]


# --- events (issue 7) -------------------------------------------------------------------


class JsonObject(wtypes.UserType):
    """A response attribute holding any JSON object, serialized as it is (an
    event's `data`, whose keys depend on the event type)."""

    basetype = wtypes.text
    name = "jsonobject"

    def validate(self, value):
        if value is not None and not isinstance(value, dict):
            raise ValueError("expected a JSON object")
        return value


json_object = JsonObject()


class Event(Base):
    """A state transition (radar.db.events.event_as_dict gives its fields)."""

    id = int
    type = text
    severity = text
    title = text
    system = text
    project = text
    product = text
    release = text
    service = text
    environment = text
    url = text
    data = json_object
    occurred_at = dt.datetime


RESPONSE_TYPES += [Event]


def with_status(obj, status_code):
    """`obj` answered with another status (201 when a PUT created the resource)."""
    import wsme.api

    return wsme.api.Response(obj, status_code=status_code)
