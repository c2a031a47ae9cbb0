"""/v1/subscriptions: who wants which events, delivered where (token needed).

A subscription belongs to the token that created it; an admin token sees
and manages every one. Someone else's subscription is a 404, as if it did
not exist. The webhook secret is shown once, in the answer to the POST;
Slack URLs (which are credentials) and query strings are shown masked.
Neither is ever logged.
"""

import ipaddress
import logging
import re
import secrets
import socket
import urllib.parse

import pecan

from radar import notifications
from radar.api import auth
from radar.api.v1 import base, types
from radar.db import api as db_api
from radar.db import subscriptions as db_subs

LOG = logging.getLogger(__name__)

MAX_TARGET = 1024
MAX_FILTER_ITEMS = 50
SECRET_MIN, SECRET_MAX = 16, 128
_SECRET_CHARS = re.compile(r"^[\x21-\x7e]+$")
# A practical address check (RFC 5322's dot-atom local part, a dotted or
# local domain); the SMTP server has the last word.
_EMAIL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                    r"@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
_HOSTNAME = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?"
                       r"(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$")
DELIVERY_STATES = db_subs.DELIVERY_STATES


# --- who may see what ---------------------------------------------------------------


def _token():
    return auth.require("write")


def _is_admin(token):
    return "admin" in (token["scopes"] or ())


def _get(ident, token):
    sub_id = base.parse_int("id", ident, minimum=1, maximum=2**31 - 1)
    if sub_id is None:
        raise base.invalid("id", "a value is required")
    row = db_subs.subscription_get(base.session(), sub_id)
    if row is None or (not _is_admin(token) and row["owner_token_id"] != token["id"]):
        raise base.not_found("Subscription", ident)
    return row


# --- showing ------------------------------------------------------------------------


def display_target(kind, target):
    """The target with its secret-bearing parts hidden."""
    if kind == "email":
        return target
    parts = urllib.parse.urlsplit(target)
    if kind == "slack":
        return "%s://%s/..." % (parts.scheme, parts.netloc)
    if parts.query:
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "...", ""))
    return target


def _view(row, counts=None, owners=None, secret=None):
    counts = counts or {}
    data = {
        "id": row["id"], "name": row["name"], "kind": row["kind"],
        "target": display_target(row["kind"], row["target"]),
        "filters": {k: list((row["filters"] or {}).get(k) or []) for k in db_subs.FILTERS},
        "owner": (owners or {}).get(row["owner_token_id"]),
        "created_at": row["created_at"], "paused": row["paused_at"] is not None,
        "paused_at": row["paused_at"], "paused_reason": row["paused_reason"],
        "consecutive_failures": row["consecutive_failures"],
        "pending": counts.get(db_subs.PENDING, 0),
        "delivered": counts.get(db_subs.DELIVERED, 0),
        "failed": counts.get(db_subs.FAILED, 0),
        "last_delivered_at": counts.get("last_delivered_at"),
    }
    if secret is not None:
        data["secret"] = secret
    return types.Subscription.from_dict(data)


def _owners(rows):
    names = {}
    for token_id in {r["owner_token_id"] for r in rows if r["owner_token_id"]}:
        token = db_api.token_get(base.session(), token_id)
        names[token_id] = token["name"] if token else None
    return names


# --- validating ---------------------------------------------------------------------


def _own_addresses(conf):
    """(hosts, port) pairs that are this radar API: refused as targets."""
    port = conf.api.port
    own = {("localhost", port), (_canonical_host(conf.api.host), port)}
    try:
        own.add((socket.gethostname().lower(), port))
    except OSError:
        pass
    request = pecan.request
    host_header = request.host or ""
    if host_header:
        parts = urllib.parse.urlsplit("%s://%s" % (request.scheme, host_header))
        try:
            own.add((_canonical_host(parts.hostname or ""),
                     parts.port or _default_port(request.scheme)))
        except ValueError:
            pass
    if conf.notifications.public_url:
        parts = urllib.parse.urlsplit(conf.notifications.public_url)
        try:
            own.add((_canonical_host(parts.hostname or ""),
                     parts.port or _default_port(parts.scheme)))
        except ValueError:
            pass
    return own, port


def _default_port(scheme):
    return 443 if scheme == "https" else 80


