"""Ingest benchmark on MariaDB/MySQL: ratios measured in one run.

One run does, on scratch databases it creates and drops:

1. generates (or reuses, with ``--data-dir``) a year of Gerrit traffic with
   :mod:`benchmarks.generate`;
2. runs ``radar-daemon --config-file F import FILE`` as a child process on a
   migrated scratch database: the full path (read, parse, store raw
   messages, classify, job results, rechecks, rollups), and measures its
   wall time and its peak memory (VmHWM sampled from /proc and the child's
   ``ru_maxrss`` from ``wait4``);
3. copies the rows the import wrote into identical, migrated tables of a
   second scratch database with PyMySQL ``executemany`` (which sends
   multi-row ``INSERT ... VALUES (...), (...)`` statements), timing only the
   inserts of ``messages``, ``ci_reports`` and ``ci_job_results`` (the
   parent rows they reference are copied first, untimed, so foreign keys
   and indexes cost the same as in the import);
4. times empty poll cycles (``Collector.run_once()`` of a ``files`` source
   whose cursor is at the end of the file) with the whole year stored and
   with an empty database, alternating the two, and takes the medians.
   The event detection that ends each cycle is timed apart and printed
   beside: it judges every CI system's health over the default window, so
   it grows with the systems and the window, and an empty database has no
   system to judge.

It prints the absolute figures and the ratios: import rate / raw INSERT
rate (target >= 0.4), peak memory (target < 300 MB) and empty cycle with
the year stored / empty database (target <= 2).

Usage::

    python -m benchmarks.ingest [--reports 100000]          # quick run
    python -m benchmarks.ingest --reports 1000000 --data-dir /var/tmp/radar-bench
    python -m benchmarks.ingest --reports 20000 --profile /tmp/import.prof
"""

import argparse
import datetime as dt
import json
import os
import pstats
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import pymysql

from benchmarks import generate
from benchmarks.scratch import Databases

DEFAULT_URL = os.environ.get("RADAR_BENCH_MYSQL_URL",
                             "mysql+pymysql://root@127.0.0.1:3306/?charset=utf8mb4")
SOURCE = "bench"
# Tables copied untimed (parents, in foreign key order) and timed.
PARENT_TABLES = ("sources", "ci_systems", "accounts", "projects", "changes", "patchsets")
TIMED_TABLES = ("messages", "ci_reports", "ci_job_results")
COPY_CHUNK = 5000
TARGET_RATIO = 0.4
TARGET_MB = 300
TARGET_CYCLE = 2.0


def _log(msg):
    print(msg, file=sys.stderr, flush=True)


def count_rows(dbs, name, tables):
    conn = dbs.pymysql(name)
    try:
        with conn.cursor() as cur:
            out = {}
            for table in tables:
                cur.execute("SELECT COUNT(*) FROM %s" % table)
                out[table] = cur.fetchone()[0]
            return out
    finally:
        conn.close()


def write_conf(path, db_url, data_file, state, batch_size=None):
    lines = ["[DEFAULT]", "state_path = %s" % state, "[database]",
             "connection = %s" % db_url, "[gerrit]", "sources = %s" % SOURCE,
             "[gerrit:%s]" % SOURCE, "type = files", "paths = %s" % data_file,
             "[ci]", "reference_systems = Zuul"]
    if batch_size:
        lines += ["[daemon]", "batch_size = %d" % batch_size]
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


# --- the import, as a child process -----------------------------------------

def daemon_command():
    script = os.path.join(os.path.dirname(sys.executable), "radar-daemon")
    if os.path.exists(script):
        return [script]
    return [sys.executable, "-m", "radar_daemon.cmd"]


