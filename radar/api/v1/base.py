"""Shared controller machinery: the one JSON-only expose, routing, validation.

Every query argument goes through a helper here, so that a bad value gets
a 400 whose message names the argument and says what was expected.
"""

import datetime as dt
import functools
import re

import pecan
import wsme.exc
import wsme.rest.args
import wsmeext.pecan
from webob import exc as webob_exc

from radar.common import exception, timeutils

# JSON only, whatever Accept says (the middleware also pins Accept to JSON;
# CSV is produced from the JSON by the middleware where asked for).
expose = functools.partial(wsmeext.pecan.wsexpose, rest_content_types=("json",))

MAX_TEXT = 255


def _args_from_body(funcdef, body, mimetype, _parse=wsme.rest.args.args_from_body):
    """WSME's body parsing, with a JSON value of the wrong type as a 400.

    WSME answers a ValueError (a string where a number belongs) with a 400
    but lets int([...]) or {...}.items() on a list escape as a 500.
    """
    try:
        return _parse(funcdef, body, mimetype)
    except (TypeError, AttributeError):
        raise wsme.exc.ClientSideError(
            "Invalid request body: a value has the wrong JSON type (a list or object "
            "where a number or an object is expected, or the reverse)") from None


wsme.rest.args.args_from_body = _args_from_body


def invalid(argument, why):
    return exception.Invalid("Invalid value for argument '%s': %s" % (argument, why))


def _show(value, size=40):
    value = str(value)
    return repr(value if len(value) <= size else value[:size] + "...")


# --- routing ---------------------------------------------------------------------


class Resource:
    """A controller routed by an explicit table instead of Pecan's guessing.

    `routes` is a list of (METHOD, pattern, handler name); a pattern is a
    tuple of literal path segments and placeholders ('*' one segment,
    '**' the rest, for project names with slashes). A known path with the
    wrong method is a 405 with Allow; an unknown one a 404.
    """

    routes = ()

    @pecan.expose()
    def _route(self, args, request):
        parts = [p for p in args if p != ""]
        method = request.method.upper()
        if method == "HEAD":
            method = "GET"
        allowed = set()
        for route_method, pattern, handler in self.routes:
            matched = _match(pattern, parts)
            if matched is None:
                continue
            if route_method == method:
                controller = getattr(self, handler)
                _reject_shadowing(controller, len(matched), request)
                return controller, matched
            allowed.add(route_method)
        if allowed:
            if "GET" in allowed:
                allowed.add("HEAD")
            raise webob_exc.HTTPMethodNotAllowed(headers={"Allow": ", ".join(sorted(allowed))})
        raise webob_exc.HTTPNotFound()


def _reject_shadowing(controller, count, request):
    """A query argument named like a path argument would replace it: refuse it."""
    if not count:
        return
    argspec = pecan.util._cfg(controller).get("argspec")
    names = argspec.args[1:1 + count] if argspec else []
    for name in names:
        if name in request.GET:
            message = 'Unknown argument: "%s"' % name
            # For the middleware, whatever the response's content type.
            request.environ["radar.error_detail"] = message
            raise webob_exc.HTTPBadRequest(detail=message)


def _match(pattern, parts):
    args = []
    for i, seg in enumerate(pattern):
        if seg == "**":
            rest = parts[i:]
            if not rest:
                return None
            return args + ["/".join(rest)]
        if i >= len(parts):
            return None
        if seg == "*":
            args.append(parts[i])
        elif seg != parts[i]:
            return None
    if len(parts) != len(pattern):
        return None
    return args


# --- request state -----------------------------------------------------------------


def session():
    return pecan.request.db


def conf():
    return pecan.request.conf


def set_header(name, value):
    pecan.response.headers[name] = str(value)


def mark_csv(columns):
    """This response may be rendered as CSV with these columns."""
    pecan.request.environ["radar.csv_columns"] = list(columns)


# --- argument validation --------------------------------------------------------------


def parse_text(name, value, max_length=MAX_TEXT, required=False):
    if value is None or value == "":
        if required:
            raise invalid(name, "a value is required")
        return None
    if len(value) > max_length:
        raise invalid(name, "longer than %d characters" % max_length)
    if any(ord(c) < 32 for c in value):
        raise invalid(name, "control characters are not allowed")
    return value


def parse_int(name, value, minimum=None, maximum=None):
    if value is None or value == "":
        return None
    if not re.fullmatch(r"[+-]?\d{1,18}", value.strip()):
        raise invalid(name, "expected an integer, got %s" % _show(value))
    number = int(value)
    if minimum is not None and number < minimum:
        raise invalid(name, "must be at least %d" % minimum)
    if maximum is not None and number > maximum:
        raise invalid(name, "must be at most %d" % maximum)
    return number


