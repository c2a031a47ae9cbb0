"""radar-manage [--config-file F] token create|list|revoke

    radar-manage token create --name ci-bot --scope write
    radar-manage token list
    radar-manage token revoke <id or name>

The token is printed once, by `create`; only its SHA-256 is stored.
"""

import sys

from oslo_config import cfg

from radar import conf as radar_conf
from radar.api import auth
from radar.common import exception, timeutils
from radar.db import api as db_api
from radar.db import engine as db_engine


def _add_commands(subparsers):
    token = subparsers.add_parser("token", help="API tokens for writes.")
    actions = token.add_subparsers(dest="action", metavar="<action>")
    actions.required = True
    create = actions.add_parser("create", help="Create a token and print it (once).")
    create.add_argument("--name", required=True, dest="token_name",
                        help="What the token is for.")
    create.add_argument("--scope", action="append", choices=auth.SCOPES, dest="scopes",
                        help="Scope to grant (repeat for several); default write.")
    listing = actions.add_parser("list", help="List tokens (never the tokens themselves).")
    listing.add_argument("--all", action="store_true", help="Include revoked tokens.")
    revoke = actions.add_parser("revoke", help="Revoke tokens by id or name.")
    revoke.add_argument("ident", metavar="<id or name>")


def _fmt(value):
    return timeutils.isoformat(value) if value is not None else "-"


def token_command(conf, out=None):
    out = out or sys.stdout
    command = conf.command
    engine = db_engine.create_engine(conf)
    try:
        with db_engine.make_sessionmaker(engine)() as session:
            if command.action == "create":
                name = command.token_name.strip()
                if not name or len(name) > 255:
                    print("radar-manage: --name must be 1 to 255 characters", file=sys.stderr)
                    return 2
                token = auth.generate()
                row = db_api.token_create(session, name, auth.hash_token(token),
                                          command.scopes or ["write"])
                session.commit()
                print("id: %d" % row["id"], file=out)
                print("name: %s" % row["name"], file=out)
                print("scopes: %s" % ",".join(row["scopes"]), file=out)
                print("token: %s" % token, file=out)
                print("(store the token now: radar keeps only its hash)", file=out)
                return 0
            if command.action == "list":
                rows = db_api.token_list(session, include_revoked=command.all)
                print("%-6s %-24s %-12s %-32s %-32s %s" % (
                    "id", "name", "scopes", "created", "last used", "revoked"), file=out)
                for r in rows:
                    print("%-6d %-24s %-12s %-32s %-32s %s" % (
                        r["id"], r["name"], ",".join(r["scopes"] or []),
                        _fmt(r["created_at"]), _fmt(r["last_used_at"]),
                        _fmt(r["revoked_at"])), file=out)
                return 0
            count = db_api.token_revoke(session, command.ident)
            session.commit()
            if not count:
                print("radar-manage: no live token %r" % command.ident, file=sys.stderr)
                return 1
            print("revoked %d token(s)" % count, file=out)
            return 0
    finally:
        engine.dispose()


def main(argv=None):
    conf = radar_conf.new_conf()
    conf.register_cli_opt(cfg.SubCommandOpt("command", handler=_add_commands))
    try:
        conf = radar_conf.load(sys.argv[1:] if argv is None else argv, conf=conf,
                               prog="radar-manage")
    except exception.ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if conf.command.name == "token":
        return token_command(conf)
    return 2


if __name__ == "__main__":
    sys.exit(main())