def _status_kb(pid, field):
    try:
        with open("/proc/%d/status" % pid) as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_import(conf_path, data_file, log_path, prefix=()):
    """Run radar-daemon import; return wall seconds, peak KB, rusage, stdout."""
    cmd = list(prefix) + daemon_command() + ["--config-file", conf_path, "import", data_file]
    with open(log_path, "ab") as log, tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=log)
        hwm = 0
        samples = []
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            value = _status_kb(proc.pid, "VmHWM")
            hwm = max(hwm, value)
            rss = _status_kb(proc.pid, "VmRSS")
            if rss:
                samples.append((time.perf_counter() - started, rss))
            time.sleep(0.2)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        stdout = out.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError("%s exited with %d; see %s" % (" ".join(cmd), proc.returncode,
                                                         log_path))
    peak_kb = max(hwm, usage.ru_maxrss)
    return {"wall_s": wall, "peak_kb": peak_kb, "hwm_sampled_kb": hwm,
            "ru_maxrss_kb": usage.ru_maxrss, "user_s": usage.ru_utime,
            "sys_s": usage.ru_stime, "stdout": stdout.strip(), "rss_samples": samples}


# --- raw multi-row INSERT of the same rows ----------------------------------

def _copy_table(src, dst, table, timed):
    """Copy `table` in chunks; return (rows, seconds spent in INSERT + COMMIT)."""
    spent = 0.0
    rows = 0
    with src.cursor(pymysql.cursors.SSCursor) as read:
        read.execute("SELECT * FROM %s" % table)
        columns = [d[0] for d in read.description]
        sql = "INSERT INTO %s (%s) VALUES (%s)" % (
            table, ", ".join("`%s`" % c for c in columns), ", ".join(["%s"] * len(columns)))
        with dst.cursor() as write:
            while True:
                chunk = read.fetchmany(COPY_CHUNK)
                if not chunk:
                    break
                t0 = time.perf_counter()
                write.executemany(sql, chunk)
                dst.commit()
                spent += time.perf_counter() - t0
                rows += len(chunk)
    return rows, spent if timed else None


def raw_insert(dbs, src_name, dst_name):
    src, dst = dbs.pymysql(src_name), dbs.pymysql(dst_name)
    result = {}
    try:
        for table in PARENT_TABLES:
            _copy_table(src, dst, table, timed=False)
        for table in TIMED_TABLES:
            rows, seconds = _copy_table(src, dst, table, timed=True)
            result[table] = {"rows": rows, "seconds": seconds}
            if table == "messages":
                # ci_reports reference recheck requests, which reference messages.
                _copy_table(src, dst, "recheck_requests", timed=False)
    finally:
        src.close()
        dst.close()
    return result


# --- empty poll cycles ------------------------------------------------------

def _collector(conf_path, data_file):
    from radar import conf as radar_conf
    from radar.db import api as db_api
    from radar.db import engine as db_engine
    from radar_daemon import service
    conf = radar_conf.load(["--config-file", conf_path])
    engine = db_engine.create_engine(conf)
    stat = os.stat(data_file)
    with engine.begin() as conn:
        sid = db_api.source_get_or_create(conn, SOURCE, "files")
        # The whole file has been read: the cursor is at its end.
        db_api.collector_state_update(conn, sid, cursor={"files": {os.path.abspath(
            data_file): {"inode": stat.st_ino, "offset": stat.st_size,
                         "mtime": stat.st_mtime_ns}}})
    holder = "radar-bench:%s:%d" % (socket.gethostname(), os.getpid())
    return conf, engine, (lambda: service.Collector(conf, engine, holder=holder))


def _one_cycle(collector, detection=None):
    """Seconds of the cycle's collection; the event detection that ends the
    cycle is timed apart (appended to `detection`): its cost follows the
    number of CI systems and the default window, not the history, and an
    empty database has no system to judge."""
    detect_s = []
    run = collector.detector.run

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return run(*args, **kwargs)
        finally:
            detect_s.append(time.perf_counter() - t)

    collector.detector.run = timed
    t0 = time.perf_counter()
    outcome = collector.run_once()
    seconds = time.perf_counter() - t0 - sum(detect_s)
    stats = outcome.get(SOURCE)
    if isinstance(stats, Exception) or getattr(stats, "records", None) != 0:
        raise RuntimeError("the empty cycle was not empty: %r" % (stats,))
    if detection is not None:
        detection.append(sum(detect_s))
    return seconds


