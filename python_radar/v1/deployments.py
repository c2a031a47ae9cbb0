"""radar deploy list|show|create|set|waves.

Writes need a token with the 'write' scope (--token or RADAR_TOKEN).
"""

import argparse

from python_radar import client as radar_client
from python_radar import format as fmt
from python_radar import v1

RESULTS = ("IN_PROGRESS", "SUCCEEDED", "FAILED", "ROLLED_BACK", "SUPERSEDED")
FIELDS = ("id", "source", "uid", "cluster", "namespace", "name", "service", "environment",
          "wave", "version", "revision", "images", "result", "message", "replicas",
          "updated_replicas", "ready_replicas", "available_replicas", "started_at",
          "finished_at", "duration_s", "url")
LIST_FIELDS = ("id", "service", "environment", "wave", "version", "result", "started_at",
               "duration_s")
KINDS = {"images": "list", "started_at": "time", "finished_at": "time", "duration_s": "span"}
ROLLOUT_FIELDS = ("service", "environment", "version", "state", "started_at", "waves")


def history_lines(history):
    """One line per step: time, result, updated/available replicas, message."""
    lines = []
    for step in history or []:
        words = [fmt.iso_time(step.get("at")), step.get("result") or fmt.MISSING]
        if step.get("updated_replicas") is not None or step.get("available_replicas") \
                is not None:
            words.append("updated=%s available=%s" % (
                _n(step.get("updated_replicas")), _n(step.get("available_replicas"))))
        if step.get("message"):
            words.append(step["message"])
        lines.append(" ".join(words))
    return "\n".join(lines) or fmt.MISSING


def wave_lines(waves):
    """One line per wave: name, result, deployment id."""
    return "\n".join("%s %s #%s" % (w.get("wave") or fmt.MISSING, w.get("result"),
                                    w.get("deployment_id")) for w in waves or []) \
        or fmt.MISSING


def _n(value):
    return fmt.MISSING if value is None else str(value)


def deployment_path(ident):
    return "/v1/deployments/%s" % radar_client.quote(ident)


def image_arg(text):
    container, sep, image = text.partition("=")
    if not sep or not container.strip() or not image.strip():
        raise argparse.ArgumentTypeError("expected <container>=<image>, got %r" % text[:60])
    return container.strip(), image.strip()


def count_arg(text):
    return v1.non_negative_int(text)


class ListDeployment(v1.Lister):
    """List deployments, newest first"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--service", metavar="<service>", help="Only this service.")
        parser.add_argument("--environment", metavar="<environment>",
                            help="Only this environment.")
        parser.add_argument("--wave", metavar="<wave>", help="Only this wave.")
        parser.add_argument("--result", metavar="<result>", type=v1.upper_choice(RESULTS),
                            help="Only this result: %s." % ", ".join(RESULTS))
        # Not --version: that is the radar command's own option.
        parser.add_argument("--service-version", metavar="<version>", dest="deploy_version",
                            help="Only this version of the service.")
        parser.add_argument("--since", metavar="<time>", type=v1.time_arg,
                            help="Only deployments started at or after this time (ISO-8601, "
                                 "or a span back from now such as 7d).")
        parser.add_argument("--until", metavar="<time>", type=v1.time_arg,
                            help="Only deployments started before this time.")
        parser.add_argument("--long", action="store_true", help="Every field.")
        v1.add_limit(parser, what="deployments")
        return parser

    def take_action(self, parsed_args):
        params = {"service": parsed_args.service, "environment": parsed_args.environment,
                  "wave": parsed_args.wave, "result": parsed_args.result,
                  "version": parsed_args.deploy_version, "since": parsed_args.since,
                  "until": parsed_args.until}
        items = self.api.list("/v1/deployments", params, limit=v1.limit_of(parsed_args))
        fields = FIELDS if parsed_args.long else LIST_FIELDS
        return fields, [self.row(i, fields, KINDS, parsed_args) for i in items]


def _show(command, item, parsed_args):
    fields = FIELDS + ("history",)
    kinds = dict(KINDS, history=history_lines)
    return fields, command.row(item, fields, kinds, parsed_args)


class ShowDeployment(v1.ShowOne):
    """Show one deployment and its history"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("deployment", metavar="<deployment>",
                            help="radar's deployment id, or the id the pipeline gave it.")
        return parser

    def take_action(self, parsed_args):
        return _show(self, self.api.get(deployment_path(parsed_args.deployment)), parsed_args)


