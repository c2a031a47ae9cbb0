"""One notification, formatted and sent: webhook JSON, Slack, or e-mail.

Used by the daemon's sender (radar_daemon.delivery) and by the API's
"send a test" endpoint. Nothing here touches the database. The webhook
payload is versioned (PAYLOAD_VERSION) and documented field by field in
doc/source/subscriptions.rst; change the version when a field changes
meaning or goes away.
"""

import collections
import email.message
import email.utils
import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import threading
import time

import requests

from radar.common import timeutils
from radar.db import events as db_events

PAYLOAD_VERSION = 1
USER_AGENT = "radar-notifications/%d" % PAYLOAD_VERSION
SIGNATURE_HEADER = "X-Radar-Signature"
TEST_TYPE = "radar.test"

Outcome = collections.namedtuple("Outcome", "ok status_code error duration_ms")

# urllib3 logs request paths at debug level, and a Slack webhook's path is
# its credential: its records are dropped while this thread is sending.
_sending = threading.local()


class _QuietWhileSending(logging.Filter):
    def filter(self, record):
        return not getattr(_sending, "active", False)


_URLLIB3_FILTER = _QuietWhileSending()
logging.getLogger("urllib3.connectionpool").addFilter(_URLLIB3_FILTER)


def event_json(event, base_url=None):
    """The event as the API shows it (radar.db.events.event_as_dict)."""
    return db_events.event_as_dict(event, base_url=base_url)


def sample_event(now=None):
    """What `radar subscription test` sends (id 0, type radar.test)."""
    now = now or timeutils.utcnow()
    return {"id": 0, "type": TEST_TYPE, "severity": "info",
            "title": "Test notification from radar", "system": None, "project": None,
            "product": None, "release": None, "service": None, "environment": None,
            "url": None, "data": {"test": True}, "occurred_at": now}


