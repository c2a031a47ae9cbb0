"""The web client (radar/webclient) and the XStatic libraries it uses.

* ``/`` answers the page (index.html) to a browser navigation, and the
  version document to everyone else (radar.api.root).
* ``/static/...`` serves the files under radar/webclient.
* ``/static/lib/angular/...`` serves the XStatic-Angular package's files.

Nothing is fetched at run time from anywhere else: a ``pip install`` of
radar brings the whole page.
"""

import mimetypes
import os

import pecan
import webob.exc

WEBCLIENT_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "webclient")
CACHE_SECONDS = 300


def _libraries():
    libs = {}
    try:
        import xstatic.pkg.angular as angular
        libs["angular"] = angular.BASE_DIR
    except ImportError:  # pragma: no cover - an install without the page's libraries
        pass
    return libs


LIBRARIES = _libraries()


def is_navigation(environ):
    """True for a browser loading a page (not fetch/XHR, curl or an API client).

    Browsers send ``Sec-Fetch-Dest: document`` / ``Sec-Fetch-Mode: navigate``
    (secure and loopback origins) and ``Upgrade-Insecure-Requests: 1`` (all
    origins) on a top-level navigation, and never on the page's own API
    calls. API clients send neither, whatever their Accept header says.
    """
    if environ.get("HTTP_SEC_FETCH_DEST", "").lower() == "document":
        return True
    if environ.get("HTTP_SEC_FETCH_MODE", "").lower() == "navigate":
        return True
    return environ.get("HTTP_UPGRADE_INSECURE_REQUESTS", "").strip() == "1"


def _resolve(parts):
    """The file for /static/<parts>, or None."""
    if not parts or any(p in ("", ".", "..") or "\\" in p or "\x00" in p for p in parts):
        return None
    if parts[0] == "lib":
        if len(parts) < 3 or parts[1] not in LIBRARIES:
            return None
        base, rest = LIBRARIES[parts[1]], parts[2:]
    else:
        base, rest = WEBCLIENT_DIR, parts
    base = os.path.realpath(base)
    path = os.path.realpath(os.path.join(base, *rest))
    if not path.startswith(base + os.sep) or not os.path.isfile(path):
        return None
    return path


def _send(path, content_type=None, max_age=CACHE_SECONDS):
    resp = pecan.response
    with open(path, "rb") as f:
        body = f.read()
    if content_type is None:
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type in (
            "application/javascript", "application/json", "image/svg+xml"):
        resp.content_type = content_type
        resp.charset = "utf-8"
    else:
        resp.content_type = content_type
    resp.body = body
    resp.headers["Cache-Control"] = "public, max-age=%d" % max_age if max_age else "no-cache"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


class StaticController:
    """Not a pecan-routed controller: RootController._route hands requests here."""

    # The API middleware pins Accept to JSON; the response is built here.
    @pecan.expose(content_type="application/json")
    def index(self):
        """index.html, with <base href> set to where the app is mounted."""
        with open(os.path.join(WEBCLIENT_DIR, "index.html"), "rb") as f:
            body = f.read()
        root = (pecan.request.script_name or "").rstrip("/") + "/"
        body = body.replace(b'<base href="/">', ('<base href="%s">' % root).encode("utf-8"))
        resp = pecan.response
        resp.content_type = "text/html"
        resp.charset = "utf-8"
        resp.body = body
        resp.headers["Cache-Control"] = "no-cache"
        resp.headers["Vary"] = "Accept, Sec-Fetch-Dest, Sec-Fetch-Mode, " \
                               "Upgrade-Insecure-Requests"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        return resp

    @pecan.expose(content_type="application/json")
    def file(self, *parts):
        if pecan.request.method not in ("GET", "HEAD"):
            raise webob.exc.HTTPMethodNotAllowed(headers={"Allow": "GET, HEAD"})
        path = _resolve(list(parts))
        if path is None:
            raise webob.exc.HTTPNotFound()
        return _send(path)
