"""radar system list|show|series|missed|jobs|reports|compare|badge|set."""

import logging

from python_radar import client as radar_client
from python_radar import v1
from python_radar.v1 import reports

LOG = logging.getLogger(__name__)

SUMMARY_FIELDS = (
    "id", "name", "display_name", "accounts", "reference", "enabled", "reports",
    "successes", "failures", "merge_failures", "other_results", "success_rate",
    "first_attempt_success_rate", "final_success_rate", "patchsets_reported",
    "eligible_patchsets", "coverage", "missed", "latency_p50_s", "latency_p90_s",
    "retry_latency_p50_s", "rechecks", "flaky_patchsets", "flake_rate", "agreement",
    "suspect_failures", "last_seen", "health", "health_reason",
)
LIST_FIELDS = ("name", "health", "reports", "success_rate", "coverage", "latency_p50_s",
               "last_seen")
SUMMARY_KINDS = {
    "accounts": "list", "reference": "bool", "enabled": "bool",
    "success_rate": "percent", "first_attempt_success_rate": "percent",
    "final_success_rate": "percent", "coverage": "percent", "flake_rate": "percent",
    "agreement": "percent", "latency_p50_s": "span", "latency_p90_s": "span",
    "retry_latency_p50_s": "span", "last_seen": "time", "health": "health",
    "start": "time", "end": "time",
}
SERIES_FIELDS = ("start", "end", "reports", "successes", "failures", "success_rate",
                 "coverage", "latency_p50_s", "health")
MISSED_FIELDS = ("change", "patchset", "project", "branch", "subject", "created", "url")
JOB_FIELDS = ("name", "runs", "results", "success_rate", "flaky", "median_duration_s",
              "voting", "last_run", "last_log_url")
JOB_KINDS = {"results": "list", "success_rate": "percent", "median_duration_s": "span",
             "voting": "bool", "last_run": "time"}
JOB_SORTS = ("name", "runs", "success_rate", "flaky", "median_duration_s", "last_run")
COMPARE_FIELDS = ("name", "health", "reports", "success_rate", "final_success_rate",
                  "coverage", "latency_p50_s", "flake_rate")


def add_system_argument(parser):
    parser.add_argument("system", metavar="<system>",
                        help="CI system: its name (case-insensitive) or id.")


class ListSystem(v1.Lister):
    """List CI systems with their health over a window"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        v1.add_window(parser)
        parser.add_argument("--health", metavar="<health>",
                            type=v1.upper_choice(v1.HEALTH_STATES),
                            help="Only systems in this health: %s."
                                 % ", ".join(v1.HEALTH_STATES))
        parser.add_argument("--search", metavar="<text>",
                            help="Only systems whose name or display name contains this.")
        enabled = parser.add_mutually_exclusive_group()
        enabled.add_argument("--enabled", dest="enabled", action="store_const", const="true",
                             help="Only enabled systems.")
        enabled.add_argument("--disabled", dest="enabled", action="store_const",
                             const="false", help="Only disabled systems.")
        parser.add_argument("--sort", metavar="<field>",
                            help="Sort by this field, '-field' for descending "
                                 "(default name), e.g. -success_rate.")
        parser.add_argument("--long", action="store_true",
                            help="Every statistic, not only the main ones.")
        v1.add_limit(parser, what="systems")
        return parser

    def take_action(self, parsed_args):
        params = v1.window_params(parsed_args)
        params.update(health=parsed_args.health, q=parsed_args.search,
                      enabled=parsed_args.enabled, sort=parsed_args.sort)
        items = self.api.list("/v1/systems", params, limit=v1.limit_of(parsed_args))
        fields = SUMMARY_FIELDS if parsed_args.long else LIST_FIELDS
        return fields, [self.row(i, fields, SUMMARY_KINDS, parsed_args) for i in items]


def _settings_value(settings, name):
    return (settings or {}).get(name)


def system_show_fields(item):
    """The rows of `system show`: the summary, then origin, settings, operators."""
    settings = item.get("settings") or {}
    extra = {
        "origin": item.get("origin"),
        "projects": _settings_value(settings, "projects"),
        "recheck_pattern": _settings_value(settings, "recheck_pattern"),
        "operators": [o.get("name") for o in item.get("operators") or []],
    }
    fields = SUMMARY_FIELDS + tuple(extra)
    merged = dict(item)
    merged.update(extra)
    return fields, merged


SHOW_KINDS = dict(
    SUMMARY_KINDS,
    projects=lambda v: ("(derived from where it reported)" if v is None
                        else ", ".join(v) or "(none)"),
    recheck_pattern=lambda v: "(the server's default)" if v is None else v,
    operators="list")


class ShowSystem(v1.ShowOne):
    """Show one CI system: every statistic, its settings and operators"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_system_argument(parser)
        v1.add_window(parser)
        return parser

    def take_action(self, parsed_args):
        item = self.api.get(v1.system_path(parsed_args.system),
                            v1.window_params(parsed_args))
        return show_system(self, item, parsed_args)


