"""CI system statistics over a window, exactly as DESIGN.md §5 defines them.

Pure functions of a SQLAlchemy Session; no web framework. Every function
works for all systems at once with a handful of set-based queries (never a
query per system), each reading what the window holds, not the history:

* report counts, latencies, retries: ci_daily_rollups for the whole UTC
  days of the window (primary-key ranges; counts summed and the exact
  latency lists concatenated in SQL), ci_reports for the partial days at its
  edges, counted by the same rollups.accumulate, so the sum is exact;
  percentiles over the merged exact lists;
* patch-set numbers (first-attempt and final success, flaky, agreement,
  suspect failures): one grouped pass over the window's reports (time
  index), the reference systems' verdicts by window sums over each patch
  set, so each report is read once;
* coverage: two grouped queries over the patch sets created in the window
  (ix_patchsets_created, then ix_ci_reports_patchset), combined per system
  with its covered projects in Python;
* last seen: one UNION ALL of a single index seek per system.

Scoping rules that §5 leaves open:

* A patch set counts for a system's patch-set numbers in the window (or
  series bucket) that holds the system's first report on it (attempt 1);
  its first and last reports are the system's first and last reports on it
  up to the window end. So a series bucket equals the summary of that
  bucket alone.
* First-attempt / final success rate: SUCCESS / (SUCCESS + FAILURE) over
  those first / last reports (a MERGE_FAILED, CANCELED or UNKNOWN first or
  last report leaves the patch set out, as in the report success rate).
* Agreement compares final results that are both SUCCESS or FAILURE, on the
  patch sets both systems reported on first in the window; with several
  reference systems, every (patch set, other reference) pair counts.
* Coverage counts a report made at any time (also after the window); a
  patch set still inside the grace period at `now` is not due, reported or
  not; configured projects empty or None means "derived from reports".
* `rechecks` counts the reports in the window that answer a recheck
  request (retries).
* `last_seen` is the last report before the window end (the project
  filter applies), not only inside the window.
"""

import datetime as dt
import json
from collections import defaultdict

import sqlalchemy as sa

from radar.common import timeutils
from radar.db import models
from radar.stats import health as health_mod
from radar.stats import percentile, rollups
from radar.stats.sql import Buckets, usec_between
from radar.stats.window import Window, day_start

T_SYSTEMS = models.CiSystem.__table__
T_ACCOUNTS = models.Account.__table__
T_SOURCES = models.Source.__table__
T_PROJECTS = models.Project.__table__
T_CHANGES = models.Change.__table__
T_PATCHSETS = models.PatchSet.__table__
T_REPORTS = models.CiReport.__table__
T_JOBS = models.CiJobResult.__table__
T_ROLLUPS = models.DailyRollup.__table__
T_COLLECTOR = models.CollectorState.__table__

SUCCESS = models.SUCCESS
FAILURE = models.FAILURE
VERDICTS = (SUCCESS, FAILURE)
MERGED = "MERGED"

SUMMARY_KEYS = (
    "id", "name", "display_name", "accounts", "reference", "enabled", "reports",
    "successes", "failures", "merge_failures", "other_results", "success_rate",
    "first_attempt_success_rate", "final_success_rate", "patchsets_reported",
    "eligible_patchsets", "coverage", "missed", "latency_p50_s", "latency_p90_s",
    "retry_latency_p50_s", "rechecks", "flaky_patchsets", "flake_rate", "agreement",
    "suspect_failures", "last_seen", "health", "health_reason",
)

# Job results that are neither a pass nor the job's failure (left out of a
# job's success rate, like MERGE_FAILED is left out of a system's).
NEUTRAL_JOB_RESULTS = frozenset((
    "SKIPPED", "ABORTED", "CANCELED", "CANCELLED", "NOT_REGISTERED", "MERGE_CONFLICT",
    "MERGER_FAILURE", "DEQUEUED", "NOT_BUILT", "NOT_RUN", "BLOCKED",
))


def _rate(num, den):
    return num / den if den else None


def _int(value):
    return 0 if value is None else int(value)


# --- systems, projects, covered projects ------------------------------------


def _systems(session, system_ids=None):
    query = sa.select(T_SYSTEMS.c.id, T_SYSTEMS.c.name, T_SYSTEMS.c.display_name,
                      T_SYSTEMS.c.reference, T_SYSTEMS.c.enabled, T_SYSTEMS.c.projects)
    if system_ids is not None:
        query = query.where(T_SYSTEMS.c.id.in_(list(system_ids)))
    return list(session.execute(query.order_by(T_SYSTEMS.c.name, T_SYSTEMS.c.id)))


def _accounts(session, system_ids):
    names = defaultdict(set)
    for r in session.execute(
            sa.select(T_ACCOUNTS.c.ci_system_id, T_ACCOUNTS.c.username, T_ACCOUNTS.c.name,
                      T_ACCOUNTS.c.key)
            .where(T_ACCOUNTS.c.ci_system_id.in_(system_ids))):
        names[r.ci_system_id].add(r.username or r.name or r.key)
    return {s: sorted(v) for s, v in names.items()}


def _project_ids(session, project):
    """Ids of the projects called `project` (on any source); None: no filter."""
    if project is None:
        return None
    return {r.id for r in session.execute(
        sa.select(T_PROJECTS.c.id).where(T_PROJECTS.c.name == project))}


