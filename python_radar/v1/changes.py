"""radar change show: the pipeline view of one change.

One row per CI report, grouped by patch set and CI system in time order,
with the job results and their log URLs; a patch set no CI system reported
on gets one row with no system. In a table the change itself (project,
branch, status, subject, URL) is printed above the rows.
"""

from python_radar import format as fmt
from python_radar import v1
from python_radar.v1 import reports

CHANGE_FIELDS = ("patchset", "system", "attempt", "retry", "result", "vote",
                 "reported_at", "latency_s", "jobs")
LONG_FIELDS = CHANGE_FIELDS + ("pipeline", "headline", "url")


def vote_text(vote):
    if vote is None:
        return fmt.MISSING
    return "%+d" % vote if vote else "0"


CHANGE_KINDS = dict(reports.REPORT_KINDS, vote=vote_text, system="text", result="text")


def pipeline_rows(change, system=None, patchset=None):
    """The report dicts of `change`, as rows: by patch set, then system, then time."""
    rows = []
    for ps in change.get("patchsets") or []:
        if patchset is not None and ps.get("number") != patchset:
            continue
        found = [r for r in ps.get("reports") or []
                 if system is None or (r.get("system") or "").lower() == system.lower()
                 or str(r.get("system_id")) == system]
        found.sort(key=lambda r: ((r.get("system") or ""), r.get("reported_at") or "",
                                  r.get("id") or 0))
        if not found and system is None:
            rows.append({"patchset": ps.get("number")})
        for report in found:
            item = dict(report)
            item["patchset"] = ps.get("number")
            rows.append(item)
    return rows


def title(change):
    head = "Change %s: %s (%s, %s) %s" % (
        change.get("number"), change.get("project"), change.get("branch"),
        change.get("status"), fmt.iso_time(change.get("updated")))
    lines = [head, "  " + (change.get("subject") or "")]
    if change.get("url"):
        lines.append("  " + change["url"])
    return "\n".join(lines) + "\n"


class ShowChange(v1.Lister):
    """Show a change's pipeline view: patch sets x CI systems, job results, logs"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("number", metavar="<number>", type=v1.positive_int,
                            help="Change number.")
        parser.add_argument("--source", metavar="<source>",
                            help="Gerrit source, when the number exists on several.")
        parser.add_argument("--system", metavar="<system>",
                            help="Only this CI system's reports (name or id).")
        parser.add_argument("--patchset", metavar="<n>", type=v1.positive_int,
                            help="Only this patch set.")
        parser.add_argument("--long", action="store_true",
                            help="Also the pipeline, headline and report URL.")
        return parser

    def take_action(self, parsed_args):
        change = self.api.get("/v1/changes/%d" % parsed_args.number,
                              {"source": parsed_args.source})
        if parsed_args.formatter == "table":
            self.app.stdout.write(title(change))
        fields = LONG_FIELDS if parsed_args.long else CHANGE_FIELDS
        rows = pipeline_rows(change, parsed_args.system, parsed_args.patchset)
        return fields, [self.row(r, fields, CHANGE_KINDS, parsed_args) for r in rows]
