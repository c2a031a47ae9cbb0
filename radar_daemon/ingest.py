"""Normalised records -> idempotent upserts -> classification -> rollups.

Raw first: every message is stored as received, keyed by its fingerprint,
so ingesting the same data twice changes nothing. Derived rows (reports,
job results, recheck requests) are rebuilt per touched patch set from the
stored messages by the same code that `reparse` runs, so an incremental
ingest and a full reparse always agree.
"""

import dataclasses
import logging
import re
from collections import defaultdict

import sqlalchemy as sa

from radar.ci import classifier
from radar.ci.identity import Identity
from radar.common import exception, timeutils
from radar.db import api as db_api
from radar.db import models
from radar.stats import rollups

LOG = logging.getLogger(__name__)

T_ACCOUNTS = models.Account.__table__
T_CHANGES = models.Change.__table__
T_JOBS = models.CiJobResult.__table__
T_MESSAGES = models.Message.__table__
T_PATCHSETS = models.PatchSet.__table__
T_PROJECTS = models.Project.__table__
T_RECHECKS = models.RecheckRequest.__table__
T_REPORTS = models.CiReport.__table__
T_SYSTEMS = models.CiSystem.__table__

# Bound parameters per IN (...) list: well under SQLite's and MySQL's limits.
CHUNK = 500