def _canonical_host(host):
    """Lower case, no trailing dot; IPv4 in any form inet_aton takes
    ('2130706433', '127.1') as dotted quads; IPv6 compressed, mapped IPv4
    unwrapped."""
    host = host.strip("[]").lower().rstrip(".")
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        if re.fullmatch(r"[0-9a-fx.]+", host):
            try:
                return socket.inet_ntoa(socket.inet_aton(host))
            except OSError:
                return host
        return host
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return str(addr)


def _is_loopback(host):
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return addr.is_loopback or addr.is_unspecified


def _check_url(name, value, conf):
    if len(value) > MAX_TARGET:
        raise base.invalid(name, "longer than %d characters" % MAX_TARGET)
    if any(ord(c) <= 32 or ord(c) == 127 for c in value):
        raise base.invalid(name, "a URL may not contain spaces or control characters")
    try:
        parts = urllib.parse.urlsplit(value)
        port = parts.port
    except ValueError:
        raise base.invalid(name, "not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise base.invalid(name, "only http and https URLs can be delivered to")
    if "@" in parts.netloc:
        raise base.invalid(name, "user names and passwords in URLs are not allowed")
    raw_host = parts.hostname or ""
    if not raw_host:
        raise base.invalid(name, "the URL has no host")
    host = _canonical_host(raw_host)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.fullmatch(host):
            raise base.invalid(name, "the URL's host is not a valid host name") from None
    port = port or _default_port(parts.scheme.lower())
    own, api_port = _own_addresses(conf)
    if (host, port) in own or (port == api_port and _is_loopback(host)):
        raise base.invalid(name, "the URL points at this radar server")
    return value


def _check_email(name, value):
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise base.invalid(name, "expected an e-mail address such as ops@example.org")
    return value


def _filters(body_filters):
    if not types.is_set(body_filters) or body_filters is None:
        return {}
    unknown = sorted(set(body_filters) - set(db_subs.FILTERS))
    if unknown:
        raise base.invalid("filters", "unknown filter %r (expected %s)"
                           % (unknown[0][:40], ", ".join(db_subs.FILTERS)))
    out = {}
    for key in db_subs.FILTERS:
        values = body_filters.get(key)
        if values is None:
            continue
        name = "filters.%s" % key
        if len(values) > MAX_FILTER_ITEMS:
            raise base.invalid(name, "at most %d items" % MAX_FILTER_ITEMS)
        clean = []
        for value in values:
            if not isinstance(value, str) or not value.strip():
                raise base.invalid(name, "every item must be a non-empty string")
            base.parse_text(name, value.strip())
            if key == "types" and value.strip() not in db_subs.EVENT_TYPES:
                raise base.invalid(name, "expected event types among %s"
                                   % ", ".join(db_subs.EVENT_TYPES))
            clean.append(value.strip())
        if clean:
            out[key] = sorted(set(clean), key=clean.index)
    return out


def _string(body, name):
    """A body attribute that must be a string (WSME passes any JSON value as text)."""
    value = getattr(body, name)
    if not types.is_set(value) or value is None:
        return None
    if not isinstance(value, str):
        raise base.invalid(name, "expected a string")
    return value


def _values(body, conf):
    name = _string(body, "name")
    if name is None or not name.strip():
        raise base.invalid("name", "is required")
    name = base.parse_text("name", name.strip())
    kind = _string(body, "kind")
    if not kind:
        raise base.invalid("kind", "is required (one of %s)" % ", ".join(db_subs.KINDS))
    kind = base.parse_choice("kind", kind, db_subs.KINDS)
    target = _string(body, "target")
    if not target or not target.strip():
        raise base.invalid("target", "is required (a URL, or an e-mail address for email)")
    target = target.strip()
    if kind == "email":
        target = _check_email("target", target)
    else:
        target = _check_url("target", target, conf)
    secret = _string(body, "secret")
    if secret is not None:
        if kind != "webhook":
            raise base.invalid("secret", "only webhook deliveries are signed")
        if not (SECRET_MIN <= len(secret) <= SECRET_MAX) or not _SECRET_CHARS.fullmatch(secret):
            # Never echo the value.
            raise base.invalid("secret", "expected %d to %d printable ASCII characters "
                               "without spaces" % (SECRET_MIN, SECRET_MAX))
    elif kind == "webhook":
        secret = secrets.token_hex(32)
    return {"name": name, "kind": kind, "target": target, "secret": secret,
            "filters": _filters(body.filters)}


# --- the controller -------------------------------------------------------------------


class SubscriptionsController(base.Resource):
    routes = (
        ("GET", (), "get_all"),
        ("POST", (), "post"),
        ("GET", ("*",), "get_one"),
        ("DELETE", ("*",), "delete"),
        ("POST", ("*", "test"), "test"),
        ("POST", ("*", "resume"), "resume"),
        ("GET", ("*", "deliveries"), "deliveries"),
    )

    @base.expose([types.Subscription], types.text, types.text)
    def get_all(self, limit=None, marker=None):
        token = _token()
        limit = base.parse_limit(limit)
        marker = base.parse_int("marker", marker, minimum=0)
        session = base.session()
        rows = db_subs.subscription_list(session, owner_token_id=token["id"],
                                         all_owners=_is_admin(token))
        page = base.paginate(rows, limit, marker)
        counts = db_subs.subscription_counts(session, [r["id"] for r in page])
        owners = _owners(page)
        return [_view(r, counts[r["id"]], owners) for r in page]

    @base.expose(types.Subscription, types.text)
    def get_one(self, ident):
        token = _token()
        row = _get(ident, token)
        counts = db_subs.subscription_counts(base.session(), [row["id"]])
        return _view(row, counts[row["id"]], _owners([row]))

    @base.expose(types.Subscription, body=types.SubscriptionInput, status_code=201)
    def post(self, body):
        token = _token()
        session = base.session()
        values = _values(body, base.conf())
        row = db_subs.subscription_create(session, owner_token_id=token["id"], **values)
        session.commit()
        LOG.info("subscription %d created (%s) by token %s", row["id"], row["kind"],
                 token["name"])
        base.set_header("Location", "%s/v1/subscriptions/%d" % (base.host_url(), row["id"]))
        return _view(row, owners=_owners([row]), secret=values["secret"])

    @base.expose(None, types.text, status_code=204)
    def delete(self, ident):
        token = _token()
        session = base.session()
        row = _get(ident, token)
        db_subs.subscription_delete(session, row["id"])
        session.commit()
        LOG.info("subscription %d deleted by token %s", row["id"], token["name"])

    @base.expose(types.Subscription, types.text)
    def resume(self, ident):
        token = _token()
        session = base.session()
        row = _get(ident, token)
        row = db_subs.subscription_resume(session, row["id"])
        session.commit()
        counts = db_subs.subscription_counts(session, [row["id"]])
        return _view(row, counts[row["id"]], _owners([row]))

    @base.expose(types.SubscriptionTestResult, types.text)
    def test(self, ident):
        """Send a sample event now and say what the receiver answered.

        Not queued, not retried, not counted against the subscription.
        """
        token = _token()
        row = _get(ident, token)
        test_id = "test-%s" % secrets.token_hex(8)
        sender = notifications.Sender(base.conf())
        try:
            outcome = sender.send(row, notifications.sample_event(), test_id)
        finally:
            sender.close()
        LOG.info("subscription %d: test %s: %s", row["id"], test_id,
                 "delivered" if outcome.ok else (outcome.error or
                                                 "HTTP %s" % outcome.status_code))
        return types.SubscriptionTestResult.from_dict({
            "delivered": outcome.ok, "status_code": outcome.status_code,
            "error": outcome.error, "duration_ms": outcome.duration_ms, "delivery": test_id})

    @base.expose([types.SubscriptionDelivery], types.text, types.text, types.text, types.text)
    def deliveries(self, ident, status=None, limit=None, marker=None):
        token = _token()
        status = base.parse_choice("status", status, DELIVERY_STATES, upper=True)
        limit = base.parse_limit(limit)
        marker = base.parse_int("marker", marker, minimum=0)
        row = _get(ident, token)
        session = base.session()
        items = db_subs.delivery_list(session, row["id"], status=status)
        page = base.paginate(items, limit, marker)
        attempts = db_subs.delivery_attempts(session, [d["id"] for d in page])
        return [types.SubscriptionDelivery.from_dict(d, history=attempts[d["id"]])
                for d in page]

