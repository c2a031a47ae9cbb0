"""radar collector status: how fresh each source's data is (a cron check).

The exit status is 1 when a source is stale or failing, or when there is
no source at all, so `radar collector status -f value -c name -c status`
can run from cron or a monitoring check.
"""

import logging

from python_radar import format as fmt
from python_radar import v1

LOG = logging.getLogger(__name__)

STATUS_FIELDS = ("name", "type", "status", "last_success_at", "lag_s", "stale",
                 "last_error_at", "last_error")
LONG_FIELDS = STATUS_FIELDS + ("url", "last_attempt_at", "cycles", "failures", "changes_seen",
                               "messages_stored", "reports_stored", "records_skipped")
STATUS_COLOURS = {"ok": "GREEN", "stale": "YELLOW", "failing": "RED"}


def status_of(source):
    """'failing' when the last attempt failed, 'stale' when the API says so, else 'ok'."""
    error_at = source.get("last_error_at")
    success_at = source.get("last_success_at")
    if source.get("last_error") or error_at:
        if not success_at or (error_at and fmt.parse_iso(error_at) >= fmt.parse_iso(success_at)):
            return "failing"
    if source.get("stale"):
        return "stale"
    return "ok"


class ShowCollectorStatus(v1.Lister):
    """Show each collector source's freshness; exit status 1 if any is stale or failing"""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--long", action="store_true",
                            help="Also the URL, the last attempt and the counters.")
        return parser

    def take_action(self, parsed_args):
        items = self.api.get("/v1/collector")
        colour = fmt.use_colour(self.app.stdout)
        kinds = {"last_success_at": "time", "last_error_at": "time",
                 "last_attempt_at": "time", "lag_s": "span", "stale": "bool",
                 "status": lambda v: fmt.coloured(v, STATUS_COLOURS.get(v), colour)}
        rows = []
        bad = []
        for source in items:
            item = dict(source)
            item["status"] = status_of(source)
            if item["status"] != "ok":
                bad.append("%s %s" % (item.get("name"), item["status"]))
            rows.append(item)
        if not items:
            self.exit_status = 1
            LOG.warning("no collector source has run yet")
        elif bad:
            self.exit_status = 1
            LOG.warning("%d of %d sources not ok: %s", len(bad), len(items), ", ".join(bad))
        else:
            self.exit_status = 0
        fields = LONG_FIELDS if parsed_args.long else STATUS_FIELDS
        return fields, [self.row(i, fields, kinds, parsed_args) for i in rows]

    def run(self, parsed_args):
        self.exit_status = 1
        result = super().run(parsed_args)
        return result or self.exit_status
