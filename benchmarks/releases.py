"""Release heatmap and deployment/DORA benchmark on MariaDB/MySQL, under concurrent load.

One run does, on scratch databases ``radar_apibench_<pid>_page``,
``radar_apibench_<pid>_history`` and ``radar_apibench_<pid>_deploy`` that
it creates and drops:

1. **fills** them through radar's database API, as the REST API and the CI
   bindings would: ``radar.db.releases.release_put`` and
   ``release_task_set`` (one commit per release) for ``--releases`` (500)
   releases of the default nine-task workflow on *page*: most PASS, some
   tasks FAIL then PASS, the newest 20 in progress, every transition kept.
   *history* holds ``--history`` (5,000): the page's releases as they are
   (the same newest page), then copies of them moved back in time, block
   by block, renamed, in multi-row INSERTs (``--history-through-api``
   stores every one through the API instead: about 125 statements a
   release, a quarter of an hour here). *deploy* holds ``--services`` x 3
   environments x 3 waves x ``--versions`` deployments: the newest
   ``--api-versions`` (60) versions of each service through
   ``radar.db.deployments.deployment_record`` (a start, then the result;
   some waves FAILED or ROLLED_BACK, the newest rollouts of some services
   still running), the older ones copies of them moved back in time; a
   merged Gerrit change per version whose current patch set is the
   deployed revision (DORA lead time);
2. starts the real ``radar-api`` (gunicorn, ``--workers``) on a loopback
   port over each database;
3. **heatmap**: ``--clients`` threads send, in turns, ``GET /v1/``
   (the version document, the floor), ``GET /v1/releases?limit=<releases>``
   and ``GET /v1/releases/tasks/stats`` to the *page* and *history* servers
   for ``--seconds`` (or ``--max-requests``), after a warm-up; p50/p95 of
   each; ratios heatmap p95 / version document p95, and history / page
   p95 for the same page (the cost should follow the page, not the
   history); one client alone, without queueing, for context;
4. **deployments**: the same on the *deploy* server with ``GET /v1/dora``
   for one service in production (default window, 90 days),
   ``GET /v1/deployments/waves`` for that service over the same 90 days
   and, as the deployments page asks with no filter, ``/v1/dora`` and
   ``/v1/deployments/waves`` for every service.

The helpers (scratch databases, configuration, server, HTTP load,
percentiles) are those of :mod:`benchmarks.api`.

Usage::

    python -m benchmarks.releases [--releases 500] [--history 5000] [--versions 200]
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
import urllib.parse
from concurrent import futures

import sqlalchemy as sa

from benchmarks.api import (
    DEFAULT_URL,
    ApiServer,
    Results,
    _log,
    _ms,
    _one,
    _ratio,
    free_port,
    request,
    run_cycle,
    run_jobs,
    write_conf,
)
from benchmarks.scratch import Databases

SOURCE = "bench"
ENVIRONMENTS = ("dev", "staging", "production")
WAVES = ("canary", "blue", "green")
# Hours after a version is built that it reaches each environment.
ENV_OFFSET_H = {"dev": 0, "staging": 2, "production": 6}
WAVE_GAP_MIN = 40
DORA_DAYS = 90


# --- releases ------------------------------------------------------------------------------

def _name(k):
    """(product, version) of the release of rank k (0: the newest)."""
    product = "4.%d" % (12 + k % 8)
    return product, "%s.%d" % (product, 100000 - k // 8)


def release_plans(count, seed, end, spacing_h=8.0, in_progress=20, fail_rate=0.04):
    """`count` release plans, oldest first: (version, values, [(task, status, at, ...)]).

    Release i's plan depends on (seed, its rank from the newest) only, so
    the newest n plans of a long list are the plans of a list of n.
    """
    from radar.conf.releases import DEFAULT_WORKFLOW
    from radar.db import models
    plans = []
    for i in range(count):
        k = count - 1 - i                      # 0: the newest
        rng = random.Random("%d-%d" % (seed, k))
        created = end - dt.timedelta(hours=spacing_h * k + 6 + rng.random() * 2)
        product, version = _name(k)
        values = {
            "product": product, "flow_type": rng.choice(("z-stream", "z-stream", "ec", "rc")),
            "target_date": (created + dt.timedelta(days=7)).date(),
            "jira_url": "https://issues.example.com/browse/REL-%d" % (90000 - k),
            "advisories": [{"id": "RHBA-2025:%05d" % (k * 3 + j),
                            "url": "https://errata.example.com/advisory/%d" % (k * 3 + j),
                            "state": "SHIPPED_LIVE" if k >= in_progress else "QE"}
                           for j in range(rng.randint(1, 3))],
            "builds": {arch: "%s-%s nightly-%d" % (version, arch, 70000 - k)
                       for arch in ("x86_64", "aarch64", "s390x", "ppc64le")},
        }
        steps = []
        at = created + dt.timedelta(minutes=5 + rng.random() * 30)
        done_tasks = len(DEFAULT_WORKFLOW) if k >= in_progress else rng.randint(0, 8)
        for position, task in enumerate(DEFAULT_WORKFLOW):
            if position > done_tasks:
                break
            url = "https://ci.example.com/job/%s/%d/" % (task, k * 10 + position)
            steps.append((task, models.IN_PROGRESS, at, None, None))
            at += dt.timedelta(minutes=3 + rng.lognormvariate(3.0, 1.0))
            if position == done_tasks:         # the task in progress now (k < in_progress)
                if rng.random() < 0.3:
                    steps.append((task, models.FAIL, min(at, end), url, "%s failed" % task))
                break
            if rng.random() < fail_rate:
                steps.append((task, models.FAIL, at, url, "%s failed: see the job" % task))
                at += dt.timedelta(minutes=10 + rng.random() * 120)
                steps.append((task, models.IN_PROGRESS, at, None, "retry"))
                at += dt.timedelta(minutes=3 + rng.lognormvariate(3.0, 1.0))
            steps.append((task, models.PASS, at, url, "%s passed" % task))
            at += dt.timedelta(minutes=1 + rng.random() * 20)
        ship = None
        if done_tasks == len(DEFAULT_WORKFLOW):
            ship = at + dt.timedelta(hours=1)
        plans.append((version, created, values, steps, ship))
    return plans


def fill_releases(url, count, seed, end):
    """Store `count` releases through radar.db.releases; one commit per release."""
    from radar.conf.releases import DEFAULT_WORKFLOW
    from radar.db import engine as db_engine
    from radar.db import releases as db_releases
    engine = db_engine.create_engine(url=url)
    session = db_engine.make_sessionmaker(engine)()
    started = time.perf_counter()
    calls = 0
    try:
        for version, created, values, steps, ship in release_plans(count, seed, end):
            db_releases.release_put(session, version, values, DEFAULT_WORKFLOW, now=created)
            calls += 1
            for task, status, at, link, message in steps:
                db_releases.release_task_set(session, version, task, status, at=at, url=link,
                                             message=message, actor="bench-pipeline", now=at)
                calls += 1
            if ship is not None:
                db_releases.release_put(session, version, {"shipment": {
                    "url": "https://errata.example.com/shipment/%s" % version,
                    "state": "SHIPPED", "shipped": True}}, DEFAULT_WORKFLOW, now=ship)
                calls += 1
            session.commit()
    finally:
        session.close()
        engine.dispose()
    return {"seconds": time.perf_counter() - started, "calls": calls, "releases": count}


def _rows(conn, table):
    return [dict(r) for r in conn.execute(sa.select(table).order_by(table.c.id)).mappings()]


def _insert(conn, table, rows, chunk=2000):
    for start in range(0, len(rows), chunk):
        conn.execute(table.insert(), rows[start:start + chunk])


def _moved(row, id_step, shift, **extra):
    """A copy of row: id + id_step, `extra` columns replaced, every time moved back."""
    row = dict(row, id=row["id"] + id_step, **extra)
    for key, value in row.items():
        if isinstance(value, dt.datetime):
            row[key] = value - shift
    return row


def clone_releases(src_url, dst_url, count, spacing_h=8.0):
    """`count` releases on dst: the releases of src as they are, then copies of them
    moved back in time by len(src) x spacing per block, ranks (names) following on.

    Copies of rows written by the database API, in multi-row INSERTs: filling
    thousands of releases through the API takes 2 ms a statement here.
    """
    from radar.db import models
    t_rel, t_task, t_ev = (models.Release.__table__, models.ReleaseTask.__table__,
                           models.ReleaseTaskEvent.__table__)
    src, dst = sa.create_engine(src_url), sa.create_engine(dst_url)
    started = time.perf_counter()
    try:
        with src.connect() as conn:
            rels, tasks, events = (_rows(conn, t) for t in (t_rel, t_task, t_ev))
        n = len(rels)
        rank = {r["id"]: n - 1 - i for i, r in enumerate(
            sorted(rels, key=lambda r: (r["created_at"], r["id"])))}
        step = {t: max([r["id"] for r in rows] or [0]) for t, rows in
                ((t_rel, rels), (t_task, tasks), (t_ev, events))}
        task_release = {t["id"]: t["release_id"] for t in tasks}
        out = {t_rel: [], t_task: [], t_ev: []}
        for block in range(-(-count // n)):
            shift = dt.timedelta(hours=spacing_h * n * block)
            keep = {r["id"] for r in rels if rank[r["id"]] + n * block < count}

            def moved(row, table, block=block, shift=shift, **extra):
                return _moved(row, step[table] * block, shift, **extra)
            for r in rels:
                if r["id"] in keep:
                    product, version = _name(rank[r["id"]] + n * block)
                    out[t_rel].append(moved(r, t_rel, product=product, version=version))
            for t in tasks:
                if t["release_id"] in keep:
                    out[t_task].append(moved(t, t_task, release_id=t["release_id"]
                                             + step[t_rel] * block))
            for e in events:
                if task_release[e["task_id"]] in keep:
                    out[t_ev].append(moved(e, t_ev, task_id=e["task_id"]
                                           + step[t_task] * block))
        with dst.begin() as conn:
            for table in (t_rel, t_task, t_ev):
                _insert(conn, table, out[table])
    finally:
        src.dispose()
        dst.dispose()
    return {"seconds": time.perf_counter() - started, "copied": len(out[t_rel]) - n}


# --- deployments ---------------------------------------------------------------------------

def _revision(service, j):
    return hashlib.sha1(("%s-%d" % (service, j)).encode()).hexdigest()


def _spacing(seed, s):
    """Time between two versions of service s (12 to 36 hours)."""
    return dt.timedelta(hours=random.Random("%d-svc-%d" % (seed, s)).uniform(12, 36))


def _version_name(j):
    return "1.%d.%d" % (j // 50, j % 50)


def fill_deployments(url, services, versions, seed, end, api_versions):
    """The newest `api_versions` versions of each service through
    radar.db.deployments.deployment_record (a start, then the result), the older
    ones copied from them (clone_deployments); a merged Gerrit change per
    (service, version) carrying its revision."""
    from radar.db import api as db_api
    from radar.db import deployments as db_deploy
    from radar.db import engine as db_engine
    from radar.db import models
    engine = db_engine.create_engine(url=url)
    started = time.perf_counter()
    calls = 0
    counts = {"api_deployments": 0, "failed_rollouts": 0, "running": 0}
    changes = []
    try:
        with engine.begin() as conn:
            source_id = db_api.source_get_or_create(conn, SOURCE, "files")
        for s in range(services):
            service = "svc-%02d" % s
            spacing = _spacing(seed, s)
            for j in range(versions):
                rng = random.Random("%d-%d-%d" % (seed, s, j))
                built = end - spacing * (versions - j) + dt.timedelta(hours=rng.random())
                version = _version_name(j)
                revision = _revision(service, j)
                changes.append((service, j, revision,
                                built - dt.timedelta(hours=rng.uniform(0.5, 72))))
                if j < versions - api_versions:
                    continue
                newest = j == versions - 1
                with engine.begin() as conn:
                    for env in ENVIRONMENTS:
                        t = built + dt.timedelta(hours=ENV_OFFSET_H[env])
                        fail_wave = None
                        if rng.random() < (0.07 if env == "production" else 0.1):
                            fail_wave = rng.randrange(len(WAVES))
                        for w, wave in enumerate(WAVES):
                            start = t + dt.timedelta(minutes=WAVE_GAP_MIN * w)
                            if start >= end:
                                break
                            uid = "%s/%s/%s/%d" % (service, env, wave, j)
                            db_deploy.deployment_record(conn, SOURCE, uid, {
                                "cluster": "%s-%s" % (env, "east" if w % 2 else "west"),
                                "namespace": service, "name": service, "service": service,
                                "environment": env, "wave": wave, "version": version,
                                "images": {service: "registry.example.com/%s:%s"
                                           % (service, version)},
                                "revision": revision, "rollout_revision": j + 1,
                                "generation": j + 1, "replicas": 3, "updated_replicas": 0,
                                "available_replicas": 0, "started_at": start,
                                "url": "https://deploy.example.com/%s" % uid}, at=start)
                            calls += 1
                            counts["api_deployments"] += 1
                            finish = start + dt.timedelta(minutes=rng.uniform(8, 30))
                            if finish >= end or (newest and env == "production" and w == 2
                                                 and s % 4 == 0):
                                counts["running"] += 1
                                break                  # still rolling out
                            bad = w == fail_wave
                            counts["failed_rollouts"] += bad and env == "production"
                            result = (rng.choice((models.FAILED, models.FAILED,
                                                  models.ROLLED_BACK))
                                      if bad else models.SUCCEEDED)
                            db_deploy.deployment_record(conn, SOURCE, uid, {
                                "result": result, "finished_at": finish,
                                "updated_replicas": 3, "available_replicas": 0 if bad else 3,
                                "ready_replicas": 0 if bad else 3,
                                "message": "ProgressDeadlineExceeded" if bad else None},
                                at=finish)
                            calls += 1
                            if bad:
                                break
        counts["api_seconds"] = time.perf_counter() - started
        counts["copied"] = clone_deployments(engine, services, versions, seed, api_versions)
        _store_changes(engine, source_id, changes, seed)
    finally:
        engine.dispose()
    counts.update(seconds=time.perf_counter() - started, calls=calls, changes=len(changes))
    return counts


def clone_deployments(engine, services, versions, seed, api_versions):
    """Versions older than the newest `api_versions`: copies of those, in blocks moved
    back by api_versions x the service's spacing (uid, version, revision renamed)."""
    from radar.db import models
    t_dep, t_ev = models.Deployment.__table__, models.DeploymentEvent.__table__
    with engine.connect() as conn:
        deps, events = _rows(conn, t_dep), _rows(conn, t_ev)
    step = {t_dep: max(d["id"] for d in deps), t_ev: max(e["id"] for e in events)}
    by_dep = {}
    for e in events:
        by_dep.setdefault(e["deployment_id"], []).append(e)
    out = {t_dep: [], t_ev: []}
    for block in range(1, -(-versions // api_versions)):
        for d in deps:
            if d["result"] == models.IN_PROGRESS:
                continue                               # only the newest are running
            s = int(d["service"].split("-")[1])
            j = d["rollout_revision"] - 1 - api_versions * block
            if j < 0:
                continue
            shift = _spacing(seed, s) * api_versions * block

            def moved(row, table, block=block, shift=shift, **extra):
                return _moved(row, step[table] * block, shift, **extra)
            version = _version_name(j)
            out[t_dep].append(moved(
                d, t_dep, uid="%s/%s/%s/%d" % (d["service"], d["environment"], d["wave"], j),
                version=version, revision=_revision(d["service"], j), rollout_revision=j + 1,
                generation=j + 1, images={d["service"]: "registry.example.com/%s:%s"
                                          % (d["service"], version)}))
            for e in by_dep.get(d["id"], ()):
                out[t_ev].append(moved(e, t_ev, deployment_id=d["id"] + step[t_dep] * block))
    with engine.begin() as conn:
        for table in (t_dep, t_ev):
            _insert(conn, table, out[table])
    return len(out[t_dep])


def _store_changes(engine, source_id, changes, seed):
    """A merged change per deployed version; its last patch set is the revision.
    (Gerrit data the DORA lead time reads; stored as the importer would, in bulk.)"""
    from radar.db import models
    projects = sorted({c[0] for c in changes})
    t_projects, t_changes = models.Project.__table__, models.Change.__table__
    t_ps = models.PatchSet.__table__
    with engine.begin() as conn:
        conn.execute(t_projects.insert(), [{"source_id": source_id, "name": "deploy/%s" % p}
                                           for p in projects])
        ids = dict(conn.execute(sa.select(t_projects.c.name, t_projects.c.id)).all())
        rows, patchsets = [], []
        for n, (service, j, revision, merged) in enumerate(changes, start=1):
            rng = random.Random("%d-change-%d" % (seed, n))
            created = merged - dt.timedelta(hours=rng.uniform(2, 200))
            rows.append({"id": n, "source_id": source_id, "number": 700000 + n,
                         "project_id": ids["deploy/%s" % service], "branch": "master",
                         "change_key": "I%040x" % n, "subject": "%s: change %d" % (service, j),
                         "status": "MERGED", "created": created, "updated": merged,
                         "merged_at": merged})
            count = rng.randint(1, 4)
            for number in range(1, count + 1):
                patchsets.append({
                    "change_id": n, "number": number,
                    "revision": revision if number == count else _revision(
                        "%s-ps%d" % (service, number), j),
                    "created": created + (merged - created) * (number - 1) / count})
        for start in range(0, len(rows), 2000):
            conn.execute(t_changes.insert(), rows[start:start + 2000])
        for start in range(0, len(patchsets), 2000):
            conn.execute(t_ps.insert(), patchsets[start:start + 2000])


# --- load -----------------------------------------------------------------------------------

def _list_check(expected, tasks=None):
    def check(body):
        try:
            data = json.loads(body)
        except ValueError:
            return "not JSON"
        if not isinstance(data, list) or len(data) != expected:
            return "expected %d items, got %r" % (expected, len(data))
        if tasks is not None and any(len(r.get("tasks") or ()) != tasks for r in data):
            return "a release without its %d tasks" % tasks
        return None
    return check


def _dora_check(body):
    try:
        data = json.loads(body)
    except ValueError:
        return "not JSON"
    if len(data.get("metrics") or ()) != 4:
        return "expected 4 metrics"
    return None


def measure(jobs, clients, seconds, cap, warm_rounds=2):
    """Warm-up (every job `warm_rounds` times), then `jobs` in turns from `clients`."""
    warm = Results()
    run_jobs([(("warm",) + j[1:]) for j in jobs * warm_rounds], clients, 600, warm)
    if warm.errors:
        raise RuntimeError("warm-up failed: %r" % warm.error_samples)
    results = Results()
    wall, sent = run_cycle(jobs, clients, seconds, cap, results)
    return results, wall, sent


def _summaries(results, jobs):
    return {label: results.summary(label) for label in dict.fromkeys(j[0] for j in jobs)}


def one_client(jobs, rounds):
    """Each job `rounds` times from one client: service time without queueing."""
    results = Results()
    for _ in range(rounds):
        for job in jobs:
            _one(results, *job)
    return _summaries(results, jobs)


def body_size(port, path):
    status, body, headers = request(port, path)
    return len(body), headers.get("X-Total-Count")


# --- main -----------------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.releases",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--releases", type=int, default=500,
                        help="Releases on the heatmap page, and stored on 'page' (500).")
    parser.add_argument("--history", type=int, default=5000,
                        help="Releases stored on 'history' (5,000).")
    parser.add_argument("--services", type=int, default=20, help="Services (20).")
    parser.add_argument("--versions", type=int, default=200,
                        help="Versions per service, each deployed to 3 environments in "
                             "3 waves (200).")
    parser.add_argument("--api-versions", type=int, default=60,
                        help="Versions per service stored through the database API; the "
                             "older ones are copies of them moved back in time (60).")
    parser.add_argument("--history-through-api", action="store_true",
                        help="Store every release of 'history' through the database API "
                             "(about 125 statements a release; 15 minutes or more here) "
                             "instead of copying the page's releases back in time.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", default=DEFAULT_URL,
                        help="Server URL (the database part is ignored); default %s, "
                             "or $RADAR_BENCH_MYSQL_URL." % DEFAULT_URL)
    parser.add_argument("--workers", type=int, default=2, help="radar-api workers (2).")
    parser.add_argument("--clients", type=int, default=4, help="Concurrent clients (4).")
    parser.add_argument("--seconds", type=float, default=45,
                        help="Length of each measurement under load (45 s).")
    parser.add_argument("--max-requests", type=int, default=5000,
                        help="Bound on the requests of each measurement (5,000).")
    parser.add_argument("--single-rounds", type=int, default=5,
                        help="Rounds of the one-client measurement (5).")
    parser.add_argument("--keep", action="store_true",
                        help="Keep the scratch databases and files.")
    parser.add_argument("--json", help="Also write the figures to this JSON file.")
    args = parser.parse_args(argv)
    if args.history < args.releases:
        parser.error("--history must be at least --releases")

    work = tempfile.mkdtemp(prefix="radar-relbench-")
    log_path = os.path.join(work, "radar.log")
    dbs = Databases(args.url, "radar_apibench")
    servers = []
    end = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    out = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
           "workers": args.workers, "clients": args.clients, "sizes": vars(args).copy(),
           "load_before": os.getloadavg()}
    names = {}
    try:
        for which in ("page", "history", "deploy"):
            names[which] = dbs.create(which)
        _log("filling %s (%d releases through the database API) and %s (%d x %d x %d x %d "
             "deployments, the newest %d versions through the database API), "
             "2 processes ..." % (
                 names["page"], args.releases, names["deploy"], args.services,
                 len(ENVIRONMENTS), len(WAVES), args.versions, args.api_versions))
        t0 = time.perf_counter()
        with futures.ProcessPoolExecutor(3 if args.history_through_api else 2) as pool:
            jobs = {
                "page": pool.submit(fill_releases, dbs.url(names["page"]), args.releases,
                                    args.seed, end),
                "deploy": pool.submit(fill_deployments, dbs.url(names["deploy"]),
                                      args.services, args.versions, args.seed, end,
                                      args.api_versions),
            }
            if args.history_through_api:
                jobs["history"] = pool.submit(fill_releases, dbs.url(names["history"]),
                                              args.history, args.seed, end)
            out["fill"] = {w: f.result() for w, f in jobs.items()}
        if not args.history_through_api:
            _log("copying %d releases into %s ..." % (args.history, names["history"]))
            out["fill"]["history"] = clone_releases(dbs.url(names["page"]),
                                                    dbs.url(names["history"]), args.history)
        out["fill_wall_s"] = time.perf_counter() - t0
        for which, fill in out["fill"].items():
            _log("  %s: %s" % (which, ", ".join("%s %s" % (k, round(v, 1) if isinstance(
                v, float) else v) for k, v in fill.items())))
        out["rows"] = {w: {t: dbs.scalar(names[w], "SELECT COUNT(*) FROM %s" % t)
                           for t in (("releases", "release_tasks", "release_task_events")
                                     if w != "deploy" else
                                     ("deployments", "deployment_events", "changes"))}
                       for w in names}

        ports = {w: free_port() for w in names}
        for w in names:
            conf = write_conf(os.path.join(work, "%s.conf" % w), dbs.url(names[w]),
                              os.path.join(work, "state"), ports[w], args.workers)
            servers.append(ApiServer(conf, ports[w], log_path))
        _log("radar-api (%d workers each) on ports %s ..." % (
            args.workers, ", ".join(str(p) for p in ports.values())))
        for server in servers:
            server.wait_ready()

        # --- heatmap -------------------------------------------------------------------
        page = "/v1/releases?limit=%d" % args.releases
        stats = "/v1/releases/tasks/stats"
        bodies = {w: request(ports[w], page)[1] for w in ("page", "history")}
        out["same_page"] = bodies["page"] == bodies["history"]
        out["sizes_bytes"] = {"%s %s" % (w, p): body_size(ports[w], p)
                              for w in ("page", "history") for p in (page, stats)}
        rel_jobs = []
        for w in ("page", "history"):
            rel_jobs += [("%s /v1/" % w, ports[w], "/v1/", None),
                         ("%s heatmap" % w, ports[w], page, _list_check(args.releases, 9)),
                         ("%s tasks/stats" % w, ports[w], stats, _list_check(9))]
        _log("heatmap: %d clients, %s s ..." % (args.clients, args.seconds))
        res, wall, sent = measure(rel_jobs, args.clients, args.seconds, args.max_requests)
        out["heatmap"] = {"wall_s": wall, "sent": sent, "errors": res.error_samples,
                          "by_label": _summaries(res, rel_jobs)}
        _log("heatmap: one client, %d rounds ..." % args.single_rounds)
        out["heatmap_single"] = one_client(rel_jobs, args.single_rounds)

        # --- deployments ------------------------------------------------------------------
        port = ports["deploy"]
        service = "svc-%02d" % (7 % args.services)
        q = urllib.parse.urlencode
        since90 = (end - dt.timedelta(days=DORA_DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
        dep_jobs = [
            ("/v1/", port, "/v1/", None),
            ("dora service", port, "/v1/dora?" + q({"service": service,
                                                    "environment": "production"}),
             _dora_check),
            ("waves service 90d", port, "/v1/deployments/waves?" + q(
                {"service": service, "environment": "production", "since": since90}), None),
            ("dora all", port, "/v1/dora", _dora_check),
            ("waves all 7d", port, "/v1/deployments/waves", None),
        ]
        out["deploy_sizes"] = {label: body_size(port, path) for label, _, path, _ in dep_jobs}
        out["dora_answer"] = json.loads(request(port, dep_jobs[1][2])[1])
        _log("deployments: %d clients, %s s ..." % (args.clients, args.seconds))
        res, wall, sent = measure(dep_jobs, args.clients, args.seconds, args.max_requests)
        out["deploy"] = {"wall_s": wall, "sent": sent, "errors": res.error_samples,
                         "by_label": _summaries(res, dep_jobs), "service": service}
        _log("deployments: one client, %d rounds ..." % args.single_rounds)
        out["deploy_single"] = one_client(dep_jobs, args.single_rounds)
        out["server"] = dbs.version()
        out["load_after"] = os.getloadavg()
        report(out, args)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(out, fh, indent=2, sort_keys=True, default=str)
        return 0
    finally:
        for server in servers:
            server.stop()
        if args.keep:
            _log("kept databases %s and %s" % (", ".join(dbs.created), work))
        else:
            dbs.drop_all()
            shutil.rmtree(work, ignore_errors=True)


def _row(label, s):
    return "  %-26s p50 %9s  p95 %9s  max %9s  (%d ok, %d errors)" % (
        label, _ms(s["p50"]), _ms(s["p95"]), _ms(s["max"]), s["n"], s["errors"])


def report(out, args):
    w = print
    fill, rows = out["fill"], out["rows"]
    w("")
    w("radar releases/deployments benchmark: MariaDB/MySQL %s, radar-api (gunicorn) with "
      "%d workers per server, %d concurrent clients; load average %.1f before, %.1f after" % (
          out["server"], out["workers"], out["clients"], out["load_before"][0],
          out["load_after"][0]))
    for which in ("page", "history"):
        f, r = fill[which], rows[which]
        how = ("through the database API in %.0f s (%d calls, %.0f/s)" % (
            f["seconds"], f["calls"], f["calls"] / f["seconds"]) if "calls" in f else
            "the page's releases, then %d copies of them moved back in time (%.0f s)" % (
                f["copied"], f["seconds"]))
        w("%-8s %d releases, %d tasks, %d transitions; %s" % (
            which + ":", r["releases"], r["release_tasks"], r["release_task_events"], how))
    f, r = fill["deploy"], rows["deploy"]
    w("deploy:  %d deployments (%d services x %d environments x %d waves x %d versions), "
      "%d events, %d merged changes; the newest %d versions through the database API "
      "(%d deployments, %d failed production rollouts, %d running; %d deployment_record "
      "calls in %.0f s, %.0f/s), %d copied back in time; %.0f s in all" % (
          r["deployments"], args.services, len(ENVIRONMENTS), len(WAVES), args.versions,
          r["deployment_events"], r["changes"], args.api_versions, f["api_deployments"],
          f["failed_rollouts"], f["running"], f["calls"], f["api_seconds"],
          f["calls"] / f["api_seconds"], f["copied"], f["seconds"]))
    w("")
    h = out["heatmap"]
    sizes = out["sizes_bytes"]
    w("heatmap (%d requests in %.1f s, 6 kinds in turns; heatmap body %.0f KiB; the page "
      "is byte-identical on both: %s):" % (
          h["sent"], h["wall_s"],
          sizes["page /v1/releases?limit=%d" % args.releases][0] / 1024,
          "yes" if out["same_page"] else "NO"))
    for label, s in h["by_label"].items():
        w(_row(label, s))
    v = h["by_label"]
    single = out["heatmap_single"]
    for which in ("page", "history"):
        w("RATIO heatmap p95 / version document p95 (%s): %.1f   (p50 %.1f; one client: "
          "p50 %.1f)" % (
              which, _ratio(v[which + " heatmap"]["p95"], v[which + " /v1/"]["p95"]),
              _ratio(v[which + " heatmap"]["p50"], v[which + " /v1/"]["p50"]),
              _ratio(single[which + " heatmap"]["p50"], single[which + " /v1/"]["p50"])))
    w("RATIO heatmap p95 history / page (%d vs %d stored): %.2f   (p50 %.2f; one client: "
      "p50 %.2f)" % (
          args.history, args.releases,
          _ratio(v["history heatmap"]["p95"], v["page heatmap"]["p95"]),
          _ratio(v["history heatmap"]["p50"], v["page heatmap"]["p50"]),
          _ratio(single["history heatmap"]["p50"], single["page heatmap"]["p50"])))
    w("RATIO tasks/stats p95 history / page: %.2f   (p50 %.2f; one client: p50 %.2f; "
      "tasks/stats p95 / version document p95: page %.1f, history %.1f)" % (
          _ratio(v["history tasks/stats"]["p95"], v["page tasks/stats"]["p95"]),
          _ratio(v["history tasks/stats"]["p50"], v["page tasks/stats"]["p50"]),
          _ratio(single["history tasks/stats"]["p50"], single["page tasks/stats"]["p50"]),
          _ratio(v["page tasks/stats"]["p95"], v["page /v1/"]["p95"]),
          _ratio(v["history tasks/stats"]["p95"], v["history /v1/"]["p95"])))
    w("  one client (%d rounds, no queueing): %s" % (args.single_rounds, ", ".join(
        "%s p50 %s" % (label, _ms(s["p50"])) for label, s in single.items())))
    for sample in h["errors"][:5]:
        w("  error: %r" % (sample,))
    w("")
    d = out["deploy"]
    w("deployments (%d requests in %.1f s, 5 kinds in turns; service %s):" % (
        d["sent"], d["wall_s"], d["service"]))
    for label, s in d["by_label"].items():
        size, total = out["deploy_sizes"][label]
        w(_row(label, s) + "  %.0f KiB%s" % (size / 1024, ", %s rollouts" % total
                                             if total else ""))
    v, single = d["by_label"], out["deploy_single"]
    for label in ("dora service", "waves service 90d", "dora all", "waves all 7d"):
        w("RATIO %-18s p95 / version document p95: %6.1f   (p50 %.1f; one client: p50 "
          "%s, ratio %.1f)" % (
              label, _ratio(v[label]["p95"], v["/v1/"]["p95"]),
              _ratio(v[label]["p50"], v["/v1/"]["p50"]), _ms(single[label]["p50"]),
              _ratio(single[label]["p50"], single["/v1/"]["p50"])))
    w("  DORA (%s, production, default window): %s" % (d["service"], "; ".join(
        "%s %s %s" % (m["name"], "-" if m["value"] is None else "%.3g" % m["value"],
                      m["tier"] or "") for m in out["dora_answer"]["metrics"])))
    for sample in d["errors"][:5]:
        w("  error: %r" % (sample,))


if __name__ == "__main__":
    sys.exit(main())