def _chunks(items, size=CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _cut(value, length):
    return value[:length] if isinstance(value, str) and len(value) > length else value


@dataclasses.dataclass
class IngestStats:
    records: int = 0
    changes: int = 0
    messages_new: int = 0
    reports: int = 0
    skipped: int = 0

    def add(self, other):
        for field in dataclasses.fields(self):
            setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


class Ingester:
    """Writes one source's records. Not thread-safe; one per source."""

    def __init__(self, conf, engine, source_name, source_type="files", url=None,
                 web_url=None, identity=None):
        self.conf = conf
        self.engine = engine
        self.identity = identity or Identity(conf)
        self.batch_size = conf.daemon.batch_size
        with engine.begin() as conn:
            self.source_id = db_api.source_get_or_create(conn, source_name, source_type,
                                                         url=url, web_url=web_url)
            self._load_caches(conn)
            self._mark_reference_systems(conn)

    def _mark_reference_systems(self, conn):
        """[ci] reference_systems may name systems created before it was set."""
        names = [n for n in self.identity.reference_names
                 if n in self._systems and not self._systems[n].reference]
        if names:
            conn.execute(T_SYSTEMS.update().where(T_SYSTEMS.c.name.in_(names))
                         .values(reference=True))
            self._systems.update({r.name: r for r in conn.execute(
                sa.select(T_SYSTEMS).where(T_SYSTEMS.c.name.in_(names)))})

    # --- caches of small tables ------------------------------------------

    def _load_caches(self, conn):
        self._projects = {r.name: r.id for r in conn.execute(
            sa.select(T_PROJECTS.c.id, T_PROJECTS.c.name)
            .where(T_PROJECTS.c.source_id == self.source_id))}
        self._accounts = {}
        for r in conn.execute(sa.select(T_ACCOUNTS).where(
                T_ACCOUNTS.c.source_id == self.source_id)):
            self._accounts[r.key] = [r.id, r.ci_system_id, r.gerrit_id, r.username,
                                     r.name, r.email]
        self._systems = {r.name: r for r in conn.execute(sa.select(T_SYSTEMS))}

    def _system_patterns(self):
        """Per-system recheck syntaxes compiled once per batch."""
        patterns = []
        for system in self._systems.values():
            if system.recheck_pattern:
                try:
                    patterns.append((system.id, re.compile(system.recheck_pattern)))
                except re.error:
                    LOG.warning("system %s: invalid recheck pattern %r ignored",
                                system.name, system.recheck_pattern)
        return patterns

    # --- public -----------------------------------------------------------

    def ingest(self, records, errors=None):
        """Store `records` (iterable of ChangeRec) in committed batches."""
        total = IngestStats()
        batch = []
        for record in records:
            batch.append(record)
            if len(batch) >= self.batch_size:
                total.add(self._commit_batch(batch, errors))
                batch = []
        if batch:
            total.add(self._commit_batch(batch, errors))
        return total

    def _commit_batch(self, batch, errors):
        stats = IngestStats(records=len(batch))
        good = []
        for record in batch:
            problem = _validate(record)
            if problem:
                stats.skipped += 1
                LOG.warning("skipping record at %s: %s", record.location or "?", problem)
                if errors is not None:
                    errors.append((record.location, problem))
            else:
                good.append(record)
        if not good:
            return stats
        try:
            with self.engine.begin() as conn:
                stats.add(self._ingest_batch(conn, good))
        except Exception:
            # The caches may hold ids of rows that were rolled back.
            with self.engine.connect() as conn:
                self._load_caches(conn)
            raise
        return stats

    def reparse(self):
        """Rebuild every derived row of this source from its stored messages."""
        with self.engine.begin() as conn:
            self._refresh_account_systems(conn)
            ps_ids = [r.id for r in conn.execute(
                sa.select(T_PATCHSETS.c.id)
                .join(T_CHANGES, T_CHANGES.c.id == T_PATCHSETS.c.change_id)
                .where(T_CHANGES.c.source_id == self.source_id))]
        reports = 0
        for chunk in _chunks(ps_ids, 2000):
            with self.engine.begin() as conn:
                reports += self._derive(conn, chunk)
        return reports

    # --- one batch --------------------------------------------------------

    def _ingest_batch(self, conn, records):
        stats = IngestStats()
        merged = _merge_by_change(records)
        stats.changes = len(merged)
        self._upsert_projects(conn, {r.project for r in merged.values()})
        accounts = {}
        for rec in merged.values():
            for acc in _accounts_of(rec):
                if acc.key:
                    accounts.setdefault(acc.key, acc)
        self._upsert_accounts(conn, accounts)
        change_ids = self._upsert_changes(conn, merged)
        new_ps = self._upsert_patchsets(conn, merged, change_ids)
        touched, stats.messages_new = self._insert_messages(conn, merged, change_ids)
        if new_ps:
            self._update_superseded(conn, new_ps)
        if touched:
            ps_ids = self._patchset_ids(conn, touched)
            stats.reports = self._derive(conn, ps_ids)
        return stats

    def _upsert_projects(self, conn, names):
        missing = [n for n in names if n not in self._projects]
        for name in missing:
            conn.execute(T_PROJECTS.insert().values(source_id=self.source_id,
                                                    name=_cut(name, 255)))
        if missing:
            for r in conn.execute(sa.select(T_PROJECTS.c.id, T_PROJECTS.c.name).where(
                    T_PROJECTS.c.source_id == self.source_id,
                    T_PROJECTS.c.name.in_(missing))):
                self._projects[r.name] = r.id

    def _upsert_accounts(self, conn, accounts):
        new_rows = []
        for key, acc in accounts.items():
            known = self._accounts.get(key)
            if known is None:
                new_rows.append({"source_id": self.source_id, "key": _cut(key, 255),
                                 "gerrit_id": acc.gerrit_id,
                                 "username": _cut(acc.username, 255),
                                 "name": _cut(acc.name, 255), "email": _cut(acc.email, 255),
                                 "ci_system_id": None})
                continue
            # Fill what an earlier, poorer source did not know (stream data
            # has no ids, name-only 2.x accounts have no username).
            update = {}
            for index, column in ((2, "gerrit_id"), (3, "username"), (4, "name"),
                                  (5, "email")):
                value = getattr(acc, column)
                if value and known[index] is None:
                    update[column] = _cut(value, 255)
                    known[index] = value
            if update:
                conn.execute(T_ACCOUNTS.update().where(T_ACCOUNTS.c.id == known[0])
                             .values(**update))
        if new_rows:
            conn.execute(T_ACCOUNTS.insert(), new_rows)
            keys = [r["key"] for r in new_rows]
            for chunk in _chunks(keys):
                for r in conn.execute(sa.select(T_ACCOUNTS).where(
                        T_ACCOUNTS.c.source_id == self.source_id,
                        T_ACCOUNTS.c.key.in_(chunk))):
                    self._accounts[r.key] = [r.id, r.ci_system_id, r.gerrit_id,
                                             r.username, r.name, r.email]

    def _account_id(self, acc):
        if acc is None or not acc.key:
            return None
        return self._accounts[acc.key][0]

    def _upsert_changes(self, conn, merged):
        numbers = list(merged)
        existing = {}
        for chunk in _chunks(numbers):
            for r in conn.execute(sa.select(T_CHANGES).where(
                    T_CHANGES.c.source_id == self.source_id,
                    T_CHANGES.c.number.in_(chunk))):
                existing[r.number] = r
        new_rows = []
        for number, rec in merged.items():
            values = {
                "project_id": self._projects[rec.project],
                "branch": _cut(rec.branch, 255),
                "change_key": _cut(rec.change_key, 64),
                "subject": _cut(rec.subject, 1024),
                "owner_id": self._account_id(rec.owner),
                "status": _cut(rec.status, 16),
                "created": rec.created,
                "updated": rec.updated,
                "merged_at": rec.merged_at,
            }
            row = existing.get(number)
            if row is None:
                values.update(source_id=self.source_id, number=number)
                new_rows.append(values)
                continue
            update = {}
            for column, value in values.items():
                if value is None or getattr(row, column) == value:
                    continue
                # `updated` only moves forward; a replayed old record must
                # not roll a change back.
                if column == "updated" and row.updated and value < row.updated:
                    continue
                if column == "status" and row.updated and rec.updated \
                        and rec.updated < row.updated:
                    continue
                update[column] = value
            if update:
                conn.execute(T_CHANGES.update().where(T_CHANGES.c.id == row.id).values(**update))
        if new_rows:
            conn.execute(T_CHANGES.insert(), new_rows)
        ids = {number: row.id for number, row in existing.items()}
        missing = [n for n in numbers if n not in ids]
        for chunk in _chunks(missing):
            for r in conn.execute(sa.select(T_CHANGES.c.id, T_CHANGES.c.number).where(
                    T_CHANGES.c.source_id == self.source_id,
                    T_CHANGES.c.number.in_(chunk))):
                ids[r.number] = r.id
        return ids

    def _upsert_patchsets(self, conn, merged, change_ids):
        """Insert unknown patch sets, fill missing fields; return changed change ids."""
        wanted = {}
        for number, rec in merged.items():
            cid = change_ids[number]
            for ps in rec.patchsets:
                wanted[(cid, ps.number)] = ps
            # A message may name a patch set the record does not list.
            for msg in rec.messages:
                if msg.patchset is not None:
                    wanted.setdefault((cid, msg.patchset), None)
        existing = {}
        for chunk in _chunks({cid for cid, _ in wanted}):
            for r in conn.execute(sa.select(T_PATCHSETS).where(
                    T_PATCHSETS.c.change_id.in_(chunk))):
                existing[(r.change_id, r.number)] = r
        new_rows, changed = [], set()
        for (cid, number), ps in wanted.items():
            values = {}
            if ps is not None:
                values = {"revision": _cut(ps.revision, 64), "created": ps.created,
                          "uploader_id": self._account_id(ps.uploader),
                          "kind": _cut(ps.kind, 40)}
            row = existing.get((cid, number))
            if row is None:
                new_rows.append({"change_id": cid, "number": number, "revision": None,
                                 "created": None, "uploader_id": None, "kind": None,
                                 **values})
                changed.add(cid)
                continue
            update = {k: v for k, v in values.items()
                      if v is not None and getattr(row, k) is None}
            if update:
                conn.execute(T_PATCHSETS.update().where(T_PATCHSETS.c.id == row.id)
                             .values(**update))
                if "created" in update:
                    changed.add(cid)
        if new_rows:
            conn.execute(T_PATCHSETS.insert(), new_rows)
        return changed

    def _update_superseded(self, conn, change_ids):
        for chunk in _chunks(change_ids):
            rows = conn.execute(sa.select(T_PATCHSETS.c.id, T_PATCHSETS.c.change_id,
                                          T_PATCHSETS.c.number, T_PATCHSETS.c.created,
                                          T_PATCHSETS.c.superseded_at)
                                .where(T_PATCHSETS.c.change_id.in_(chunk))
                                .order_by(T_PATCHSETS.c.change_id, T_PATCHSETS.c.number)).all()
            for current, nxt in zip(rows, rows[1:] + [None], strict=True):
                superseded = None
                if nxt is not None and nxt.change_id == current.change_id:
                    superseded = nxt.created
                if superseded != current.superseded_at:
                    conn.execute(T_PATCHSETS.update().where(T_PATCHSETS.c.id == current.id)
                                 .values(superseded_at=superseded))

    def _insert_messages(self, conn, merged, change_ids):
        """Insert messages not stored yet; return touched (change id, ps) and count."""
        candidates = {}
        for number, rec in merged.items():
            cid = change_ids[number]
            for msg in rec.messages:
                fp = msg.fingerprint(number)
                candidates.setdefault(fp, (cid, rec, msg))
        known = set()
        for chunk in _chunks(candidates):
            known.update(r.fingerprint for r in conn.execute(
                sa.select(T_MESSAGES.c.fingerprint).where(
                    T_MESSAGES.c.source_id == self.source_id,
                    T_MESSAGES.c.fingerprint.in_(chunk))))
        rows, touched = [], set()
        for fp, (cid, rec, msg) in candidates.items():
            if fp in known:
                continue
            ps = msg.patchset
            if ps is None:
                ps = _patchset_at(rec, msg.date)
            rows.append({"source_id": self.source_id, "fingerprint": fp,
                         "gerrit_id": _cut(msg.gerrit_id, 64), "change_id": cid,
                         "patchset_number": ps, "author_id": self._account_id(msg.author),
                         "date": msg.date, "date_estimated": bool(msg.date_estimated),
                         "tag": _cut(msg.tag, 255), "text": msg.text,
                         "votes": msg.votes or None})
            if ps is not None:
                touched.add((cid, ps))
        if rows:
            conn.execute(T_MESSAGES.insert(), rows)
        return touched, len(rows)

    def _patchset_ids(self, conn, pairs):
        by_change = defaultdict(set)
        for cid, number in pairs:
            by_change[cid].add(number)
        ids = []
        for chunk in _chunks(by_change):
            for r in conn.execute(sa.select(T_PATCHSETS.c.id, T_PATCHSETS.c.change_id,
                                            T_PATCHSETS.c.number)
                                  .where(T_PATCHSETS.c.change_id.in_(chunk))):
                if r.number in by_change[r.change_id]:
                    ids.append(r.id)
        return ids

    # --- derived rows -----------------------------------------------------

    def _derive(self, conn, ps_ids):
        """Rebuild reports, job results and rechecks of these patch sets."""
        if not ps_ids:
            return 0
        keys = set()
        for chunk in _chunks(ps_ids):
            old = conn.execute(sa.select(T_REPORTS.c.id, T_REPORTS.c.ci_system_id,
                                         T_REPORTS.c.project_id, T_REPORTS.c.reported_at)
                               .where(T_REPORTS.c.patchset_id.in_(chunk))).all()
            keys.update((r.ci_system_id, r.project_id, r.reported_at.date()) for r in old)
            old_ids = [r.id for r in old]
            for ids in _chunks(old_ids):
                conn.execute(T_JOBS.delete().where(T_JOBS.c.report_id.in_(ids)))
                conn.execute(T_REPORTS.delete().where(T_REPORTS.c.id.in_(ids)))
            conn.execute(T_RECHECKS.delete().where(T_RECHECKS.c.patchset_id.in_(chunk)))

        rows = []
        for chunk in _chunks(ps_ids):
            rows.extend(conn.execute(
                sa.select(T_MESSAGES.c.id, T_MESSAGES.c.author_id, T_MESSAGES.c.date,
                          T_MESSAGES.c.date_estimated,
                          T_MESSAGES.c.tag, T_MESSAGES.c.text, T_MESSAGES.c.votes,
                          T_PATCHSETS.c.id.label("ps_id"),
                          T_PATCHSETS.c.created.label("ps_created"),
                          T_CHANGES.c.id.label("change_id"), T_CHANGES.c.project_id)
                .join(T_PATCHSETS, sa.and_(T_PATCHSETS.c.change_id == T_MESSAGES.c.change_id,
                                           T_PATCHSETS.c.number == T_MESSAGES.c.patchset_number))
                .join(T_CHANGES, T_CHANGES.c.id == T_MESSAGES.c.change_id)
                .where(T_PATCHSETS.c.id.in_(chunk))))
        by_ps = defaultdict(list)
        for row in rows:
            by_ps[row.ps_id].append(row)
        accounts_by_id = {v[0]: (key, v) for key, v in self._accounts.items()}
        patterns = self._system_patterns()
        report_rows, job_rows = [], []
        for ps_messages in by_ps.values():
            ps_messages.sort(key=lambda r: (r.date, r.id))
            self._derive_patchset(conn, ps_messages, accounts_by_id, patterns,
                                  report_rows, job_rows)
        if report_rows:
            conn.execute(T_REPORTS.insert(), report_rows)
            ids = {}
            for chunk in _chunks([r["message_id"] for r in report_rows]):
                ids.update({r.message_id: r.id for r in conn.execute(
                    sa.select(T_REPORTS.c.id, T_REPORTS.c.message_id)
                    .where(T_REPORTS.c.message_id.in_(chunk)))})
            for job in job_rows:
                job["report_id"] = ids[job.pop("message_id")]
            if job_rows:
                conn.execute(T_JOBS.insert(), job_rows)
        keys.update((r["ci_system_id"], r["project_id"], r["reported_at"].date())
                    for r in report_rows)
        rollups.rebuild(conn, keys)
        return len(report_rows)

    def _derive_patchset(self, conn, messages, accounts_by_id, patterns, report_rows, job_rows):
        """Classify one patch set's messages in time order."""
        attempts = defaultdict(int)          # system id -> reports so far
        last_report_at = {}                  # system id -> time of its last report
        rechecks = []                        # (time, target system id or None, recheck id)
        for msg in messages:
            account = accounts_by_id.get(msg.author_id)
            if classifier.is_gerrit_system_message(msg.text, msg.tag):
                continue
            system_id = self._system_of(conn, account) if account else None
            if system_id is None:
                recheck = self._recheck(conn, msg, account, patterns)
                if recheck is not None:
                    rechecks.append(recheck)
                continue
            result = classifier.classify_ci_message(msg.text, msg.tag, msg.votes)
            if result.kind != classifier.REPORT:
                continue
            attempts[system_id] += 1
            previous = last_report_at.get(system_id)
            answered = None
            for when, target, recheck_id in reversed(rechecks):
                if previous is not None and when < previous:
                    break
                if target in (None, system_id) and when <= msg.date:
                    answered = (when, recheck_id)
                    break
            # A message without a real time gets no latency rather than a wrong one.
            latency = None
            if answered is not None and not msg.date_estimated:
                latency = (msg.date - answered[0]).total_seconds()
            elif attempts[system_id] == 1 and msg.ps_created is not None \
                    and not msg.date_estimated:
                latency = max(0.0, (msg.date - msg.ps_created).total_seconds())
            last_report_at[system_id] = msg.date
            report_rows.append({
                "message_id": msg.id, "ci_system_id": system_id, "account_id": msg.author_id,
                "change_id": msg.change_id, "patchset_id": msg.ps_id,
                "project_id": msg.project_id, "pipeline": _cut(result.pipeline, 64),
                "result": result.result, "vote_label": _cut(result.vote_label, 64),
                "vote": result.vote, "headline": _cut(result.headline, 255),
                "reported_at": msg.date, "attempt": attempts[system_id],
                "recheck_id": answered[1] if answered else None,
                "latency_s": latency, "truncated": bool(result.truncated)})
            for position, job in enumerate(result.jobs):
                job_rows.append({
                    "message_id": msg.id, "position": position, "name": _cut(job.name, 255),
                    "result": _cut(job.result, 64), "voting": bool(job.voting),
                    "duration_s": job.duration_s, "url": _cut(job.url, 1024),
                    "detail": _cut(job.detail, 255)})

    def _recheck(self, conn, msg, account, patterns):
        """Store a human recheck request; return (time, system id|None, row id)."""
        if account is None:
            return None
        system_id, target = None, None
        for sid, pattern in patterns:
            if pattern.search(classifier.parse_header(msg.text).body):
                system_id = sid
                break
        if system_id is None:
            matched, target = classifier.parse_recheck(msg.text, self.conf.ci.recheck_pattern)
            if not matched:
                return None
            if target:
                system_id = self._system_by_target(target)
        result = conn.execute(T_RECHECKS.insert().values(
            message_id=msg.id, patchset_id=msg.ps_id, account_id=msg.author_id,
            ci_system_id=system_id, target=_cut(target, 255), requested_at=msg.date))
        return (msg.date, system_id, result.inserted_primary_key[0])

    def _system_by_target(self, target):
        """'recheck cisco-ci' names a system by name or by one of its usernames."""
        target = target.strip().lower()
        system = self._systems.get(target)
        if system is not None:
            return system.id
        for key, values in self._accounts.items():
            if values[1] is not None and target in (key, (values[3] or "").lower(),
                                                    (values[4] or "").lower()):
                return values[1]
        return None  # "recheck bug 123": a reason, addressed to every CI

    def _system_of(self, conn, account):
        """The CI system id of an account row (key, values), creating the system."""
        key, values = account
        if values[1] is not None:
            return values[1]
        ref = _ref_from_values(values)
        name = self.identity.system_name(ref)
        if name is None:
            return None
        system = self._systems.get(name.lower())
        if system is None:
            now = timeutils.utcnow()
            conn.execute(T_SYSTEMS.insert().values(
                name=_cut(name.lower(), 255), display_name=_cut(name, 255),
                reference=self.identity.is_reference(name), enabled=True,
                origin=self.identity.origin(ref), created_at=now, updated_at=now))
            system = conn.execute(sa.select(T_SYSTEMS).where(
                T_SYSTEMS.c.name == _cut(name.lower(), 255))).one()
            self._systems[system.name] = system
        conn.execute(T_ACCOUNTS.update().where(T_ACCOUNTS.c.id == values[0])
                     .values(ci_system_id=system.id))
        values[1] = system.id
        return system.id

    def _refresh_account_systems(self, conn):
        """Re-decide CI-ness of every account (configuration may have changed)."""
        for values in self._accounts.values():
            if values[1] is not None and self.identity.system_name(
                    _ref_from_values(values)) is None:
                conn.execute(T_ACCOUNTS.update().where(T_ACCOUNTS.c.id == values[0])
                             .values(ci_system_id=None))
                values[1] = None


def _ref_from_values(values):
    from radar_daemon.records import AccountRef
    return AccountRef(gerrit_id=values[2], username=values[3], name=values[4], email=values[5])


def _validate(record):
    if not isinstance(record.number, int) or record.number <= 0:
        return "bad change number %r" % (record.number,)
    if not record.project:
        return "change %s has no project" % record.number
    for ps in record.patchsets:
        if not isinstance(ps.number, int) or ps.number <= 0:
            return "change %s: bad patch set number %r" % (record.number, ps.number)
    for msg in record.messages:
        if msg.date is None or msg.date.tzinfo is None:
            return "change %s: message without an aware date" % record.number
        if not isinstance(msg.text, str):
            return "change %s: message text is not a string" % record.number
    return None


def _merge_by_change(records):
    """Stream events bring one change many times: fold them into one record."""
    merged = {}
    for rec in records:
        cur = merged.get(rec.number)
        if cur is None:
            merged[rec.number] = dataclasses.replace(
                rec, patchsets=list(rec.patchsets), messages=list(rec.messages))
            continue
        newer = rec.updated is None or cur.updated is None or rec.updated >= cur.updated
        for field in ("project", "branch", "change_key", "subject", "owner", "status",
                      "created", "merged_at"):
            value = getattr(rec, field)
            if value is not None and (getattr(cur, field) is None or newer):
                setattr(cur, field, value)
        if rec.updated is not None and (cur.updated is None or rec.updated > cur.updated):
            cur.updated = rec.updated
        known = {ps.number: ps for ps in cur.patchsets}
        for ps in rec.patchsets:
            if ps.number not in known:
                cur.patchsets.append(ps)
                known[ps.number] = ps
            else:
                have = known[ps.number]
                for field in ("revision", "created", "uploader", "kind"):
                    if getattr(have, field) is None:
                        setattr(have, field, getattr(ps, field))
        cur.messages.extend(rec.messages)
    return merged


def _accounts_of(rec):
    if rec.owner:
        yield rec.owner
    for ps in rec.patchsets:
        if ps.uploader:
            yield ps.uploader
    for msg in rec.messages:
        if msg.author:
            yield msg.author


def _patchset_at(rec, when):
    """The newest patch set created at or before `when` (messages without one)."""
    best = None
    for ps in rec.patchsets:
        if ps.created is not None and ps.created <= when and (
                best is None or ps.number > best.number):
            best = ps
    if best is None and rec.patchsets:
        return min(ps.number for ps in rec.patchsets)
    return best.number if best else None


def ingest_records(conf, engine, source_name, records, source_type="files", errors=None):
    """One-shot helper for imports and tests."""
    if not source_name:
        raise exception.ConfigError("a source name is required")
    return Ingester(conf, engine, source_name, source_type).ingest(records, errors=errors)
