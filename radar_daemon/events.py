"""The event detector: state transitions -> events, run after each collection cycle.

* CI health: each enabled system's health over the default window (the
  same radar.stats code as /v1/systems) against the last one recorded in
  watch_states ("health:<system id>"). A change stores the event and the
  new state in one transaction, guarded by compare-and-set on the old
  state, so a restart neither loses nor repeats it and of two daemons
  seeing the same change one records it. The first observation of a
  system records its state only. UNKNOWN (no data to judge, or stale
  collection) is not a state: the last judged one stays, so a stalled
  collector does not flip every system to UNKNOWN and back. A new health
  must hold for [notifications] health_hold seconds (it waits in the
  state's data as "pending") before it is recorded and announced, so a
  system on a threshold does not notify every cycle.
* Releases and deployments: the history rows (release_task_events,
  deployment_events) above a watermark ("cursor:<table>"); every event's
  key names its source row, so nothing is stored twice. The scan reaches
  LOOKBACK_ROWS below the watermark because on MySQL a row with a lower
  id can commit after one with a higher id; keys already stored are
  skipped. Shipped releases are found by their updated_at the same way.
  The first run starts the watermarks at the current end: history that
  predates the detector makes no events (as for health).
"""

import datetime as dt
import logging
import urllib.parse

import sqlalchemy as sa
from sqlalchemy.orm import Session

from radar.common import timeutils
from radar.db import events as db_events
from radar.db import models
from radar.stats import health as health_mod
from radar.stats import systems as stats_systems
from radar.stats.window import Window

LOG = logging.getLogger(__name__)

LOOKBACK_ROWS = 200
LOOKBACK_TIME = dt.timedelta(hours=1)

T_RELEASES = models.Release.__table__
T_TASKS = models.ReleaseTask.__table__
T_TASK_EVENTS = models.ReleaseTaskEvent.__table__
T_DEPLOYMENTS = models.Deployment.__table__
T_DEPLOY_EVENTS = models.DeploymentEvent.__table__

HEALTH_PREFIX = "health:"
CURSOR_TASKS = "cursor:release_task_events"
CURSOR_DEPLOYS = "cursor:deployment_events"
CURSOR_SHIPPED = "cursor:release_shipped"

_HEALTH_SEVERITY = {health_mod.RED: db_events.CRITICAL, health_mod.SILENT: db_events.CRITICAL,
                    health_mod.GREEN: db_events.INFO}


def _q(value):
    return urllib.parse.quote(str(value), safe="")


def system_url(name):
    return "#/system/%s" % _q(name)


def release_url(version):
    return "#/release/%s" % _q(version)


def deployment_url(service, environment):
    """The deployments page scoped to the service (and environment): no page per
    deployment exists; the event's data names the deployment."""
    query = "service=%s" % _q(service)
    if environment:
        query += "&environment=%s" % _q(environment)
    return "#/deployments?%s" % query


def _iso(value):
    return timeutils.isoformat(timeutils.as_utc(value)) if value is not None else None


