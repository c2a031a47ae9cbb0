"""Prometheus metrics at /metrics (prometheus_client), with bounded label sets.

* radar_ci_reports_total{system,result}: reports per CI system and result
  (all time, from the daily rollups).
* radar_ci_system_health{system,health}: 1 for the system's current health
  (GREEN, YELLOW, RED, SILENT, UNKNOWN), 0 for the others.
* radar_ci_system_success_rate{system}, radar_ci_system_coverage{system}:
  over the default window (the last [api] default_window_days).
* radar_deployments_total{service,environment,wave,result}: finished
  deployments (all time; IN_PROGRESS ones are not counted) of the services
  that started a deployment in the last 90 days, so the label set stays
  bounded by the services in use. A deployment later marked ROLLED_BACK
  moves from the SUCCEEDED to the ROLLED_BACK series.
* radar_collector_last_success_timestamp_seconds{source},
  radar_collector_errors_total{source}, radar_collector_stale{source}.
* radar_release_task_status{release,task,status}: 1 for the task's current
  status (NOT_STARTED, IN_PROGRESS, PASS, FAIL), 0 for the others, for the
  releases not done or updated in the last RELEASE_DAYS days (bounded);
  radar_releases{status,done}: releases by status (GREEN, RED) and done.
* radar_events_total{type}: events stored, per type (the fixed list of
  radar.db.events.TYPES, every one present).
* radar_api_requests_total{method,route,status} and
  radar_api_request_duration_seconds{method,route}: route is the endpoint's
  template (/v1/systems/{id}), never the raw path.

Under gunicorn with several workers, `radar-api` sets
PROMETHEUS_MULTIPROC_DIR so the request metrics of every worker are summed.
"""

import datetime
import logging
import os
import re
import threading
import time

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from radar.common import timeutils
from radar.db import api as db_api
from radar.db import deployments as db_deploy
from radar.db import events as db_events

LOG = logging.getLogger(__name__)

HEALTH_STATES = ("GREEN", "YELLOW", "RED", "SILENT", "UNKNOWN")
METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")
# radar_deployments_total keeps the services that deployed in this many days.
DEPLOYMENT_DAYS = 90
SYSTEM_SUBRESOURCES = ("series", "missed", "jobs", "reports", "badge.svg")
_ROUTES = [
    (re.compile(r"^/?$"), "/"),
    (re.compile(r"^/metrics/?$"), "/metrics"),
    (re.compile(r"^/v1/?$"), "/v1"),
    (re.compile(r"^/v1/openapi\.json$"), "/v1/openapi.json"),
    (re.compile(r"^/v1/(systems|projects|reports|operators|compare|collector|changes)/?$"),
     "/v1/{0}"),
    (re.compile(r"^/v1/systems/[^/]+/(%s)/?$" % "|".join(re.escape(s) for s in
                                                          SYSTEM_SUBRESOURCES)),
     "/v1/systems/{{id}}/{0}"),
    (re.compile(r"^/v1/systems/[^/]+/?$"), "/v1/systems/{{id}}"),
    (re.compile(r"^/v1/operators/[^/]+/?$"), "/v1/operators/{{id}}"),
    (re.compile(r"^/v1/subscriptions/?$"), "/v1/subscriptions"),
    (re.compile(r"^/v1/subscriptions/[^/]+/(test|resume|deliveries)/?$"),
     "/v1/subscriptions/{{id}}/{0}"),
    (re.compile(r"^/v1/subscriptions/[^/]+/?$"), "/v1/subscriptions/{{id}}"),
    (re.compile(r"^/v1/releases/?$"), "/v1/releases"),
    (re.compile(r"^/v1/releases/tasks/stats/?$"), "/v1/releases/tasks/stats"),
    (re.compile(r"^/v1/releases/[^/]+/tasks/[^/]+/?$"),
     "/v1/releases/{{version}}/tasks/{{task}}"),
    (re.compile(r"^/v1/releases/[^/]+/?$"), "/v1/releases/{{version}}"),
    (re.compile(r"^/v1/(deployments|deployments/waves|dora)/?$"), "/v1/{0}"),
    (re.compile(r"^/v1/deployments/[^/]+/?$"), "/v1/deployments/{{id}}"),
    (re.compile(r"^/v1/events/?$"), "/v1/events"),
    (re.compile(r"^/v1/events\.atom/?$"), "/v1/events.atom"),
    (re.compile(r"^/v1/changes/[^/]+/?$"), "/v1/changes/{{number}}"),
    (re.compile(r"^/v1/projects/.+$"), "/v1/projects/{{name}}"),
]


def route_of(path):
    """The route template of a path: a small fixed set, 'other' for the rest."""
    for pattern, template in _ROUTES:
        m = pattern.match(path or "")
        if m:
            return template.format(*m.groups())
    return "other"


