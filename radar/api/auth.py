"""Bearer tokens for writes: stored as SHA-256, compared in constant time, never logged.

Scopes: `write` may change operators and their links to CI systems;
`admin` may do everything, system settings included.
"""

import hashlib
import hmac
import re
import secrets

import pecan
from webob import exc as webob_exc

from radar.common import exception
from radar.db import api as db_api

PREFIX = "radar_"
SCOPES = ("admin", "write")
# What each endpoint asks for -> scopes that grant it.
GRANTS = {"write": {"write", "admin"}, "admin": {"admin"}}
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9_\-.~+/=]{1,256}$")
CHALLENGE = 'Bearer realm="radar"'


def generate():
    """A new random token (shown once; only its hash is stored)."""
    return PREFIX + secrets.token_urlsafe(32)


def hash_token(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _unauthorized(message):
    pecan.response.headers["WWW-Authenticate"] = CHALLENGE
    return exception.NotAuthorized(message)


def check(session, header, scope):
    """The token row (dict) for an Authorization header value, or raise 401/403."""
    if not header:
        raise _unauthorized("This request needs a token: send 'Authorization: Bearer <token>'.")
    kind, _, token = header.strip().partition(" ")
    token = token.strip()
    if kind.lower() != "bearer" or not token:
        raise _unauthorized("Unsupported authorization: send 'Authorization: Bearer <token>'.")
    if not _TOKEN_CHARS.match(token):
        raise _unauthorized("Invalid or revoked token.")
    digest = hash_token(token)
    row = db_api.token_get_by_hash(session, digest)
    # The lookup is by hash; compare again in constant time all the same,
    # and do the same work when nothing matched.
    stored = row["token_hash"] if row else "0" * 64
    if not hmac.compare_digest(stored.encode("ascii"), digest.encode("ascii")) or row is None:
        raise _unauthorized("Invalid or revoked token.")
    if row["revoked_at"] is not None:
        raise _unauthorized("Invalid or revoked token.")
    if not GRANTS[scope] & set(row["scopes"] or ()):
        raise exception.Forbidden("This token lacks the '%s' scope." % scope)
    db_api.token_touch(session, row["id"])
    return row


def require(scope):
    """Check the current request's token has `scope` (for controllers)."""
    request = pecan.request
    row = getattr(request, "token", None)
    if row is None:
        return check(request.db, request.headers.get("Authorization"), scope)
    if not GRANTS[scope] & set(row["scopes"] or ()):
        raise exception.Forbidden("This token lacks the '%s' scope." % scope)
    return row


def http_error(error):
    """A RadarError as a webob HTTP error with a JSON body (for hooks)."""
    headers = {}
    if error.code == 401:
        headers["WWW-Authenticate"] = CHALLENGE
    cls = webob_exc.status_map.get(error.code, webob_exc.HTTPInternalServerError)
    # Pecan renders HTTP errors as {"code", "title", "description": detail}.
    return cls(detail=str(error), headers=headers)
