"""radar subscription list|show|create|delete|test|resume|deliveries.

Every subscription command needs a token (--token or RADAR_TOKEN): a
subscription belongs to the token that made it; an admin token sees all.
"""

import logging

from python_radar import client as radar_client
from python_radar import v1

LOG = logging.getLogger(__name__)

SUBSCRIPTION_FIELDS = ("id", "name", "kind", "target", "filters", "owner", "created_at",
                       "paused", "paused_reason", "consecutive_failures", "pending",
                       "delivered", "failed", "last_delivered_at")
LIST_FIELDS = ("id", "name", "kind", "target", "filters", "paused", "pending", "delivered",
               "failed")
DELIVERY_FIELDS = ("id", "event_id", "event_type", "status", "attempts", "last_status_code",
                   "last_error", "created_at", "delivered_at", "next_attempt_at")
TEST_FIELDS = ("delivered", "status_code", "error", "duration_ms", "delivery")
EVENT_TYPES = ("system.health_changed", "system.silent", "system.resumed",
               "release.task_failed", "release.red", "release.shipped",
               "deployment.failed", "deployment.rolled_back")
FILTER_OPTIONS = (("type", "types", "An event type (repeat for several): %s."
                   % ", ".join(EVENT_TYPES)),
                  ("system", "systems", "A CI system (repeat for several)."),
                  ("project", "projects", "A Gerrit project (repeat for several)."),
                  ("product", "products", "A release product such as 4.19 (repeat for "
                                          "several)."),
                  ("service", "services", "A deployed service (repeat for several)."))


def _filters(value):
    """'types=a,b; systems=zuul' for tables; empty lists left out."""
    parts = ["%s=%s" % (k, ",".join(v)) for k, v in (value or {}).items() if v]
    return "; ".join(parts) or "all events"


KINDS = {"filters": _filters, "created_at": "time", "last_delivered_at": "time",
         "paused": "bool"}
DELIVERY_KINDS = {"created_at": "time", "delivered_at": "time", "next_attempt_at": "time"}


def subscription_path(ident, suffix=""):
    return "/v1/subscriptions/%s%s" % (radar_client.quote(ident), suffix)


def add_subscription_argument(parser, nargs=None):
    parser.add_argument("subscription", metavar="<id>", nargs=nargs,
                        help="Subscription id." if nargs is None else "Subscription ids.")


class ListSubscription(v1.Lister):
    """List your subscriptions (every one with an admin token)"""

    needs_token = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        v1.add_limit(parser, what="subscriptions")
        return parser

    def take_action(self, parsed_args):
        items = self.api.list("/v1/subscriptions", limit=v1.limit_of(parsed_args))
        return LIST_FIELDS, [self.row(i, LIST_FIELDS, KINDS, parsed_args) for i in items]


class _OneSubscription(v1.ShowOne):
    """A command on one subscription, named by its id."""

    needs_token = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_subscription_argument(parser)
        return parser


class ShowSubscription(_OneSubscription):
    """Show a subscription: where it delivers, what, and how delivery goes"""

    def take_action(self, parsed_args):
        item = self.api.get(subscription_path(parsed_args.subscription))
        return SUBSCRIPTION_FIELDS, self.row(item, SUBSCRIPTION_FIELDS, KINDS, parsed_args)


class CreateSubscription(v1.ShowOne):
    """Subscribe to events; a webhook's signing secret is shown this once"""

    needs_token = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("name", metavar="<name>", help="A name for it.")
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--webhook", metavar="<url>",
                           help="POST signed JSON (payload version 1) to this URL.")
        where.add_argument("--slack", metavar="<url>",
                           help="POST to this Slack-compatible incoming-webhook URL.")
        where.add_argument("--email", metavar="<address>",
                           help="Send e-mail to this address.")
        for option, dest, help_text in FILTER_OPTIONS:
            parser.add_argument("--" + option, metavar="<%s>" % option, dest=dest,
                                action="append", help=help_text)
        parser.add_argument("--secret", metavar="<secret>",
                            help="Webhook signing secret (16-128 characters; default: one "
                                 "made by the server).")
        return parser

    def take_action(self, parsed_args):
        for kind in ("webhook", "slack", "email"):
            target = getattr(parsed_args, kind)
            if target is not None:
                break
        body = {"name": parsed_args.name, "kind": kind, "target": target}
        filters = {dest: getattr(parsed_args, dest) for _, dest, _ in FILTER_OPTIONS
                   if getattr(parsed_args, dest)}
        if filters:
            body["filters"] = filters
        if parsed_args.secret is not None:
            body["secret"] = parsed_args.secret
        item = self.api.post("/v1/subscriptions", body)
        fields = SUBSCRIPTION_FIELDS + (("secret",) if item.get("secret") else ())
        return fields, self.row(item, fields, KINDS, parsed_args)


class DeleteSubscription(v1.Command):
    """Delete subscriptions with their queue and delivery log"""

    needs_token = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_subscription_argument(parser, nargs="+")
        return parser

    def take_action(self, parsed_args):
        failed = 0
        for ident in parsed_args.subscription:
            try:
                self.api.delete(subscription_path(ident))
            except radar_client.ClientError as exc:
                if len(parsed_args.subscription) == 1:
                    raise
                failed += 1
                LOG.error("subscription %s: %s", ident, exc)
        if failed:
            raise radar_client.ClientError("%d of %d subscriptions could not be deleted"
                                           % (failed, len(parsed_args.subscription)))
        return 0


class TestSubscription(_OneSubscription):
    """Send a sample event (type radar.test) now; fails unless it was delivered"""

    def take_action(self, parsed_args):
        result = self.api.post(subscription_path(parsed_args.subscription, "/test"), {})
        if not result.get("delivered"):
            why = result.get("error") or "HTTP %s" % result.get("status_code")
            raise radar_client.ClientError("the test was not delivered: %s" % why)
        return TEST_FIELDS, self.row(result, TEST_FIELDS, {"delivered": "bool"}, parsed_args)


class ResumeSubscription(_OneSubscription):
    """Resume a paused subscription (what queued meanwhile is sent at once)"""

    def take_action(self, parsed_args):
        item = self.api.post(subscription_path(parsed_args.subscription, "/resume"), {})
        return SUBSCRIPTION_FIELDS, self.row(item, SUBSCRIPTION_FIELDS, KINDS, parsed_args)


class ListSubscriptionDelivery(v1.Lister):
    """A subscription's delivery log: one line per event, newest first"""

    needs_token = True

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        add_subscription_argument(parser)
        parser.add_argument("--status", metavar="<status>",
                            type=v1.upper_choice(("PENDING", "DELIVERED", "FAILED")),
                            help="Only PENDING, DELIVERED or FAILED deliveries.")
        v1.add_limit(parser, what="deliveries")
        return parser

    def take_action(self, parsed_args):
        items = self.api.list(subscription_path(parsed_args.subscription, "/deliveries"),
                              {"status": parsed_args.status}, limit=v1.limit_of(parsed_args))
        return DELIVERY_FIELDS, [self.row(i, DELIVERY_FIELDS, DELIVERY_KINDS, parsed_args)
                                 for i in items]
