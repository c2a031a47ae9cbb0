"""radar dora show: the four DORA metrics of production deployments."""

from python_radar import format as fmt
from python_radar import v1

FIELDS = ("name", "value", "unit", "count", "tier", "note")


def value_text(item):
    """The value in the metric's unit: a span, a percentage or days per week."""
    value, unit = item.get("value"), item.get("unit")
    if value is None:
        return fmt.MISSING
    if unit == "seconds":
        return fmt.span(value)
    if unit == "ratio":
        return fmt.percent(value)
    return "%g %s" % (value, unit)


class ShowDora(v1.Lister):
    """Show DORA metrics (deployment frequency, lead time, change failure rate,
    recovery time) with their 2023 tiers"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--service", metavar="<service>",
                            help="Only this service (default: every service).")
        parser.add_argument("--environment", metavar="<environment>",
                            help="Count this environment as production (default: the "
                                 "server's [dora] production_environments).")
        parser.add_argument("--since", metavar="<time>", type=v1.time_arg,
                            help="Start of the window: ISO-8601 date or time (UTC), or a "
                                 "span back from now such as 30d, 12w (default: the API's, "
                                 "90 days before --until).")
        parser.add_argument("--until", metavar="<time>", type=v1.time_arg,
                            help="End of the window, as --since (default: now).")
        return parser

    def take_action(self, parsed_args):
        report = self.api.get("/v1/dora", {
            "service": parsed_args.service, "environment": parsed_args.environment,
            "since": parsed_args.since, "until": parsed_args.until})
        rows = []
        for metric in report.get("metrics") or []:
            row = list(self.row(metric, FIELDS, {}, parsed_args))
            if getattr(parsed_args, "formatter", "table") == "table":
                row[1] = fmt.Cell(metric.get("value"), lambda _v, m=metric: value_text(m))
            rows.append(tuple(row))
        return FIELDS, rows