def parse_bool(name, value):
    if value is None or value == "":
        return None
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise invalid(name, "expected true or false, got %s" % _show(value))


def parse_choice(name, value, choices, upper=False):
    if value is None or value == "":
        return None
    candidate = value.strip().upper() if upper else value.strip()
    if candidate not in choices:
        raise invalid(name, "expected one of %s, got %s" % (", ".join(choices), _show(value)))
    return candidate


def parse_list(name, value, max_items=50):
    if value is None or value.strip() == "":
        return None
    items = [p.strip() for p in value.split(",")]
    if any(not p for p in items):
        raise invalid(name, "empty item in comma-separated list")
    if len(items) > max_items:
        raise invalid(name, "at most %d items" % max_items)
    for item in items:
        parse_text(name, item)
    return items


_EARLIEST = dt.datetime(1970, 1, 1, tzinfo=timeutils.UTC)
_LATEST = dt.datetime(2200, 1, 1, tzinfo=timeutils.UTC)


def parse_time(name, value):
    if value is None or value == "":
        return None
    if len(value) > 64:
        raise invalid(name, "longer than 64 characters")
    try:
        parsed = timeutils.parse_iso(value)
    except (ValueError, OverflowError, TypeError):
        raise invalid(name, "expected an ISO-8601 date or time in UTC such as "
                            "2026-03-01 or 2026-03-01T12:00:00Z, got %s" % _show(value)) from None
    if not _EARLIEST <= parsed < _LATEST:
        raise invalid(name, "must be between 1970 and 2200")
    return parsed


def parse_window(since, until):
    """Validated Window; defaults: until now, since [api] default_window_days before.

    "Now" is the start of the current minute on the statistics endpoints.
    """
    from radar.stats.window import Window

    c = conf()
    since_t = parse_time("since", since)
    until_t = parse_time("until", until)
    if until_t is None:
        # Statistics requests: the start of the current minute (set by the
        # middleware, see radar.api.cache); other windows end now.
        until_t = pecan.request.environ.get("radar.default_until") or timeutils.utcnow()
    if since_t is None:
        since_t = until_t - dt.timedelta(days=c.api.default_window_days)
    if since_t >= until_t:
        raise invalid("until", "must be later than since")
    if until_t - since_t > dt.timedelta(days=c.api.max_window_days):
        raise invalid("since", "the window may cover at most %d days" % c.api.max_window_days)
    return Window(since_t, until_t)


def parse_limit(value):
    c = conf()
    limit = parse_int("limit", value, minimum=1)
    if limit is None:
        return c.api.default_limit
    return min(limit, c.api.max_limit)


def parse_sort(value, allowed, default):
    """'field' ascending or '-field' descending; returns (field, descending)."""
    raw = parse_text("sort", value) or default
    descending = raw.startswith("-")
    field = raw[1:] if descending else raw
    if field not in allowed:
        raise invalid("sort", "expected one of %s (prefix '-' for descending), got %s"
                      % (", ".join(sorted(allowed)), _show(raw)))
    return field, descending


def sort_items(items, field, descending):
    """Sort dicts by field; None values always last; ties by id."""
    present = [i for i in items if i.get(field) is not None]
    missing = [i for i in items if i.get(field) is None]
    present.sort(key=lambda i: (i[field], i.get("id") or 0), reverse=descending)
    missing.sort(key=lambda i: i.get("id") or 0)
    return present + missing


def paginate(items, limit, marker, key="id", marker_name="marker"):
    """Page of an already sorted list after the item whose `key` is marker.

    Sets X-Total-Count to the length of the whole list.
    """
    set_header("X-Total-Count", len(items))
    if marker is not None:
        for index, item in enumerate(items):
            if str(item.get(key)) == str(marker):
                items = items[index + 1:]
                break
        else:
            raise invalid(marker_name, "no item %s in this list" % _show(marker))
    return items[:limit]


def not_found(what, ident):
    return exception.NotFound("%s %s not found" % (what, _show(ident, 80)))


def plain_error(error):
    """For the few non-WSME endpoints: a RadarError as a JSON response.

    The middleware turns this into the usual envelope. A Response object,
    because Pecan labels a returned string with the handler's content type
    (SVG, Atom) and the middleware reads the message only from JSON.
    """
    import json

    import webob

    resp = webob.Response(status=getattr(error, "code", 500), charset="utf-8",
                          content_type="application/json")
    resp.text = json.dumps({"faultstring": str(error)})
    return resp


def check_arguments(kwargs, allowed):
    """Unknown query arguments are a 400 (WSME does this for exposed methods)."""
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise exception.Invalid('Unknown argument: "%s"' % unknown[0][:64])


def host_url():
    return pecan.request.host_url.rstrip("/")
