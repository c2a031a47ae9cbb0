"""radar-db-manage [--config-file F] upgrade|current|check"""

import sys

from alembic.util import CommandError
from oslo_config import cfg

from radar import conf as radar_conf
from radar.common import exception
from radar.db import engine as db_engine
from radar.db import migration


def _add_commands(subparsers):
    subparsers.add_parser("upgrade", help="Migrate the database to the newest schema.")
    subparsers.add_parser("current", help="Print the schema revision of the database.")
    subparsers.add_parser("check", help="Exit 1 unless the database is at the newest "
                                        "revision and matches the models.")


def main(argv=None):
    conf = radar_conf.new_conf()
    conf.register_cli_opt(cfg.SubCommandOpt("command", handler=_add_commands))
    try:
        conf = radar_conf.load(sys.argv[1:] if argv is None else argv, conf=conf,
                               prog="radar-db-manage")
    except exception.ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    url = db_engine.database_url(conf)
    name = conf.command.name
    if name == "upgrade":
        migration.upgrade(url)
        print("database at revision %s" % migration.head(url))
        return 0
    engine = db_engine.create_engine(conf)
    current = migration.current(engine)
    if name == "current":
        print(current or "empty (run: radar-db-manage upgrade)")
        return 0
    head = migration.head(url)
    if current != head:
        print("database at %s, newest is %s: run radar-db-manage upgrade"
              % (current, head), file=sys.stderr)
        return 1
    try:
        migration.check(url)
    except CommandError as exc:
        print("schema differs from the models: %s" % exc, file=sys.stderr)
        return 1
    print("database is up to date (%s)" % head)
    return 0


if __name__ == "__main__":
    sys.exit(main())
