"""A per-process response cache for the statistics endpoints.

A statistics response (``/v1/systems`` and its per-system resources
``series``, ``missed``, ``jobs``, ``badge.svg``, ``/v1/compare``,
``/v1/projects``) is a function of the request and of the stored data.
The cache keeps the final response (status 200 only: JSON or CSV body and
its headers) keyed by

* the **normalised request**: scheme, host, path, every query argument
  sorted by name (``since``/``until`` in canonical ISO-8601 form, so
  ``2024-01-01`` and ``2024-01-01T00:00:00Z`` share an entry), whether CSV
  was negotiated, and, when the request gives no ``until``, the minute the
  window ends at (see below);
* the **data version** of the database, read for every cacheable request
  with one statement of index-only lookups (see :func:`data_version`):
  the highest ids of messages, reports, patch sets and changes (every
  ingest batch that adds data moves one of them, in the same transaction
  as the reports and rollups it writes), the collector's per-source
  counters and times (every daemon cycle), the last use of a write token
  (every write through the API commits it with its change), and the CI
  systems' settings (a few hundred bytes). An entry whose version is not
  the current one is never served, so new data is visible to the very
  next request in every worker. The version is read before the statistics
  run, on its own connection: what the statistics read is at least as new
  as the version it is stored under.

Entries also expire after a short TTL (``[api] cache_ttl``, 60 s), which
bounds how late the few numbers that depend on the clock alone are
(health of a silent system, stale collector, coverage grace period), and
the cache is an LRU bounded in entries and in bytes. One cache per process:
each gunicorn worker has its own.

Windows that end "now" (no ``until`` argument, the default) end at the
start of the current minute (UTC), for the cache key and for the
computation alike: statistics move at most once a minute (the daemon polls
every five), and every client asking within that minute shares an entry.

Responses carry an ``ETag`` (a hash of the body, so the same in every
worker) and, unless the endpoint sets its own (the badge does),
``Cache-Control: no-cache``: clients may keep the response but revalidate
it, and a matching ``If-None-Match`` gets a 304 without a body.

Settings in ``[api]``: ``cache_entries`` (0 disables the cache), ``cache_ttl`` seconds,
``cache_max_bytes`` in total and per response.
"""

import collections
import hashlib
import logging
import threading
import time

import sqlalchemy as sa
import webob

from radar.api import metrics as metrics_mod
from radar.common import timeutils
from radar.db import models

LOG = logging.getLogger(__name__)

DEFAULT_ENTRIES = 256
DEFAULT_TTL = 60.0
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
# A response larger than this share of the total is not kept.
LARGEST_SHARE = 4

# Route templates (radar.api.metrics.route_of) whose GET responses are cached.
STATISTICS_ROUTES = frozenset((
    "/v1/systems", "/v1/systems/{id}", "/v1/systems/{id}/series",
    "/v1/systems/{id}/missed", "/v1/systems/{id}/jobs", "/v1/systems/{id}/badge.svg",
    "/v1/compare", "/v1/projects", "/v1/projects/{name}",
))
TIME_ARGUMENTS = ("since", "until")
# Headers never replayed from an entry (set per request).
PER_REQUEST_HEADERS = frozenset(("x-request-id", "date", "server", "set-cookie"))
CACHE_CONTROL = "no-cache"

UNTIL_KEY = "radar.default_until"


def is_statistics(path):
    return metrics_mod.route_of(path) in STATISTICS_ROUTES


def default_until(now):
    """The end of a window that ends "now": the start of the current minute."""
    return now.replace(second=0, microsecond=0)


def mark_window(environ, now=None):
    """Give a statistics request the end of a window that ends "now"."""
    environ[UNTIL_KEY] = default_until(now if now is not None else timeutils.utcnow())


# --- data version ---------------------------------------------------------------------

def _version_query():
    t = {name: models.Base.metadata.tables[name] for name in (
        "messages", "ci_reports", "patchsets", "changes", "collector_state", "api_tokens",
        "ci_systems", "operators", "system_operators")}

    def scalar(*columns, table):
        return sa.select(*columns).select_from(table).scalar_subquery()

    c = t["collector_state"]
    s = t["ci_systems"]
    return sa.select(
        scalar(sa.func.max(t["messages"].c.id), table=t["messages"]),
        scalar(sa.func.max(t["ci_reports"].c.id), table=t["ci_reports"]),
        scalar(sa.func.max(t["patchsets"].c.id), table=t["patchsets"]),
        scalar(sa.func.max(t["changes"].c.id), table=t["changes"]),
        scalar(sa.func.count(), table=c),
        scalar(sa.func.sum(c.c.cycles), table=c),
        scalar(sa.func.sum(c.c.failures), table=c),
        scalar(sa.func.sum(c.c.reports_stored), table=c),
        scalar(sa.func.max(c.c.last_attempt_at), table=c),
        scalar(sa.func.max(c.c.last_success_at), table=c),
        scalar(sa.func.max(t["api_tokens"].c.last_used_at), table=t["api_tokens"]),
        scalar(sa.func.max(t["operators"].c.id), table=t["operators"]),
        scalar(sa.func.count(), table=t["system_operators"]),
        scalar(sa.func.count(), table=s),
        scalar(sa.func.max(s.c.updated_at), table=s),
    )


