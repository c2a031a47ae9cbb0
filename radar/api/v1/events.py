"""/v1/events (JSON) and /v1/events.atom (an Atom 1.0 feed of the same events)."""

import uuid
import xml.etree.ElementTree as ET

import pecan

from radar.api.v1 import base, types
from radar.common import exception, timeutils
from radar.db import api as db_api
from radar.db import events as db_events

ARGUMENTS = ("type", "system", "project", "product", "release", "service", "severity",
             "since", "until", "limit", "marker")
ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_TYPE = "application/atom+xml"
# Entry ids: urn:uuid of the event's key in this namespace, so an entry keeps its
# id whichever host name the feed is read through.
ENTRY_NAMESPACE = uuid.UUID("5f0b6c1e-3c1d-5a43-9d54-7e0c2f6a1b52")
SEVERITY_MARK = {"critical": "CRITICAL", "warning": "WARNING", "info": "INFO"}


def _choices(name, value, choices):
    items = base.parse_list(name, value, max_items=len(choices))
    if items is None:
        return None
    for item in items:
        if item not in choices:
            raise base.invalid(name, "expected one or more of %s (comma-separated), got %r"
                               % (", ".join(choices), item[:40]))
    return items


def parse_filters(args):
    """Validated event_list() arguments from the query arguments (shared by both views)."""
    filters = {
        "types": _choices("type", args.get("type"), db_events.TYPES),
        "severities": _choices("severity", args.get("severity"), db_events.SEVERITIES),
    }
    for name in ("project", "product", "release", "service"):
        filters[name] = base.parse_text(name, args.get(name))
    system = base.parse_text("system", args.get("system"))
    if system is not None:
        # An id or any spelling of the name; a deleted system's events keep its name.
        row = db_api.system_get(base.session(), system)
        system = row["name"] if row is not None else system.lower()
    filters["system"] = system
    since = base.parse_time("since", args.get("since"))
    until = base.parse_time("until", args.get("until"))
    if since is not None and until is not None and since >= until:
        raise base.invalid("until", "must be later than since")
    filters["since"], filters["until"] = since, until
    return filters


def base_url():
    """Where the web page is: [notifications] public_url, else this request's host."""
    return base.conf().notifications.public_url or base.host_url()


def list_events(args):
    """(rows, dicts) of one page, with X-Total-Count set."""
    filters = parse_filters(args)
    limit = base.parse_limit(args.get("limit"))
    marker = base.parse_int("marker", args.get("marker"), minimum=1, maximum=2**62)
    rows, total = db_events.event_list(base.session(), limit=limit, marker=marker, **filters)
    if rows is None:
        raise base.invalid("marker", "no event %d" % marker)
    base.set_header("X-Total-Count", total)
    root = base_url()
    return rows, [db_events.event_as_dict(r, root) for r in rows]


class EventsController(base.Resource):
    routes = (("GET", (), "get_all"),)

    @base.expose([types.Event], types.text, types.text, types.text, types.text, types.text,
                 types.text, types.text, types.text, types.text, types.text, types.text)
    def get_all(self, type=None, system=None, project=None, product=None,
                release=None, service=None, severity=None, since=None, until=None,
                limit=None, marker=None):
        args = dict(type=type, system=system, project=project, product=product,
                    release=release, service=service, severity=severity, since=since,
                    until=until, limit=limit, marker=marker)
        _rows, items = list_events(args)
        base.mark_csv([f for f in db_events.PUBLIC_FIELDS if f != "data"])
        return [types.Event.from_dict(i) for i in items]


class EventsFeedController(base.Resource):
    routes = (("GET", (), "feed"),)

    @pecan.expose(content_type=ATOM_TYPE)
    def feed(self, **kwargs):
        try:
            base.check_arguments(kwargs, ARGUMENTS)
            rows, items = list_events(kwargs)
        except exception.RadarError as error:
            return base.plain_error(error)
        pecan.response.content_type = ATOM_TYPE
        pecan.response.charset = "utf-8"
        pecan.response.headers["Cache-Control"] = "no-cache"
        self_url = base_url().rstrip("/") + pecan.request.path_qs
        return atom_feed(rows, items, self_url, base_url(), kwargs).decode("utf-8")


# --- Atom ------------------------------------------------------------------------------


def _clean(text):
    """Text XML 1.0 can carry (no control characters but tab and newline)."""
    return "".join(c for c in str(text) if c in "\t\n\r" or (ord(c) >= 32 and c not in
                                                               "\ufffe\uffff"))


def _sub(parent, tag, text=None, **attrs):
    el = ET.SubElement(parent, "{%s}%s" % (ATOM_NS, tag), {k: _clean(v) for k, v in
                                                           attrs.items()})
    if text is not None:
        el.text = _clean(text)
    return el


def _atom_time(value):
    return timeutils.as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_id(key):
    return "urn:uuid:%s" % uuid.uuid5(ENTRY_NAMESPACE, key)


def _content(item):
    lines = [item["title"], "", "Type: %s" % item["type"],
             "Severity: %s" % item["severity"]]
    for name in ("system", "project", "product", "release", "service", "environment"):
        if item.get(name):
            lines.append("%s: %s" % (name.capitalize(), item[name]))
    lines.append("Occurred at: %s" % item["occurred_at"])
    for key in sorted(item.get("data") or {}):
        value = item["data"][key]
        if value is not None and value != "":
            lines.append("%s: %s" % (key, value))
    return "\n".join(lines)


def atom_feed(rows, items, self_url, web_url, args):
    """The Atom 1.0 document (bytes) of a page of events, newest first."""
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element("{%s}feed" % ATOM_NS)
    described = ", ".join("%s=%s" % (k, args[k]) for k in ARGUMENTS
                          if args.get(k) and k not in ("limit", "marker"))
    _sub(feed, "id", self_url)
    _sub(feed, "title", "radar events" + (" (%s)" % described if described else ""))
    _sub(feed, "subtitle", "CI health, release and deployment transitions seen by radar")
    updated = max((r["occurred_at"] for r in rows), default=None) or timeutils.utcnow()
    _sub(feed, "updated", _atom_time(updated))
    _sub(feed, "link", rel="self", type=ATOM_TYPE, href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=web_url.rstrip("/") + "/")
    author = _sub(feed, "author")
    _sub(author, "name", "radar")
    _sub(feed, "generator", "radar")
    for row, item in zip(rows, items, strict=True):
        entry = _sub(feed, "entry")
        _sub(entry, "id", entry_id(row["key"]))
        _sub(entry, "title", "[%s] %s" % (SEVERITY_MARK.get(item["severity"],
                                                            item["severity"]), item["title"]))
        _sub(entry, "updated", _atom_time(row["occurred_at"]))
        _sub(entry, "published", _atom_time(row["occurred_at"]))
        if item.get("url"):
            _sub(entry, "link", rel="alternate", type="text/html", href=item["url"])
        _sub(entry, "category", term=item["type"])
        _sub(entry, "category", term="severity:%s" % item["severity"])
        _sub(entry, "content", _content(item), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