def _covered(session, conf, systems, buckets, project_ids):
    """{system id: [set of covered project ids, per bucket]}.

    Configured projects (ci_systems.projects), else the projects the system
    reported on in the lookback period before each bucket's end or in the
    bucket itself; then the project filter.
    """
    lookback = dt.timedelta(days=conf.stats.coverage_lookback_days)
    configured = {s.id: s.projects for s in systems if s.projects}
    derived = [s.id for s in systems if not s.projects]
    result = {}
    if configured:
        names = sorted({n for names in configured.values() for n in names})
        ids_by_name = defaultdict(set)
        for r in session.execute(sa.select(T_PROJECTS.c.id, T_PROJECTS.c.name)
                                 .where(T_PROJECTS.c.name.in_(names))):
            ids_by_name[r.name].add(r.id)
        for system_id, names in configured.items():
            ids = set().union(*[ids_by_name.get(n, set()) for n in names])
            result[system_id] = [set(ids) for _ in buckets.windows]
    if derived:
        # The lookback before the end, widened to the whole window: a long
        # (historical) window must not forget projects covered early in it.
        lookbacks = [Window(min(w.since, w.until - lookback), w.until)
                     for w in buckets.windows]
        per_bucket = [defaultdict(set) for _ in lookbacks]
        spans = [lb.full_days() for lb in lookbacks]
        first = min(s[0] for s in spans)
        end = max(s[1] for s in spans)
        if first < end:
            where = [T_ROLLUPS.c.ci_system_id.in_(derived), T_ROLLUPS.c.day >= first,
                     T_ROLLUPS.c.day < end]
            _, key_projects = _rollup_key_lists(session, derived, None)
            if key_projects is not None:
                where.append(T_ROLLUPS.c.project_id.in_(key_projects))
            if len(lookbacks) == 1:
                for r in session.execute(sa.select(T_ROLLUPS.c.ci_system_id,
                                                   T_ROLLUPS.c.project_id)
                                         .where(*where).distinct()):
                    per_bucket[0][r.ci_system_id].add(r.project_id)
            else:
                for r in session.execute(sa.select(T_ROLLUPS.c.ci_system_id,
                                                   T_ROLLUPS.c.project_id, T_ROLLUPS.c.day)
                                         .where(*where).distinct()):
                    for k, (d0, d1) in enumerate(spans):
                        if d0 <= r.day < d1:
                            per_bucket[k][r.ci_system_id].add(r.project_id)
        edges = defaultdict(list)           # (start, end) -> buckets
        for k, lb in enumerate(lookbacks):
            for edge in lb.edges():
                edges[edge].append(k)
        for (start, stop), ks in edges.items():
            for r in session.execute(
                    sa.select(T_REPORTS.c.ci_system_id, T_REPORTS.c.project_id)
                    .where(T_REPORTS.c.ci_system_id.in_(derived),
                           T_REPORTS.c.reported_at >= start, T_REPORTS.c.reported_at < stop)
                    .distinct()):
                for k in ks:
                    per_bucket[k][r.ci_system_id].add(r.project_id)
        for system_id in derived:
            result[system_id] = [set(pb.get(system_id, ())) for pb in per_bucket]
    if project_ids is not None:
        for sets in result.values():
            for s in sets:
                s &= project_ids
    return result


# --- report counts and latencies (rollups + edge days) ----------------------


class _Acc:
    __slots__ = ("counts", "latencies", "retry_latencies", "last")

    def __init__(self):
        self.counts = dict.fromkeys(rollups.COUNT_COLUMNS, 0)
        self.latencies = []          # sorted lists to merge
        self.retry_latencies = []
        self.last = None

    def add(self, row):
        for c in rollups.COUNT_COLUMNS:
            self.counts[c] += row[c] or 0
        if row["latencies"]:
            self.latencies.append(row["latencies"])
        if row["retry_latencies"]:
            self.retry_latencies.append(row["retry_latencies"])
        self.see(row["last_report_at"])

    def see(self, last):
        if last is not None and (self.last is None or last > self.last):
            self.last = last


def _json_lists(text):
    """GROUP_CONCAT of JSON arrays ('[1,2],[3]') -> list of lists."""
    if not text:
        return []
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return [lst for lst in json.loads("[" + text + "]") if lst]


def _allow_long_group_concat(session):
    # MySQL cuts GROUP_CONCAT at group_concat_max_len (1 MB by default): a
    # long window of latencies is longer. SQLite has no such limit.
    bind = session.get_bind() if hasattr(session, "get_bind") else session
    if bind.dialect.name == "mysql":
        session.execute(sa.text("SET SESSION group_concat_max_len = 1073741824"))


# Above this many (system, project) pairs, read the rollups of a window by
# scanning rather than by primary-key ranges.
MAX_ROLLUP_RANGES = 20000


def _rollup_key_lists(session, system_ids, project_ids):
    """System and project lists that turn a day range into primary-key ranges.

    ci_daily_rollups is keyed (system, project, day) and has no index on day
    alone: with both lists given, MySQL reads one short range per pair (cost
    follows the window, not the history); without them it scans the table.
    """
    if system_ids is None:
        system_ids = [r.id for r in session.execute(sa.select(T_SYSTEMS.c.id))]
    if project_ids is None:
        project_ids = [r.id for r in session.execute(sa.select(T_PROJECTS.c.id))]
    if len(system_ids) * len(project_ids) > MAX_ROLLUP_RANGES:
        return None, None
    return sorted(system_ids), sorted(project_ids)


