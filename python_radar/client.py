"""The one small HTTP client of the radar REST API.

It knows the base URL, the token and the timeout, speaks JSON, follows
pages, and turns every failure (unreachable server, timeout, error
envelope, non-JSON answer) into one exception type, `ClientError`, whose
message is a single line meant for a human. It never imports `radar`: it
talks to the API over HTTP only, so scripts can use it without cliff::

    from python_radar.client import Client
    api = Client("http://127.0.0.1:8080")
    for system in api.get("/v1/systems", params={"since": "2026-03-01"}):
        print(system["name"], system["health"])
"""

import re
import urllib.parse

import requests

DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = 30.0
MAX_MESSAGE = 2000


class ClientError(Exception):
    """Any failure talking to the API; str() is one line for a human.

    `status` is the HTTP status (None when there was no answer) and
    `request_id` the server's request id, when it gave one.
    """

    def __init__(self, message, status=None, request_id=None):
        super().__init__(one_line(message))
        self.status = status
        self.request_id = request_id


def one_line(text, limit=MAX_MESSAGE):
    """Whitespace and control characters folded to single spaces, truncated."""
    text = re.sub(r"[\x00-\x20\x7f]+", " ", str(text)).strip()
    if len(text) > limit:
        text = text[:limit - 3].rstrip() + "..."
    return text


def quote(segment, safe=""):
    """One path segment, percent-encoded (CI system names have spaces)."""
    return urllib.parse.quote(str(segment), safe=safe)


def _connection_reason(exc):
    """The useful end of a requests/urllib3 connection error."""
    text = str(exc)
    found = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if found:
        return found.group(1).strip().rstrip(".").lower()
    for needle, reason in (("Name or service not known", "unknown host"),
                           ("nodename nor servname", "unknown host"),
                           ("Connection refused", "connection refused"),
                           ("Connection reset", "connection reset"),
                           ("RemoteDisconnected", "the server closed the connection"),
                           ("certificate verify failed", "TLS certificate not trusted")):
        if needle in text:
            return reason
    return type(exc).__name__


class Client:
    """HTTP access to one radar API.

    url: the API root (http://host:8080); token: a bearer token for writes
    (sent only when set); timeout: seconds to wait for the connection and
    for each read.
    """

    def __init__(self, url=DEFAULT_URL, token=None, timeout=DEFAULT_TIMEOUT, session=None,
                 user_agent="python-radar"):
        url = (url or DEFAULT_URL).strip()
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ClientError("invalid API URL %r: expected http://host[:port] or "
                              "https://host[:port] (--url or RADAR_URL)" % url[:120])
        if timeout is not None and timeout <= 0:
            raise ClientError("invalid timeout %r: must be a positive number of seconds"
                              % timeout)
        self.url = url.rstrip("/")
        self.token = token or None
        self.timeout = timeout
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.session.headers["Accept"] = "application/json"

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- requests ------------------------------------------------------------------

    def request(self, method, path, params=None, body=None):
        """Send one request; returns (decoded JSON or None, response headers)."""
        url = self.url + path
        headers = {}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        params = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            resp = self.session.request(method, url, params=params, json=body,
                                        headers=headers, timeout=self.timeout,
                                        allow_redirects=False)
        except requests.Timeout:
            raise ClientError("the radar API at %s did not answer within %g s (raise "
                              "--timeout)" % (self.url, self.timeout)) from None
        except requests.exceptions.InvalidURL as exc:
            raise ClientError("invalid API URL %s: %s" % (self.url, exc)) from None
        except requests.ConnectionError as exc:
            raise ClientError("cannot reach the radar API at %s: %s (check --url or "
                              "RADAR_URL)" % (self.url, _connection_reason(exc))) from None
        except requests.RequestException as exc:
            raise ClientError("request to the radar API at %s failed: %s"
                              % (self.url, exc)) from None
        if resp.status_code >= 300:
            raise self._error(method, resp)
        if resp.status_code == 204 or not resp.content:
            return None, resp.headers
        try:
            return resp.json(), resp.headers
        except ValueError:
            raise ClientError("%s answered %s with something that is not JSON: is it a "
                              "radar API? (check --url or RADAR_URL)"
                              % (self.url, resp.status_code), status=resp.status_code) from None

    def _error(self, method, resp):
        status = resp.status_code
        envelope = None
        try:
            envelope = resp.json()
        except ValueError:
            pass
        if not isinstance(envelope, dict) or "faultstring" not in envelope:
            if 300 <= status < 400:
                return ClientError("the radar API at %s redirects (HTTP %d to %s): give the "
                                   "final address with --url"
                                   % (self.url, status, resp.headers.get("Location", "?")),
                                   status=status)
            return ClientError("%s answered HTTP %d %s without a radar error: is it a radar "
                               "API? (check --url or RADAR_URL)"
                               % (self.url, status, resp.reason or ""), status=status)
        message = one_line(envelope.get("faultstring") or "no message")
        request_id = envelope.get("request_id") or resp.headers.get("X-Request-Id")
        if status == 401:
            if self.token:
                text = ("the API refused the token: %s Check --token or RADAR_TOKEN."
                        % message)
            else:
                text = ("this command needs a token: pass --token or set RADAR_TOKEN (%s)"
                        % message)
        elif status == 403:
            text = "the token is not allowed to do this: %s (HTTP 403)" % message
        elif status >= 500:
            text = "the radar API failed (HTTP %d): %s" % (status, message)
        else:
            text = "%s (HTTP %d)" % (message, status)
        return ClientError(text, status=status, request_id=request_id)

    def get(self, path, params=None):
        return self.request("GET", path, params=params)[0]

    def post(self, path, body):
        return self.request("POST", path, body=body)[0]

    def put(self, path, body):
        return self.request("PUT", path, body=body)[0]

    def delete(self, path):
        return self.request("DELETE", path)[0]

    def list(self, path, params=None, limit=None, marker=lambda item: item.get("id"),
             page_size=None):
        """Every item of a paginated list, following markers; at most `limit`.

        `marker` gives the marker of an item (the id, or a name, or
        "change/patchset", as the endpoint says).
        """
        params = dict(params or {})
        items = []
        next_marker = None
        while True:
            query = dict(params)
            wanted = None if limit is None else limit - len(items)
            if page_size or wanted:
                query["limit"] = min(x for x in (page_size, wanted) if x)
            if next_marker is not None:
                query["marker"] = next_marker
            page, headers = self.request("GET", path, params=query)
            if not isinstance(page, list):
                raise ClientError("%s%s did not answer with a list" % (self.url, path))
            items.extend(page)
            if limit is not None and len(items) >= limit:
                return items[:limit]
            total = headers.get("X-Total-Count")
            if not page or total is None or not total.isdigit() or len(items) >= int(total):
                return items
            next_marker = marker(page[-1])
