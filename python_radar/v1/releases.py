"""radar release list|show|create|set, release task set, release tasks stats.

Writes need a token with the 'write' scope (--token or RADAR_TOKEN).
"""

import argparse

from python_radar import client as radar_client
from python_radar import v1

TASK_STATES = ("NOT_STARTED", "IN_PROGRESS", "PASS", "FAIL")
RELEASE_STATES = ("GREEN", "RED")

LIST_FIELDS = ("version", "product", "flow_type", "target_date", "status", "done", "shipped",
               "passed", "tasks", "current_task", "created_at", "updated_at")
SHOW_FIELDS = ("version", "product", "flow_type", "target_date", "status", "done", "shipped",
               "shipped_at", "jira_url", "advisories", "builds", "shipment", "tasks",
               "history", "created_at", "updated_at")
TASK_FIELDS = ("version", "name", "position", "status", "started_at", "finished_at",
               "duration_s", "url", "message")
STAT_FIELDS = ("task", "position", "releases", "finished", "median_duration_s",
               "p90_duration_s", "failures", "failure_rate")
KINDS = {"status": "health", "done": "bool", "shipped": "bool", "shipped_at": "time",
         "created_at": "time", "updated_at": "time", "started_at": "time",
         "finished_at": "time", "duration_s": "span", "median_duration_s": "span",
         "p90_duration_s": "span", "failure_rate": "percent", "tasks": "lines",
         "history": "lines", "advisories": "lines", "builds": "list", "shipment": "list"}


def release_path(version, suffix=""):
    return "/v1/releases/%s%s" % (radar_client.quote(version), suffix)


def _progress(item):
    """List columns from the tasks: passed, total, and the first task not passed."""
    tasks = item.get("tasks") or []
    row = dict(item)
    row["passed"] = sum(1 for t in tasks if t.get("status") == "PASS")
    row["tasks"] = len(tasks)
    current = next((t for t in tasks if t.get("status") != "PASS"), None)
    row["current_task"] = ("%s %s" % (current["name"], current["status"])
                           if current else None)
    return row


def _task_line(task):
    line = "%s: %s" % (task.get("name"), task.get("status"))
    if task.get("duration_s") is not None:
        line += " (%gs)" % task["duration_s"]
    return line


def _history_line(event):
    return "%s %s: %s -> %s by %s" % (event.get("at"), event.get("task"),
                                      event.get("from_status"), event.get("status"),
                                      event.get("actor") or "?")


def _advisory_line(advisory):
    return " ".join(str(advisory[k]) for k in ("id", "state", "url") if advisory.get(k))


def add_version_argument(parser):
    parser.add_argument("version", metavar="<version>", help="Release version, e.g. 4.19.1.")


def key_value(text):
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise argparse.ArgumentTypeError("expected <name>=<value>, got %r" % text[:60])
    return key.strip(), value.strip()


def add_release_options(parser):
    parser.add_argument("--product", metavar="<product>",
                        help="Product (default: the version's first two parts, 4.19).")
    parser.add_argument("--flow-type", metavar="<type>", help="Flow type, e.g. z-stream.")
    parser.add_argument("--target-date", metavar="<YYYY-MM-DD>", help="Planned ship date.")
    parser.add_argument("--jira-url", metavar="<url>", help="Tracking issue URL.")
    parser.add_argument("--advisory", metavar="<id>[=<url>]", action="append",
                        help="An advisory (repeat for several; replaces the list).")
    parser.add_argument("--build", metavar="<arch>=<build>", type=key_value, action="append",
                        help="A build per architecture (repeat; replaces the builds).")


def release_body(parsed_args):
    body = {}
    for field in ("product", "flow_type", "target_date", "jira_url"):
        if getattr(parsed_args, field) is not None:
            body[field] = getattr(parsed_args, field)
    if parsed_args.advisory is not None:
        body["advisories"] = []
        for text in parsed_args.advisory:
            ident, _, url = text.partition("=")
            body["advisories"].append({"id": ident.strip(), "url": url.strip() or None})
    if parsed_args.build is not None:
        body["builds"] = dict(parsed_args.build)
    return body