_VERSION_QUERY = None


def data_version(conn):
    """A value that changes whenever anything a statistic reads may have changed.

    One statement of index-only lookups (MAX of primary keys) and
    aggregates over small tables; compare versions only for equality.
    """
    global _VERSION_QUERY
    if _VERSION_QUERY is None:
        _VERSION_QUERY = _version_query()
    return tuple(conn.execute(_VERSION_QUERY).one())


# --- keys -------------------------------------------------------------------------------

def _canonical(name, value):
    if name in TIME_ARGUMENTS and value:
        try:
            return timeutils.parse_iso(value).isoformat()
        except (ValueError, OverflowError, TypeError):
            return value        # invalid: the request fails and is not cached
    return value


def request_key(environ, pairs, want_csv):
    """The normalised request: every argument and what the response depends on."""
    args = tuple(sorted((name, _canonical(name, value)) for name, value in pairs))
    until = None
    if not any(name == "until" and value for name, value in pairs):
        until = environ[UNTIL_KEY].isoformat()
    return (environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST", ""),
            environ.get("SCRIPT_NAME", ""), environ["radar.path"], args, bool(want_csv),
            until)


# --- the cache --------------------------------------------------------------------------

class Entry:
    __slots__ = ("version", "expires", "status", "headers", "body", "etag", "size")

    def __init__(self, version, expires, status, headers, body, etag):
        self.version = version
        self.expires = expires
        self.status = status
        self.headers = headers
        self.body = body
        self.etag = etag
        self.size = len(body) + sum(len(k) + len(v) for k, v in headers) + 200


class ResponseCache:
    """LRU of final responses, bounded in entries and bytes, with a TTL."""

    def __init__(self, engine, entries=DEFAULT_ENTRIES, ttl=DEFAULT_TTL,
                 max_bytes=DEFAULT_MAX_BYTES, clock=time.monotonic):
        self.engine = engine
        self.max_entries = int(entries)
        self.ttl = float(ttl)
        self.max_bytes = int(max_bytes)
        self.clock = clock
        self._entries = collections.OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = self.stores = 0

    @classmethod
    def from_conf(cls, conf, engine):
        opts = conf.api
        if opts.cache_entries <= 0:
            return None
        return cls(engine, entries=opts.cache_entries, ttl=opts.cache_ttl,
                   max_bytes=opts.cache_max_bytes)

    def __len__(self):
        return len(self._entries)

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def version(self):
        with self.engine.connect() as conn:
            return data_version(conn)

    def _get(self, key, version):
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.version != version or entry.expires <= now:
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry

    def _drop(self, key):
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size

    def _put(self, key, entry):
        if entry.size > self.max_bytes // LARGEST_SHARE:
            return
        with self._lock:
            self._drop(key)
            self._entries[key] = entry
            self._bytes += entry.size
            while self._entries and (len(self._entries) > self.max_entries
                                     or self._bytes > self.max_bytes):
                self._drop(next(iter(self._entries)))
            self.stores += 1

    def respond(self, environ, key, compute):
        """The response for `key`: from the cache, or compute() and keep it if a 200."""
        try:
            version = self.version()
        except Exception:
            # The request itself will meet (and report) the database problem.
            LOG.warning("response cache: cannot read the data version", exc_info=True)
            return compute()
        entry = self._get(key, version)
        if entry is not None:
            self.hits += 1
            return self._replay(environ, entry, "HIT")
        self.misses += 1
        resp = compute()
        if resp.status_code != 200:
            return resp
        body = resp.body
        if not resp.headers.get("Cache-Control"):
            resp.headers["Cache-Control"] = CACHE_CONTROL
        resp.headers["Vary"] = "Accept"
        etag = '"%s"' % hashlib.sha1(body).hexdigest()
        resp.headers["ETag"] = etag
        headers = [(k, v) for k, v in resp.headerlist
                   if k.lower() not in PER_REQUEST_HEADERS]
        self._put(key, Entry(version, self.clock() + self.ttl, resp.status, headers, body,
                             etag))
        resp.headers["X-Radar-Cache"] = "MISS"
        return self._conditional(environ, resp, etag)

    def _replay(self, environ, entry, state):
        resp = webob.Response(status=entry.status, headerlist=list(entry.headers),
                              body=entry.body)
        resp.headers["X-Radar-Cache"] = state
        return self._conditional(environ, resp, entry.etag)

    @staticmethod
    def _conditional(environ, resp, etag):
        wanted = environ.get("HTTP_IF_NONE_MATCH")
        if wanted and _matches(wanted, etag):
            not_modified = webob.Response(status=304)
            for name in ("ETag", "Cache-Control", "Vary", "X-Radar-Cache"):
                if name in resp.headers:
                    not_modified.headers[name] = resp.headers[name]
            # A 304 has no body, and no Content-Type or Content-Length of one.
            not_modified.headers.pop("Content-Type", None)
            not_modified.headers.pop("Content-Length", None)
            return not_modified
        return resp


def _matches(if_none_match, etag):
    """If-None-Match uses the weak comparison: W/"x" matches "x"."""
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or (tag[2:] if tag.startswith("W/") else tag) == etag:
            return True
    return False