class CreateDeployment(v1.ShowOne):
    """Record a deployment (needs a write token)"""

    needs_token = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("service", metavar="<service>", help="The service deployed.")
        parser.add_argument("--id", metavar="<id>", dest="uid",
                            help="Your own unique id of this deployment (not a number; "
                                 "default: a new uuid).")
        for name, help_text in (("environment", "Environment (production, staging...)."),
                                ("wave", "Wave (canary, blue, green...)."),
                                ("revision", "Git commit deployed (links it to Gerrit)."),
                                ("cluster", "Cluster."), ("namespace", "Namespace."),
                                ("url", "Link to the pipeline or the rollout."),
                                ("message", "Message.")):
            parser.add_argument("--" + name, metavar="<%s>" % name, dest="d_" + name,
                                help=help_text)
        parser.add_argument("--service-version", metavar="<version>", dest="d_version",
                            help="Version deployed (not --version: that is radar's own).")
        parser.add_argument("--image", metavar="<container>=<image>", type=image_arg,
                            action="append", dest="images",
                            help="A container's image (repeat for several).")
        parser.add_argument("--started-at", metavar="<time>", type=v1.time_arg,
                            help="Start (default: now).")
        parser.add_argument("--finished-at", metavar="<time>", type=v1.time_arg,
                            help="End (needs --result).")
        parser.add_argument("--result", metavar="<result>", type=v1.upper_choice(RESULTS),
                            help="Result (default IN_PROGRESS): %s." % ", ".join(RESULTS))
        return parser

    def take_action(self, parsed_args):
        body = {"service": parsed_args.service}
        for name in ("environment", "wave", "version", "revision", "cluster", "namespace",
                     "url", "message"):
            value = getattr(parsed_args, "d_" + name)
            if value is not None:
                body[name] = value
        for name, value in (("id", parsed_args.uid), ("started_at", parsed_args.started_at),
                            ("finished_at", parsed_args.finished_at),
                            ("result", parsed_args.result)):
            if value is not None:
                body[name] = value
        if parsed_args.images:
            body["images"] = dict(parsed_args.images)
        item = self.api.post("/v1/deployments", body)
        return _show(self, item, parsed_args)


class SetDeployment(v1.Command):
    """Report a deployment's progress or result (needs a write token)"""

    needs_token = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("deployment", metavar="<deployment>",
                            help="radar's deployment id, or the id the pipeline gave it.")
        parser.add_argument("--result", metavar="<result>", type=v1.upper_choice(RESULTS),
                            help="New result: %s (a final result may only become "
                                 "ROLLED_BACK, from SUCCEEDED)." % ", ".join(RESULTS))
        parser.add_argument("--finished-at", metavar="<time>", type=v1.time_arg,
                            help="End (default for a final result: now).")
        parser.add_argument("--message", metavar="<text>", help="Message ('' to clear it).")
        parser.add_argument("--url", metavar="<url>", help="Link ('' to clear it).")
        for name in ("replicas", "updated_replicas", "ready_replicas", "available_replicas"):
            parser.add_argument("--" + name.replace("_", "-"), metavar="<n>", type=count_arg,
                                dest=name, help="%s." % name.replace("_", " ").capitalize())
        return parser

    def take_action(self, parsed_args):
        body = {}
        for name in ("result", "finished_at", "message", "url", "replicas",
                     "updated_replicas", "ready_replicas", "available_replicas"):
            value = getattr(parsed_args, name)
            if value is not None:
                body[name] = value
        if not body:
            raise radar_client.ClientError("nothing to change: give at least one option "
                                           "(see 'radar help deploy set')")
        self.api.request("PATCH", deployment_path(parsed_args.deployment), body=body)
        return 0


class ListDeploymentWave(v1.Lister):
    """List rollouts per service, environment and version with their waves"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--service", metavar="<service>", help="Only this service.")
        parser.add_argument("--environment", metavar="<environment>",
                            help="Only this environment.")
        v1.add_window(parser, project=False)
        return parser

    def take_action(self, parsed_args):
        items = self.api.get("/v1/deployments/waves", {
            "service": parsed_args.service, "environment": parsed_args.environment,
            "since": parsed_args.since, "until": parsed_args.until})
        kinds = {"started_at": "time", "waves": wave_lines}
        return ROLLOUT_FIELDS, [self.row(i, ROLLOUT_FIELDS, kinds, parsed_args)
                                for i in items]
