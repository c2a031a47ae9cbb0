"""radar project list|show: projects and how each CI system does on them."""

from python_radar import client as radar_client
from python_radar import format as fmt
from python_radar import v1

PROJECT_FIELDS = ("name", "source", "changes", "patchsets", "systems")
SORTS = ("name", "changes", "patchsets")


def system_line(system):
    """'jenkins: RED, 11.1% success, coverage -, 9 reports, last seen ...'."""
    return "%s: %s, %s success, coverage %s, %s reports, last seen %s" % (
        system.get("name"), system.get("health") or fmt.MISSING,
        fmt.percent(system.get("success_rate")), fmt.percent(system.get("coverage")),
        system.get("reports") if system.get("reports") is not None else fmt.MISSING,
        fmt.iso_time(system.get("last_seen")))


def systems_text(systems):
    return "\n".join(system_line(s) for s in systems or []) or fmt.MISSING


PROJECT_KINDS = {"systems": systems_text}


class ListProject(v1.Lister):
    """List projects with activity or CI reports in a window"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        v1.add_window(parser, project=False)
        parser.add_argument("--search", metavar="<text>",
                            help="Only projects whose name contains this.")
        parser.add_argument("--sort", metavar="<field>",
                            help="Sort by %s; '-field' for descending (default name)."
                                 % ", ".join(SORTS))
        v1.add_limit(parser, what="projects")
        return parser

    def take_action(self, parsed_args):
        params = v1.window_params(parsed_args)
        params.update(q=parsed_args.search, sort=parsed_args.sort)
        items = self.api.list("/v1/projects", params, limit=v1.limit_of(parsed_args),
                              marker=lambda i: i.get("name"))
        return PROJECT_FIELDS, [self.row(i, PROJECT_FIELDS, PROJECT_KINDS, parsed_args)
                                for i in items]


class ShowProject(v1.ShowOne):
    """Show one project and every CI system's record on it"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name", metavar="<project>",
                            help="Gerrit project name (openstack/nova).")
        v1.add_window(parser, project=False)
        return parser

    def take_action(self, parsed_args):
        name = parsed_args.name.strip().strip("/")
        if not name:
            raise radar_client.ClientError("a project name is required")
        path = "/v1/projects/" + radar_client.quote(name, safe="/")
        item = self.api.get(path, v1.window_params(parsed_args))
        return PROJECT_FIELDS, self.row(item, PROJECT_FIELDS, PROJECT_KINDS, parsed_args)
