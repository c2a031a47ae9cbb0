"""radar event list: state transitions radar noticed, newest first."""

import argparse

from python_radar import format as fmt
from python_radar import v1

EVENT_TYPES = ("system.health_changed", "system.silent", "system.resumed",
               "release.task_failed", "release.red", "release.shipped", "deployment.failed",
               "deployment.rolled_back")
SEVERITIES = ("info", "warning", "critical")
EVENT_FIELDS = ("id", "type", "severity", "title", "system", "project", "product", "release",
                "service", "environment", "url", "data", "occurred_at")
LIST_FIELDS = ("id", "occurred_at", "severity", "type", "title")
# The severity word coloured like the health it usually reports.
SEVERITY_COLOURS = {"critical": "RED", "warning": "YELLOW", "info": "GREEN"}
DEFAULT_LIMIT = 50


def severity_text(colour):
    def show(value):
        if value is None:
            return fmt.MISSING
        return fmt.coloured(value, SEVERITY_COLOURS.get(value), colour)
    return show


def choice_list(choices):
    """'a,b' -> ['a', 'b'], each one of `choices`."""
    def parse(text):
        items = [p.strip() for p in text.split(",") if p.strip()]
        if not items:
            raise argparse.ArgumentTypeError("expected one or more of %s" % ", ".join(choices))
        for item in items:
            if item not in choices:
                raise argparse.ArgumentTypeError("expected one or more of %s, got %r"
                                                 % (", ".join(choices), item[:60]))
        return items
    return parse


class ListEvent(v1.Lister):
    """List events (CI health changes, release and deployment failures), newest first"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--type", metavar="<type>", action="append",
                            type=choice_list(EVENT_TYPES),
                            help="Only this event type (repeat, or comma-separate, for "
                                 "several): %s." % ", ".join(EVENT_TYPES))
        parser.add_argument("--severity", metavar="<severity>", action="append",
                            type=choice_list(SEVERITIES),
                            help="Only this severity (repeatable): %s." % ", ".join(SEVERITIES))
        parser.add_argument("--system", metavar="<system>", help="Only this CI system.")
        parser.add_argument("--project", metavar="<project>",
                            help="Only this Gerrit project.")
        parser.add_argument("--product", metavar="<product>",
                            help="Only releases of this product (4.19).")
        parser.add_argument("--release", metavar="<version>", help="Only this release.")
        parser.add_argument("--service", metavar="<service>",
                            help="Only deployments of this service.")
        v1.add_window(parser, project=False)
        parser.add_argument("--long", action="store_true",
                            help="Every field, with the subject's link and the details.")
        v1.add_limit(parser, default=DEFAULT_LIMIT, what="events")
        return parser

    def take_action(self, parsed_args):
        def joined(lists):
            return ",".join(dict.fromkeys(i for group in lists for i in group)) \
                if lists else None

        params = v1.window_params(parsed_args)
        params.update(type=joined(parsed_args.type), severity=joined(parsed_args.severity),
                      system=parsed_args.system, project=parsed_args.project,
                      product=parsed_args.product, release=parsed_args.release,
                      service=parsed_args.service)
        items = self.api.list("/v1/events", params, limit=v1.limit_of(parsed_args))
        colour = fmt.use_colour(self.app.stdout)
        kinds = {"occurred_at": "time", "severity": severity_text(colour), "data": "list"}
        fields = EVENT_FIELDS if parsed_args.long else LIST_FIELDS
        return fields, [self.row(i, fields, kinds, parsed_args) for i in items]