class ListRelease(v1.Lister):
    """List releases, newest first, with their task progress"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--product", metavar="<product>", help="Only this product.")
        parser.add_argument("--status", metavar="<status>",
                            type=v1.upper_choice(RELEASE_STATES),
                            help="Only GREEN or RED releases.")
        done = parser.add_mutually_exclusive_group()
        done.add_argument("--done", dest="done", action="store_const", const="true",
                          help="Only releases whose tasks all passed.")
        done.add_argument("--not-done", dest="done", action="store_const", const="false",
                          help="Only releases still in progress.")
        parser.add_argument("--since", metavar="<time>", type=v1.time_arg,
                            help="Only releases created since then (ISO-8601 or 7d, 4w).")
        v1.add_limit(parser, what="releases")
        return parser

    def take_action(self, parsed_args):
        params = {"product": parsed_args.product, "status": parsed_args.status,
                  "done": parsed_args.done, "since": parsed_args.since}
        items = self.api.list("/v1/releases", params, limit=v1.limit_of(parsed_args),
                              marker=lambda item: item.get("version"))
        kinds = dict(KINDS, tasks=None)
        return LIST_FIELDS, [self.row(_progress(i), LIST_FIELDS, kinds, parsed_args)
                             for i in items]


def _show(command, item, parsed_args):
    row = dict(item)
    formatter = getattr(parsed_args, "formatter", "table")
    if formatter == "table":
        row["tasks"] = [_task_line(t) for t in item.get("tasks") or []]
        row["history"] = [_history_line(e) for e in item.get("history") or []]
        row["advisories"] = [_advisory_line(a) for a in item.get("advisories") or []]
    return SHOW_FIELDS, command.row(row, SHOW_FIELDS, KINDS, parsed_args)


class ShowRelease(v1.ShowOne):
    """Show a release: tasks, advisories, builds, shipment and task history"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_version_argument(parser)
        return parser

    def take_action(self, parsed_args):
        return _show(self, self.api.get(release_path(parsed_args.version)), parsed_args)


class CreateRelease(v1.ShowOne):
    """Create a release with the configured task workflow (needs a write token)"""

    needs_token = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_version_argument(parser)
        add_release_options(parser)
        return parser

    def take_action(self, parsed_args):
        api = self.api
        try:
            api.get(release_path(parsed_args.version))
        except radar_client.ClientError as exc:
            if exc.status != 404:
                raise
        else:
            raise radar_client.ClientError("release %s already exists (change it with 'radar "
                                           "release set')" % parsed_args.version)
        item = api.put(release_path(parsed_args.version), release_body(parsed_args))
        return _show(self, item, parsed_args)


class SetRelease(v1.Command):
    """Change a release (needs a write token)"""

    needs_token = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_version_argument(parser)
        add_release_options(parser)
        shipped = parser.add_mutually_exclusive_group()
        shipped.add_argument("--shipped", dest="shipped", action="store_const", const=True,
                             help="The release has shipped.")
        shipped.add_argument("--not-shipped", dest="shipped", action="store_const",
                             const=False, help="The release has not shipped.")
        parser.add_argument("--shipment-url", metavar="<url>", help="Shipment URL.")
        parser.add_argument("--shipment-state", metavar="<state>", help="Shipment state.")
        return parser

    def take_action(self, parsed_args):
        api = self.api
        body = release_body(parsed_args)
        changes = {k: v for k, v in (("shipped", parsed_args.shipped),
                                     ("url", parsed_args.shipment_url),
                                     ("state", parsed_args.shipment_state)) if v is not None}
        current = api.get(release_path(parsed_args.version))
        if changes:
            # The API replaces the shipment as a whole: keep what is not changed.
            shipment = dict(current.get("shipment") or {})
            shipment.update(changes)
            body["shipment"] = shipment
        if not body:
            raise radar_client.ClientError("nothing to change: give at least one option "
                                           "(see 'radar help release set')")
        api.put(release_path(parsed_args.version), body)
        return 0


class SetReleaseTask(v1.ShowOne):
    """Move a release task to a status (needs a write token)"""

    needs_token = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_version_argument(parser)
        parser.add_argument("task", metavar="<task>", help="Task name, e.g. stage-testing.")
        parser.add_argument("status", metavar="<status>", type=v1.upper_choice(TASK_STATES),
                            help="New status: %s (PASS is final)." % ", ".join(TASK_STATES))
        parser.add_argument("--url", metavar="<url>", help="Link to the job or evidence.")
        parser.add_argument("--message", metavar="<text>", help="What happened.")
        parser.add_argument("--at", metavar="<time>", type=v1.time_arg,
                            help="When it happened (ISO-8601 or a span back such as 5m; "
                                 "default now).")
        return parser

    def take_action(self, parsed_args):
        body = {"status": parsed_args.status}
        for field in ("url", "message", "at"):
            if getattr(parsed_args, field) is not None:
                body[field] = getattr(parsed_args, field)
        item = self.api.put(release_path(parsed_args.version, "/tasks/%s" % radar_client.quote(
            parsed_args.task)), body)
        task = next((t for t in item.get("tasks") or [] if t.get("name") == parsed_args.task),
                    {})
        return TASK_FIELDS, self.row(dict(task, version=item.get("version")), TASK_FIELDS,
                                     KINDS, parsed_args)


class ListReleaseTaskStats(v1.Lister):
    """Per task over releases: duration median and p90, failures, failure rate"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--product", metavar="<product>", help="Only this product.")
        parser.add_argument("--since", metavar="<time>", type=v1.time_arg,
                            help="Only releases created since then (default: all).")
        parser.add_argument("--until", metavar="<time>", type=v1.time_arg,
                            help="Only releases created before then.")
        return parser

    def take_action(self, parsed_args):
        items = self.api.get("/v1/releases/tasks/stats", {
            "product": parsed_args.product, "since": parsed_args.since,
            "until": parsed_args.until})
        return STAT_FIELDS, [self.row(i, STAT_FIELDS, KINDS, parsed_args) for i in items]