def empty_cycles(full_conf, empty_conf, data_file, rounds):
    """Alternate full/empty cycles (the machine is noisy); medians in seconds."""
    full_conf_obj, full_engine, new_full = _collector(full_conf, data_file)
    empty_conf_obj, empty_engine, new_empty = _collector(empty_conf, data_file)
    full, empty = new_full(), new_empty()
    for collector in (full, empty):   # warm-up: ingester caches, pools, statements
        _one_cycle(collector)
    times = {"full": [], "empty": []}
    detection = {"full": [], "empty": []}
    for _ in range(rounds):
        times["full"].append(_one_cycle(full, detection["full"]))
        times["empty"].append(_one_cycle(empty, detection["empty"]))
    # Context: a collector built afresh (loads its caches) each cycle.
    fresh = {"full": [], "empty": []}
    for _ in range(max(3, rounds // 3)):
        fresh["full"].append(_one_cycle(new_full()))
        fresh["empty"].append(_one_cycle(new_empty()))
    for collector in (full, empty):
        collector.release()
    full_engine.dispose()
    empty_engine.dispose()
    return {
        "rounds": rounds,
        "full_median_s": statistics.median(times["full"]),
        "empty_median_s": statistics.median(times["empty"]),
        "full_all_s": times["full"], "empty_all_s": times["empty"],
        "fresh_full_median_s": statistics.median(fresh["full"]),
        "fresh_empty_median_s": statistics.median(fresh["empty"]),
        "detection_full_median_s": statistics.median(detection["full"]),
        "detection_empty_median_s": statistics.median(detection["empty"]),
    }


# --- profile mode -----------------------------------------------------------

def profile_import(conf_path, data_file, log_path, out_path, top=30):
    cmd = [sys.executable, "-m", "cProfile", "-o", out_path, "-m", "radar_daemon.cmd",
           "--config-file", conf_path, "import", data_file]
    started = time.perf_counter()
    with open(log_path, "ab") as log:
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=log)
    wall = time.perf_counter() - started
    stats = pstats.Stats(out_path)
    print("profile of the import (%.1f s under cProfile): %s" % (wall, out_path))
    print("-- by own time --")
    stats.sort_stats("tottime").print_stats(top)
    print("-- by cumulative time --")
    stats.sort_stats("cumulative").print_stats(top)


# --- main -------------------------------------------------------------------

def _ensure_data(data_dir, reports, seed, fmt):
    path = os.path.join(data_dir, "gerrit-%s.json" % fmt)
    summary_path = os.path.join(data_dir, "summary-%s.json" % fmt)
    if os.path.exists(path) and os.path.exists(summary_path):
        with open(summary_path) as fh:
            summary = json.load(fh)
        if summary.get("target_reports") == reports and summary.get("seed") == seed:
            _log("reusing %s" % path)
            return path, summary, 0.0
    _log("generating %d reports (seed %d, %s format) into %s ..." % (reports, seed, fmt,
                                                                      data_dir))
    t0 = time.perf_counter()
    summary = generate.generate(data_dir, reports=reports, seed=seed, fmt=fmt)
    return path, summary, time.perf_counter() - t0


def _mb(kb):
    return kb / 1024.0


def _verdict(ok):
    return "met" if ok else "MISSED"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ingest",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=100_000,
                        help="CI reports to generate and import (default 100,000; "
                             "the full-size run is 1,000,000).")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=("query", "stream"), default="query",
                        help="File format imported (default query).")
    parser.add_argument("--data-dir",
                        help="Keep the generated file here and reuse it on later runs "
                             "(default: a temporary directory, removed at the end).")
    parser.add_argument("--url", default=DEFAULT_URL,
                        help="Server URL (the database part is ignored); default %s, "
                             "or $RADAR_BENCH_MYSQL_URL." % DEFAULT_URL)
    parser.add_argument("--batch-size", type=int,
                        help="[daemon] batch_size for the import (default: radar's).")
    parser.add_argument("--cycles", type=int, default=9,
                        help="Empty poll cycles timed in each state (default 9).")
    parser.add_argument("--keep", action="store_true",
                        help="Keep the scratch databases (and the temporary data).")
    parser.add_argument("--json", help="Also write the figures to this JSON file.")
    parser.add_argument("--profile", metavar="FILE",
                        help="Only run the import under cProfile, write the profile to "
                             "FILE and print the top functions (no ratios).")
    args = parser.parse_args(argv)

    work = tempfile.mkdtemp(prefix="radar-bench-")
    data_dir = os.path.abspath(args.data_dir or os.path.join(work, "data"))
    os.makedirs(data_dir, exist_ok=True)
    dbs = Databases(args.url, "radar_bench")
    results = {"started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
               "reports_target": args.reports, "seed": args.seed, "format": args.format}
    try:
        data_file, summary, gen_s = _ensure_data(data_dir, args.reports, args.seed,
                                                 args.format)
        results["data"] = {k: summary[k] for k in ("changes", "patchsets", "messages",
                                                   "reports", "job_lines", "rechecks")}
        results["data"]["bytes"] = summary["files"][args.format]["bytes"]
        results["generate_s"] = gen_s
        log_path = os.path.join(work, "daemon.log")

        imp_db = dbs.create()
        imp_conf = write_conf(os.path.join(work, "import.conf"), dbs.url(imp_db),
                              data_file, os.path.join(work, "state"), args.batch_size)
        if args.profile:
            profile_import(imp_conf, data_file, log_path, args.profile)
            return 0

        # Process start-up alone (interpreter, imports, config, engine,
        # schema check), from an import of an empty file.
        empty_file = os.path.join(work, "empty.json")
        open(empty_file, "w").close()
        startup = run_import(imp_conf, empty_file, log_path)
        _log("importing %s (%.0f MiB) with radar-daemon import ..." % (
            data_file, results["data"]["bytes"] / 1048576.0))
        imp = run_import(imp_conf, data_file, log_path)
        stored = count_rows(dbs, imp_db, ("changes", "patchsets", "messages", "ci_reports",
                                          "ci_job_results", "recheck_requests",
                                          "ci_daily_rollups", "accounts", "ci_systems"))
        results["import"] = {k: v for k, v in imp.items() if k != "rss_samples"}
        results["import"]["startup_s"] = startup["wall_s"]
        results["stored"] = stored

        _log("raw multi-row INSERT of the same rows ...")
        raw_db = dbs.create("raw")
        raw = raw_insert(dbs, imp_db, raw_db)
        results["raw"] = raw

        _log("empty poll cycles ...")
        empty_db = dbs.create("empty")
        empty_conf = write_conf(os.path.join(work, "empty.conf"), dbs.url(empty_db),
                                data_file, os.path.join(work, "state"), args.batch_size)
        cycles = empty_cycles(imp_conf, empty_conf, data_file, args.cycles)
        results["cycles"] = cycles
        results["server"] = {"version": dbs.version(),
                             "innodb_buffer_pool_size": dbs.variable(
                                 "innodb_buffer_pool_size"),
                             "innodb_flush_log_at_trx_commit": dbs.variable(
                                 "innodb_flush_log_at_trx_commit")}
        report(results, summary)
        if args.json:
            with open(args.json, "w") as fh:
                json.dump(results, fh, indent=2, sort_keys=True, default=str)
        return 0
    finally:
        if args.keep:
            _log("kept databases %s and %s" % (", ".join(dbs.created), work))
        else:
            dbs.drop_all()
            shutil.rmtree(work, ignore_errors=True)


