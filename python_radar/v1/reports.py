"""radar report list: CI reports, newest first, filtered as the API allows."""

from python_radar import format as fmt
from python_radar import v1

REPORT_FIELDS = (
    "id", "system", "system_name", "system_id", "change", "patchset", "project", "branch",
    "pipeline", "result", "vote_label", "vote", "headline", "reported_at", "attempt", "retry",
    "latency_s", "url", "jobs",
)
LIST_FIELDS = ("id", "system", "change", "patchset", "project", "pipeline", "result",
               "reported_at", "latency_s", "retry")
DEFAULT_LIMIT = 100


def job_line(job):
    """'FAILURE tempest (non-voting) 2m 10s https://logs/...' for one job."""
    parts = [job.get("result") or "?", job.get("name") or "?"]
    if job.get("voting") is False:
        parts.append("(non-voting)")
    if job.get("duration_s") is not None:
        parts.append(fmt.span(job["duration_s"]))
    if job.get("url"):
        parts.append(job["url"])
    return " ".join(parts)


def jobs_text(jobs):
    return "\n".join(job_line(j) for j in jobs or []) or fmt.MISSING


REPORT_KINDS = {"reported_at": "time", "retry": "bool", "latency_s": "span",
                "jobs": jobs_text}


class ListReport(v1.Lister):
    """List CI reports, newest first"""

    with_system_option = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        if self.with_system_option:
            parser.add_argument("--system", metavar="<system>",
                                help="Only this CI system (name or id).")
        v1.add_window(parser)
        parser.add_argument("--change", metavar="<number>", type=v1.positive_int,
                            help="Only this change.")
        parser.add_argument("--result", metavar="<result>", type=v1.upper_choice(v1.RESULTS),
                            help="Only this result: %s." % ", ".join(v1.RESULTS))
        parser.add_argument("--pipeline", metavar="<pipeline>",
                            help="Only this pipeline (check, gate...).")
        parser.add_argument("--long", action="store_true",
                            help="Every field, with the job lines and their log URLs.")
        v1.add_limit(parser, default=DEFAULT_LIMIT, what="reports")
        return parser

    def path(self, parsed_args):
        return "/v1/reports"

    def take_action(self, parsed_args):
        params = v1.window_params(parsed_args)
        params.update(change=parsed_args.change, result=parsed_args.result,
                      pipeline=parsed_args.pipeline)
        if self.with_system_option:
            params["system"] = parsed_args.system
        items = self.api.list(self.path(parsed_args), params, limit=v1.limit_of(parsed_args),
                              page_size=None)
        fields = REPORT_FIELDS if parsed_args.long else LIST_FIELDS
        return fields, [self.row(i, fields, REPORT_KINDS, parsed_args) for i in items]
