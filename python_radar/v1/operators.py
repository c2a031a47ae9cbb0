"""radar operator list|show|create|set|delete, operator add|remove system.

Writes need a token with the 'write' scope (--token or RADAR_TOKEN).
"""

import logging

from python_radar import client as radar_client
from python_radar import v1

LOG = logging.getLogger(__name__)

OPERATOR_FIELDS = ("id", "name", "email", "contact", "systems", "created_at")
OPERATOR_KINDS = {"systems": "list", "created_at": "time"}


def operator_path(ident):
    return "/v1/operators/%s" % radar_client.quote(ident)


def add_operator_argument(parser, nargs=None):
    parser.add_argument("operator", metavar="<operator>", nargs=nargs,
                        help="Operator id or name." if nargs is None
                        else "Operators (ids or names).")


class ListOperator(v1.Lister):
    """List operators: who runs which CI system"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--search", metavar="<text>",
                            help="Only operators whose name, e-mail or contact contains "
                                 "this.")
        v1.add_limit(parser, what="operators")
        return parser

    def take_action(self, parsed_args):
        items = self.api.list("/v1/operators", {"q": parsed_args.search},
                              limit=v1.limit_of(parsed_args))
        return OPERATOR_FIELDS, [self.row(i, OPERATOR_FIELDS, OPERATOR_KINDS, parsed_args)
                                 for i in items]


class ShowOperator(v1.ShowOne):
    """Show one operator"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_operator_argument(parser)
        return parser

    def take_action(self, parsed_args):
        item = self.api.get(operator_path(parsed_args.operator))
        return OPERATOR_FIELDS, self.row(item, OPERATOR_FIELDS, OPERATOR_KINDS, parsed_args)


class CreateOperator(v1.ShowOne):
    """Create an operator (needs a write token)"""

    needs_token = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name", metavar="<name>", help="Operator name (unique).")
        parser.add_argument("--email", metavar="<email>", help="E-mail address.")
        parser.add_argument("--contact", metavar="<text>",
                            help="How else to reach them (IRC, chat room, web page).")
        parser.add_argument("--system", metavar="<system>", dest="systems", action="append",
                            help="A CI system they run (repeat for several).")
        return parser

    def take_action(self, parsed_args):
        body = {"name": parsed_args.name}
        for field in ("email", "contact", "systems"):
            if getattr(parsed_args, field) is not None:
                body[field] = getattr(parsed_args, field)
        item = self.api.post("/v1/operators", body)
        return OPERATOR_FIELDS, self.row(item, OPERATOR_FIELDS, OPERATOR_KINDS, parsed_args)


class SetOperator(v1.Command):
    """Change an operator (needs a write token)"""

    needs_token = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_operator_argument(parser)
        parser.add_argument("--name", metavar="<name>", help="New name.")
        parser.add_argument("--email", metavar="<email>",
                            help="E-mail address ('' to remove it).")
        parser.add_argument("--contact", metavar="<text>",
                            help="Other contact ('' to remove it).")
        systems = parser.add_mutually_exclusive_group()
        systems.add_argument("--system", metavar="<system>", dest="systems",
                             action="append",
                             help="A CI system they run (repeat for several; replaces the "
                                  "list; see also 'operator add system').")
        systems.add_argument("--no-system", dest="no_system", action="store_true",
                             help="Unlink every CI system.")
        return parser

    def take_action(self, parsed_args):
        body = {}
        for field in ("name", "email", "contact", "systems"):
            if getattr(parsed_args, field) is not None:
                body[field] = getattr(parsed_args, field)
        if parsed_args.no_system:
            body["systems"] = []
        if not body:
            raise radar_client.ClientError("nothing to change: give at least one option "
                                           "(see 'radar help operator set')")
        self.api.put(operator_path(parsed_args.operator), body)
        return 0


class DeleteOperator(v1.Command):
    """Delete operators (needs a write token)"""

    needs_token = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_operator_argument(parser, nargs="+")
        return parser

    def take_action(self, parsed_args):
        api = self.api
        failed = 0
        for ident in parsed_args.operator:
            try:
                api.delete(operator_path(ident))
            except radar_client.ClientError as exc:
                if len(parsed_args.operator) == 1:
                    raise
                failed += 1
                LOG.error("operator %s: %s", ident, exc)
        if failed:
            raise radar_client.ClientError("%d of %d operators could not be deleted"
                                           % (failed, len(parsed_args.operator)))
        return 0


class _OperatorSystems(v1.Command):
    needs_token = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_operator_argument(parser)
        parser.add_argument("systems", metavar="<system>", nargs="+",
                            help="CI systems (names or ids).")
        return parser

    def current(self, parsed_args):
        api = self.api
        operator = api.get(operator_path(parsed_args.operator))
        wanted = []
        for ident in parsed_args.systems:
            system = api.get(v1.system_path(ident))
            wanted.append(system.get("name"))
        return operator, list(operator.get("systems") or []), wanted


class AddSystemToOperator(_OperatorSystems):
    """Link CI systems to an operator (needs a write token)"""

    def take_action(self, parsed_args):
        operator, systems, wanted = self.current(parsed_args)
        lowered = {s.lower() for s in systems}
        added = [w for w in wanted if w.lower() not in lowered]
        if added:
            self.api.put(operator_path(operator["id"]), {"systems": systems + added})
        return 0


class RemoveSystemFromOperator(_OperatorSystems):
    """Unlink CI systems from an operator (needs a write token)"""

    def take_action(self, parsed_args):
        operator, systems, wanted = self.current(parsed_args)
        lowered = {w.lower() for w in wanted}
        missing = [w for w in wanted if w.lower() not in {s.lower() for s in systems}]
        if missing:
            raise radar_client.ClientError("operator %s does not run %s" % (
                operator.get("name"), ", ".join(repr(m) for m in missing)))
        self.api.put(operator_path(operator["id"]),
                     {"systems": [s for s in systems if s.lower() not in lowered]})
        return 0
