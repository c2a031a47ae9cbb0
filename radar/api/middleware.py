"""WSGI middleware around the Pecan app: request checks, one error envelope, CSV.

* Every response carries X-Request-Id.
* Every non-2xx response, Pecan's own 404/405 included, is the JSON
  envelope {"faultcode", "faultstring", "debuginfo", "code", "request_id"}.
  A 5xx says only a generic message and the request id; what went wrong
  goes to the log under that id.
* Requests are checked before any controller runs: UTF-8 path and query,
  no repeated arguments, a JSON object as body of a write.
* Accept is pinned to JSON for the app; CSV (?format=csv or Accept:
  text/csv) is rendered here from the JSON of endpoints that allow it.
"""

import csv
import io
import json
import logging
import time
import urllib.parse
import uuid

import webob

from radar.api import cache

LOG = logging.getLogger(__name__)

GENERIC_5XX = ("The server could not complete the request. Quote request id %s "
               "when reporting this.")
MAX_QUERY = 8192
MAX_BODY = 1024 * 1024
WRITE_METHODS = ("POST", "PUT", "PATCH")
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")
# Text that only an exception dump contains (a 4xx message with it is withheld).
_LEAK_MARKERS = ("traceback (most recent", "[sql:", "sqlalchemy.", "pymysql.", "sqlite3.",
                 "background on this error", "[parameters:")