def show_system(command, item, parsed_args):
    fields, merged = system_show_fields(item)
    return fields, command.row(merged, fields, SHOW_KINDS, parsed_args)


class ListSystemSeries(v1.Lister):
    """Show a CI system's statistics per day or week"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_system_argument(parser)
        v1.add_window(parser)
        parser.add_argument("--interval", choices=("day", "week"), default=None,
                            help="Length of each interval: day (the default) or week "
                                 "(weeks start Monday 00:00 UTC).")
        parser.add_argument("--long", action="store_true",
                            help="Every statistic, not only the main ones.")
        return parser

    def take_action(self, parsed_args):
        params = v1.window_params(parsed_args)
        params["interval"] = parsed_args.interval
        items = self.api.get(v1.system_path(parsed_args.system, "/series"), params)
        fields = ("start", "end") + SUMMARY_FIELDS if parsed_args.long else SERIES_FIELDS
        return fields, [self.row(i, fields, SUMMARY_KINDS, parsed_args) for i in items]


class ListSystemMissed(v1.Lister):
    """List the patch sets a CI system should have reported on and did not"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_system_argument(parser)
        v1.add_window(parser)
        v1.add_limit(parser, what="patch sets")
        return parser

    def take_action(self, parsed_args):
        items = self.api.list(
            v1.system_path(parsed_args.system, "/missed"), v1.window_params(parsed_args),
            limit=v1.limit_of(parsed_args),
            marker=lambda i: "%s/%s" % (i.get("change"), i.get("patchset")))
        kinds = {"created": "time"}
        return MISSED_FIELDS, [self.row(i, MISSED_FIELDS, kinds, parsed_args) for i in items]


class ListSystemJob(v1.Lister):
    """List a CI system's jobs: runs, results, success rate, duration, last log"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_system_argument(parser)
        v1.add_window(parser)
        parser.add_argument("--sort", metavar="<field>",
                            help="Sort by %s; '-field' for descending (default name)."
                                 % ", ".join(JOB_SORTS))
        v1.add_limit(parser, what="jobs")
        return parser

    def take_action(self, parsed_args):
        params = v1.window_params(parsed_args)
        params["sort"] = parsed_args.sort
        items = self.api.list(v1.system_path(parsed_args.system, "/jobs"), params,
                              limit=v1.limit_of(parsed_args), marker=lambda i: i.get("name"))
        return JOB_FIELDS, [self.row(i, JOB_FIELDS, JOB_KINDS, parsed_args) for i in items]


class ListSystemReport(reports.ListReport):
    """List a CI system's reports, newest first"""

    with_system_option = False

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_system_argument(parser)
        return parser

    def path(self, parsed_args):
        return v1.system_path(parsed_args.system, "/reports")


