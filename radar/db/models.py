"""SQLAlchemy models: raw Gerrit data first, derived CI data second.

Every string has an explicit length (MySQL needs one; indexed ones stay at
or under 255 characters so utf8mb4 keys fit InnoDB's limit) and every table
is InnoDB/utf8mb4. Names compared for uniqueness are stored lowercased so
SQLite (case-sensitive) and MySQL (case-insensitive collation) agree.
"""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from radar.common import timeutils
from radar.db.types import JsonText, LongText, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

TABLE_ARGS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4",
              "mysql_collate": "utf8mb4_bin"}

# Report results (DESIGN.md §5).
SUCCESS = "SUCCESS"
FAILURE = "FAILURE"
MERGE_FAILED = "MERGE_FAILED"
CANCELED = "CANCELED"
UNKNOWN = "UNKNOWN"
RESULTS = (SUCCESS, FAILURE, MERGE_FAILED, CANCELED, UNKNOWN)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Source(Base):
    """A configured Gerrit server (or file source)."""

    __tablename__ = "sources"
    __table_args__ = (UniqueConstraint("name"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    url: Mapped[str | None] = mapped_column(String(255))
    web_url: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=timeutils.utcnow)


class CiSystem(Base):
    """One CI system; it may post through several accounts."""

    __tablename__ = "ci_systems"
    __table_args__ = (UniqueConstraint("name"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))  # lowercased key
    display_name: Mapped[str] = mapped_column(String(255))
    reference: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # How it was found: config, group or pattern.
    origin: Mapped[str] = mapped_column(String(16), default="config")
    recheck_pattern: Mapped[str | None] = mapped_column(String(255))
    # Configured covered projects (list of names); None: derived from reports.
    projects: Mapped[list | None] = mapped_column(JsonText())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=timeutils.utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UtcDateTime(), default=timeutils.utcnow, onupdate=timeutils.utcnow)