def sign(secret, body):
    """The signature header value: 'sha256=' + hex HMAC-SHA256 of the exact body."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return "sha256=" + digest


def webhook_body(event, subscription, delivery_id):
    """`event` is the JSON form (event_json)."""
    payload = {"version": PAYLOAD_VERSION, "event": event,
               "subscription": {"id": subscription["id"], "name": subscription["name"]},
               # A test send's id ("test-<hex>") is only in the header.
               "delivery": delivery_id if isinstance(delivery_id, int) else None}
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _slack_escape(text):
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _about(event):
    """'system zuul, project openstack/nova' ..."""
    parts = []
    for field in ("system", "project", "product", "release", "service", "environment"):
        if event.get(field):
            parts.append("%s %s" % (field, event[field]))
    return ", ".join(parts)


def slack_body(event):
    title = _slack_escape(event["title"])
    severity = (event.get("severity") or "info").upper()
    text = "[%s] %s" % (severity, title)
    if event.get("url"):
        text += " <%s|details>" % _slack_escape(event["url"])
    lines = ["*[%s] %s*" % (severity, title)]
    about = _about(event)
    if about:
        lines.append(_slack_escape(about))
    lines.append("`%s` at %s" % (_slack_escape(event["type"]), event["occurred_at"]))
    if event.get("url"):
        lines.append("<%s|Open in radar>" % _slack_escape(event["url"]))
    body = {"text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}]}
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def email_message(event, to, from_address, delivery_id):
    msg = email.message.EmailMessage()
    msg["Subject"] = event["title"].replace("\r", " ").replace("\n", " ")
    msg["From"] = from_address
    msg["To"] = to
    msg["Date"] = email.utils.formatdate(usegmt=True)
    msg["Message-ID"] = email.utils.make_msgid(domain=from_address.rpartition("@")[2] or None)
    msg["X-Radar-Event"] = event["type"]
    msg["X-Radar-Delivery"] = str(delivery_id)
    lines = [event["title"], "",
             "Event:     %s" % event["type"],
             "Severity:  %s" % (event.get("severity") or "info"),
             "When:      %s" % event["occurred_at"]]
    for field in ("system", "project", "product", "release", "service", "environment"):
        if event.get(field):
            lines.append("%-10s %s" % (field.capitalize() + ":", event[field]))
    if event.get("url"):
        lines += ["", event["url"]]
    lines += ["", "-- ", "radar: you get this because of a subscription to these events."]
    msg.set_content("\n".join(lines) + "\n")
    return msg


class Sender:
    """Sends notifications with the [notifications] options of `conf`."""

    def __init__(self, conf, http=None):
        self.opts = conf.notifications
        self.http = http or requests.Session()
        # No environment proxies: deliveries go where the configuration says.
        self.http.trust_env = False
        if self.opts.http_proxy:
            self.http.proxies = {"http": self.opts.http_proxy, "https": self.opts.http_proxy}
        self.http.headers["User-Agent"] = USER_AGENT

    def close(self):
        self.http.close()

    def send(self, subscription, event, delivery_id):
        """Send one event to one subscription; never raises for a receiver's fault."""
        kind = subscription["kind"]
        # Relative subject links ('#/system/zuul') made absolute for receivers.
        event = event_json(event, self.opts.public_url)
        if kind == "email":
            return self._email(subscription, event, delivery_id)
        if kind == "slack":
            body = slack_body(event)
            headers = {"Content-Type": "application/json"}
        else:
            body = webhook_body(event, subscription, delivery_id)
            headers = {"Content-Type": "application/json",
                       "X-Radar-Event": event["type"],
                       "X-Radar-Delivery": str(delivery_id),
                       SIGNATURE_HEADER: sign(subscription["secret"] or "", body)}
        return self._post(subscription["target"], body, headers)

    def _post(self, url, body, headers):
        start = time.monotonic()
        _sending.active = True
        try:
            # No redirects: a receiver could send us on to an address the
            # target check refused.
            resp = self.http.post(url, data=body, headers=headers, allow_redirects=False,
                                  timeout=self.opts.http_timeout, stream=True)
            resp.close()
        except requests.Timeout:
            return Outcome(False, None, "timed out after %ss" % self.opts.http_timeout,
                           _ms(start))
        except requests.RequestException as exc:
            return Outcome(False, None, _reason(exc), _ms(start))
        finally:
            _sending.active = False
        ok = 200 <= resp.status_code < 300
        error = None
        if 300 <= resp.status_code < 400:
            error = "HTTP %d: redirects are not followed" % resp.status_code
        return Outcome(ok, resp.status_code, error, _ms(start))

    def _email(self, subscription, event, delivery_id):
        o = self.opts
        start = time.monotonic()
        msg = email_message(event, subscription["target"], o.from_address, delivery_id)
        try:
            if o.smtp_ssl:
                smtp = smtplib.SMTP_SSL(o.smtp_host, o.smtp_port, timeout=o.smtp_timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(o.smtp_host, o.smtp_port, timeout=o.smtp_timeout)
            with smtp:
                if o.smtp_starttls and not o.smtp_ssl:
                    smtp.starttls(context=ssl.create_default_context())
                if o.smtp_username:
                    smtp.login(o.smtp_username, o.smtp_password or "")
                smtp.send_message(msg, from_addr=o.from_address,
                                  to_addrs=[subscription["target"]])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return Outcome(False, code, "recipient refused: %s" % _text(text), _ms(start))
        except smtplib.SMTPResponseException as exc:
            return Outcome(False, exc.smtp_code, "SMTP %d: %s" % (exc.smtp_code,
                                                                  _text(exc.smtp_error)),
                           _ms(start))
        except (smtplib.SMTPException, OSError) as exc:  # timeouts are OSErrors
            return Outcome(False, None, "SMTP: %s" % (_text(str(exc)) or type(exc).__name__),
                           _ms(start))
        return Outcome(True, 250, None, _ms(start))


def _ms(start):
    return int((time.monotonic() - start) * 1000)


def _text(value):
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return " ".join(str(value).split())[:300]


def _reason(exc):
    """A short, secret-free reason for a failed request (no URL: it may hold a token)."""
    text = str(exc)
    for needle, reason in (("Connection refused", "connection refused"),
                           ("Name or service not known", "unknown host"),
                           ("nodename nor servname", "unknown host"),
                           ("Temporary failure in name resolution", "unknown host"),
                           ("Connection reset", "connection reset"),
                           ("RemoteDisconnected", "the receiver closed the connection"),
                           ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"),
                           ("SSLError", "TLS error")):
        if needle in text:
            return reason
    return type(exc).__name__