class Metrics:
    def __init__(self, conf, sessionmaker, cache_seconds=15.0):
        self.conf = conf
        self.sessionmaker = sessionmaker
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "radar_api_requests", "API requests by method, route and status.",
            ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram(
            "radar_api_request_duration_seconds", "API request latency.",
            ["method", "route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.cache_seconds = cache_seconds
        self._cache = (0.0, [])
        self._lock = threading.Lock()

    def observe_request(self, method, path, status, elapsed):
        method = method if method in METHODS else "other"
        route = route_of(path)
        self.requests.labels(method, route, str(int(status))).inc()
        self.latency.labels(method, route).observe(elapsed)

    # --- scrape ------------------------------------------------------------------

    def render(self):
        registry = CollectorRegistry(auto_describe=False)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            multiprocess.MultiProcessCollector(registry)
            body = generate_latest(registry)
        else:
            body = generate_latest(self.registry)
        db_registry = CollectorRegistry(auto_describe=False)
        db_registry.register(_DbCollector(self))
        return body + generate_latest(db_registry), CONTENT_TYPE_LATEST

    def db_families(self):
        now = time.monotonic()
        with self._lock:
            stamp, families = self._cache
            if families and now - stamp < self.cache_seconds:
                return families
        families = self._collect_db()
        with self._lock:
            self._cache = (now, families)
        return families

    def _collect_db(self):
        reports = CounterMetricFamily(
            "radar_ci_reports", "Reports posted by CI systems, by result.",
            labels=["system", "result"])
        health = GaugeMetricFamily(
            "radar_ci_system_health",
            "1 for the CI system's current health state, 0 for the others.",
            labels=["system", "health"])
        rate = GaugeMetricFamily(
            "radar_ci_system_success_rate",
            "SUCCESS / (SUCCESS + FAILURE) over the default window.", labels=["system"])
        coverage = GaugeMetricFamily(
            "radar_ci_system_coverage",
            "Share of eligible patch sets reported on over the default window.",
            labels=["system"])
        last_success = GaugeMetricFamily(
            "radar_collector_last_success_timestamp_seconds",
            "Unix time of the source's last successful collection.", labels=["source"])
        errors = CounterMetricFamily(
            "radar_collector_errors", "Failed collection cycles per source.",
            labels=["source"])
        stale = GaugeMetricFamily(
            "radar_collector_stale", "1 when the source's data is stale.", labels=["source"])
        deployments = CounterMetricFamily(
            "radar_deployments", "Finished deployments by service, environment, wave and "
            "result (services that deployed in the last %d days)." % DEPLOYMENT_DAYS,
            labels=["service", "environment", "wave", "result"])
        events = CounterMetricFamily(
            "radar_events", "Events (state transitions) stored, by type.", labels=["type"])
        events = CounterMetricFamily(
            "radar_events", "Events (state transitions) stored, by type.", labels=["type"])
        families = [reports, health, rate, coverage, last_success, errors, stale,
                    deployments, events]
        session = self.sessionmaker()
        try:
            for system, result, count in db_api.report_totals(session):
                reports.add_metric([system, result], count)
            since = timeutils.utcnow() - datetime.timedelta(days=DEPLOYMENT_DAYS)
            for service, env, wave, result, count in db_deploy.deployment_totals(session,
                                                                                 since):
                deployments.add_metric([service, env or "", wave or "", result], count)
            for row in db_api.collector_list(session):
                if row["last_success_at"] is not None:
                    last_success.add_metric([row["name"]],
                                            timeutils.to_epoch(row["last_success_at"]))
                errors.add_metric([row["name"]], row["failures"] or 0)
                stale.add_metric([row["name"]], 1.0 if collector_is_stale(self.conf, row) else 0.0)
            families += release_families(session)
            for type_, count in db_events.event_counts(session).items():
                events.add_metric([type_], count)
            for summary in self._summaries(session):
                name = summary["name"]
                for state in HEALTH_STATES:
                    health.add_metric([name, state], 1.0 if summary.get("health") == state else 0.0)
                if summary.get("success_rate") is not None:
                    rate.add_metric([name], summary["success_rate"])
                if summary.get("coverage") is not None:
                    coverage.add_metric([name], summary["coverage"])
        except Exception:
            LOG.exception("metrics: reading the database failed")
        finally:
            session.close()
        return families

    def _summaries(self, session):
        from radar.stats import systems
        from radar.stats.window import Window

        window = Window.last(self.conf.api.default_window_days)
        return systems.system_summaries(session, self.conf, window)


class _DbCollector:
    def __init__(self, metrics):
        self.metrics = metrics

    def collect(self):
        return list(self.metrics.db_families())


def collector_is_stale(conf, row, now=None):
    now = now or timeutils.utcnow()
    last = row.get("last_success_at")
    if last is None:
        return True
    return (now - last).total_seconds() > conf.stats.stale_collector_threshold


# Done releases stay in radar_release_task_status this many days after their last change.
RELEASE_DAYS = 30


def release_families(session):
    """The release gauges (see the module docstring)."""
    from radar.db import models
    from radar.db import releases as db_releases

    tasks = GaugeMetricFamily(
        "radar_release_task_status",
        "1 for the release task's current status, 0 for the others (releases not done "
        "or updated in the last %d days)." % RELEASE_DAYS,
        labels=["release", "task", "status"])
    releases = GaugeMetricFamily(
        "radar_releases", "Releases by status (GREEN, RED) and done (true, false).",
        labels=["status", "done"])
    cutoff = db_releases.recent_cutoff(RELEASE_DAYS)
    for version, task, status in db_releases.release_task_states(session, cutoff):
        for state in models.TASK_STATES:
            tasks.add_metric([version, task, state], 1.0 if status == state else 0.0)
    counts = {(s, d): c for s, d, c in db_releases.release_counts(session)}
    for status in ("GREEN", "RED"):
        for done in (False, True):
            releases.add_metric([status, "true" if done else "false"],
                                counts.get((status, done), 0))
    return [tasks, releases]
