"""API benchmark on MariaDB/MySQL: ``/v1/systems`` under concurrent load.

One run does, on scratch databases ``radar_apibench_<pid>_full`` and
``radar_apibench_<pid>_tenth`` that it creates and drops:

1. takes a generated year of Gerrit traffic (:mod:`benchmarks.generate`,
   ``query`` format; generated, or reused with ``--data-dir`` or
   ``--data-file``) and splits it by change: every ``--hold-back``-th change
   is held back as the *further data* imported during the load test; the
   rest is the *full* data set. The *tenth* is the changes of the full set
   last active after a cutoff, whole (history included), the cutoff chosen
   so that they hold a tenth of the messages and at least a day before the
   window: a tenth of the data whose window holds exactly the same reports
   as the full set's;
2. imports both with ``radar-daemon import`` (child processes, one after
   the other);
3. starts the real ``radar-api`` (gunicorn, ``--workers``) on a loopback
   port over each database;
4. **systems vs version document**: ``--clients`` threads send, in turns,
   ``GET /`` and ``GET /v1/systems?since=<end - 30 days>&until=<end>`` to
   both servers (``end``: the midnight after the day by which 99% of the
   reports are in; the rest is a thin tail of stragglers), after
   a warm-up, and measure p50 and p95 of each; ratio /v1/systems p95 to
   the version document's p95 on the same server (target <= 4), and full to
   tenth for /v1/systems (target <= 1.5: cost does not grow with history);
5. **uncached cost** (context): the same 30-day window shifted by a few
   seconds per request (so no response cache answers it), full and tenth
   alternated, as many clients as workers;
6. **load while importing**: ``--load-seconds`` (60) of ``--clients``
   threads on the full server, a fixed mix of ``/v1/systems``,
   ``/v1/systems/{id}``, its ``series``, its ``reports``, ``/v1/reports``,
   ``/v1/projects`` and ``GET /``, while ``radar-daemon import`` of the
   held-back data runs against the same database; every non-2xx answer,
   timeout or connection error counts as an error (target zero);
7. where one uncached ``/v1/systems`` computation spends its time: the
   statistics function run in this process on the full database, its SQL
   statements timed.

Usage::

    python -m benchmarks.api [--reports 100000]
    python -m benchmarks.api --data-file /var/tmp/radar-bench-1m/gerrit-query.json
"""

import argparse
import collections
import datetime as dt
import http.client
import json
import os
import queue
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from benchmarks import generate
from benchmarks.scratch import Databases

DEFAULT_URL = os.environ.get("RADAR_BENCH_MYSQL_URL",
                             "mysql+pymysql://root@127.0.0.1:3306/?charset=utf8mb4")
SOURCE = "bench"
WINDOW_DAYS = 30
TARGET_VERSION_RATIO = 4.0
TARGET_TENTH_RATIO = 1.5
_TIMES = re.compile(rb'"(?:timestamp|createdOn|lastUpdated)":(\d+)')


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


# --- data ------------------------------------------------------------------------------

def ensure_data(args, work):
    """The query file to use: --data-file, or generated (kept in --data-dir)."""
    if args.data_file:
        return os.path.abspath(args.data_file)
    data_dir = os.path.abspath(args.data_dir or os.path.join(work, "data"))
    os.makedirs(data_dir, exist_ok=True)
    path = os.path.join(data_dir, "gerrit-query.json")
    summary_path = os.path.join(data_dir, "summary-query.json")
    if os.path.exists(path) and os.path.exists(summary_path):
        with open(summary_path) as fh:
            summary = json.load(fh)
        if summary.get("target_reports") == args.reports and summary.get("seed") == args.seed:
            _log("reusing %s" % path)
            return path
    _log("generating %d reports (seed %d) into %s ..." % (args.reports, args.seed, data_dir))
    generate.generate(data_dir, reports=args.reports, seed=args.seed, fmt="query")
    return path