class CompareSystem(v1.Lister):
    """Compare CI systems side by side over the same patch sets, with agreement"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("systems", metavar="<system>", nargs="+",
                            help="Two or more CI systems (names or ids).")
        v1.add_window(parser)
        parser.add_argument("--long", action="store_true",
                            help="Every statistic, not only the main ones.")
        return parser

    def take_action(self, parsed_args):
        if len(parsed_args.systems) < 2:
            raise radar_client.ClientError("'radar system compare' needs at least two CI "
                                           "systems")
        if any("," in s for s in parsed_args.systems):
            raise radar_client.ClientError("a CI system name may not contain ',' here")
        params = v1.window_params(parsed_args)
        params["systems"] = ",".join(parsed_args.systems)
        result = self.api.get("/v1/compare", params)
        systems = result.get("systems") or []
        agreement = result.get("agreement") or {}
        names = [s.get("name") for s in systems]
        fields = SUMMARY_FIELDS if parsed_args.long else COMPARE_FIELDS
        columns = tuple(fields) + tuple("vs %s" % n for n in names)
        kinds = dict(SUMMARY_KINDS)
        rows = []
        for system in systems:
            item = dict(system)
            for other in names:
                kinds["vs %s" % other] = "percent"
                item["vs %s" % other] = (agreement.get(system.get("name")) or {}).get(other)
            rows.append(self.row(item, columns, kinds, parsed_args))
        return columns, rows


class ShowSystemBadge(v1.ShowOne):
    """Show a CI system's badge URL and the snippets to put it in a README"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_system_argument(parser)
        parser.add_argument("--project", metavar="<project>",
                            help="A badge for this Gerrit project only.")
        return parser

    def take_action(self, parsed_args):
        params = {"project": parsed_args.project}
        system = self.api.get(v1.system_path(parsed_args.system), params)
        name = system.get("name") or parsed_args.system
        url = self.api.url + v1.system_path(name, "/badge.svg")
        if parsed_args.project:
            url += "?project=" + radar_client.quote(parsed_args.project)
        alt = "%s CI health" % (system.get("display_name") or name)
        item = {
            "name": name,
            "health": system.get("health"),
            "success_rate": system.get("success_rate"),
            "badge_url": url,
            "markdown": "![%s](%s)" % (alt, url),
            "rst": ".. image:: %s\n   :alt: %s" % (url, alt),
        }
        fields = tuple(item)
        kinds = {"health": "health", "success_rate": "percent"}
        return fields, self.row(item, fields, kinds, parsed_args)


class SetSystem(v1.Command):
    """Change a CI system's settings (needs an admin token)"""

    needs_token = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_system_argument(parser)
        parser.add_argument("--display-name", metavar="<name>",
                            help="Name shown in tables and badges.")
        reference = parser.add_mutually_exclusive_group()
        reference.add_argument("--reference", dest="reference", action="store_const",
                               const=True, help="Make it a reference CI system.")
        reference.add_argument("--no-reference", dest="reference", action="store_const",
                               const=False, help="Make it an ordinary CI system.")
        enabled = parser.add_mutually_exclusive_group()
        enabled.add_argument("--enable", dest="enabled", action="store_const", const=True,
                             help="Count it in statistics.")
        enabled.add_argument("--disable", dest="enabled", action="store_const", const=False,
                             help="Leave it out of statistics.")
        projects = parser.add_mutually_exclusive_group()
        projects.add_argument("--project", metavar="<project>", dest="projects",
                              action="append",
                              help="A project the system covers (repeat for several; "
                                   "replaces the list).")
        projects.add_argument("--derive-projects", dest="derive_projects",
                              action="store_true",
                              help="Covered projects derived from where it reported.")
        recheck = parser.add_mutually_exclusive_group()
        recheck.add_argument("--recheck-pattern", metavar="<regex>",
                             help="Regular expression of the comments that ask it to "
                                  "recheck.")
        recheck.add_argument("--default-recheck-pattern", action="store_true",
                             help="Use the server's default recheck pattern.")
        return parser

    def take_action(self, parsed_args):
        body = {}
        if parsed_args.display_name is not None:
            body["display_name"] = parsed_args.display_name
        if parsed_args.reference is not None:
            body["reference"] = parsed_args.reference
        if parsed_args.enabled is not None:
            body["enabled"] = parsed_args.enabled
        if parsed_args.projects:
            body["projects"] = parsed_args.projects
        elif parsed_args.derive_projects:
            body["projects"] = None
        if parsed_args.recheck_pattern is not None:
            body["recheck_pattern"] = parsed_args.recheck_pattern
        elif parsed_args.default_recheck_pattern:
            body["recheck_pattern"] = None
        if not body:
            raise radar_client.ClientError("nothing to change: give at least one option "
                                           "(see 'radar help system set')")
        self.api.put(v1.system_path(parsed_args.system), body)
        LOG.info("CI system %s updated", parsed_args.system)
        return 0