def report(results, summary):
    d, imp, stored, raw, cyc = (results["data"], results["import"], results["stored"],
                                results["raw"], results["cycles"])
    reports = stored["ci_reports"]
    import_rate = reports / imp["wall_s"]
    net_s = max(imp["wall_s"] - imp["startup_s"], 1e-9)
    raw_s = sum(raw[t]["seconds"] for t in TIMED_TABLES)
    raw_rows = sum(raw[t]["rows"] for t in TIMED_TABLES)
    raw_rate = reports / raw_s
    ratio = import_rate / raw_rate
    peak_mb = _mb(imp["peak_kb"])
    cycle_ratio = cyc["full_median_s"] / cyc["empty_median_s"]
    results["figures"] = {"import_reports_per_s": import_rate,
                          "import_reports_per_s_net": reports / net_s,
                          "raw_reports_per_s": raw_rate, "ratio": ratio,
                          "peak_mb": peak_mb, "empty_cycle_ratio": cycle_ratio}
    srv = results["server"]
    w = print
    w("")
    w("radar ingest benchmark: MariaDB/MySQL %s (buffer pool %s bytes, "
      "flush_log_at_trx_commit=%s), seed %d, %s format"
      % (srv["version"], srv["innodb_buffer_pool_size"],
         srv["innodb_flush_log_at_trx_commit"], results["seed"], results["format"]))
    w("data: %d changes, %d patch sets, %d messages, %d CI reports, %d job lines, "
      "%d rechecks; file %.1f MiB%s" % (
          d["changes"], d["patchsets"], d["messages"], d["reports"], d["job_lines"],
          d["rechecks"], d["bytes"] / 1048576.0,
          " (generated in %.0f s)" % results["generate_s"] if results["generate_s"] else ""))
    w("stored: %s" % ", ".join("%s %d" % kv for kv in stored.items()))
    if stored["ci_reports"] != d["reports"] or stored["ci_job_results"] != d["job_lines"]:
        w("WARNING: stored reports/job lines differ from what the generator wrote")
    w("")
    w("full import (radar-daemon import, one process):")
    w("  wall %.1f s (of which %.1f s process start-up), cpu user %.1f s + sys %.1f s"
      % (imp["wall_s"], imp["startup_s"], imp["user_s"], imp["sys_s"]))
    w("  %.0f reports/s (%.0f reports/s without start-up); %.0f messages/s, "
      "%.0f job rows/s" % (import_rate, reports / net_s, stored["messages"] / imp["wall_s"],
                           stored["ci_job_results"] / imp["wall_s"]))
    w("  peak memory (RSS high-water mark): %.0f MB   [target < %d MB: %s]"
      % (peak_mb, TARGET_MB, _verdict(peak_mb < TARGET_MB)))
    w("raw multi-row INSERT (PyMySQL executemany, %d-row chunks, commit per chunk):"
      % COPY_CHUNK)
    for table in TIMED_TABLES:
        w("  %-15s %9d rows in %7.1f s  (%.0f rows/s)" % (
            table, raw[table]["rows"], raw[table]["seconds"],
            raw[table]["rows"] / max(raw[table]["seconds"], 1e-9)))
    w("  total           %9d rows in %7.1f s  = %.0f reports/s" % (raw_rows, raw_s, raw_rate))
    w("RATIO import / raw INSERT: %.2f   [target >= %.1f: %s]"
      % (ratio, TARGET_RATIO, _verdict(ratio >= TARGET_RATIO)))
    w("empty poll cycle (files source, cursor at the end; median of %d, alternated):"
      % cyc["rounds"])
    w("  year stored %.1f ms, empty database %.1f ms; fresh collector each cycle: "
      "%.1f ms vs %.1f ms" % (cyc["full_median_s"] * 1e3, cyc["empty_median_s"] * 1e3,
                              cyc["fresh_full_median_s"] * 1e3,
                              cyc["fresh_empty_median_s"] * 1e3))
    w("RATIO empty cycle, year stored / empty database: %.2f   [target <= %.0f: %s]"
      % (cycle_ratio, TARGET_CYCLE, _verdict(cycle_ratio <= TARGET_CYCLE)))
    w("  event detection after the cycle (not in the ratio: it judges the health of "
      "every CI system over the default window): year stored %.1f ms, empty database "
      "%.1f ms" % (cyc["detection_full_median_s"] * 1e3, cyc["detection_empty_median_s"] * 1e3))


if __name__ == "__main__":
    sys.exit(main())