def _report_stats(session, buckets, system_ids, project_ids, by_project):
    """{(system, bucket, project or None): _Acc} from rollups and edge days."""
    out = defaultdict(_Acc)
    window = Window(buckets.since, buckets.until)
    first, end = window.full_days()
    if first < end:
        d = T_ROLLUPS
        bucket = buckets.day_case(d.c.day)
        group = [d.c.ci_system_id] + ([d.c.project_id] if by_project else [])
        if len(buckets) > 1:
            group.append(bucket)
        # Counts summed and latency lists concatenated in SQL: one row per
        # key instead of one per (system, project, day) to parse in Python.
        query = (sa.select(d.c.ci_system_id, d.c.project_id if by_project
                           else sa.null().label("project_id"), bucket.label("b"),
                           *[sa.func.sum(d.c[c]).label(c) for c in rollups.COUNT_COLUMNS],
                           sa.func.max(d.c.last_report_at).label("last_report_at"),
                           sa.func.group_concat(d.c.latencies, type_=sa.Text())
                           .label("latencies"),
                           sa.func.group_concat(d.c.retry_latencies, type_=sa.Text())
                           .label("retry_latencies"))
                 .where(d.c.day >= first, d.c.day < end)
                 .group_by(*group))
        key_systems, key_projects = _rollup_key_lists(session, system_ids, project_ids)
        if key_systems is not None:
            query = query.where(d.c.ci_system_id.in_(key_systems))
        if key_projects is not None:
            query = query.where(d.c.project_id.in_(key_projects))
        _allow_long_group_concat(session)
        for r in session.execute(query).mappings():
            acc = out[(r["ci_system_id"], int(r["b"]), r["project_id"])]
            for c in rollups.COUNT_COLUMNS:
                acc.counts[c] += int(r[c] or 0)
            acc.latencies.extend(_json_lists(r["latencies"]))
            acc.retry_latencies.extend(_json_lists(r["retry_latencies"]))
            acc.see(r["last_report_at"])
    for start, stop in window.edges():
        query = (sa.select(T_REPORTS.c.ci_system_id, T_REPORTS.c.project_id,
                           *rollups.REPORT_COLUMNS)
                 .where(T_REPORTS.c.reported_at >= start, T_REPORTS.c.reported_at < stop))
        if system_ids is not None:
            query = query.where(T_REPORTS.c.ci_system_id.in_(system_ids))
        if project_ids is not None:
            query = query.where(T_REPORTS.c.project_id.in_(project_ids))
        partial = defaultdict(rollups.empty)
        for r in session.execute(query):
            key = (r.ci_system_id, buckets.index(r.reported_at),
                   r.project_id if by_project else None)
            rollups.accumulate(partial[key], r.result, r.reported_at, r.attempt,
                               r.recheck_id, r.latency_s)
        for key, row in partial.items():
            row["latencies"].sort()
            row["retry_latencies"].sort()
            out[key].add(row)
    return out


def _last_before(session, when, system_ids, project_ids):
    """{system id: time of its last report before `when`} (project filter applies).

    One statement: a UNION ALL of one index lookup per system (a correlated
    MAX over ix_ci_reports_system_reported is read as a scan of the
    system's whole history by MariaDB; a constant one is a single seek).
    """
    if project_ids is not None and not project_ids:
        return {}
    r, d = T_REPORTS, T_ROLLUPS
    result = {}
    ids = sorted(system_ids)
    for i in range(0, len(ids), 100):
        parts = []
        for system_id in ids[i:i + 100]:
            if project_ids is None:
                last = (sa.select(sa.func.max(r.c.reported_at))
                        .where(r.c.ci_system_id == system_id, r.c.reported_at < when)
                        .scalar_subquery())
                parts.append(sa.select(sa.literal(system_id).label("id"), last.label("a"),
                                       sa.null().label("b")))
            else:
                # Whole days from the rollups (primary key: system, project, day),
                # the day of `when` from ci_reports.
                from_days = (sa.select(sa.func.max(d.c.last_report_at))
                             .where(d.c.ci_system_id == system_id,
                                    d.c.project_id.in_(sorted(project_ids)),
                                    d.c.day < when.date())
                             .scalar_subquery())
                same_day = (sa.select(sa.func.max(r.c.reported_at))
                            .where(r.c.ci_system_id == system_id,
                                   r.c.project_id.in_(sorted(project_ids)),
                                   r.c.reported_at >= day_start(when.date()),
                                   r.c.reported_at < when)
                            .scalar_subquery())
                parts.append(sa.select(sa.literal(system_id).label("id"),
                                       from_days.label("a"), same_day.label("b")))
        query = parts[0] if len(parts) == 1 else sa.union_all(*parts)
        for row in session.execute(query):
            values = [_as_utc(v) for v in (row.a, row.b) if v is not None]
            result[row.id] = max(values) if values else None
    return result