def split(path, out_dir, hold_back):
    """full.json and further.json (every hold_back-th change).

    Returns the paths, the time span of the full set (epoch seconds) and
    the last activity of each change of full.json, for :func:`tenth`.
    """
    full_path = os.path.join(out_dir, "full.json")
    further_path = os.path.join(out_dir, "further.json")
    last_activity = []
    first = last = None
    index = 0
    with open(path, "rb") as src, open(full_path, "wb") as full, \
            open(further_path, "wb") as further:
        for line in src:
            if line.startswith(b'{"type":"stats"') or not line.strip():
                continue
            held = hold_back and index % hold_back == hold_back - 1
            index += 1
            if held:
                further.write(line)
                continue
            times = [int(t) for t in _TIMES.findall(line)]
            full.write(line)
            last_activity.append((max(times) if times else 0, line.count(b'"timestamp":')))
            if times:
                first = min(times) if first is None else min(first, min(times))
                last = max(times) if last is None else max(last, max(times))
    return {"full": full_path, "further": further_path, "first": first, "last": last,
            "last_activity": last_activity, "changes_full": len(last_activity),
            "changes_further": index - len(last_activity)}


def tenth(parts, out_dir, window_since, share=0.1):
    """tenth.json: the changes of full.json last active after a cutoff, whole.

    The cutoff is the latest time such that the changes active after it
    hold `share` of the full set's messages, and at least a day before
    `window_since`: whole changes, history included, so every report of
    the window is in the tenth.
    """
    path = os.path.join(out_dir, "tenth.json")
    activity = parts["last_activity"]
    wanted = share * sum(n for _, n in activity)
    cutoff = None
    total = 0
    for last, n in sorted(activity, reverse=True):
        total += n
        cutoff = last
        if total >= wanted:
            break
    cutoff = min(cutoff, window_since.timestamp() - 86400)
    kept = 0
    with open(parts["full"], "rb") as src, open(path, "wb") as out:
        for line, (last, _) in zip(src, activity, strict=True):
            if last >= cutoff:
                out.write(line)
                kept += 1
    parts.update(tenth=path, cutoff=cutoff, changes_tenth=kept)
    return path


def data_end(dbs, name, tail=0.01):
    """The midnight after the time by which all but `tail` of the reports are in.

    The generated traffic stops at the end of its year; reports on changes
    still in flight trickle in for weeks after it (a thin tail that a
    window ending at the very last report would mostly hold).
    """
    total = dbs.scalar(name, "SELECT COUNT(*) FROM ci_reports")
    when = dbs.scalar(name, "SELECT reported_at FROM ci_reports ORDER BY reported_at DESC "
                            "LIMIT 1 OFFSET %d" % int(total * tail))
    last = dbs.scalar(name, "SELECT MAX(reported_at) FROM ci_reports")
    end = dt.datetime.combine(when.date() + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return end, last


# --- databases, configuration, processes -------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_conf(path, db_url, state, port, workers):
    lines = ["[DEFAULT]", "state_path = %s" % state,
             "[database]", "connection = %s" % db_url,
             "[gerrit]", "sources = %s" % SOURCE,
             "[gerrit:%s]" % SOURCE, "type = files", "paths = %s" % os.devnull,
             "[ci]", "reference_systems = Zuul",
             "[api]", "host = 127.0.0.1", "port = %d" % port, "workers = %d" % workers,
             "access_log = false"]
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


def _tool(name, module):
    script = os.path.join(os.path.dirname(sys.executable), name)
    return [script] if os.path.exists(script) else [sys.executable, "-m", module]


def run_import(conf_path, data_file, log_path):
    """radar-daemon import; returns (wall seconds, exit code, stdout)."""
    cmd = _tool("radar-daemon", "radar_daemon.cmd") + ["--config-file", conf_path, "import",
                                                        data_file]
    started = time.perf_counter()
    with open(log_path, "ab") as log:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=log, check=False)
    return time.perf_counter() - started, proc.returncode, proc.stdout.decode().strip()


