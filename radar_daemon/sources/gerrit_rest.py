"""Gerrit REST collector: incremental ``GET /changes/`` polling.

Wire format: shared reference ``gerrit-wire-format.md`` §1-§3.

One poll scans the window ``after:"<high water - overlap>"`` ..
``before:"<poll start>"`` page by page (``n``/``S`` offset paging while the
last element carries ``_more_changes``) and yields each page as normalised
:class:`~radar_daemon.records.ChangeRec` records together with a cursor.

Paging safety: inside the fixed window a change can only *leave* (an update
moves its ``updated`` past ``before:``), which shifts every later change
one place to the front and would make plain offset paging skip one change
at the next page boundary. So every page after the first starts one
element early (``S = offset - 1``): that element must be one already seen.
Because the changes already seen are always a prefix of the current
result order, the new ones are exactly the rest of the page. If the
overlap element is not one already seen, the window shifted further; the
scan steps back a page and realigns. (With ``page_size = 1`` there is no
room for the overlap and plain offset paging is used.) Changes that left the window are
picked up by the next poll (their ``updated`` is above the new high water).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import random
import re
import time
import urllib.parse
from collections.abc import Iterator

import requests

from radar.common import exception, timeutils
from radar_daemon.records import AccountRef, ChangeRec, MessageRec, PatchSetRec

LOG = logging.getLogger(__name__)

MAGIC = ")]}'"
OPTIONS = ("MESSAGES", "DETAILED_ACCOUNTS", "ALL_REVISIONS", "DETAILED_LABELS")
SNIPPET_BYTES = 200
_PS_FROM_TEXT = re.compile(r"^(?:Patch Set (\d+)\b|Uploaded patch set (\d+)\b)")
_BARE_VALUE = re.compile(r"^[A-Za-z0-9_./+@-]+$")
_MAX_STALLED_PAGES = 5


# --------------------------------------------------------------------------
# ChangeInfo -> ChangeRec (pure)
# --------------------------------------------------------------------------


def _account(info) -> AccountRef | None:
    """AccountInfo (or <=2.6 MemberInfo) -> AccountRef; None when empty."""
    if not isinstance(info, dict):
        return None
    gerrit_id = info.get("_account_id", info.get("account_id"))
    if gerrit_id is not None:
        gerrit_id = int(gerrit_id)
    ref = AccountRef(
        gerrit_id=gerrit_id,
        username=info.get("username") or info.get("user_name") or None,
        name=info.get("name") or info.get("full_name") or info.get("display_name") or None,
        email=info.get("email") or info.get("preferred_email") or None,
    )
    return ref if ref.key is not None else None


def _int(value, what):
    if isinstance(value, bool):
        raise ValueError("%s is not a number: %r" % (what, value))
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise ValueError("%s is not a number: %r" % (what, value))


def _time(value, what, where):
    if value is None:
        return None
    try:
        return timeutils.parse_gerrit(value)
    except (ValueError, AttributeError, TypeError):
        raise exception.RecordError("%s: bad timestamp in %s: %r" % (where, what, value)) \
            from None


def patchset_from_text(text: str) -> int | None:
    """The patch set a message names: 'Patch Set N:' or 'Uploaded patch set N.'."""
    m = _PS_FROM_TEXT.match(text or "")
    if not m:
        return None
    return int(m.group(1) or m.group(2))


def parse_change_info(info: dict, location: str | None = None) -> ChangeRec:
    """One ChangeInfo (as ``GET /changes/`` returns it) -> ChangeRec.

    Raises RecordError for a ChangeInfo it cannot read (not an object,
    missing ``_number`` or ``project``, a bad timestamp or field type).
    """
    if not isinstance(info, dict):
        raise exception.RecordError("%s: ChangeInfo is not a JSON object" % (location or "?"))
    where = location or "change %s" % info.get("_number", "?")
    if "_number" not in info:
        raise exception.RecordError("%s: ChangeInfo without _number" % where)
    project = info.get("project")
    if not isinstance(project, str) or not project:
        raise exception.RecordError("%s: ChangeInfo without project" % where)
    try:
        number = _int(info["_number"], "_number")
        status = info.get("status")
        rec = ChangeRec(
            number=number,
            project=project,
            branch=info.get("branch"),
            change_key=info.get("change_id"),
            subject=info.get("subject"),
            owner=_account(info.get("owner")),
            status=status,
            created=_time(info.get("created"), "created", where),
            updated=_time(info.get("updated"), "updated", where),
            location=where,
        )
        if status == "MERGED":
            rec.merged_at = _time(info.get("submitted"), "submitted", where)
        revisions = info.get("revisions") or {}
        if not isinstance(revisions, dict):
            raise ValueError("revisions is not an object")
        for sha, rev in revisions.items():
            if not isinstance(rev, dict):
                raise ValueError("revision %s is not an object" % sha)
            if rev.get("_number") == "edit":
                continue  # a change edit, not a patch set
            rec.patchsets.append(PatchSetRec(
                number=_int(rev.get("_number"), "revision %s _number" % sha),
                revision=sha,
                created=_time(rev.get("created"), "revision %s created" % sha, where),
                uploader=_account(rev.get("uploader")),
                kind=rev.get("kind"),
            ))
        rec.patchsets.sort(key=lambda p: p.number)
        messages = info.get("messages") or []
        if not isinstance(messages, list):
            raise ValueError("messages is not a list")
        for index, msg in enumerate(messages):
            if not isinstance(msg, dict):
                raise ValueError("message %d is not an object" % index)
            what = "message %s" % msg.get("id", index)
            date = _time(msg.get("date"), what + " date", where)
            if date is None:
                raise exception.RecordError("%s: %s has no date" % (where, what))
            text = msg.get("message") or ""
            patchset = msg.get("_revision_number")
            patchset = (_int(patchset, what + " _revision_number") if patchset is not None
                        else patchset_from_text(text))
            rec.messages.append(MessageRec(
                date=date,
                text=text,
                author=_account(msg.get("author")),
                patchset=patchset,
                tag=msg.get("tag"),
                gerrit_id=msg.get("id"),
            ))
    except exception.RecordError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise exception.RecordError("%s: cannot read ChangeInfo: %s" % (where, exc)) from None
    return rec


# --------------------------------------------------------------------------
# The source
# --------------------------------------------------------------------------


def _quote_value(value: str) -> str:
    if _BARE_VALUE.match(value):
        return value
    return "{%s}" % value if '"' in value else '"%s"' % value


def _snippet(body: bytes) -> str:
    text = body[:SNIPPET_BYTES].decode("utf-8", "replace")
    return " ".join(text.split())


class GerritRestSource:
    """Polls one Gerrit server's REST API (a ``[gerrit:<name>]`` group).

    ``opts`` has the attributes of radar/conf/gerrit.py SOURCE_OPTS.
    ``sleep``, ``now`` and ``rand`` are injectable for tests.
    """

    def __init__(self, name: str, opts, session: requests.Session | None = None,
                 sleep=time.sleep, now=timeutils.utcnow, rand=random.random):
        self.name = name
        self.opts = opts
        self.skipped = 0  # unreadable changes skipped since the last take_skipped()
        url = getattr(opts, "url", None)
        if not url:
            raise exception.ConfigError("[gerrit:%s] url is required for a rest source" % name)
        self._username = getattr(opts, "username", None) or None
        self._password = getattr(opts, "password", None) or ""
        auth_type = (getattr(opts, "auth_type", None) or "basic").lower()
        if self._username:
            if auth_type == "basic":
                self._auth = requests.auth.HTTPBasicAuth(self._username, self._password)
            elif auth_type == "digest":
                self._auth = requests.auth.HTTPDigestAuth(self._username, self._password)
            else:
                raise exception.ConfigError("[gerrit:%s] auth_type must be basic or digest, "
                                            "not %r" % (name, auth_type))
            self.base_url = url.rstrip("/") + "/a/"
        else:
            self._auth = None
            self.base_url = url.rstrip("/") + "/"
        self.projects = [p.strip() for p in (getattr(opts, "projects", None) or []) if p.strip()]
        self.query = (getattr(opts, "query", None) or "").strip()
        self.page_size = int(getattr(opts, "page_size", 100))
        self.overlap = dt.timedelta(seconds=float(getattr(opts, "overlap", 300)))
        self.initial_days = float(getattr(opts, "initial_days", 7))
        self.timeout = float(getattr(opts, "timeout", 30.0))
        self.retries = int(getattr(opts, "retries", 5))
        self.backoff = float(getattr(opts, "backoff", 1.0))
        self.backoff_max = float(getattr(opts, "backoff_max", 60.0))
        self.verify_tls = bool(getattr(opts, "verify_tls", True))
        self.options = OPTIONS + (("SKIP_DIFFSTAT",) if getattr(opts, "skip_diffstat", True)
                                  else ())
        self._own_session = session is None
        self._session = session if session is not None else requests.Session()
        self._sleep = sleep
        self._now = now
        self._rand = rand

    # -- lifecycle ---------------------------------------------------------

    def close(self):
        if self._own_session:
            self._session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def take_skipped(self) -> int:
        """Unreadable changes skipped since the last call (for collector stats)."""
        count, self.skipped = self.skipped, 0
        return count

    # -- HTTP --------------------------------------------------------------

    def _redact(self, text: str) -> str:
        text = re.sub(r"(https?://)[^/@\s]*@", r"\1***@", text)
        if self._password:
            text = text.replace(self._password, "***")
        return text

    def _retry_after(self, resp) -> float | None:
        value = (resp.headers.get("Retry-After") or "").strip()
        if not value:
            return None
        try:
            seconds = float(value)
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            if when is None:
                return None
            seconds = (timeutils.as_utc(when) - timeutils.as_utc(self._now())).total_seconds()
        return min(max(seconds, 0.0), self.backoff_max)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        ceiling = min(self.backoff_max, self.backoff * (2 ** attempt))
        return self._rand() * ceiling  # full jitter

    @staticmethod
    def _decode(body: bytes):
        text = body.decode("utf-8")
        if text.startswith(MAGIC):
            text = text[len(MAGIC):]
        return json.loads(text)

    def _get(self, path: str, params=None, *, allow_404: bool = False):
        """GET base_url + path; returns the decoded JSON (None on an allowed 404)."""
        url = self.base_url + path
        shown = self._redact(url)
        attempts = self.retries + 1
        for attempt in range(attempts):
            LOG.debug("gerrit %s: GET %s %s (attempt %d/%d)", self.name, shown,
                      urllib.parse.urlencode(params or [], doseq=True), attempt + 1, attempts)
            retry_after = None
            try:
                resp = self._session.get(url, params=params,
                                         headers={"Accept": "application/json"},
                                         auth=self._auth, timeout=self.timeout,
                                         verify=self.verify_tls)
                body = resp.content
            except requests.exceptions.SSLError as exc:
                raise exception.SourceError("gerrit %s: GET %s failed: TLS error: %s" % (
                    self.name, shown, self._redact(str(exc)))) from None
            except requests.exceptions.Timeout:
                problem = "timed out after %ss" % self.timeout
            except (requests.exceptions.ConnectionError,
                    requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:
                problem = "%s: %s" % (type(exc).__name__, self._redact(str(exc))[:300])
            except requests.exceptions.RequestException as exc:
                raise exception.SourceError("gerrit %s: GET %s failed: %s" % (
                    self.name, shown, self._redact(str(exc)))) from None
            else:
                status = resp.status_code
                if status == 200:
                    try:
                        return self._decode(body)
                    except ValueError as exc:
                        problem = "invalid JSON in a %d-byte response (%s): %s" % (
                            len(body), exc, _snippet(body))
                elif status == 404 and allow_404:
                    return None
                elif status == 429 or status >= 500:
                    problem = "HTTP %d %s: %s" % (status, resp.reason or "", _snippet(body))
                    retry_after = self._retry_after(resp)
                else:
                    hint = ""
                    if status in (401, 403) and self._username:
                        hint = " (check username, password and auth_type)"
                    raise exception.SourceError("gerrit %s: GET %s failed: HTTP %d %s%s: %s" % (
                        self.name, shown, status, resp.reason or "", hint, _snippet(body)))
            if attempt + 1 >= attempts:
                raise exception.SourceError("gerrit %s: GET %s failed after %d attempt(s): %s"
                                            % (self.name, shown, attempts, problem))
            delay = self._delay(attempt, retry_after)
            LOG.warning("gerrit %s: GET %s: %s; retry %d/%d in %.2fs", self.name, shown,
                        problem, attempt + 1, self.retries, delay)
            self._sleep(delay)
        raise AssertionError("unreachable")

    # -- API ---------------------------------------------------------------

    def server_version(self) -> str | None:
        """``GET /config/server/version``; None if the server has no such endpoint."""
        data = self._get("config/server/version", allow_404=True)
        return data if isinstance(data, str) else None

    def group_members(self, group: str) -> list[AccountRef]:
        """Direct members of a group (UUID, numeric id or name)."""
        data = self._get("groups/%s/members/" % urllib.parse.quote(str(group), safe=""))
        if not isinstance(data, list):
            raise exception.SourceError("gerrit %s: group %s members: expected a JSON list, "
                                        "got %s" % (self.name, group, type(data).__name__))
        members = []
        for item in data:
            ref = _account(item) if isinstance(item, dict) else None
            if ref is None:
                LOG.warning("gerrit %s: group %s: unreadable member %r", self.name, group, item)
                continue
            members.append(ref)
        return members

    def build_query(self, after: dt.datetime, before: dt.datetime) -> str:
        parts = ['after:"%s"' % timeutils.format_gerrit(after),
                 'before:"%s"' % timeutils.format_gerrit(before)]
        if self.projects:
            terms = ["project:%s" % _quote_value(p) for p in self.projects]
            parts.append(terms[0] if len(terms) == 1 else "(%s)" % " OR ".join(terms))
        if self.query:
            parts.append("(%s)" % self.query)
        return " ".join(parts)

    def _page(self, query: str, start: int) -> list:
        params = [("q", query), ("n", str(self.page_size))]
        if start:
            params.append(("S", str(start)))
        params += [("o", o) for o in self.options]
        data = self._get("changes/", params)
        if not isinstance(data, list):
            raise exception.SourceError("gerrit %s: /changes/ answered %s, not a JSON list"
                                        % (self.name, type(data).__name__))
        return data

    @staticmethod
    def _key(info):
        if isinstance(info, dict):
            number = info.get("_number")
            if isinstance(number, int) and not isinstance(number, bool):
                return number
            return info.get("id") or repr(sorted(info.items()))[:200]
        return repr(info)[:200]

    def poll(self, cursor: dict | None = None) -> Iterator[tuple[list[ChangeRec], dict]]:
        """Yield ``(changes, cursor)`` page by page.

        Every yielded cursor is safe to resume from once that page is
        committed: the old high water until the last page, whose cursor
        carries the new one (the largest ``updated`` seen, never lower than
        the old one). ``{"high_water": None}`` means no scan has completed.
        """
        start_time = timeutils.as_utc(self._now())
        old_hw = None
        if cursor and cursor.get("high_water"):
            try:
                old_hw = timeutils.parse_iso(cursor["high_water"])
            except (TypeError, ValueError):
                raise exception.SourceError("gerrit %s: bad cursor %r" % (self.name, cursor)) \
                    from None
        if old_hw is None:
            after = start_time - dt.timedelta(days=self.initial_days)
        else:
            after = old_hw - self.overlap
        query = self.build_query(after, start_time)
        held = {"high_water": timeutils.isoformat(old_hw)}
        LOG.info("gerrit %s: polling %s", self.name, query)

        overlap = 1 if self.page_size > 1 else 0
        seen: set = set()
        new_hw = old_hw
        offset = 0
        stalled = 0
        total = 0
        while True:
            start = max(0, offset - overlap)
            page = self._page(query, start)
            # The page must start inside the prefix already seen; if it does
            # not (or is empty), changes left the window: step back.
            while overlap and start > 0 and (not page or self._key(page[0]) not in seen):
                LOG.info("gerrit %s: result window shifted before S=%d; stepping back",
                         self.name, start)
                start = max(0, start - self.page_size)
                page = self._page(query, start)
            more = bool(page) and isinstance(page[-1], dict) and \
                page[-1].get("_more_changes") is True
            batch = []
            fresh = 0
            for info in page:
                key = self._key(info)
                if key in seen:
                    continue
                seen.add(key)
                fresh += 1
                number = info.get("_number", "?") if isinstance(info, dict) else "?"
                location = "gerrit %s /changes/ S=%d change %s" % (self.name, start, number)
                try:
                    rec = parse_change_info(info, location)
                except exception.RecordError as exc:
                    LOG.warning("gerrit %s: skipping unreadable change: %s", self.name, exc)
                    self.skipped += 1
                    continue
                batch.append(rec)
                if rec.updated is not None and (new_hw is None or rec.updated > new_hw):
                    new_hw = rec.updated
            total += len(batch)
            offset = start + len(page)
            if more:
                stalled = 0 if fresh else stalled + 1
                if stalled > _MAX_STALLED_PAGES:
                    raise exception.SourceError(
                        "gerrit %s: paging makes no progress at S=%d (does the server "
                        "honour S=?)" % (self.name, start))
                yield batch, dict(held)
                continue
            final = new_hw if new_hw is not None else after
            LOG.info("gerrit %s: poll done, %d change(s), high water %s", self.name, total,
                     timeutils.isoformat(final))
            yield batch, {"high_water": timeutils.isoformat(final)}
            return