class Reject(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def error_body(code, message, request_id):
    return {
        "faultcode": "Client" if code < 500 else "Server",
        "faultstring": message,
        "debuginfo": None,
        "code": code,
        "request_id": request_id,
    }


def error_response(code, message, request_id, headers=None):
    resp = webob.Response(status=code, content_type="application/json", charset="utf-8")
    resp.body = json.dumps(error_body(code, message, request_id)).encode("utf-8")
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp


def _default_message(resp, method):
    code = resp.status_code
    if code == 404:
        return "Not found: there is no resource at this path."
    if code == 405:
        allow = resp.headers.get("Allow")
        return "Method %s is not allowed on this resource%s." % (
            method, " (allowed: %s)" % allow if allow else "")
    title = resp.status.split(" ", 1)[1] if " " in resp.status else "Error"
    return "%s." % title.rstrip(".")


def _looks_leaky(message):
    lowered = message.lower()
    return any(marker in lowered for marker in _LEAK_MARKERS)


class ApiMiddleware:
    def __init__(self, app, conf, metrics=None, cache=None):
        self.app = app
        self.conf = conf
        self.metrics = metrics
        # radar.api.cache.ResponseCache for the statistics endpoints, or None.
        self.cache = cache

    def __call__(self, environ, start_response):
        started = time.monotonic()
        request_id = "req-" + uuid.uuid4().hex
        environ["radar.request_id"] = request_id
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            resp = self._handle(environ, request_id)
        except Exception:
            LOG.exception("request %s: unhandled error", request_id)
            resp = error_response(500, GENERIC_5XX % request_id, request_id)
        resp.headers["X-Request-Id"] = request_id
        elapsed = time.monotonic() - started
        path = environ.get("radar.path", "")
        if self.metrics is not None:
            try:
                self.metrics.observe_request(method, path, resp.status_code, elapsed)
            except Exception:
                LOG.exception("request %s: recording metrics failed", request_id)
        if self.conf.api.access_log:
            LOG.info("%s %s %s -> %d in %.1f ms", request_id, method,
                     path or "?", resp.status_code, elapsed * 1000)
        return resp(environ, start_response)

    # --- before ----------------------------------------------------------------------

    def _handle(self, environ, request_id):
        try:
            want_csv, explicit = self._prepare(environ)
        except Reject as r:
            return error_response(r.code, r.message, request_id)
        req = webob.Request(environ)
        if environ["radar.path"].rstrip("/") == "/metrics" and self.metrics is not None:
            if req.method not in ("GET", "HEAD"):
                return error_response(405, "Method %s is not allowed on this resource "
                                           "(allowed: GET, HEAD)." % req.method[:16],
                                      request_id, {"Allow": "GET, HEAD"})
            body, content_type = self.metrics.render()
            resp = webob.Response(body=body)
            resp.headers["Content-Type"] = content_type
            return resp
        if req.method in ("GET", "HEAD") and cache.is_statistics(environ["radar.path"]):
            # Windows that end "now" end at the start of this minute (with or
            # without the response cache, so the numbers are the same).
            cache.mark_window(environ)
            if self.cache is not None and req.method == "GET":
                key = cache.request_key(environ, environ["radar.query_pairs"], want_csv)
                return self.cache.respond(
                    environ, key, lambda: self._respond(req, want_csv, explicit, request_id))
        return self._respond(req, want_csv, explicit, request_id)

    def _respond(self, req, want_csv, explicit, request_id):
        resp = req.get_response(self.app)
        if resp.status_code >= 400:
            return self._error(resp, req, request_id)
        if want_csv:
            columns = req.environ.get("radar.csv_columns")
            if columns is not None:
                return self._csv(resp, columns, request_id)
            if explicit:
                return error_response(
                    400, "Invalid value for argument 'format': CSV is available on "
                         "list and series endpoints only", request_id)
        return resp

    def _prepare(self, environ):
        raw_path = environ.get("PATH_INFO", "")
        try:
            path = raw_path.encode("latin-1").decode("utf-8")
        except UnicodeError:
            raise Reject(400, "The request path is not valid UTF-8.") from None
        environ["radar.path"] = path
        query = environ.get("QUERY_STRING", "")
        if len(query) > MAX_QUERY:
            raise Reject(414, "The query string is longer than %d bytes." % MAX_QUERY)
        try:
            pairs = urllib.parse.parse_qsl(query, keep_blank_values=True,
                                           encoding="utf-8", errors="strict")
        except (UnicodeError, ValueError):
            raise Reject(400, "The query string is not valid UTF-8.") from None
        seen = set()
        fmt = None
        kept = []
        for name, value in pairs:
            if name in seen:
                raise Reject(400, "Argument '%s' is given more than once." % name[:64])
            seen.add(name)
            if name == "format":
                fmt = value
            else:
                kept.append((name, value))
        explicit = False
        want_csv = False
        if fmt is not None:
            if fmt not in ("json", "csv"):
                raise Reject(400, "Invalid value for argument 'format': expected json or "
                                  "csv, got %r" % fmt[:40])
            want_csv = explicit = fmt == "csv"
            environ["QUERY_STRING"] = urllib.parse.urlencode(kept)
        else:
            accept = webob.Request.blank("/", headers={
                "Accept": environ.get("HTTP_ACCEPT", "*/*")}).accept
            try:
                offers = accept.acceptable_offers(["application/json", "text/csv"])
            except ValueError:
                offers = []
            want_csv = bool(offers) and offers[0][0] == "text/csv" and (
                len(offers) == 1 or offers[0][1] > offers[1][1])
        environ["radar.want_csv"] = want_csv
        environ["radar.query_pairs"] = kept
        # The only non-JSON resources the app renders: the badge and the Atom feed.
        if path.endswith("/badge.svg"):
            environ["HTTP_ACCEPT"] = "image/svg+xml"
        elif path.rstrip("/") == "/v1/events.atom":
            environ["HTTP_ACCEPT"] = "application/atom+xml"
        else:
            environ["HTTP_ACCEPT"] = "application/json"
        if environ.get("REQUEST_METHOD") in WRITE_METHODS:
            self._check_body(environ)
        else:
            # A body on GET, HEAD or DELETE means nothing here: drop it, so
            # nothing (WebOb) spools it to a temporary file.
            environ["wsgi.input"] = io.BytesIO(b"")
            environ["CONTENT_LENGTH"] = "0"
            environ["webob.is_body_seekable"] = True
        return want_csv, explicit

    @staticmethod
    def _check_body(environ):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise Reject(400, "Invalid Content-Length.") from None
        if length > MAX_BODY:
            raise Reject(413, "The request body is larger than %d bytes." % MAX_BODY)
        stream = environ["wsgi.input"]
        if length:
            body = stream.read(length)
        elif "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            body = stream.read(MAX_BODY + 1)
        else:
            body = b""
        if len(body) > MAX_BODY:
            raise Reject(413, "The request body is larger than %d bytes." % MAX_BODY)
        content_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if not body.strip():
            raise Reject(400, "The request needs a JSON object as body.")
        if content_type != "application/json":
            raise Reject(415, "The request body must be JSON (Content-Type: "
                              "application/json).")
        try:
            data = json.loads(body.decode("utf-8"))
        except UnicodeError:
            raise Reject(400, "The request body is not valid UTF-8.") from None
        except ValueError as e:
            raise Reject(400, "The request body is not valid JSON (line %d, column %d)."
                         % (e.lineno, e.colno)) from None
        except RecursionError:
            raise Reject(400, "The request body is nested too deeply.") from None
        if not isinstance(data, dict):
            raise Reject(400, "The request body must be a JSON object.")
        try:
            # JSON may escape lone surrogates (\\ud800) that no database stores.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeError:
            raise Reject(400, "The request body holds invalid Unicode (a lone "
                              "surrogate).") from None
        # WSME reads the body again: hand it a normalised copy.
        new = json.dumps(data).encode("utf-8")
        environ["wsgi.input"] = io.BytesIO(new)
        environ["CONTENT_LENGTH"] = str(len(new))
        environ["webob.is_body_seekable"] = True
        environ.pop("HTTP_TRANSFER_ENCODING", None)

    # --- after -----------------------------------------------------------------------

    def _error(self, resp, req, request_id):
        code = resp.status_code
        message = None
        if resp.content_type == "application/json":
            try:
                data = json.loads(resp.body)
                if isinstance(data, dict):
                    # WSME's envelope, or Pecan's {"code", "title", "description"}.
                    for key in ("faultstring", "description"):
                        if isinstance(data.get(key), str):
                            message = data[key]
                            break
            except ValueError:
                message = None
        if message is None:
            message = req.environ.get("radar.error_detail")
        if code >= 500:
            LOG.error("request %s: %s %s failed with %d: %s", request_id, req.method,
                      req.environ.get("radar.path"), code,
                      message if message is not None else resp.body[:2000])
            message = GENERIC_5XX % request_id
        elif message is None or not message.strip() or _looks_leaky(message):
            if message:
                LOG.warning("request %s: client error message withheld: %s",
                            request_id, message)
            message = _default_message(resp, req.method)
        headers = {h: resp.headers[h] for h in KEPT_HEADERS if h in resp.headers}
        return error_response(code, message, request_id, headers)

    @staticmethod
    def _csv(resp, columns, request_id):
        try:
            data = json.loads(resp.body)
        except ValueError:
            LOG.error("request %s: CSV asked for a non-JSON response", request_id)
            return error_response(500, GENERIC_5XX % request_id, request_id)
        rows = data if isinstance(data, list) else [data]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
        new = webob.Response(status=resp.status, content_type="text/csv", charset="utf-8")
        new.text = out.getvalue()
        for name in ("X-Total-Count", "Cache-Control"):
            if name in resp.headers:
                new.headers[name] = resp.headers[name]
        return new


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    text = str(value)
    # Spreadsheet formula injection: text cells never start a formula.
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text