class ApiServer:
    def __init__(self, conf_path, port, log_path):
        self.port = port
        self.log = open(log_path, "ab")
        cmd = _tool("radar-api", "radar.api.cmd") + ["--config-file", conf_path]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log,
                                     start_new_session=True)

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("radar-api exited with %d; see %s" % (
                    self.proc.returncode, self.log.name))
            try:
                status, _, _ = request(self.port, "/", timeout=5)
                if status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.5)
        raise RuntimeError("radar-api did not answer within %d s" % timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)     # gunicorn: graceful stop
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# --- HTTP load ---------------------------------------------------------------------------

def request(port, path, timeout=120):
    """GET path; returns (status, body bytes, headers dict)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, body, dict(resp.getheaders())
    finally:
        conn.close()


class Results:
    """Latencies and errors per label, from many threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = collections.defaultdict(list)
        self.errors = collections.Counter()
        self.error_samples = []
        self.hits = collections.Counter()

    def record(self, label, seconds, status=None, error=None, cache=None):
        with self.lock:
            if error is None and status is not None and 200 <= status < 300:
                self.latencies[label].append(seconds)
                if cache:
                    self.hits[(label, cache)] += 1
            else:
                self.errors[label] += 1
                if len(self.error_samples) < 20:
                    self.error_samples.append((label, status, error))

    def summary(self, label):
        values = sorted(self.latencies.get(label, ()))
        return {"n": len(values), "errors": self.errors.get(label, 0),
                "p50": percentile(values, 50), "p95": percentile(values, 95),
                "max": values[-1] if values else None}