class Account(Base):
    """A Gerrit account seen on a source.

    `key` is the account's stable identity across REST and SSH/stream data:
    the lowercased username, else '#<account id>', else the e-mail, else the
    name (stream-events accounts have no numeric id).
    """

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("source_id", "key"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    key: Mapped[str] = mapped_column(String(255))
    gerrit_id: Mapped[int | None] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    ci_system_id: Mapped[int | None] = mapped_column(ForeignKey("ci_systems.id"), index=True)


class Operator(Base):
    __tablename__ = "operators"
    __table_args__ = (UniqueConstraint("name"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    contact: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=timeutils.utcnow)


class SystemOperator(Base):
    __tablename__ = "system_operators"
    __table_args__ = (TABLE_ARGS,)

    ci_system_id: Mapped[int] = mapped_column(ForeignKey("ci_systems.id"), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), primary_key=True)


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (UniqueConstraint("source_id", "name"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    name: Mapped[str] = mapped_column(String(255))


class Change(Base):
    __tablename__ = "changes"
    __table_args__ = (UniqueConstraint("source_id", "number"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    number: Mapped[int] = mapped_column(Integer)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    branch: Mapped[str | None] = mapped_column(String(255))
    change_key: Mapped[str | None] = mapped_column(String(64))  # the I... Change-Id
    subject: Mapped[str | None] = mapped_column(String(1024))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    status: Mapped[str | None] = mapped_column(String(16))
    created: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    merged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class PatchSet(Base):
    __tablename__ = "patchsets"
    __table_args__ = (UniqueConstraint("change_id", "number"),
                      Index("ix_patchsets_created", "created"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"))
    number: Mapped[int] = mapped_column(Integer)
    # Indexed for DORA lead time: a deployed git revision -> its change.
    revision: Mapped[str | None] = mapped_column(String(64), index=True)
    created: Mapped[datetime | None] = mapped_column(UtcDateTime())
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str | None] = mapped_column(String(40))
    # Creation time of the next patch set: when this one stopped being current.
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Message(Base):
    """A Gerrit change message exactly as received (raw first).

    `fingerprint` is the idempotency key on every path (REST, query JSON,
    stream-events): sha1 of change number, epoch second, author key and text.
    """

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("source_id", "fingerprint"),
                      Index("ix_messages_change_id_date", "change_id", "date"),
                      TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    fingerprint: Mapped[str] = mapped_column(String(40))
    gerrit_id: Mapped[str | None] = mapped_column(String(64))
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"))
    patchset_number: Mapped[int | None] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    date: Mapped[datetime] = mapped_column(UtcDateTime())
    # The source gave no time; `date` is a lower bound (no latency from it).
    date_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    tag: Mapped[str | None] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(LongText())
    # Votes delivered beside the text (stream-events approvals with
    # oldValue, or pre-2.12 approvals): {"Verified": 1}.
    votes: Mapped[dict | None] = mapped_column(JsonText())


class CiReport(Base):
    """One result a CI system posted on a patch set (derived from a message)."""

    __tablename__ = "ci_reports"
    __table_args__ = (UniqueConstraint("message_id"),
                      Index("ix_ci_reports_system_reported", "ci_system_id", "reported_at"),
                      Index("ix_ci_reports_patchset", "patchset_id", "ci_system_id"),
                      Index("ix_ci_reports_reported_at", "reported_at"),
                      TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    ci_system_id: Mapped[int] = mapped_column(ForeignKey("ci_systems.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"))
    patchset_id: Mapped[int] = mapped_column(ForeignKey("patchsets.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    pipeline: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(16))
    vote_label: Mapped[str | None] = mapped_column(String(64))
    vote: Mapped[int | None] = mapped_column(Integer)
    headline: Mapped[str | None] = mapped_column(String(255))
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # 1 for the system's first report on the patch set, 2 for the next...
    attempt: Mapped[int] = mapped_column(Integer)
    # The recheck request this report answers (a retry), if any.
    recheck_id: Mapped[int | None] = mapped_column(ForeignKey("recheck_requests.id"))
    # First report: since patch set creation; retry: since the recheck.
    latency_s: Mapped[float | None] = mapped_column(Double)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)


class CiJobResult(Base):
    """One job line of a report. Keyed by position: old Zuul lines have no name."""

    __tablename__ = "ci_job_results"
    __table_args__ = (UniqueConstraint("report_id", "position"),
                      Index("ix_ci_job_results_name", "name"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("ci_reports.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    result: Mapped[str] = mapped_column(String(64))
    voting: Mapped[bool] = mapped_column(Boolean, default=True)
    duration_s: Mapped[float | None] = mapped_column(Double)
    url: Mapped[str | None] = mapped_column(String(1024))
    detail: Mapped[str | None] = mapped_column(String(255))


class RecheckRequest(Base):
    """A human comment asking CI to run again ('recheck', 'recheck <ci>')."""

    __tablename__ = "recheck_requests"
    __table_args__ = (UniqueConstraint("message_id"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    patchset_id: Mapped[int] = mapped_column(ForeignKey("patchsets.id"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    # None: addressed to every CI.
    ci_system_id: Mapped[int | None] = mapped_column(ForeignKey("ci_systems.id"))
    target: Mapped[str | None] = mapped_column(String(255))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DailyRollup(Base):
    """Per (system, project, UTC day): report counts and exact latencies."""

    __tablename__ = "ci_daily_rollups"
    __table_args__ = (Index("ix_ci_daily_rollups_day", "day"), TABLE_ARGS)

    ci_system_id: Mapped[int] = mapped_column(ForeignKey("ci_systems.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reports: Mapped[int] = mapped_column(Integer, default=0)
    successes: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    merge_failures: Mapped[int] = mapped_column(Integer, default=0)
    canceled: Mapped[int] = mapped_column(Integer, default=0)
    unknown: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    # Sorted exact first-report latencies (seconds): percentiles over any
    # window are a merge of these lists.
    latencies: Mapped[list | None] = mapped_column(JsonText())
    retry_latencies: Mapped[list | None] = mapped_column(JsonText())
    last_report_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CollectorState(Base):
    __tablename__ = "collector_state"
    __table_args__ = (TABLE_ARGS,)

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    # Source-specific position: {"high_water": ...} or per-file offsets.
    cursor: Mapped[dict | None] = mapped_column(JsonText())
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(String(1024))
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cycles: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    changes_seen: Mapped[int] = mapped_column(BigInteger, default=0)
    messages_stored: Mapped[int] = mapped_column(BigInteger, default=0)
    reports_stored: Mapped[int] = mapped_column(BigInteger, default=0)
    records_skipped: Mapped[int] = mapped_column(BigInteger, default=0)


class Lease(Base):
    """Who may collect a source now; expires unless renewed."""

    __tablename__ = "leases"
    __table_args__ = (TABLE_ARGS,)

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class ApiToken(Base):
    """A write token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    token_hash: Mapped[str] = mapped_column(String(64))
    # Subset of ("admin", "write").
    scopes: Mapped[list] = mapped_column(JsonText())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=timeutils.utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


# --- releases (DESIGN.md §5 release status) --------------------------------

# Task states, in the order a task moves through them.
NOT_STARTED = "NOT_STARTED"
IN_PROGRESS = "IN_PROGRESS"
PASS = "PASS"
FAIL = "FAIL"
TASK_STATES = (NOT_STARTED, IN_PROGRESS, PASS, FAIL)


class Release(Base):
    """A release (e.g. 4.19.1 of product 4.19) tracked through its task workflow."""

    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("version"),
                      Index("ix_releases_product_created_at", "product", "created_at"),
                      TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64))
    flow_type: Mapped[str | None] = mapped_column(String(32))
    target_date: Mapped[date | None] = mapped_column(Date)
    jira_url: Mapped[str | None] = mapped_column(String(1024))
    # [{"id", "url", "state"}]
    advisories: Mapped[list | None] = mapped_column(JsonText())
    # {"x86_64": "4.19.1-x86_64 nightly ...", ...}
    builds: Mapped[dict | None] = mapped_column(JsonText())
    # {"url", "state", "shipped"}
    shipment: Mapped[dict | None] = mapped_column(JsonText())
    # Kept denormalised so lists and the heatmap need no aggregation.
    status: Mapped[str] = mapped_column(String(16), default="GREEN")
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    shipped_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=timeutils.utcnow,
                                                 index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=timeutils.utcnow)


class ReleaseTask(Base):
    """A release's task in its workflow, with its current state."""

    __tablename__ = "release_tasks"
    __table_args__ = (UniqueConstraint("release_id", "name"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id"))
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=NOT_STARTED)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    url: Mapped[str | None] = mapped_column(String(1024))
    message: Mapped[str | None] = mapped_column(String(2048))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=timeutils.utcnow)


class ReleaseTaskEvent(Base):
    """Every transition of a task, kept (the task row holds only the latest)."""

    __tablename__ = "release_task_events"
    __table_args__ = (Index("ix_release_task_events_task_id_at", "task_id", "at"),
                      TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("release_tasks.id"))
    from_status: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    url: Mapped[str | None] = mapped_column(String(1024))
    message: Mapped[str | None] = mapped_column(String(2048))
    # Who moved it: a token's name, or "ci:<system>" for a bound CI job.
    actor: Mapped[str | None] = mapped_column(String(255))


# --- deployments -----------------------------------------------------------

# Deployment results.
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
ROLLED_BACK = "ROLLED_BACK"
SUPERSEDED = "SUPERSEDED"
DEPLOY_RESULTS = (IN_PROGRESS, SUCCEEDED, FAILED, ROLLED_BACK, SUPERSEDED)


class Deployment(Base):
    """One rollout: a new Kubernetes template generation, or a pushed deploy.

    Keyed by (source, uid): for Kubernetes the uid is the Deployment's uid
    and its rollout revision; for the push API the caller's id.
    """

    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("source", "uid"),
                      Index("ix_deployments_service_environment_started_at",
                            "service", "environment", "started_at"),
                      Index("ix_deployments_revision", "revision"),
                      TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(64))  # "api" or a kubernetes source name
    uid: Mapped[str] = mapped_column(String(255))
    cluster: Mapped[str | None] = mapped_column(String(255))
    namespace: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))  # the Deployment object's name
    service: Mapped[str] = mapped_column(String(255))
    environment: Mapped[str | None] = mapped_column(String(64))
    wave: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[str | None] = mapped_column(String(255))
    # {"container": "image:tag"}
    images: Mapped[dict | None] = mapped_column(JsonText())
    revision: Mapped[str | None] = mapped_column(String(64))  # git revision deployed
    # The deployment.kubernetes.io/revision annotation.
    rollout_revision: Mapped[int | None] = mapped_column(Integer)
    generation: Mapped[int | None] = mapped_column(BigInteger)
    result: Mapped[str] = mapped_column(String(16), default=IN_PROGRESS)
    message: Mapped[str | None] = mapped_column(String(1024))
    replicas: Mapped[int | None] = mapped_column(Integer)
    updated_replicas: Mapped[int | None] = mapped_column(Integer)
    ready_replicas: Mapped[int | None] = mapped_column(Integer)
    available_replicas: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    url: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=timeutils.utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=timeutils.utcnow)


class DeploymentEvent(Base):
    """A deployment's result or progress changed (kept for its history)."""

    __tablename__ = "deployment_events"
    __table_args__ = (Index("ix_deployment_events_deployment_id_at", "deployment_id", "at"),
                      TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    result: Mapped[str] = mapped_column(String(16))
    updated_replicas: Mapped[int | None] = mapped_column(Integer)
    available_replicas: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(String(1024))


# --- events and subscriptions ----------------------------------------------


class Event(Base):
    """Something a person may want to hear about (a state transition).

    `key` names the transition (subject, old and new state, and when), so a
    transition detected twice, even by two daemons, is stored once.
    """

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("key"),
                      Index("ix_events_occurred_at", "occurred_at"),
                      TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(64))  # e.g. system.health_changed
    # What it is about; the filters subscriptions match on.
    system: Mapped[str | None] = mapped_column(String(255))
    project: Mapped[str | None] = mapped_column(String(255))
    product: Mapped[str | None] = mapped_column(String(64))
    release: Mapped[str | None] = mapped_column(String(64))
    service: Mapped[str | None] = mapped_column(String(255))
    environment: Mapped[str | None] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16), default="info")  # info|warning|critical
    title: Mapped[str] = mapped_column(String(512))
    url: Mapped[str | None] = mapped_column(String(1024))
    data: Mapped[dict | None] = mapped_column(JsonText())
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=timeutils.utcnow)


class WatchState(Base):
    """The last state the event detector saw per subject (e.g. a system's health)."""

    __tablename__ = "watch_states"
    __table_args__ = (TABLE_ARGS,)

    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    state: Mapped[str] = mapped_column(String(64))
    since: Mapped[datetime] = mapped_column(UtcDateTime())
    data: Mapped[dict | None] = mapped_column(JsonText())


class Subscription(Base):
    """Who wants which events, delivered where."""

    __tablename__ = "subscriptions"
    __table_args__ = (TABLE_ARGS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # webhook | slack | email
    target: Mapped[str] = mapped_column(String(1024))  # URL or e-mail address
    # HMAC key for webhook signatures; never returned after creation.
    secret: Mapped[str | None] = mapped_column(String(128))
    # {"types": [...], "systems": [...], "projects": [...], "products": [...],
    #  "services": [...]}; an absent or empty list matches everything.
    filters: Mapped[dict | None] = mapped_column(JsonText())
    owner_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=timeutils.utcnow)
    # The newest event id already matched against this subscription (events
    # before a subscription existed are not delivered to it).
    last_event_id: Mapped[int] = mapped_column(BigInteger, default=0)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    paused_reason: Mapped[str | None] = mapped_column(String(1024))


class Delivery(Base):
    """One event for one subscription: a row of the delivery queue and its log."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("subscription_id", "event_id"),
                      Index("ix_deliveries_status_next_attempt_at", "status",
                            "next_attempt_at"),
                      TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    status: Mapped[str] = mapped_column(String(16), default="PENDING")  # PENDING|DELIVERED|FAILED
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Who is sending it now and until when (a crashed sender's claim expires).
    claimed_by: Mapped[str | None] = mapped_column(String(255))
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=timeutils.utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DeliveryAttempt(Base):
    """One try at sending a delivery: the per-subscription delivery log."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_delivery_id", "delivery_id"), TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(1024))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