class Detector:
    """Finds new events; run() after each cycle (cheap when nothing changed)."""

    def __init__(self, conf, engine):
        self.conf = conf
        self.engine = engine

    def run(self, now=None):
        """Detect and store; returns {part: events stored}. A failing part is logged
        and the others still run."""
        now = now or timeutils.utcnow()
        outcome = {}
        for name, part in (("health", self.detect_health),
                           ("release_tasks", self.detect_release_tasks),
                           ("releases_shipped", self.detect_shipped),
                           ("deployments", self.detect_deployments)):
            try:
                outcome[name] = part(now)
            except Exception:  # noqa: BLE001 - one part never stops the others
                LOG.exception("event detection (%s) failed", name)
                outcome[name] = None
        stored = sum(v for v in outcome.values() if v)
        if stored:
            LOG.info("events: %d new (%s)", stored,
                     ", ".join("%s %d" % (k, v) for k, v in outcome.items() if v))
        return outcome

    # --- CI health -------------------------------------------------------------------

    def detect_health(self, now):
        window = Window.last(self.conf.api.default_window_days, now=now)
        with Session(self.engine) as session:
            summaries = stats_systems.system_summaries(session, self.conf, window, now=now)
        with self.engine.connect() as conn:
            known = db_events.watch_state_list(conn, HEALTH_PREFIX)
        hold = dt.timedelta(seconds=self.conf.notifications.health_hold)
        stored = 0
        for summary in summaries:
            new = summary.get("health")
            if not summary.get("enabled") or new not in health_mod.VALUES \
                    or new == health_mod.UNKNOWN:
                continue
            subject = "%s%d" % (HEALTH_PREFIX, summary["id"])
            old = known.get(subject)
            data = {"system": summary["name"], "reason": summary.get("health_reason")}
            if old is None:
                with self.engine.begin() as conn:
                    db_events.watch_state_set(conn, subject, new, now, data, expect=None)
                continue
            pending = (old.get("data") or {}).get("pending")
            if old["state"] == new:
                if pending:  # it went back before the hold ended: forget it
                    with self.engine.begin() as conn:
                        db_events.watch_state_set(conn, subject, new, old["since"],
                                                  dict(old["data"], pending=None), expect=old)
                continue
            if not pending or pending["state"] != new:
                pending = {"state": new, "since": _iso(now)}
            if now - timeutils.parse_iso(pending["since"]) < hold:
                if pending != (old.get("data") or {}).get("pending"):
                    with self.engine.begin() as conn:
                        db_events.watch_state_set(conn, subject, old["state"], old["since"],
                                                  dict(old["data"] or {}, pending=pending),
                                                  expect=old)
                continue
            changed_at = timeutils.parse_iso(pending["since"])
            with self.engine.begin() as conn:
                if not db_events.watch_state_set(conn, subject, new, changed_at, data,
                                                 expect=old):
                    continue  # another daemon recorded this change first
                key = "health:%d:%s:%s>%s" % (summary["id"],
                                              timeutils.to_epoch(old["since"]),
                                              old["state"], new)
                if db_events.event_create(
                        conn, key, self._health_event(summary, old, changed_at), now=now):
                    stored += 1
        return stored

    def _health_event(self, summary, old, changed_at):
        new = summary["health"]
        before = old["state"]
        name = summary.get("display_name") or summary["name"]
        reason = summary.get("health_reason") or ""
        if new == health_mod.SILENT:
            type_ = db_events.SYSTEM_SILENT
            title = "%s stopped reporting: %s" % (name, reason)
        elif before == health_mod.SILENT:
            type_ = db_events.SYSTEM_RESUMED
            title = "%s resumed reporting and is %s: %s" % (name, new, reason)
        else:
            type_ = db_events.SYSTEM_HEALTH_CHANGED
            title = "%s is %s (was %s): %s" % (name, new, before, reason)
        data = {
            "from": before, "to": new, "reason": reason,
            "previous_reason": (old.get("data") or {}).get("reason"),
            "previous_since": _iso(old["since"]),
            "window_days": self.conf.api.default_window_days,
            "success_rate": summary.get("success_rate"), "coverage": summary.get("coverage"),
            "reports": summary.get("reports"), "missed": summary.get("missed"),
            "last_seen": _iso(summary.get("last_seen")),
        }
        return {"type": type_, "severity": _HEALTH_SEVERITY.get(new, db_events.WARNING),
                "title": title, "system": summary["name"], "url": system_url(summary["name"]),
                "data": data, "occurred_at": changed_at}

    # --- watermarks ------------------------------------------------------------------

    def _cursor(self, subject, current_end, now):
        """(low bound, floor) of the scan; None on the first run (which only starts
        the watermark at `current_end`)."""
        with self.engine.connect() as conn:
            state = db_events.watch_state_get(conn, subject)
        if state is None:
            with self.engine.begin() as conn:
                db_events.watch_state_set(conn, subject, str(current_end), now,
                                          {"floor": current_end}, expect=None)
            return None
        floor = (state.get("data") or {}).get("floor", 0)
        return max(int(state["state"]) - LOOKBACK_ROWS, floor), floor

    def _store(self, candidates, now, move_mark):
        """Store the candidates not stored yet; move_mark(conn) moves the
        watermark in the same transaction."""
        # Read before the write transaction: on SQLite it then starts with a write.
        with self.engine.connect() as conn:
            present = db_events.event_keys_present(conn, [k for k, _ in candidates])
        stored = 0
        with self.engine.begin() as conn:
            for key, values in candidates:
                if key not in present and db_events.event_create(conn, key, values, now=now):
                    stored += 1
            move_mark(conn)
        return stored

    def _store_above(self, subject, candidates, new_mark, floor, now):
        """_store() for an id watermark: it only moves forward."""
        def move_mark(conn):
            current = db_events.watch_state_get(conn, subject)
            if current is None or int(current["state"]) < new_mark:
                db_events.watch_state_set(conn, subject, str(new_mark), now, {"floor": floor})
        return self._store(candidates, now, move_mark)

    @staticmethod
    def _max_id(table):
        return sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))

    # --- release tasks ---------------------------------------------------------------

    def detect_release_tasks(self, now):
        with self.engine.connect() as conn:
            end = conn.execute(self._max_id(T_TASK_EVENTS)).scalar_one()
        bounds = self._cursor(CURSOR_TASKS, end, now)
        if bounds is None:
            return 0
        low, floor = bounds
        j = T_TASK_EVENTS.join(T_TASKS, T_TASKS.c.id == T_TASK_EVENTS.c.task_id) \
            .join(T_RELEASES, T_RELEASES.c.id == T_TASKS.c.release_id)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(T_TASK_EVENTS, T_TASKS.c.name.label("task"), T_TASKS.c.position,
                          T_TASKS.c.release_id, T_RELEASES.c.version, T_RELEASES.c.product)
                .select_from(j).where(T_TASK_EVENTS.c.id > low)
                .order_by(T_TASK_EVENTS.c.id)).mappings().all()
            if not rows:
                return 0
            turned_red = self._turned_red(conn, {r["release_id"] for r in rows},
                                          rows[-1]["id"])
        candidates = []
        for row in rows:
            if row["status"] == models.FAIL and row["from_status"] != models.FAIL:
                candidates.append(("release.task_failed:%d" % row["id"],
                                   self._task_event(row, db_events.RELEASE_TASK_FAILED)))
            if row["id"] in turned_red:
                candidates.append(("release.red:%d" % row["id"],
                                   self._task_event(row, db_events.RELEASE_RED)))
        return self._store_above(CURSOR_TASKS, candidates, rows[-1]["id"], floor, now)

    @staticmethod
    def _turned_red(conn, release_ids, last_id):
        """Ids of the task events that turned their release RED (no task FAIL before,
        one after), replaying each release's task history in id order."""
        history = conn.execute(
            sa.select(T_TASK_EVENTS.c.id, T_TASK_EVENTS.c.task_id, T_TASK_EVENTS.c.status)
            .select_from(T_TASK_EVENTS.join(T_TASKS, T_TASKS.c.id == T_TASK_EVENTS.c.task_id))
            .where(T_TASKS.c.release_id.in_(sorted(release_ids)),
                   T_TASK_EVENTS.c.id <= last_id)
            .order_by(T_TASK_EVENTS.c.id)).all()
        task_release = dict(conn.execute(
            sa.select(T_TASKS.c.id, T_TASKS.c.release_id)
            .where(T_TASKS.c.release_id.in_(sorted(release_ids)))).all())
        failing = {}  # release id -> ids of its tasks currently FAIL
        out = set()
        for ident, task_id, status in history:
            tasks = failing.setdefault(task_release[task_id], set())
            was_red = bool(tasks)
            if status == models.FAIL:
                tasks.add(task_id)
            else:
                tasks.discard(task_id)
            if tasks and not was_red:
                out.add(ident)
        return out

    @staticmethod
    def _task_event(row, type_):
        version, task = row["version"], row["task"]
        message = (row["message"] or "").strip()
        if type_ == db_events.RELEASE_RED:
            title = "Release %s is RED: task %s failed" % (version, task)
            severity = db_events.CRITICAL
        else:
            title = "Release %s: task %s failed" % (version, task)
            severity = db_events.WARNING
        if message:
            title += ": " + message
        data = {"task": task, "position": row["position"], "from_status": row["from_status"],
                "status": row["status"], "at": _iso(row["at"]), "task_url": row["url"],
                "message": row["message"], "actor": row["actor"],
                "release_task_event_id": row["id"]}
        return {"type": type_, "severity": severity, "title": title,
                "product": row["product"], "release": version, "url": release_url(version),
                "data": data, "occurred_at": row["at"]}

    # --- shipped releases ----------------------------------------------------------------

    def detect_shipped(self, now):
        with self.engine.connect() as conn:
            state = db_events.watch_state_get(conn, CURSOR_SHIPPED)
        if state is None:
            with self.engine.begin() as conn:
                db_events.watch_state_set(conn, CURSOR_SHIPPED, _iso(now), now,
                                          {"floor": _iso(now)}, expect=None)
            return 0
        floor = timeutils.parse_iso(state["data"]["floor"])
        low = max(floor, timeutils.parse_iso(state["state"]) - LOOKBACK_TIME)
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(T_RELEASES.c.id, T_RELEASES.c.version, T_RELEASES.c.product,
                          T_RELEASES.c.shipped_at, T_RELEASES.c.updated_at,
                          T_RELEASES.c.shipment, T_RELEASES.c.flow_type)
                .where(T_RELEASES.c.shipped_at.is_not(None),
                       T_RELEASES.c.shipped_at >= floor,
                       T_RELEASES.c.updated_at >= low)
                .order_by(T_RELEASES.c.updated_at)).mappings().all()
        candidates = []
        for row in rows:
            shipment = row["shipment"] or {}
            candidates.append(("release.shipped:%d" % row["id"], {
                "type": db_events.RELEASE_SHIPPED, "severity": db_events.INFO,
                "title": "Release %s shipped" % row["version"],
                "product": row["product"], "release": row["version"],
                "url": release_url(row["version"]), "occurred_at": row["shipped_at"],
                "data": {"shipped_at": _iso(row["shipped_at"]),
                         "shipment_url": shipment.get("url"),
                         "shipment_state": shipment.get("state"),
                         "flow_type": row["flow_type"]}}))
        if not candidates:
            return 0

        def move_mark(conn):
            mark = timeutils.parse_iso(state["state"])
            newest = max([timeutils.as_utc(r["updated_at"]) for r in rows] + [mark])
            if newest > mark:
                db_events.watch_state_set(conn, CURSOR_SHIPPED, _iso(newest), now,
                                          state["data"])
        return self._store(candidates, now, move_mark)

    # --- deployments ---------------------------------------------------------------------

    def detect_deployments(self, now):
        with self.engine.connect() as conn:
            end = conn.execute(self._max_id(T_DEPLOY_EVENTS)).scalar_one()
        bounds = self._cursor(CURSOR_DEPLOYS, end, now)
        if bounds is None:
            return 0
        low, floor = bounds
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(T_DEPLOY_EVENTS.c.id, T_DEPLOY_EVENTS.c.deployment_id,
                          T_DEPLOY_EVENTS.c.at, T_DEPLOY_EVENTS.c.result,
                          T_DEPLOY_EVENTS.c.message, T_DEPLOYMENTS.c.source,
                          T_DEPLOYMENTS.c.uid, T_DEPLOYMENTS.c.service,
                          T_DEPLOYMENTS.c.environment, T_DEPLOYMENTS.c.wave,
                          T_DEPLOYMENTS.c.version, T_DEPLOYMENTS.c.revision,
                          T_DEPLOYMENTS.c.cluster, T_DEPLOYMENTS.c.namespace,
                          T_DEPLOYMENTS.c.name, T_DEPLOYMENTS.c.url)
                .select_from(T_DEPLOY_EVENTS.join(
                    T_DEPLOYMENTS, T_DEPLOYMENTS.c.id == T_DEPLOY_EVENTS.c.deployment_id))
                .where(T_DEPLOY_EVENTS.c.id > low)
                .order_by(T_DEPLOY_EVENTS.c.id)).mappings().all()
            if not rows:
                return 0
            # Each row's previous result: only a change to FAILED/ROLLED_BACK counts
            # (a later progress step of a failed rollout repeats its result).
            history = conn.execute(
                sa.select(T_DEPLOY_EVENTS.c.id, T_DEPLOY_EVENTS.c.deployment_id,
                          T_DEPLOY_EVENTS.c.result)
                .where(T_DEPLOY_EVENTS.c.deployment_id.in_(
                    sorted({r["deployment_id"] for r in rows})),
                    T_DEPLOY_EVENTS.c.id <= rows[-1]["id"])
                .order_by(T_DEPLOY_EVENTS.c.id)).all()
        previous, last = {}, {}
        for ident, deployment_id, result in history:
            previous[ident] = last.get(deployment_id)
            last[deployment_id] = result
        candidates = []
        for row in rows:
            result = row["result"]
            if result not in (models.FAILED, models.ROLLED_BACK) \
                    or previous.get(row["id"]) == result:
                continue
            type_ = db_events.DEPLOYMENT_FAILED if result == models.FAILED \
                else db_events.DEPLOYMENT_ROLLED_BACK
            candidates.append(("%s:%d" % (type_, row["id"]), self._deploy_event(row, type_)))
        return self._store_above(CURSOR_DEPLOYS, candidates, rows[-1]["id"], floor, now)

    @staticmethod
    def _deploy_event(row, type_):
        what = row["service"]
        if row["version"]:
            what += " " + row["version"]
        where = " to %s" % row["environment"] if row["environment"] else ""
        if row["wave"]:
            where += " (wave %s)" % row["wave"]
        verb = "failed" if type_ == db_events.DEPLOYMENT_FAILED else "was rolled back"
        title = "Deployment of %s%s %s" % (what, where, verb)
        message = (row["message"] or "").strip()
        if message:
            title += ": " + message
        data = {"deployment_id": row["deployment_id"], "source": row["source"],
                "uid": row["uid"], "result": row["result"], "wave": row["wave"],
                "version": row["version"], "revision": row["revision"],
                "cluster": row["cluster"], "namespace": row["namespace"],
                "name": row["name"], "message": row["message"],
                "deployment_url": row["url"], "deployment_event_id": row["id"]}
        return {"type": type_, "severity": db_events.CRITICAL, "title": title,
                "service": row["service"], "environment": row["environment"],
                "url": deployment_url(row["service"], row["environment"]), "data": data,
                "occurred_at": row["at"]}
