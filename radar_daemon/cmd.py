"""radar-daemon [--config-file F] [run | run-once | import FILE... | reparse]"""

import logging
import os
import signal
import sys
import threading

import sqlalchemy as sa
from oslo_config import cfg

from radar import conf as radar_conf
from radar.common import exception
from radar.db import engine as db_engine
from radar.db import migration, models
from radar.stats import rollups
from radar_daemon import delivery, ingest, service
from radar_daemon.sources import gerrit_files

LOG = logging.getLogger("radar_daemon")
COMMANDS = ("run", "run-once", "import", "reparse")


def _add_commands(subparsers):
    subparsers.add_parser("run", help="Collect every [gerrit] poll_interval seconds "
                                      "(the default).")
    subparsers.add_parser("run-once", help="Collect once and exit.")
    imp = subparsers.add_parser("import", help="Import Gerrit JSON files ('-' is stdin).")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument("--format", choices=gerrit_files.FORMATS,
                     help="Input format; detected when not given.")
    imp.add_argument("--source",
                     help="Source the data belongs to (default: the only configured "
                          "source, else 'files').")
    subparsers.add_parser("reparse", help="Rebuild reports, job results and rollups "
                                          "from the stored messages.")


def _parse(argv):
    argv = list(argv)
    if not any(a in COMMANDS for a in argv):
        argv.append("run")
    conf = radar_conf.new_conf()
    conf.register_cli_opt(cfg.SubCommandOpt("command", handler=_add_commands))
    return radar_conf.load(argv, conf=conf, prog="radar-daemon")


def _engine(conf):
    url = db_engine.database_url(conf)
    # The embedded default should just work: create or migrate the schema.
    if url.startswith("sqlite"):
        migration.upgrade(url)
    engine = db_engine.create_engine(conf)
    if migration.current(engine) != migration.head(url):
        raise exception.ConfigError("the database schema is not current: run "
                                    "radar-db-manage upgrade")
    return engine


def main(argv=None):
    try:
        conf = _parse(sys.argv[1:] if argv is None else argv)
        radar_conf.setup_logging(conf)
        radar_conf.log_values(conf, LOG)
        engine = _engine(conf)
        command = conf.command.name
        if command == "import":
            return _import(conf, engine)
        if command == "reparse":
            return _reparse(conf, engine)
        collector = service.Collector(conf, engine)
        if command == "run-once":
            outcome = collector.run_once()
            collector.release()
            if conf.notifications.sender:
                delivery.DeliverySender(conf, engine, holder=collector.holder).run_once()
            failed = [name for name, value in outcome.items() if isinstance(value, Exception)]
            return 1 if failed else 0
        return _run(conf, collector)
    except exception.ConfigError as exc:
        print("radar-daemon: %s" % exc, file=sys.stderr)
        return 2


def _run(conf, collector):
    stop = collector.stop_event

    def _stop(signum, _frame):
        LOG.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    # The cycle runs in a worker thread so that a signal stops the process
    # within a second even while a request is in flight; committed batches
    # and their cursors are consistent at any point. The worker releases
    # its leases when it ends; if it is still inside a batch when we exit,
    # they expire after [daemon] lease_ttl.
    worker = threading.Thread(target=collector.run, args=(conf.gerrit.poll_interval,),
                              name="collector", daemon=True)
    worker.start()
    if conf.notifications.sender:
        # Its own thread: a receiver that hangs never delays collection.
        sender = delivery.DeliverySender(conf, collector.engine, holder=collector.holder,
                                         stop_event=stop)
        threading.Thread(target=sender.run, name="delivery", daemon=True).start()
    while worker.is_alive() and not stop.wait(0.05):
        pass
    worker.join(timeout=0.9)
    if worker.is_alive():
        LOG.warning("stopped inside a batch; its leases expire after %ss",
                    conf.daemon.lease_ttl)
    # Everything is committed. Interpreter teardown with SQLAlchemy and
    # oslo.config loaded can take half a second on a busy machine: skip it
    # so that the daemon stops within a second.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _import(conf, engine):
    source = conf.command.source
    if not source:
        source = conf.gerrit.sources[0] if len(conf.gerrit.sources) == 1 else "files"
    ingester = ingest.Ingester(conf, engine, source, source_type="files")
    failures = 0
    for path in conf.command.files:
        errors = []
        try:
            handle = sys.stdin.buffer if path == "-" else path
            records = gerrit_files.iter_records(handle, fmt=conf.command.format,
                                                name="<stdin>" if path == "-" else path,
                                                errors=errors)
            stats = ingester.ingest(records, errors=errors)
        except (OSError, ValueError, exception.RecordError) as exc:
            print("radar-daemon: cannot import %s: %s" % (path, exc), file=sys.stderr)
            failures += 1
            continue
        print("%s: %d records, %d changes, %d new messages, %d reports, %d skipped"
              % (path, stats.records, stats.changes, stats.messages_new, stats.reports,
                 len(errors)))
    return 1 if failures else 0


def _reparse(conf, engine):
    with engine.connect() as conn:
        sources = conn.execute(sa.select(models.Source.name, models.Source.type)).all()
    reports = 0
    for name, type_ in sources:
        reports += ingest.Ingester(conf, engine, name, source_type=type_).reparse()
    with engine.begin() as conn:
        rollups.rebuild_all(conn)
    print("reparsed %d sources: %d reports" % (len(sources), reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
