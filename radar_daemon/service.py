"""The collector: run_once() over every source, wrapped in a stoppable loop.

Each source is collected under a lease in the database, so two daemons on
one database never collect the same source at once. A source yields
batches with the cursor that is valid after them; the batch is committed
first and the cursor stored after, so a crash at any point repeats work
(harmless: ingest is idempotent) but never skips it.
"""

import logging
import os
import socket
import threading

from radar.ci.identity import Identity
from radar.common import exception, timeutils
from radar.conf import gerrit as gerrit_conf
from radar.conf import kubernetes as kubernetes_conf
from radar.db import api as db_api
from radar_daemon import events, ingest, release_bindings
from radar_daemon.sources import file_source, gerrit_rest
from radar_daemon.sources import kubernetes as kubernetes_source

LOG = logging.getLogger(__name__)


class Stopped(Exception):
    """The daemon was asked to stop between two batches."""


def build_sources(conf, stop_event=None):
    sleep = stop_event.wait if stop_event is not None else None
    sources = []
    for name in conf.gerrit.sources:
        opts = gerrit_conf.register_source_opts(conf, name)
        if opts.type == "rest":
            kwargs = {"sleep": sleep} if sleep else {}
            sources.append(gerrit_rest.GerritRestSource(name, opts, **kwargs))
        else:
            sources.append(file_source.FileSource(name, opts, conf.daemon.batch_size))
    for name in conf.kubernetes.sources:
        opts = kubernetes_conf.register_source_opts(conf, name)
        try:
            api = kubernetes_source.api_client(opts)
        except exception.ConfigError as exc:
            # No cluster to talk to is a deployment choice, not a crash.
            LOG.warning("kubernetes source %s disabled: %s", name, exc)
            continue
        sources.append(kubernetes_source.KubernetesSource(
            name, opts, api, stop_event=stop_event, batch_size=conf.daemon.batch_size))
    return sources


class Collector:
    def __init__(self, conf, engine, sources=None, holder=None, stop_event=None):
        self.conf = conf
        self.engine = engine
        self.stop_event = stop_event or threading.Event()
        self.sources = sources if sources is not None else build_sources(conf, self.stop_event)
        self.holder = holder or conf.daemon.holder or "%s:%d" % (socket.gethostname(),
                                                                  os.getpid())
        self.identity = Identity(conf)
        self._ingesters = {}
        self.detector = events.Detector(conf, engine)

    def _ingester(self, source):
        ing = self._ingesters.get(source.name)
        if ing is None and hasattr(source, "writer"):
            # Not CI records (e.g. Kubernetes rollouts): the source brings its writer.
            ing = self._ingesters[source.name] = source.writer(self.engine)
        if ing is None:
            opts = getattr(source, "opts", None)
            ing = ingest.Ingester(self.conf, self.engine, source.name,
                                  source_type=getattr(opts, "type", "files"),
                                  url=getattr(opts, "url", None),
                                  web_url=getattr(opts, "web_url", None),
                                  identity=self.identity)
            self._ingesters[source.name] = ing
        return ing

    def run_once(self):
        """One cycle over every source; returns {source name: IngestStats or error}."""
        outcome = {}
        if self.conf.ci.group:
            self._refresh_group()
        for source in self.sources:
            if self.stop_event.is_set():
                break
            outcome[source.name] = self._collect(source)
        if not self.stop_event.is_set():
            self._detect_events()
        return outcome

    def _detect_events(self):
        """Turn this cycle's state transitions into events (radar_daemon.events)."""
        try:
            self.detector.run()
        except Exception:  # noqa: BLE001 - detection never stops collection
            LOG.exception("event detection failed")

    def _refresh_group(self):
        for source in self.sources:
            if hasattr(source, "group_members"):
                try:
                    self.identity.set_group_members(source.group_members(self.conf.ci.group))
                    return
                except exception.SourceError as exc:
                    LOG.warning("source %s: cannot read group %s: %s",
                                source.name, self.conf.ci.group, exc)

    def _lease_name(self, source):
        return "source:%s" % source.name

    def _collect(self, source):
        ing = self._ingester(source)
        sid = ing.source_id
        ttl = self.conf.daemon.lease_ttl
        with self.engine.begin() as conn:
            if not db_api.lease_acquire(conn, self._lease_name(source), self.holder, ttl):
                LOG.info("source %s: another daemon holds the lease; skipped", source.name)
                return "leased elsewhere"
            state = db_api.collector_state_get(conn, sid)
            db_api.collector_state_update(conn, sid, last_attempt_at=timeutils.utcnow(),
                                          add_cycles=1)
        total = ingest.IngestStats()
        cursor = state["cursor"]
        try:
            for batch, new_cursor in source.poll(cursor):
                if self.stop_event.is_set():
                    raise Stopped()
                errors = []
                stats = ing.ingest(batch, errors=errors)
                total.add(stats)
                with self.engine.begin() as conn:
                    db_api.collector_state_update(
                        conn, sid, cursor=new_cursor, add_changes_seen=stats.changes,
                        add_messages_stored=stats.messages_new, add_reports_stored=stats.reports,
                        add_records_skipped=stats.skipped + getattr(source, "take_skipped",
                                                                    lambda: 0)())
                    if not db_api.lease_acquire(conn, self._lease_name(source), self.holder,
                                                ttl):
                        raise exception.SourceError("lease lost to another daemon")
                self._release_bindings(source, sid)
        except Stopped:
            LOG.info("source %s: stopped between batches; the cursor is where the "
                     "committed data ends", source.name)
            return total
        except Exception as exc:  # one failing source never stops the others
            message = str(exc) if isinstance(exc, exception.RadarError) else \
                "%s: %s" % (type(exc).__name__, exc)
            LOG.error("source %s: collection failed: %s", source.name, message,
                      exc_info=not isinstance(exc, exception.RadarError))
            with self.engine.begin() as conn:
                db_api.collector_state_update(conn, sid, last_error=message[:1024],
                                              last_error_at=timeutils.utcnow(),
                                              add_failures=1)
            return exc
        with self.engine.begin() as conn:
            db_api.collector_state_update(conn, sid, last_success_at=timeutils.utcnow(),
                                          last_error=None)
        LOG.info("source %s: %d records, %d changes, %d new messages, %d reports, "
                 "%d skipped", source.name, total.records, total.changes,
                 total.messages_new, total.reports, total.skipped)
        return total

    def _release_bindings(self, source, source_id):
        """Move release tasks from the batch's bound CI jobs ([releases] bindings)."""
        try:
            release_bindings.apply(self.conf, self.engine, source_id)
        except Exception:  # noqa: BLE001 - release tracking never stops collection
            LOG.exception("source %s: applying the release bindings failed", source.name)

    def release(self):
        with self.engine.begin() as conn:
            for source in self.sources:
                db_api.lease_release(conn, self._lease_name(source), self.holder)

    def run(self, interval):
        """Collect every `interval` seconds until stop_event is set."""
        try:
            while not self.stop_event.is_set():
                try:
                    self.run_once()
                except Exception:  # noqa: BLE001 - the loop must survive anything
                    LOG.exception("collection cycle failed")
                self.stop_event.wait(interval)
        finally:
            try:
                self.release()
            except Exception:  # noqa: BLE001 - leases expire anyway
                LOG.warning("could not release leases; they expire after %ss",
                            self.conf.daemon.lease_ttl)
