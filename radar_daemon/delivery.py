"""The delivery sender: queue new events for subscriptions, send what is due.

It runs in its own thread beside the collector ('radar-daemon run'), so a
receiver that is slow or never answers holds up only the sender, never a
collection cycle; every request has a timeout. run_once() is one cycle and
is what tests call; run() loops around it, waiting on the stop event.

A failed attempt is retried after an exponential backoff with jitter
([notifications] retry_backoff_base doubling up to retry_backoff_max)
until max_retry_age has passed since the delivery was queued; then it is
FAILED. pause_after_failures failed attempts in a row pause the
subscription, with the reason, until someone resumes it.
"""

import datetime as dt
import logging
import os
import random
import socket
import threading

from sqlalchemy import exc as sa_exc

from radar import notifications
from radar.common import timeutils
from radar.db import subscriptions as db_subs

LOG = logging.getLogger(__name__)


def backoff(attempts, base, maximum, rng=random):
    """Seconds to wait after the `attempts`-th failure: base * 2^(n-1), capped,
    then somewhere in its upper half, so that receivers coming back are not
    hit by every sender at once."""
    delay = min(float(maximum), base * 2.0 ** max(attempts - 1, 0))
    return delay * (0.5 + rng.random() / 2)


class DeliverySender:
    def __init__(self, conf, engine, holder=None, stop_event=None, clock=None, rng=None,
                 sender=None):
        self.conf = conf
        self.opts = conf.notifications
        self.engine = engine
        self.stop_event = stop_event or threading.Event()
        self.holder = holder or conf.daemon.holder or "%s:%d" % (socket.gethostname(),
                                                                  os.getpid())
        self.clock = clock or timeutils.utcnow
        self.rng = rng or random.Random()
        self.sender = sender or notifications.Sender(conf)

    @property
    def claim_ttl(self):
        # Long enough to send a whole batch to receivers that all time out.
        per_item = max(self.opts.http_timeout, self.opts.smtp_timeout) * 2 + 1
        return int(self.opts.batch_size * per_item) + 60

    def enqueue(self):
        """Match new events to every subscription; returns deliveries queued."""
        with self.engine.connect() as conn:
            ids = [s["id"] for s in db_subs.subscription_list(conn, all_owners=True)]
        queued = 0
        for sub_id in ids:
            try:
                with self.engine.begin() as conn:
                    queued += db_subs.delivery_enqueue(conn, sub_id, now=self.clock())
            except sa_exc.IntegrityError:
                # Another sender queued the same events first: nothing lost.
                LOG.info("subscription %d: queued concurrently elsewhere", sub_id)
        return queued

    def run_once(self):
        """One cycle; returns counts {queued, sent, delivered, retrying, failed}."""
        stats = {"queued": self.enqueue(), "sent": 0, "delivered": 0, "retrying": 0,
                 "failed": 0}
        with self.engine.begin() as conn:
            batch = db_subs.delivery_claim(conn, self.holder, self.claim_ttl,
                                           self.opts.batch_size, now=self.clock())
        # A receiver that just failed is not tried again in this cycle: its
        # other deliveries wait with the failed one (one timeout per cycle
        # and subscription at most, not one per queued event).
        waiting = {}
        for item in batch:
            if self.stop_event.is_set():
                # Unsent claims expire after claim_ttl; another cycle sends them.
                break
            sub_id = item["subscription"]["id"]
            if sub_id in waiting:
                waiting[sub_id][1].append(item["delivery"]["id"])
                continue
            status, next_at = self._deliver(item)
            if status != db_subs.DELIVERED:
                waiting[sub_id] = (next_at, [])
            stats["sent"] += 1
            if status == db_subs.DELIVERED:
                stats["delivered"] += 1
            elif status == db_subs.PENDING:
                stats["retrying"] += 1
            elif status == db_subs.FAILED:
                stats["failed"] += 1
        for next_at, ids in waiting.values():
            if ids:
                with self.engine.begin() as conn:
                    db_subs.delivery_release(conn, ids, batch[0]["claim"],
                                             next_at or self.clock())
        if stats["queued"] or stats["sent"]:
            LOG.info("deliveries: %(queued)d queued, %(sent)d sent, %(delivered)d delivered, "
                     "%(retrying)d to retry, %(failed)d given up", stats)
        return stats

    def _deliver(self, item):
        delivery, sub = item["delivery"], item["subscription"]
        outcome = self.sender.send(sub, item["event"], delivery["id"])
        at = self.clock()
        next_at = None
        if not outcome.ok:
            attempts = delivery["attempts"] + 1
            wait = dt.timedelta(seconds=backoff(attempts, self.opts.retry_backoff_base,
                                                self.opts.retry_backoff_max, self.rng))
            deadline = timeutils.as_utc(delivery["created_at"]) + dt.timedelta(
                seconds=self.opts.max_retry_age)
            if at + wait <= deadline:
                next_at = at + wait
            # Never the target: URLs may hold credentials (Slack's do).
            LOG.warning("delivery %d (subscription %d, %s): attempt %d failed: %s%s",
                        delivery["id"], sub["id"], sub["kind"], attempts,
                        outcome.error or "HTTP %s" % outcome.status_code,
                        "" if next_at else "; given up")
        with self.engine.begin() as conn:
            status = db_subs.delivery_record(
                conn, delivery["id"], item["claim"], outcome.ok, at,
                status_code=outcome.status_code, error=outcome.error,
                duration_ms=outcome.duration_ms, next_attempt_at=next_at,
                pause_after=self.opts.pause_after_failures)
        if status is None:
            LOG.warning("delivery %d: claim expired while sending; left to its new sender",
                        delivery["id"])
        return status, next_at

    def run(self, interval=None):
        """Cycle every `interval` seconds ([notifications] poll_interval) until stopped."""
        interval = interval or self.opts.poll_interval
        try:
            while not self.stop_event.is_set():
                try:
                    self.run_once()
                except Exception:  # noqa: BLE001 - the loop must survive anything
                    LOG.exception("delivery cycle failed")
                self.stop_event.wait(interval)
        finally:
            self.sender.close()