def percentile(sorted_values, pct):
    """Nearest-rank percentile of an already sorted list (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, int(-(-pct * len(sorted_values) // 100)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _one(results, label, port, path, check=None):
    started = time.perf_counter()
    try:
        status, body, headers = request(port, path)
    except (OSError, http.client.HTTPException) as exc:
        results.record(label, time.perf_counter() - started, error=repr(exc))
        return
    elapsed = time.perf_counter() - started
    error = None
    if check is not None and status == 200:
        error = check(body)
    results.record(label, elapsed, status=status, error=error,
                   cache=headers.get("X-Radar-Cache"))


def run_jobs(jobs, clients, max_seconds, results):
    """Send (label, port, path, check) jobs from `clients` threads; bounded in time."""
    work = queue.Queue()
    for job in jobs:
        work.put(job)
    deadline = time.monotonic() + max_seconds

    def client():
        while time.monotonic() < deadline:
            try:
                job = work.get_nowait()
            except queue.Empty:
                return
            _one(results, *job)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, work.qsize()


def run_for(seconds, clients, choose, results):
    """`clients` threads sending choose(rng) jobs for `seconds`."""
    deadline = time.monotonic() + seconds
    counts = []

    def client(seed):
        rng = random.Random(seed)
        n = 0
        while time.monotonic() < deadline:
            _one(results, *choose(rng))
            n += 1
        counts.append(n)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts)


def _systems_check(expected):
    def check(body):
        try:
            data = json.loads(body)
        except ValueError:
            return "not JSON"
        if not isinstance(data, list) or len(data) != expected:
            return "expected %d systems, got %r" % (expected, len(data))
        return None
    return check


# --- the phases --------------------------------------------------------------------------

def _iso(when):
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def systems_path(since, until):
    return "/v1/systems?" + urllib.parse.urlencode({"since": _iso(since), "until": _iso(until)})


def run_cycle(jobs, clients, seconds, cap, results):
    """`clients` threads sending `jobs` in turns, for `seconds` or `cap` requests."""
    lock = threading.Lock()
    sent = [0]
    deadline = time.monotonic() + seconds

    def client():
        while time.monotonic() < deadline:
            with lock:
                if sent[0] >= cap:
                    return
                job = jobs[sent[0] % len(jobs)]
                sent[0] += 1
            _one(results, *job)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, sent[0]


def versus(servers, window, clients, seconds, cap, n_systems):
    """Phase 4: / and /v1/systems on both servers, in turns."""
    path = systems_path(*window)
    warm = Results()
    for port in servers.values():
        # Warm-up: every worker computes the window once (one cache per process).
        run_jobs([("warm", port, p, None) for p in [path, "/"] * 8], clients, 600, warm)
    if warm.errors:
        raise RuntimeError("warm-up failed: %r" % warm.error_samples)
    jobs = []
    for name, port in servers.items():
        jobs.append(("%s /" % name, port, "/", None))
        jobs.append(("%s /v1/systems" % name, port, path, _systems_check(n_systems[name])))
    results = Results()
    wall, sent = run_cycle(jobs, clients, seconds, cap, results)
    return results, wall, sent


def uncached(servers, window, clients, per_server, n_systems):
    """Phase 5: 30-day windows shifted by k seconds: no cache entry answers them."""
    since, until = window
    jobs = []
    for k in range(1, per_server + 1):
        shift = dt.timedelta(seconds=k)
        for name, port in servers.items():
            jobs.append(("%s /v1/systems uncached" % name, port,
                         systems_path(since - shift, until - shift),
                         _systems_check(n_systems[name])))
    results = Results()
    wall, _ = run_jobs(jobs, clients, 1800, results)
    return results, wall


def mixed_load(port, window, system_ids, projects, seconds, clients, results):
    since, until = window
    win = {"since": _iso(since), "until": _iso(until)}
    q = urllib.parse.urlencode

    def choose(rng):
        sid = rng.choice(system_ids)
        kind = rng.choices(
            ["/v1/systems", "/v1/systems (default window)", "/v1/systems/{id}",
             "/v1/systems/{id}/series", "/v1/systems/{id}/reports", "/v1/reports",
             "/v1/projects", "/v1/projects/{name}", "/"],
            weights=[4, 1, 3, 2, 2, 2, 1, 1, 1])[0]
        path = {
            "/v1/systems": "/v1/systems?" + q(win),
            "/v1/systems (default window)": "/v1/systems",
            "/v1/systems/{id}": "/v1/systems/%d?%s" % (sid, q(win)),
            "/v1/systems/{id}/series": "/v1/systems/%d/series?%s" % (
                sid, q(dict(win, interval="day"))),
            "/v1/systems/{id}/reports": "/v1/systems/%d/reports?%s" % (
                sid, q(dict(win, limit=20))),
            "/v1/reports": "/v1/reports?" + q(dict(win, limit=50)),
            "/v1/projects": "/v1/projects?" + q(win),
            "/v1/projects/{name}": "/v1/projects/%s?%s" % (rng.choice(projects), q(win)),
            "/": "/",
        }[kind]
        return (kind, port, path, None)

    return run_for(seconds, clients, choose, results)


def load_while_importing(port, window, system_ids, projects, seconds, clients, conf_path,
                         further, log_path):
    """Phase 6: the mixed load for `seconds` while radar-daemon imports `further`."""
    results = Results()
    imp = {}

    def importer():
        imp["started"] = time.monotonic()
        imp["wall"], imp["rc"], imp["stdout"] = run_import(conf_path, further, log_path)
        imp["ended"] = time.monotonic()

    thread = threading.Thread(target=importer, daemon=True)
    t0 = time.monotonic()
    thread.start()
    sent = mixed_load(port, window, system_ids, projects, seconds, clients, results)
    load_end = time.monotonic()
    thread.join()
    overlap = min(imp["ended"], load_end) - max(imp["started"], t0)
    return results, sent, imp, overlap, load_end - t0


def profile_systems(db_url, window):
    """Phase 7: one uncached system_summaries in this process, SQL statements timed."""
    from sqlalchemy import event

    from radar import conf as radar_conf
    from radar.db import engine as db_engine
    from radar.stats import systems as stats
    from radar.stats.window import Window

    conf = radar_conf.new_conf()
    conf([], project="radar", default_config_files=[])
    conf.set_override("connection", db_url, group="database")
    engine = db_engine.create_engine(conf)
    timings = []

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, params, context, many):
        conn.info.setdefault("t0", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, params, context, many):
        t0 = conn.info["t0"].pop()
        timings.append((time.perf_counter() - t0, " ".join(statement.split())))

    session = db_engine.make_sessionmaker(engine)()
    try:
        stats.system_summaries(session, conf, Window(*window))   # warm the buffer pool
        session.rollback()
        best = None
        for _ in range(3):
            del timings[:]
            t0 = time.perf_counter()
            stats.system_summaries(session, conf, Window(*window))
            total = time.perf_counter() - t0
            session.rollback()
            if best is None or total < best[0]:
                best = (total, list(timings))
    finally:
        session.close()
        engine.dispose()
    total, statements = best
    return {"total_s": total, "sql_s": sum(t for t, _ in statements),
            "statements": len(statements),
            "top": sorted(statements, reverse=True)[:6]}


# --- main -------------------------------------------------------------------------------

def _ms(value):
    return "-" if value is None else "%.1f ms" % (value * 1000)


def _ratio(a, b):
    return a / b if a is not None and b else float("nan")


def _verdict(ok):
    return "met" if ok else "MISSED"


STATE = "state.json"


def prepare(args, work, dbs, log_path, out):
    """Generate or reuse the data, split it, import full and tenth; save the state."""
    source = ensure_data(args, work)
    _log("splitting %s ..." % source)
    parts = split(source, work, args.hold_back)
    names = {}
    window = None
    out["imports"] = {}
    for which in ("full", "tenth"):
        names[which] = dbs.create(which)
        conf = write_conf(os.path.join(work, "import-%s.conf" % which), dbs.url(names[which]),
                          os.path.join(work, "state"), 0, 1)
        if which == "full":
            data_file = parts["full"]
        else:
            # The window is known now: the tenth holds all of it.
            data_file = tenth(parts, work, window[0])
        _log("importing %s into %s ..." % (data_file, names[which]))
        wall, rc, stdout = run_import(conf, data_file, log_path)
        if rc != 0:
            raise RuntimeError("import failed (%d); see %s" % (rc, log_path))
        out["imports"][which] = {"seconds": wall, "output": stdout}
        _log("  %s (%.0f s)" % (stdout, wall))
        if which == "full":
            end, last = data_end(dbs, names["full"])
            window = (end - dt.timedelta(days=WINDOW_DAYS), end)
            out["last_report"] = last.isoformat()
    with open(os.path.join(work, STATE), "w") as fh:
        json.dump({"names": names, "window": [w.isoformat() for w in window],
                   "imports": out["imports"], "last_report": out["last_report"],
                   "parts": {k: v for k, v in parts.items() if k != "last_activity"}},
                  fh, indent=2)
    return names, parts, window


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.api",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=100_000,
                        help="CI reports to generate (default 100,000; the full-size "
                             "run is 1,000,000).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", help="Keep the generated file here and reuse it.")
    parser.add_argument("--data-file", help="Use this generated query file as is.")
    parser.add_argument("--url", default=DEFAULT_URL,
                        help="Server URL (the database part is ignored); default %s, "
                             "or $RADAR_BENCH_MYSQL_URL." % DEFAULT_URL)
    parser.add_argument("--workers", type=int, default=2, help="radar-api workers (2).")
    parser.add_argument("--clients", type=int, default=8, help="Concurrent clients (8).")
    parser.add_argument("--seconds", type=float, default=30,
                        help="Length of the comparison of / and /v1/systems (30 s).")
    parser.add_argument("--max-requests", type=int, default=20000,
                        help="Bound on the requests of the comparison (20,000).")
    parser.add_argument("--uncached", type=int, default=8,
                        help="Uncached /v1/systems requests per server (8).")
    parser.add_argument("--load-seconds", type=float, default=60,
                        help="Length of the load while importing (60 s).")
    parser.add_argument("--hold-back", type=int, default=20,
                        help="Every N-th change is held back for the import under load "
                             "(20: 5%%).")
    parser.add_argument("--keep", action="store_true",
                        help="Keep the scratch databases and files.")
    parser.add_argument("--reuse", metavar="DIR",
                        help="Skip generation and imports: use the databases and files "
                             "a run with --keep left in DIR (the held-back data is then "
                             "imported again: nothing new is stored under load).")
    parser.add_argument("--json", help="Also write the figures to this JSON file.")
    args = parser.parse_args(argv)

    work = os.path.abspath(args.reuse) if args.reuse else tempfile.mkdtemp(
        prefix="radar-apibench-")
    dbs = Databases(args.url, "radar_apibench")
    servers = []
    out = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
           "workers": args.workers, "clients": args.clients}
    keep = args.keep or bool(args.reuse)
    names = {}
    try:
        log_path = os.path.join(work, "radar.log")
        if args.reuse:
            with open(os.path.join(work, STATE)) as fh:
                state = json.load(fh)
            names, parts, out["imports"] = state["names"], state["parts"], state["imports"]
            out["last_report"] = state.get("last_report")
            window = tuple(dt.datetime.fromisoformat(w) for w in state["window"])
            out["reused"] = state
            _log("reusing databases %s" % ", ".join(names.values()))
        else:
            names, parts, window = prepare(args, work, dbs, log_path, out)
        ports = {w: free_port() for w in names}
        confs = {w: write_conf(os.path.join(work, "%s.conf" % w), dbs.url(names[w]),
                               os.path.join(work, "state"), ports[w], args.workers)
                 for w in names}
        out["split"] = {k: v for k, v in parts.items()
                        if not isinstance(v, (str, list))}
        stored = {w: dbs.scalar(names[w], "SELECT COUNT(*) FROM ci_reports")
                  for w in names}
        out["reports"] = stored
        in_window = {w: dbs.scalar(names[w], "SELECT COUNT(*) FROM ci_reports WHERE "
                                   "reported_at >= '%s' AND reported_at < '%s'" % (
                                       window[0].strftime("%Y-%m-%d %H:%M:%S"),
                                       window[1].strftime("%Y-%m-%d %H:%M:%S")))
                     for w in names}
        out["window"] = [window[0].isoformat(), window[1].isoformat()]
        out["reports_in_window"] = in_window
        n_systems = {w: dbs.scalar(names[w], "SELECT COUNT(*) FROM ci_systems")
                     for w in names}

        _log("starting radar-api (%d workers) on ports %s ..." % (
            args.workers, ", ".join(str(p) for p in ports.values())))
        for which in ("full", "tenth"):
            servers.append(ApiServer(confs[which], ports[which], log_path))
        for server in servers:
            server.wait_ready()

        # The tenth answers the same numbers over the window (its reports are the same).
        path = systems_path(*window)
        bodies = {w: json.loads(request(ports[w], path)[1]) for w in ports}
        counted = ("reports", "successes", "failures", "patchsets_reported",
                   "eligible_patchsets", "latency_p50_s", "flaky_patchsets", "agreement")
        tenth_by_name = {s["name"]: s for s in bodies["tenth"]}
        active = [a for a in bodies["full"] if a.get("reports")]
        same = sum(1 for a in active if a["name"] in tenth_by_name
                   and all(a.get(k) == tenth_by_name[a["name"]].get(k) for k in counted))
        out["same_numbers"] = [same, len(active)]

        _log("comparison: %d clients, / and /v1/systems on both servers ..." % args.clients)
        res, wall, sent = versus(ports, window, args.clients, args.seconds,
                                 args.max_requests, n_systems)
        out["versus"] = {label: res.summary(label) for label in
                         ("full /", "full /v1/systems", "tenth /", "tenth /v1/systems")}
        out["versus_wall_s"], out["versus_sent"] = wall, sent
        out["versus_cache"] = {"%s %s" % k: v for k, v in res.hits.items()}
        out["versus_errors"] = res.error_samples

        _log("uncached /v1/systems (%d per server, %d clients) ..." % (
            args.uncached, args.workers))
        res_u, wall_u = uncached(ports, window, args.workers, args.uncached, n_systems)
        out["uncached"] = {w: res_u.summary("%s /v1/systems uncached" % w) for w in ports}
        out["uncached_errors"] = res_u.error_samples

        _log("profile of one uncached /v1/systems ...")
        out["profile"] = profile_systems(dbs.url(names["full"]), window)

        _log("%.0f s of mixed load (%d clients) while radar-daemon imports %d held-back "
             "changes ..." % (args.load_seconds, args.clients, parts["changes_further"]))
        system_ids = dbs.column(names["full"], "SELECT id FROM ci_systems ORDER BY id")
        projects = dbs.column(names["full"], "SELECT name FROM projects ORDER BY name")
        before = stored["full"]
        res_l, sent, imp, overlap, load_wall = load_while_importing(
            ports["full"], window, system_ids, projects, args.load_seconds, args.clients,
            confs["full"], parts["further"], log_path)
        after = dbs.scalar(names["full"], "SELECT COUNT(*) FROM ci_reports")
        labels = sorted(set(res_l.latencies) | set(res_l.errors))
        out["load"] = {"sent": sent, "seconds": load_wall, "errors": sum(res_l.errors.values()),
                       "error_samples": res_l.error_samples,
                       "by_endpoint": {label: res_l.summary(label) for label in labels},
                       "import_s": imp["wall"], "import_rc": imp["rc"],
                       "import_stdout": imp["stdout"], "overlap_s": overlap,
                       "reports_added": after - before}
        out["server"] = dbs.version()
        report(out)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(out, fh, indent=2, sort_keys=True, default=str)
        return 0
    finally:
        for server in servers:
            server.stop()
        if keep:
            _log("kept databases %s and %s" % (", ".join(dbs.created or names.values()),
                                               work))
        else:
            dbs.drop_all()
            shutil.rmtree(work, ignore_errors=True)


def report(out):
    w = print
    sp, v, u, load, prof = out["split"], out["versus"], out["uncached"], out["load"], \
        out["profile"]
    w("")
    w("radar API benchmark: MariaDB/MySQL %s, radar-api (gunicorn) with %d workers, "
      "%d concurrent clients" % (out["server"], out["workers"], out["clients"]))
    w("data: full %d reports (%d changes), tenth %d reports (%d changes, %.1f%% of the "
      "reports: the changes active since %s, whole), %d changes held back "
      "for the import under load" % (
          out["reports"]["full"], sp["changes_full"], out["reports"]["tenth"],
          sp["changes_tenth"], 100.0 * out["reports"]["tenth"] / out["reports"]["full"],
          dt.datetime.fromtimestamp(sp["cutoff"], dt.UTC).strftime("%Y-%m-%d %H:%M"),
          sp["changes_further"]))
    imports = out["imports"]
    w("imports (radar-daemon import): full %.0f s, tenth %.0f s%s" % (
        imports["full"]["seconds"], imports["tenth"]["seconds"],
        " (databases reused from an earlier run: the held-back data was imported "
        "then, its import under load stores nothing new)" if out.get("reused") else ""))
    w("window: since %s until %s (%d days; the end of the traffic: 99%% of the reports "
      "are in by then, the last one at %s): %d reports in it on the full database, %d on "
      "the tenth; %d of the %d systems active in it have the same numbers on both" % (
          out["window"][0], out["window"][1], WINDOW_DAYS, out["last_report"],
          out["reports_in_window"]["full"], out["reports_in_window"]["tenth"],
          out["same_numbers"][0], out["same_numbers"][1]))
    w("")
    w("under load (%d requests in %.1f s: the 4 kinds below in turns, after a warm-up "
      "where every worker computed the window once):" % (
          out["versus_sent"], out["versus_wall_s"]))
    for label in ("full /", "full /v1/systems", "tenth /", "tenth /v1/systems"):
        s = v[label]
        w("  %-18s p50 %9s  p95 %9s  max %9s  (%d ok, %d errors)" % (
            label, _ms(s["p50"]), _ms(s["p95"]), _ms(s["max"]), s["n"], s["errors"]))
    hits = out["versus_cache"]
    w("  response cache: full %d hits / %d misses, tenth %d hits / %d misses" % (
        hits.get("full /v1/systems HIT", 0), hits.get("full /v1/systems MISS", 0),
        hits.get("tenth /v1/systems HIT", 0), hits.get("tenth /v1/systems MISS", 0)))
    r95 = _ratio(v["full /v1/systems"]["p95"], v["full /"]["p95"])
    r50 = _ratio(v["full /v1/systems"]["p50"], v["full /"]["p50"])
    w("RATIO /v1/systems p95 / version document p95 (full): %.2f   [target <= %.0f: %s]"
      "   (p50: %.2f)" % (r95, TARGET_VERSION_RATIO, _verdict(r95 <= TARGET_VERSION_RATIO),
                          r50))
    t95 = _ratio(v["full /v1/systems"]["p95"], v["tenth /v1/systems"]["p95"])
    t50 = _ratio(v["full /v1/systems"]["p50"], v["tenth /v1/systems"]["p50"])
    w("RATIO /v1/systems p95 full / tenth of the data: %.2f   [target <= %.1f: %s]"
      "   (p50: %.2f)" % (t95, TARGET_TENTH_RATIO, _verdict(t95 <= TARGET_TENTH_RATIO), t50))
    w("")
    uf, ut = u["full"], u["tenth"]
    w("uncached /v1/systems (window shifted by seconds per request, %d clients):" %
      out["workers"])
    w("  full  p50 %s  p95 %s;  tenth p50 %s  p95 %s  (%d + %d ok, %d errors)" % (
        _ms(uf["p50"]), _ms(uf["p95"]), _ms(ut["p50"]), _ms(ut["p95"]), uf["n"], ut["n"],
        uf["errors"] + ut["errors"]))
    c50 = _ratio(uf["p50"], ut["p50"])
    w("RATIO uncached /v1/systems p50 full / tenth: %.2f   [target <= %.1f: %s]" % (
        c50, TARGET_TENTH_RATIO, _verdict(c50 <= TARGET_TENTH_RATIO)))
    w("  one computation in-process (best of 3): %s, of which SQL %s in %d statements; "
      "slowest statements:" % (_ms(prof["total_s"]), _ms(prof["sql_s"]), prof["statements"]))
    for seconds, sql in prof["top"]:
        w("    %9s  %s" % (_ms(seconds), sql[:110]))
    w("")
    w("mixed load while importing: %d requests in %.1f s from %d clients; radar-daemon "
      "import ran %.1f s (exit %d, %d reports added), %.1f s of it during the load" % (
          load["sent"], load["seconds"], out["clients"], load["import_s"], load["import_rc"],
          load["reports_added"], load["overlap_s"]))
    for label, s in load["by_endpoint"].items():
        w("  %-30s %5d ok  p50 %9s  p95 %9s  errors %d" % (
            label, s["n"], _ms(s["p50"]), _ms(s["p95"]), s["errors"]))
    for sample in load["error_samples"][:5]:
        w("  error: %r" % (sample,))
    w("ERRORS under load while importing: %d   [target 0: %s]" % (
        load["errors"], _verdict(load["errors"] == 0 and load["import_rc"] == 0)))


if __name__ == "__main__":
    sys.exit(main())