def _as_utc(value):
    """Datetimes read back through a UNION lose their column type on some drivers."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return timeutils.as_utc(value)


# --- patch-set numbers ---------------------------------------------------------


# Result codes: integer arithmetic picks the last report's result portably.
CODES = ((SUCCESS, 1), (FAILURE, 2), (models.MERGE_FAILED, 3), (models.CANCELED, 4))
OTHER_CODE = 5
CODE_SPAN = 8
S_CODE, F_CODE = 1, 2


def _result_code(column):
    return sa.case(*[(column == word, code) for word, code in CODES], else_=OTHER_CODE)


def _time_index_hint(system_ids):
    """MySQL hint: read a window of ci_reports through a time index.

    A 30-day window is a few percent of a year of reports; without the hint
    MariaDB prefers a full table scan (cost growing with history) to the
    index range and its row lookups.
    """
    index = "ix_ci_reports_reported_at" if system_ids is None else "ix_ci_reports_system_reported"
    return "FORCE INDEX (%s)" % index


def _patchset_rows(buckets, system_ids, project_ids):
    """Subquery psa: one row per (system, bucket, patch set) whose first report is in the bucket.

    One pass over the window's reports (ix_ci_reports_reported_at, or
    ix_ci_reports_system_reported with a system filter) grouped by patch set;
    first result = the attempt-1 report's, last = the highest attempt's
    (attempts number a system's reports on a patch set in time order).
    """
    r, p = T_REPORTS, T_PATCHSETS
    where = [r.c.reported_at >= buckets.since, r.c.reported_at < buckets.until]
    if system_ids is not None:
        where.append(r.c.ci_system_id.in_(system_ids))
    if project_ids is not None:
        where.append(r.c.project_id.in_(project_ids))
    # Grouped in one flat SELECT over ci_reports alone: a derived table of
    # the window's reports, or a join, would be materialized or driven from
    # the other table first (several times slower on MariaDB).
    code = _result_code(r.c.result)
    bucket = buckets.case(r.c.reported_at)
    group = [r.c.ci_system_id, r.c.patchset_id]
    if len(buckets) > 1:
        # (One bucket: a constant, left out: MySQL reads GROUP BY 0 as a position.)
        group.append(bucket)
    psg = (sa.select(r.c.ci_system_id.label("s"), bucket.label("b"),
                     r.c.patchset_id.label("p"),
                     sa.func.max(r.c.change_id).label("ch"),
                     sa.func.max(r.c.project_id).label("proj"),
                     sa.func.max(sa.case((r.c.attempt == 1, code))).label("first"),
                     (sa.func.max(r.c.attempt * CODE_SPAN + code) % CODE_SPAN).label("last"),
                     sa.func.min(sa.case((r.c.result == FAILURE, r.c.reported_at)))
                     .label("ff"),
                     sa.func.max(sa.case((r.c.result == SUCCESS, r.c.reported_at)))
                     .label("ls"))
           .where(*where)
           .with_hint(r, _time_index_hint(system_ids), "mysql")
           .group_by(*group)
           .having(sa.func.min(r.c.attempt) == 1)
           .subquery("psg"))
    # Flaky: a FAILURE and a later SUCCESS with no new patch set in between.
    # The first FAILURE and the last SUCCESS decide it unless the patch set
    # was superseded between them (rare); then look for a FAILURE and a later
    # SUCCESS on the same side of the supersession.
    sup = sa.select(p.c.superseded_at).where(p.c.id == psg.c.p).scalar_subquery()
    f, g, fp = T_REPORTS.alias("f"), T_REPORTS.alias("g"), T_PATCHSETS.alias("fp")
    since, until = buckets.bounds(psg.c.b)
    same_side = (
        sa.select(f.c.id)
        .select_from(f.join(fp, fp.c.id == f.c.patchset_id))
        .where(f.c.patchset_id == psg.c.p, f.c.ci_system_id == psg.c.s,
               f.c.result == FAILURE, f.c.reported_at >= since, f.c.reported_at < until,
               sa.select(g.c.id)
               .where(g.c.patchset_id == f.c.patchset_id, g.c.ci_system_id == f.c.ci_system_id,
                      g.c.result == SUCCESS, g.c.reported_at > f.c.reported_at,
                      g.c.reported_at < until,
                      sa.or_(f.c.reported_at >= fp.c.superseded_at,
                             g.c.reported_at < fp.c.superseded_at))
               .exists())
        .exists())
    flaky = sa.case(
        (psg.c.ff < psg.c.ls,
         sa.case((sa.or_(sup.is_(None), sup <= psg.c.ff, sup > psg.c.ls), 1),
                 (same_side, 1), else_=0)),
        else_=0)
    return (sa.select(psg.c.s, psg.c.b, psg.c.p, psg.c.ch, psg.c.proj, psg.c.first,
                      psg.c.last, flaky.label("flaky"),
                      sa.case((psg.c.ff.is_not(None), 1), else_=0).label("failed"))
            .subquery("psa"))


def _sum_if(cond):
    return sa.func.sum(sa.case((cond, 1), else_=0))


def _merged(change_id):
    c = T_CHANGES
    return (sa.select(c.c.id)
            .where(c.c.id == change_id,
                   sa.or_(c.c.status == MERGED, c.c.merged_at.is_not(None)))
            .exists())


def _patchset_stats(session, buckets, system_ids, ref_ids, project_ids, by_project):
    """{(system, bucket, project or None): dict of patch-set counts}.

    system_ids None: every system (no filter: the time index alone). The
    reference systems' final results on the same patch sets come from
    window sums over (bucket, patch set), so each report is read once.
    """
    scope = None if system_ids is None else sorted(set(system_ids) | set(ref_ids))
    psa = _patchset_rows(buckets, scope, project_ids)
    if ref_ids:
        is_ref = psa.c.s.in_(ref_ids)
        part = [psa.c.b, psa.c.p]
        psw = sa.select(
            *psa.c,
            _sum_if(sa.and_(is_ref, psa.c.last == S_CODE)).over(partition_by=part)
            .label("ref_s"),
            _sum_if(sa.and_(is_ref, psa.c.last == F_CODE)).over(partition_by=part)
            .label("ref_f"),
        ).subquery("psw")
        # The other reference systems' verdicts (a reference is not compared with itself).
        is_ref = psw.c.s.in_(ref_ids)
        other_s = psw.c.ref_s - sa.case((sa.and_(is_ref, psw.c.last == S_CODE), 1), else_=0)
        other_f = psw.c.ref_f - sa.case((sa.and_(is_ref, psw.c.last == F_CODE), 1), else_=0)
        pairs = sa.case((psw.c.last.in_((S_CODE, F_CODE)), other_s + other_f), else_=0)
        agree = sa.case((psw.c.last == S_CODE, other_s), (psw.c.last == F_CODE, other_f),
                        else_=0)
        suspect = sa.case(
            (sa.and_(psw.c.last == F_CODE, other_s > 0),
             sa.case((_merged(psw.c.ch), 1), else_=0)),
            else_=0)
        rows = psw
        extra = [sa.func.sum(pairs).label("pairs"), sa.func.sum(agree).label("agree"),
                 sa.func.sum(suspect).label("suspect")]
    else:
        rows = psa
        extra = []
    cols = [rows.c.s, rows.c.b] + ([rows.c.proj] if by_project else [])
    query = (sa.select(*cols, sa.func.count().label("n"),
                       _sum_if(rows.c.first == S_CODE).label("first_s"),
                       _sum_if(rows.c.first == F_CODE).label("first_f"),
                       _sum_if(rows.c.last == S_CODE).label("final_s"),
                       _sum_if(rows.c.last == F_CODE).label("final_f"),
                       sa.func.sum(rows.c.flaky).label("flaky"),
                       sa.func.sum(rows.c.failed).label("failed"), *extra)
             .group_by(*cols))
    if system_ids is not None:
        query = query.where(rows.c.s.in_(system_ids))
    out = {}
    for row in session.execute(query).mappings():
        key = (row["s"], int(row["b"]), row["proj"] if by_project else None)
        out[key] = {
            "n": _int(row["n"]), "first_s": _int(row["first_s"]),
            "first_f": _int(row["first_f"]), "final_s": _int(row["final_s"]),
            "final_f": _int(row["final_f"]), "flaky": _int(row["flaky"]),
            "failed": _int(row["failed"]),
            "pairs": _int(row["pairs"]) if extra else 0,
            "agree": _int(row["agree"]) if extra else 0,
            "suspect": _int(row["suspect"]) if extra else 0,
        }
    return out


def _pairwise_agreement(session, buckets, system_ids, project_ids):
    """{(a, b): (patch sets with both verdicts, agreeing)} among `system_ids`."""
    psa = _patchset_rows(buckets, system_ids, project_ids)
    a = psa.alias("a")
    o = psa.alias("o")
    verdict = sa.and_(a.c.last.in_((S_CODE, F_CODE)), o.c.last.in_((S_CODE, F_CODE)))
    query = (sa.select(a.c.s, o.c.s.label("o"), _sum_if(verdict).label("pairs"),
                       _sum_if(sa.and_(verdict, a.c.last == o.c.last)).label("agree"))
             .select_from(a.join(o, sa.and_(o.c.p == a.c.p, o.c.b == a.c.b, o.c.s != a.c.s)))
             .group_by(a.c.s, o.c.s))
    return {(r.s, r.o): (_int(r.pairs), _int(r.agree)) for r in session.execute(query)}


# --- coverage ----------------------------------------------------------------------


def _current_for_grace(conf):
    p = T_PATCHSETS
    grace_us = conf.stats.coverage_grace_period * 1000000
    return sa.or_(p.c.superseded_at.is_(None),
                  usec_between(p.c.created, p.c.superseded_at) >= grace_us)


def _coverage(session, conf, buckets, now, system_ids, covered, by_project, shared_ids=None,
              every_system=False):
    """{(system, bucket, project or None): [eligible, covered, last eligible created]}.

    Eligible: created in the bucket, in a covered project, due (older than
    the grace period at `now`), and current for the grace period unless the
    system (with shared_ids: any of those systems) reported on it.
    """
    all_projects = set()
    for sets in covered.values():
        for s in sets:
            all_projects |= s
    out = {}
    if not all_projects or not system_ids:
        return out
    p, c, r = T_PATCHSETS, T_CHANGES, T_REPORTS
    due_before = now - dt.timedelta(seconds=conf.stats.coverage_grace_period)
    if due_before < buckets.since:
        return out
    current = _current_for_grace(conf)
    created = [p.c.created >= buckets.since, p.c.created < buckets.until,
               p.c.created <= due_before]
    where = created + [c.c.project_id.in_(sorted(all_projects))]
    bucket = buckets.case(p.c.created)

    # Due patch sets that stayed current for the grace period, per project.
    sub = (sa.select(c.c.project_id.label("proj"), bucket.label("b"), p.c.created)
           .select_from(p.join(c, c.c.id == p.c.change_id))
           .where(*where, current).subquery())
    timely = {(row.proj, int(row.b)): (row.n, row.last) for row in session.execute(
        sa.select(sub.c.proj, sub.c.b, sa.func.count().label("n"),
                  sa.func.max(sub.c.created).label("last"))
        .group_by(sub.c.proj, sub.c.b))}

    # Due patch sets each system reported on (at any time), split by timeliness.
    # (The report's own project_id: no join with changes.)
    reporters = sorted(set(system_ids) | set(shared_ids or ()))
    where = created + [r.c.project_id.in_(sorted(all_projects))]
    if not every_system:
        where.append(r.c.ci_system_id.in_(reporters))
    sub = (sa.select(r.c.ci_system_id.label("s"), r.c.project_id.label("proj"),
                     bucket.label("b"), p.c.id.label("p"), p.c.created,
                     sa.case((current, 1), else_=0).label("cur"))
           .select_from(p.join(r, r.c.patchset_id == p.c.id))
           .where(*where).subquery())
    reported = {}
    for row in session.execute(
            sa.select(sub.c.s, sub.c.proj, sub.c.b, sub.c.cur,
                      sa.func.count(sa.distinct(sub.c.p)).label("n"),
                      sa.func.max(sub.c.created).label("last"))
            .group_by(sub.c.s, sub.c.proj, sub.c.b, sub.c.cur)):
        reported[(row.s, row.proj, int(row.b), int(row.cur))] = (row.n, row.last)
    late_shared = {}
    if shared_ids:
        # Late patch sets (superseded within the grace period) any of the
        # compared systems reported on: eligible for all of them.
        for row in session.execute(
                sa.select(sub.c.proj, sub.c.b, sa.func.count(sa.distinct(sub.c.p)).label("n"),
                          sa.func.max(sub.c.created).label("last"))
                .where(sub.c.cur == 0, sub.c.s.in_(sorted(shared_ids)))
                .group_by(sub.c.proj, sub.c.b)):
            late_shared[(row.proj, int(row.b))] = (row.n, row.last)

    none = (0, None)
    for system_id in system_ids:
        for k, projects in enumerate(covered.get(system_id, ())):
            for proj in projects:
                n_timely, last_timely = timely.get((proj, k), none)
                n_rep_timely, _ = reported.get((system_id, proj, k, 1), none)
                n_rep_late, last_rep_late = reported.get((system_id, proj, k, 0), none)
                if shared_ids:
                    n_late, last_late = late_shared.get((proj, k), none)
                else:
                    n_late, last_late = n_rep_late, last_rep_late
                eligible = n_timely + n_late
                if not eligible:
                    continue
                key = (system_id, k, proj if by_project else None)
                entry = out.setdefault(key, [0, 0, None])
                entry[0] += eligible
                entry[1] += n_rep_timely + n_rep_late
                for last in (last_timely, last_late):
                    if last is not None and (entry[2] is None or last > entry[2]):
                        entry[2] = last
    return out


def _stale(session, conf, system_ids, now):
    """{system id: last successful collection of its least fresh source}.

    Only sources with a collector_state row count (data imported otherwise
    is never stale). None as value: a source never collected successfully.
    """
    query = (sa.select(T_ACCOUNTS.c.ci_system_id, T_COLLECTOR.c.last_success_at)
             .select_from(T_ACCOUNTS.join(T_COLLECTOR,
                                          T_COLLECTOR.c.source_id == T_ACCOUNTS.c.source_id))
             .where(T_ACCOUNTS.c.ci_system_id.in_(system_ids)).distinct())
    oldest = {}
    for row in session.execute(query):
        current = oldest.get(row.ci_system_id, now)
        if row.last_success_at is None or current is None:
            oldest[row.ci_system_id] = None
        else:
            oldest[row.ci_system_id] = min(current, row.last_success_at)
    return oldest


def _is_stale(conf, oldest_success, has_state, bucket_until, now):
    if not has_state:
        return False
    if oldest_success is None:
        return True
    lag = (now - oldest_success).total_seconds()
    return lag > conf.stats.stale_collector_threshold and oldest_success < bucket_until


# --- assembling summaries ----------------------------------------------------------


def _compute(session, conf, systems, buckets, now, project_ids=None, by_project=False,
             shared_ids=None, every_system=False):
    """{(system, bucket, project or None): stats dict} for `systems` (rows).

    every_system: `systems` are all the systems, so the queries need no
    system filter (and use the time indexes alone).
    """
    ids = [s.id for s in systems]
    if not ids or (project_ids is not None and not project_ids):
        return {}
    refs = [r.id for r in session.execute(
        sa.select(T_SYSTEMS.c.id).where(T_SYSTEMS.c.reference.is_(True)))]
    wanted = None if every_system else ids
    covered = _covered(session, conf, systems, buckets, project_ids)
    reports = _report_stats(session, buckets, wanted, project_ids, by_project)
    psets = _patchset_stats(session, buckets, wanted, refs, project_ids, by_project)
    coverage = _coverage(session, conf, buckets, now, ids, covered, by_project, shared_ids,
                         every_system=every_system)
    keys = set(reports) | set(psets) | set(coverage)
    out = {}
    for key in keys:
        acc = reports.get(key) or _Acc()
        ps = psets.get(key)
        cov = coverage.get(key)
        counts = acc.counts
        latencies = percentile.merge_sorted(acc.latencies)
        retries = percentile.merge_sorted(acc.retry_latencies)
        eligible = cov[0] if cov else 0
        reached = cov[1] if cov else 0
        out[key] = {
            "reports": counts["reports"],
            "successes": counts["successes"],
            "failures": counts["failures"],
            "merge_failures": counts["merge_failures"],
            "other_results": counts["canceled"] + counts["unknown"],
            "success_rate": _rate(counts["successes"],
                                  counts["successes"] + counts["failures"]),
            "first_attempt_success_rate": _rate(ps["first_s"], ps["first_s"] + ps["first_f"])
            if ps else None,
            "final_success_rate": _rate(ps["final_s"], ps["final_s"] + ps["final_f"])
            if ps else None,
            "patchsets_reported": ps["n"] if ps else 0,
            "eligible_patchsets": eligible,
            "coverage": _rate(reached, eligible),
            "missed": eligible - reached,
            "latency_p50_s": percentile.median(latencies),
            "latency_p90_s": percentile.p90(latencies),
            "retry_latency_p50_s": percentile.median(retries),
            "rechecks": counts["retries"],
            "flaky_patchsets": ps["flaky"] if ps else 0,
            "flake_rate": _rate(ps["flaky"], ps["failed"]) if ps else None,
            "agreement": _rate(ps["agree"], ps["pairs"]) if ps else None,
            "suspect_failures": ps["suspect"] if ps else 0,
            "_last_in_bucket": acc.last,
            "_last_eligible": cov[2] if cov else None,
        }
    return out


def _empty_stats():
    return {
        "reports": 0, "successes": 0, "failures": 0, "merge_failures": 0,
        "other_results": 0, "success_rate": None, "first_attempt_success_rate": None,
        "final_success_rate": None, "patchsets_reported": 0, "eligible_patchsets": 0,
        "coverage": None, "missed": 0, "latency_p50_s": None, "latency_p90_s": None,
        "retry_latency_p50_s": None, "rechecks": 0, "flaky_patchsets": 0, "flake_rate": None,
        "agreement": None, "suspect_failures": 0, "_last_in_bucket": None,
        "_last_eligible": None,
    }


def _identity(system, accounts):
    return {"id": system.id, "name": system.name, "display_name": system.display_name,
            "accounts": accounts.get(system.id, []), "reference": bool(system.reference),
            "enabled": bool(system.enabled)}


def _summaries(session, conf, systems, buckets, now, project_ids, shared_ids=None,
               every_system=False):
    """[[summary per bucket] per system] in the order of `systems`."""
    ids = [s.id for s in systems]
    if not ids:
        return []
    stats = _compute(session, conf, systems, buckets, now, project_ids, shared_ids=shared_ids,
                     every_system=every_system)
    accounts = _accounts(session, ids)
    if project_ids is not None and not project_ids:
        last_before = {}
    else:
        last_before = _last_before(session, buckets.since, ids, project_ids)
    oldest = _stale(session, conf, ids, now)
    result = []
    for system in systems:
        identity = _identity(system, accounts)
        last_seen = last_before.get(system.id)
        series = []
        for k, window in enumerate(buckets.windows):
            data = stats.get((system.id, k, None)) or _empty_stats()
            last = data.pop("_last_in_bucket")
            last_eligible = data.pop("_last_eligible")
            if last is not None and (last_seen is None or last > last_seen):
                last_seen = last
            summary = dict(identity)
            summary.update(data)
            summary["last_seen"] = last_seen
            at = min(now, window.until)
            stale = _is_stale(conf, oldest.get(system.id), system.id in oldest,
                              window.until, now)
            summary["health"], summary["health_reason"] = health_mod.health(
                summary, conf, at, last_eligible_created=last_eligible,
                collector_stale=stale)
            series.append(summary)
        result.append(series)
    return result


def _now(now):
    return timeutils.utcnow() if now is None else now


# --- the interface ---------------------------------------------------------------------


def system_summaries(session, conf, window, project=None, system_ids=None, now=None):
    """One summary dict (SUMMARY_KEYS) per CI system, ordered by name."""
    now = _now(now)
    systems = _systems(session, system_ids)
    project_ids = _project_ids(session, project)
    return [series[0] for series in _summaries(session, conf, systems, Buckets([window]),
                                               now, project_ids,
                                               every_system=system_ids is None)]


def system_series(session, conf, system_id, window, interval="day", project=None, now=None):
    """The summary of each interval bucket of the window, with "start" and "end".

    Buckets are UTC days or ISO weeks (Monday 00:00 UTC), clipped to the
    window; each equals system_summaries over the bucket alone.
    """
    now = _now(now)
    systems = _systems(session, [system_id])
    if not systems:
        return []
    windows = window.buckets(interval)
    project_ids = _project_ids(session, project)
    series = _summaries(session, conf, systems, Buckets(windows), now, project_ids)[0]
    for point, w in zip(series, windows, strict=True):
        point["start"] = w.since
        point["end"] = w.until
    return series


def _change_url(source_url, project, change, patchset):
    if not source_url:
        return None
    return "%s/c/%s/+/%d/%d" % (source_url.rstrip("/"), project, change, patchset)


def missed_patchsets(session, conf, system_id, window, project=None, now=None):
    """The eligible patch sets the system did not report on, newest first."""
    now = _now(now)
    systems = _systems(session, [system_id])
    if not systems:
        return []
    project_ids = _project_ids(session, project)
    buckets = Buckets([window])
    covered = _covered(session, conf, systems, buckets, project_ids).get(system_id, [set()])[0]
    due_before = now - dt.timedelta(seconds=conf.stats.coverage_grace_period)
    if not covered or due_before < window.since:
        return []
    p, c, r, pr, src = T_PATCHSETS, T_CHANGES, T_REPORTS, T_PROJECTS, T_SOURCES
    reported = (sa.select(r.c.id).where(r.c.patchset_id == p.c.id,
                                        r.c.ci_system_id == system_id).exists())
    query = (sa.select(c.c.number.label("change"), p.c.number.label("patchset"),
                       pr.c.name.label("project"), c.c.branch, c.c.subject, p.c.created,
                       src.c.url, src.c.web_url)
             .select_from(p.join(c, c.c.id == p.c.change_id)
                          .join(pr, pr.c.id == c.c.project_id)
                          .join(src, src.c.id == c.c.source_id))
             .where(p.c.created >= window.since, p.c.created < window.until,
                    p.c.created <= due_before, c.c.project_id.in_(sorted(covered)),
                    _current_for_grace(conf), ~reported)
             .order_by(p.c.created.desc(), c.c.number.desc(), p.c.number.desc()))
    return [{"change": row.change, "patchset": row.patchset, "project": row.project,
             "branch": row.branch, "subject": row.subject, "created": row.created,
             "url": _change_url(row.web_url or row.url, row.project, row.change,
                                row.patchset)}
            for row in session.execute(query)]


def _job_failed(result):
    return result != SUCCESS and result not in NEUTRAL_JOB_RESULTS


def job_stats(session, conf, system_id, window, project=None, now=None):
    """Per job name over the system's reports in the window, ordered by name.

    success_rate = SUCCESS / (SUCCESS + failed runs); neutral results
    (SKIPPED, ABORTED, CANCELED, NOT_REGISTERED, MERGE_CONFLICT, ...) are
    left out. flaky = patch sets where the job failed and later passed with
    no new patch set in between.
    """
    project_ids = _project_ids(session, project)
    if project_ids is not None and not project_ids:
        return []
    j, r, p = T_JOBS, T_REPORTS, T_PATCHSETS
    query = (sa.select(j.c.name, j.c.result, j.c.voting, j.c.duration_s, j.c.url,
                       r.c.reported_at, r.c.patchset_id, p.c.superseded_at)
             .select_from(j.join(r, r.c.id == j.c.report_id)
                          .join(p, p.c.id == r.c.patchset_id))
             .where(r.c.ci_system_id == system_id, r.c.reported_at >= window.since,
                    r.c.reported_at < window.until)
             .order_by(r.c.reported_at, r.c.id, j.c.position))
    if project_ids is not None:
        query = query.where(r.c.project_id.in_(project_ids))
    jobs = {}
    for row in session.execute(query):
        job = jobs.get(row.name)
        if job is None:
            job = jobs[row.name] = {"name": row.name, "runs": 0, "results": defaultdict(int),
                                    "durations": [], "voting": None, "last_log_url": None,
                                    "last_run": None, "runs_by_ps": defaultdict(list)}
        job["runs"] += 1
        job["results"][row.result] += 1
        if row.duration_s is not None:
            job["durations"].append(row.duration_s)
        job["voting"] = bool(row.voting)
        job["last_run"] = row.reported_at
        if row.url:
            job["last_log_url"] = row.url
        job["runs_by_ps"][row.patchset_id].append((row.reported_at, row.result,
                                                   row.superseded_at))
    out = []
    for name in sorted(jobs):
        job = jobs[name]
        passed = job["results"].get(SUCCESS, 0)
        failed = sum(n for res, n in job["results"].items() if _job_failed(res))
        flaky = sum(1 for runs in job["runs_by_ps"].values() if _flaky_runs(runs))
        out.append({"name": name, "runs": job["runs"], "results": dict(job["results"]),
                    "success_rate": _rate(passed, passed + failed), "flaky": flaky,
                    "median_duration_s": percentile.median_of(job["durations"]),
                    "voting": job["voting"], "last_log_url": job["last_log_url"],
                    "last_run": job["last_run"]})
    return out


def _flaky_runs(runs):
    """runs: [(time, result, superseded_at)] in time order."""
    seen_failure = {False: False, True: False}       # per side of the supersession
    for when, result, superseded in runs:
        side = superseded is not None and when >= superseded
        if _job_failed(result):
            seen_failure[side] = True
        elif result == SUCCESS and seen_failure[side]:
            return True
    return False


def compare(session, conf, system_ids, window, project=None, now=None):
    """Side-by-side summaries over the same window and patch sets.

    The systems are compared on the projects all of them cover (and the
    project filter); a patch set superseded within the grace period is
    eligible for all of them when any of them reported on it.
    agreement[a][b] (by name): share of the patch sets both reported on
    (first reports in the window, both final results SUCCESS or FAILURE)
    where the final results agree; None when there are none.
    """
    now = _now(now)
    wanted = list(dict.fromkeys(system_ids))
    rows = {s.id: s for s in _systems(session, wanted)}
    systems = [rows[i] for i in wanted if i in rows]
    if not systems:
        return {"systems": [], "agreement": {}}
    project_ids = _project_ids(session, project)
    buckets = Buckets([window])
    covered = _covered(session, conf, systems, buckets, project_ids)
    common = None
    for system in systems:
        sets = covered.get(system.id, [set()])[0]
        common = set(sets) if common is None else common & sets
    ids = [s.id for s in systems]
    summaries = [series[0] for series in _summaries(session, conf, systems, buckets, now,
                                                    common, shared_ids=ids)]
    pairs = _pairwise_agreement(session, buckets, ids, common) if common else {}
    agreement = {}
    for a in systems:
        agreement[a.name] = {}
        for b in systems:
            if a.id != b.id:
                n, agree = pairs.get((a.id, b.id), (0, 0))
                agreement[a.name][b.name] = _rate(agree, n)
    return {"systems": summaries, "agreement": agreement}


def project_summaries(session, conf, window, project=None, now=None):
    """Per project (name, source): the CI systems that report on it or cover it.

    Each system entry: id, name, display_name, reports, successes,
    failures, success_rate, eligible_patchsets, patchsets_reported,
    coverage, missed, last_seen (last report on the project in the window),
    health. `changes` and `patchsets`: created in the window.
    """
    now = _now(now)
    systems = _systems(session)
    project_ids = _project_ids(session, project)
    if project_ids is not None and not project_ids:
        return []
    buckets = Buckets([window])
    stats = _compute(session, conf, systems, buckets, now, project_ids, by_project=True,
                     every_system=True)
    by_id = {s.id: s for s in systems}
    per_project = defaultdict(list)
    for (system_id, _k, proj), data in stats.items():
        if not data["reports"] and not data["eligible_patchsets"]:
            continue
        system = by_id[system_id]
        entry = {"id": system.id, "name": system.name, "display_name": system.display_name,
                 "enabled": bool(system.enabled)}
        entry.update(data)
        entry["last_seen"] = entry.pop("_last_in_bucket")
        last_eligible = entry.pop("_last_eligible")
        entry["health"], entry["health_reason"] = health_mod.health(
            entry, conf, min(now, window.until), last_eligible_created=last_eligible)
        per_project[proj].append(entry)
    p, c = T_PATCHSETS, T_CHANGES
    query = (sa.select(c.c.project_id, sa.func.count().label("patchsets"),
                       sa.func.count(sa.distinct(c.c.id)).label("changes"))
             .select_from(p.join(c, c.c.id == p.c.change_id))
             .where(p.c.created >= window.since, p.c.created < window.until)
             .group_by(c.c.project_id))
    if project_ids is not None:
        query = query.where(c.c.project_id.in_(project_ids))
    activity = {row.project_id: (row.changes, row.patchsets) for row in session.execute(query)}
    wanted = set(per_project) | set(activity)
    if not wanted:
        return []
    names = {row.id: (row.name, row.source) for row in session.execute(
        sa.select(T_PROJECTS.c.id, T_PROJECTS.c.name, T_SOURCES.c.name.label("source"))
        .select_from(T_PROJECTS.join(T_SOURCES, T_SOURCES.c.id == T_PROJECTS.c.source_id))
        .where(T_PROJECTS.c.id.in_(sorted(wanted))))}
    out = []
    for proj in sorted(wanted, key=lambda i: names[i]):
        changes, patchsets = activity.get(proj, (0, 0))
        name, source = names[proj]
        out.append({"name": name, "source": source, "changes": changes,
                    "patchsets": patchsets,
                    "systems": sorted(per_project.get(proj, []), key=lambda e: e["name"])})
    return out


def rebuild_rollups(session, keys=None):
    """Recompute ci_daily_rollups rows for {(system_id, project_id, day)} (None: all)."""
    rollups.rebuild_rollups(session, keys)
