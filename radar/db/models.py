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
    revision: Mapped[str | None] = mapped_column(String(64))
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
