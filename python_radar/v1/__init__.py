"""Commands for the v1 API: base classes and shared options.

Every command talks to the API through `self.app.client`
(python_radar.client) and returns tuples of cells built by
python_radar.format, so tables are readable and other formats keep the
API's values.
"""

import argparse
import datetime as dt
import re

from cliff import command, lister, show

from python_radar import client as radar_client
from python_radar import format as fmt
from python_radar import shell

SPAN = re.compile(r"^\s*(\d{1,6})\s*([smhdw])\s*$", re.IGNORECASE)
SPAN_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
HEALTH_STATES = ("GREEN", "YELLOW", "RED", "SILENT", "UNKNOWN")
RESULTS = ("SUCCESS", "FAILURE", "MERGE_FAILED", "CANCELED", "UNKNOWN")


def time_arg(text, now=None):
    """--since/--until: an ISO-8601 date or time, or a span back from now.

    '2026-03-01' stays a date (midnight UTC for the API); a time is turned
    into UTC ('2026-03-01T12:00:00Z'; no offset means UTC); '30m', '24h',
    '7d', '4w' mean that long before now.
    """
    text = (text or "").strip()
    found = SPAN.match(text)
    if found:
        now = now or dt.datetime.now(dt.UTC)
        seconds = int(found.group(1)) * SPAN_SECONDS[found.group(2).lower()]
        try:
            when = now - dt.timedelta(seconds=seconds)
        except OverflowError:
            raise argparse.ArgumentTypeError("span %r reaches too far back" % text) from None
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            dt.date.fromisoformat(text)
            return text
        except ValueError:
            pass
    else:
        try:
            when = fmt.parse_iso(text)
            if when.year < 1000:
                raise ValueError(text)
            when = when.astimezone(dt.UTC)
            pattern = "%Y-%m-%dT%H:%M:%S.%fZ" if when.microsecond else "%Y-%m-%dT%H:%M:%SZ"
            return when.strftime(pattern)
        except (ValueError, OverflowError):
            pass
    raise argparse.ArgumentTypeError(
        "expected an ISO-8601 date or time (2026-03-01, 2026-03-01T12:00:00Z) or a span "
        "back from now (30m, 24h, 7d, 4w), got %r" % text[:60])


def upper_choice(choices):
    def parse(text):
        value = text.strip().upper()
        if value not in choices:
            raise argparse.ArgumentTypeError("expected one of %s, got %r"
                                             % (", ".join(choices), text[:60]))
        return value
    return parse


def non_negative_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a whole number, got %r" % text[:60]) from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more, got %d" % value)
    return value


def positive_int(text):
    value = non_negative_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1, got %d" % value)
    return value


def add_window(parser, project=True):
    parser.add_argument("--since", metavar="<time>", type=time_arg,
                        help="Start of the window: ISO-8601 date or time (UTC), or a span "
                             "back from now such as 7d, 24h, 4w (default: the API's, 7 days "
                             "before --until).")
    parser.add_argument("--until", metavar="<time>", type=time_arg,
                        help="End of the window, as --since (default: now).")
    if project:
        parser.add_argument("--project", metavar="<project>",
                            help="Only this Gerrit project (openstack/nova).")


def window_params(parsed_args):
    params = {"since": parsed_args.since, "until": parsed_args.until}
    if hasattr(parsed_args, "project"):
        params["project"] = parsed_args.project
    return params


def add_limit(parser, default=None, what="items"):
    if default is None:
        help_text = "At most this many %s (default: all)." % what
    else:
        help_text = "At most this many %s (default %d; 0 for all)." % (what, default)
    parser.add_argument("--limit", metavar="<n>", type=non_negative_int, default=default,
                        help=help_text)


def limit_of(parsed_args):
    return parsed_args.limit or None


def system_path(ident, suffix=""):
    return "/v1/systems/%s%s" % (radar_client.quote(ident), suffix)


class RadarCommandMixin:
    """Shared by every radar command: one-line usage errors, the API client."""

    needs_token = False

    def get_parser(self, prog_name):
        return shell.quiet_parser(super().get_parser(prog_name), self.app.stderr)

    @property
    def api(self):
        if self.needs_token and not self.app.options.token:
            name = getattr(self, "cmd_name", None) or "this command"
            raise radar_client.ClientError(
                "'radar %s' needs an API token: pass --token or set RADAR_TOKEN (an "
                "administrator creates one with 'radar-manage token create')" % name)
        return self.app.client

    def row(self, item, fields, kinds, parsed_args):
        return fmt.row(item, fields, kinds, parsed_args, self.app.stdout)

    def cell(self, kind, value, parsed_args):
        return fmt.cell(kind, value, parsed_args, self.app.stdout)


class Command(RadarCommandMixin, command.Command):
    pass


class Lister(RadarCommandMixin, lister.Lister):
    pass


class ShowOne(RadarCommandMixin, show.ShowOne):
    pass
