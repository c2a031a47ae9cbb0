"""A protocol-faithful fake Gerrit REST server for radar's tests.

Wire format: shared reference ``gerrit-wire-format.md`` §1-§3 and §7.1.

Start it on a loopback port, fill it with ChangeInfo dicts (or ChangeRecs
through :func:`change_info_from_record`) and point a client at ``fake.url``::

    with FakeGerrit(profile="modern") as gerrit:
        gerrit.add_record(rec)
        requests.get(gerrit.url + "/changes/?q=status:open")

or as a pytest fixture::

    @pytest.fixture
    def gerrit():
        yield from serve(profile="legacy")

Data model: changes are stored as full ChangeInfo dicts (every message,
revision and label, every AccountInfo detailed). Each response trims them
for the request's ``o=`` options and the version profile:

``modern`` (3.x)
    ``id`` = ``project~number`` plus ``triplet_id``; AccountInfo is only
    ``{"_account_id"}`` without DETAILED_ACCOUNTS; timestamps have whole
    seconds (``.000000000``, NoteDb); message/approval ``tag`` present;
    40-hex message ids; HTTP Basic auth under ``/a/``; SKIP_DIFFSTAT known.
``legacy`` (~2.11-2.13)
    ``id`` = ``project~branch~Change-Id``; AccountInfo is only ``{"name"}``
    without DETAILED_ACCOUNTS; millisecond timestamps; no ``tag``; short
    random message ids; HTTP Digest auth; SKIP_DIFFSTAT and other 3.x
    options answer 400; ``DRAFT`` status exists.

Fault injection (each fault answers the next ``count`` matching requests):
:meth:`FakeGerrit.fail_next` (429 with Retry-After, 5xx with an HTML proxy
page), :meth:`~FakeGerrit.slow_next` (a delay before answering),
:meth:`~FakeGerrit.truncate_next` (a cut JSON body, or a connection closed
before Content-Length bytes), :meth:`~FakeGerrit.disconnect_next`; and
:meth:`~FakeGerrit.between_pages` to change the data between two
``/changes/`` requests. Every request is logged in ``fake.requests``.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import dataclasses
import datetime as dt
import gzip
import hashlib
import http.server
import json
import re
import secrets
import socket
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable

from radar_daemon.records import AccountRef, ChangeRec

UTC = dt.UTC
MAGIC = b")]}'\n"
REALM = "Gerrit Code Review"
JSON_TYPE = "application/json; charset=UTF-8"
TEXT_TYPE = "text/plain; charset=UTF-8"

# --------------------------------------------------------------------------
# Version profiles
# --------------------------------------------------------------------------

_COMMON_OPTIONS = {
    "LABELS", "DETAILED_LABELS", "CURRENT_REVISION", "ALL_REVISIONS", "CURRENT_COMMIT",
    "ALL_COMMITS", "CURRENT_FILES", "ALL_FILES", "DETAILED_ACCOUNTS", "MESSAGES",
    "CURRENT_ACTIONS", "CHANGE_ACTIONS", "REVIEWED", "SUBMITTABLE", "WEB_LINKS", "CHECK",
    "COMMIT_FOOTERS", "PUSH_CERTIFICATES", "REVIEWER_UPDATES", "DOWNLOAD_COMMANDS",
}
MODERN_OPTIONS = frozenset(_COMMON_OPTIONS | {
    "SKIP_DIFFSTAT", "SUBMIT_REQUIREMENTS", "TRACKING_IDS", "CUSTOM_KEYED_VALUES", "STAR",
    "PARENTS", "SKIP_MERGEABLE",
})
LEGACY_OPTIONS = frozenset(_COMMON_OPTIONS | {"DRAFT_COMMENTS"})

# Query parameters /changes/ knows; anything else is a 400 like args4j's.
_MODERN_PARAMS = {"q", "n", "S", "start", "o", "O", "pp", "prettyPrint", "no-limit",
                  "allow-incomplete-results", "fields", "format", "access_token"}
_LEGACY_PARAMS = {"q", "n", "S", "start", "o", "O", "pp", "prettyPrint", "fields", "format",
                  "access_token"}


@dataclasses.dataclass(frozen=True)
class Profile:
    name: str
    version: str
    auth_scheme: str          # "basic" or "digest"
    options: frozenset
    params: frozenset
    ts_precision: str         # "s" (NoteDb) or "ms" (ReviewDb)
    numeric_ids: bool         # id = project~number (+ triplet_id)
    tags: bool                # message / approval tag
    statuses: frozenset


PROFILES = {
    "modern": Profile("modern", "3.9.2", "basic", MODERN_OPTIONS, frozenset(_MODERN_PARAMS),
                      "s", True, True, frozenset({"NEW", "MERGED", "ABANDONED"})),
    "legacy": Profile("legacy", "2.13.9", "digest", LEGACY_OPTIONS, frozenset(_LEGACY_PARAMS),
                      "ms", False, False, frozenset({"NEW", "MERGED", "ABANDONED", "DRAFT"})),
}

# Fields only newer servers send; the legacy profile drops them.
_MODERN_ONLY_CHANGE_FIELDS = ("triplet_id", "meta_rev_id", "current_revision_number",
                              "attention_set", "removed_from_attention_set",
                              "total_comment_count", "unresolved_comment_count",
                              "has_review_started", "is_private", "work_in_progress",
                              "submit_requirements", "cherry_pick_of_change",
                              "cherry_pick_of_patch_set")
_ACCOUNT_KEYS = ("_account_id", "name", "email", "username")
_APPROVAL_KEYS = ("value", "date", "tag", "post_submit", "permitted_voting_range")

# --------------------------------------------------------------------------
# Time helpers (deliberately independent of radar's own parser)
# --------------------------------------------------------------------------

_TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$")


def parse_ts(text: str) -> dt.datetime:
    m = _TS.match(text)
    if not m:
        raise ValueError("bad Gerrit timestamp %r" % (text,))
    frac = (m.group(7) or "0")[:6].ljust(6, "0")
    return dt.datetime(*(int(g) for g in m.groups()[:6]), int(frac), tzinfo=UTC)


def format_ts(value: dt.datetime, precision: str = "ms") -> str:
    """Gerrit REST form: 'YYYY-MM-DD hh:mm:ss.fffffffff', UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    frac = 0 if precision == "s" else value.microsecond // 1000
    return value.strftime("%Y-%m-%d %H:%M:%S") + ".%03d000000" % frac


def _utcnow():
    return dt.datetime.now(UTC)


# --------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------


class AccountRegistry:
    """Numeric ``_account_id``s assigned consistently per account key.

    The key is :attr:`AccountRef.key` (username, else id, else email, else
    name), so the same person from SSH data (no ids) and REST data (ids)
    ends up as one account.
    """

    def __init__(self, first_id: int = 1000000):
        self._next = first_id
        self._by_key: dict[str, int] = {}
        self.by_id: dict[int, dict] = {}
        self._lock = threading.RLock()

    @staticmethod
    def _ref(account) -> AccountRef:
        if isinstance(account, AccountRef):
            return account
        return AccountRef(gerrit_id=account.get("_account_id"), username=account.get("username"),
                          name=account.get("name"), email=account.get("email") or None)

    def info(self, account) -> dict | None:
        """Detailed AccountInfo for an AccountRef or AccountInfo dict."""
        if account is None:
            return None
        ref = self._ref(account)
        keys = [k for k in (ref.username and ref.username.lower(),
                            ref.email and ref.email.lower(),
                            ref.name and ref.name.lower()) if k]
        with self._lock:
            acc_id = ref.gerrit_id
            if acc_id is None:
                acc_id = next((self._by_key[k] for k in keys if k in self._by_key), None)
            if acc_id is None:
                if not keys:
                    return None
                acc_id = self._next
                self._next += 1
            self._next = max(self._next, acc_id + 1)
            stored = self.by_id.setdefault(acc_id, {"_account_id": acc_id})
            for field in ("name", "email", "username"):
                value = getattr(ref, field)
                if value and field not in stored:
                    stored[field] = value
            if not isinstance(account, AccountRef):
                for field, value in account.items():
                    if field not in stored and value not in (None, ""):
                        stored[field] = copy.deepcopy(value)
            for k in keys:
                self._by_key.setdefault(k, acc_id)
            return copy.deepcopy(stored)

    def find(self, text: str, self_user: str | None = None) -> list[dict]:
        """Accounts that ``text`` names: id, username, email, full name,
        'Full Name <email>' or 'self'."""
        text = text.strip()
        if text == "self":
            if not self_user:
                return []
            text = self_user
        m = re.match(r"^(.*?)\s*<([^>]+)>$", text)
        if m:
            text = m.group(2)
        low = text.lower()
        with self._lock:
            if text.isdigit():
                acc = self.by_id.get(int(text))
                return [copy.deepcopy(acc)] if acc else []
            return [copy.deepcopy(a) for a in self.by_id.values()
                    if low in ((a.get("username") or "").lower(), (a.get("email") or "").lower(),
                               (a.get("name") or "").lower())]


# --------------------------------------------------------------------------
# ChangeRec -> ChangeInfo
# --------------------------------------------------------------------------

_PS_FROM_TEXT = re.compile(r"^(?:Patch Set (\d+)\b|Uploaded patch set (\d+)\b)")
_VOTE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*?)([+-]\d+)$")
_REMOVAL = re.compile(r"^-([A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)$")
_LABEL_RANGES = {"Code-Review": (-2, 2), "Verified": (-2, 2), "Workflow": (-1, 1)}


def patchset_from_text(text: str) -> int | None:
    m = _PS_FROM_TEXT.match(text or "")
    if not m:
        return None
    return int(m.group(1) or m.group(2))


def votes_from_text(text: str) -> dict[str, int]:
    """Votes in a 'Patch Set N: Verified+1 -Code-Review' header (0 = removed)."""
    first = (text or "").split("\n", 1)[0]
    m = re.match(r"^Patch Set \d+:(.*)$", first)
    if not m:
        return {}
    votes = {}
    for token in m.group(1).split():
        vote, removal = _VOTE.match(token), _REMOVAL.match(token)
        if vote:
            votes[vote.group(1)] = int(vote.group(2))
        elif removal:
            votes[removal.group(1)] = 0
        else:
            return {}  # not a vote header ("Patch Set 2: Patch Set 1 was rebased")
    return votes


def _message_id(number, index, date, text, profile):
    digest = hashlib.sha1(("%s|%s|%s|%s" % (number, index, date, text)).encode()).digest()
    if profile == "legacy":
        return base64.urlsafe_b64encode(digest[:6]).decode().rstrip("=")
    return digest.hex()


def _synthetic_sha(*parts) -> str:
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()


def _ref_name(number, ps):
    return "refs/changes/%02d/%d/%d" % (number % 100, number, ps)


def _labels_for(approvals: dict) -> dict:
    labels = {}
    for (label, _acc), approval in approvals.items():
        labels.setdefault(label, []).append(approval)
    out = {}
    for label, entries in sorted(labels.items()):
        low, high = _LABEL_RANGES.get(label, (-1, 1))
        low = min([low] + [e["value"] for e in entries])
        high = max([high] + [e["value"] for e in entries])
        info = {"all": entries,
                "values": {("%+d" % v if v else " 0"): ("Score %+d" % v if v else "No score")
                           for v in range(low, high + 1)}}
        for entry in entries:
            value = entry["value"]
            who = {k: entry[k] for k in _ACCOUNT_KEYS if k in entry}
            if value == high:
                info.setdefault("approved", who)
            elif value == low:
                info.setdefault("rejected", who)
            elif value > 0:
                info.setdefault("recommended", who)
            elif value < 0:
                info.setdefault("disliked", who)
        out[label] = info
    return out


def change_info_from_record(rec: ChangeRec, accounts: AccountRegistry | None = None, *,
                            profile: str = "modern", insertions: int = 0,
                            deletions: int = 0) -> dict:
    """A realistic, fully detailed ChangeInfo for a normalised record.

    Messages get ids, ``_revision_number`` (the record's patch set, else the
    "Patch Set N:"/"Uploaded patch set N." header, else the patch set that
    was current at the message's date) and REST dates; revisions are keyed
    by SHA (the record's, else a synthetic one) with ``_number``,
    ``created``, ``uploader`` and ``ref``; patch sets that only messages
    mention are added (a real server has them); ``labels`` holds the votes
    that the messages' headers cast on the current patch set. Accounts get
    numeric ids from ``accounts`` (one registry per fake server keeps them
    consistent across changes).
    """
    accounts = accounts if accounts is not None else AccountRegistry()
    prec = PROFILES[profile].ts_precision
    number = int(rec.number)
    owner = accounts.info(rec.owner) if rec.owner else None
    messages = sorted(rec.messages, key=lambda m: m.date)

    # Patch sets: the record's, plus those its messages name.
    patchsets = {ps.number: ps for ps in rec.patchsets}
    uploads = {}
    for msg in messages:
        ps = patchset_from_text(msg.text)
        if msg.text.startswith("Uploaded patch set") and ps and ps not in uploads:
            uploads[ps] = msg
    wanted = set(patchsets) | {m.patchset for m in messages if m.patchset}
    wanted |= {p for p in (patchset_from_text(m.text) for m in messages) if p}
    if not wanted:
        wanted = {1}
    revisions, ps_created = {}, {}
    for ps in range(1, max(wanted) + 1):
        rec_ps = patchsets.get(ps)
        if rec_ps is None and ps not in wanted:
            continue
        created = rec_ps.created if rec_ps and rec_ps.created else None
        if created is None and ps in uploads:
            created = uploads[ps].date
        if created is None and ps == 1:
            created = rec.created
        uploader = rec_ps.uploader if rec_ps and rec_ps.uploader else None
        if uploader is None and ps in uploads:
            uploader = uploads[ps].author
        uploader = uploader or rec.owner
        sha = (rec_ps.revision if rec_ps and rec_ps.revision
               else _synthetic_sha(rec.project, number, ps))
        revision = {"kind": (rec_ps.kind if rec_ps and rec_ps.kind else "REWORK"),
                    "_number": ps, "ref": _ref_name(number, ps)}
        if created:
            revision["created"] = format_ts(created, prec)
            ps_created[ps] = created
        if uploader:
            revision["uploader"] = accounts.info(uploader)
        revision["commit"] = {
            "parents": [{"commit": _synthetic_sha("parent", rec.project, number, ps)}],
            "subject": rec.subject or "",
            "message": "%s\n\nChange-Id: %s\n" % (rec.subject or "", rec.change_key or ""),
        }
        revisions[sha] = revision
    current_ps = max(r["_number"] for r in revisions.values())
    current_sha = next(s for s, r in revisions.items() if r["_number"] == current_ps)

    def ps_at(when):
        known = [ps for ps, created in ps_created.items() if created <= when]
        return max(known) if known else None

    out_messages, approvals, commenters = [], {}, {}
    for index, msg in enumerate(messages):
        date = format_ts(msg.date, prec)
        info = {"id": msg.gerrit_id or _message_id(number, index, date, msg.text, profile)}
        author = accounts.info(msg.author) if msg.author else None
        if author:
            info["author"] = author
            commenters.setdefault(author["_account_id"], author)
        info["date"] = date
        info["message"] = msg.text
        if msg.tag:
            info["tag"] = msg.tag
        ps = msg.patchset or patchset_from_text(msg.text) or ps_at(msg.date)
        if ps:
            info["_revision_number"] = ps
        out_messages.append(info)
        votes = dict(votes_from_text(msg.text))
        votes.update(msg.votes or {})
        if author and ps == current_ps:
            for label, value in votes.items():
                approval = dict(author)
                approval.update(value=int(value), date=date)
                if msg.tag:
                    approval["tag"] = msg.tag
                approvals[(label, author["_account_id"])] = approval

    times = [t for t in (rec.created, rec.updated, rec.merged_at) if t]
    times += [m.date for m in messages] + list(ps_created.values())
    updated = max(times) if times else _utcnow()
    created = rec.created or (min(times) if times else updated)
    change_id = rec.change_key or "I" + _synthetic_sha("change-id", rec.project, number)
    status = rec.status or "NEW"

    info = {
        "project": rec.project,
        "branch": rec.branch or "master",
        "change_id": change_id,
        "subject": rec.subject or "",
        "status": status,
        "created": format_ts(created, prec),
        "updated": format_ts(updated, prec),
    }
    if status == "MERGED":
        info["submitted"] = format_ts(rec.merged_at or updated, prec)
        merger = next((m for m in reversed(out_messages) if "author" in m and (
            m.get("tag") == "autogenerated:gerrit:merged"
            or m["message"].startswith("Change has been successfully"))), None)
        if merger:
            info["submitter"] = merger["author"]
    info.update(insertions=insertions, deletions=deletions, _number=number)
    if owner:
        info["owner"] = owner
    info["labels"] = _labels_for(approvals)
    voters = {acc for (_label, acc) in approvals}
    reviewers = {"REVIEWER": [commenters[a] for a in sorted(voters) if a in commenters]}
    cc = [a for k, a in sorted(commenters.items())
          if k not in voters and (not owner or k != owner["_account_id"])]
    if cc:
        reviewers["CC"] = cc
    info["reviewers"] = reviewers
    info["messages"] = out_messages
    info["current_revision"] = current_sha
    info["current_revision_number"] = current_ps
    info["revisions"] = revisions
    return info


# --------------------------------------------------------------------------
# Query language (subset of §3 / §7.1 item 5)
# --------------------------------------------------------------------------


class QueryError(Exception):
    """Becomes a 400 with the message as text."""


_AGE = re.compile(r"^(\d+)\s*(s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|"
                  r"hour|hours|d|day|days|w|week|weeks|mon|month|months|y|year|years)$")
_AGE_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "mon": 30 * 86400,
                "y": 365 * 86400}
_QUERY_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?"
                         r"(?:\s*([+-]\d{4}))?$")


def _age_seconds(text):
    m = _AGE.match(text.strip().lower())
    if not m:
        raise QueryError("Invalid age: %s" % text)
    unit = m.group(2)
    if unit.startswith("mon"):
        key = "mon"
    else:
        key = unit[0]
    return int(m.group(1)) * _AGE_SECONDS[key]


def parse_query_time(text):
    m = _QUERY_TIME.match(text.strip())
    if not m:
        raise QueryError("Invalid date/time: %s" % text)
    clock = m.group(2) or "00:00:00"
    if clock.count(":") == 1:
        clock += ":00"
    base, _, frac = clock.partition(".")
    value = dt.datetime.fromisoformat("%sT%s" % (m.group(1), base))
    if frac:
        value = value.replace(microsecond=int(frac[:6].ljust(6, "0")))
    offset = dt.timedelta(0)
    if m.group(3):
        sign = 1 if m.group(3)[0] == "+" else -1
        offset = sign * dt.timedelta(hours=int(m.group(3)[1:3]), minutes=int(m.group(3)[3:5]))
    return value.replace(tzinfo=UTC) - offset


def tokenize(query: str) -> list[tuple]:
    tokens, i, n = [], 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append((ch, None, i))
            i += 1
        elif ch == "-" and i + 1 < n and not query[i + 1].isspace():
            tokens.append(("NOT", None, i))
            i += 1
        else:
            start = i
            m = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*:").match(query, i)
            field = None
            if m:
                field = m.group(0)[:-1]
                i = m.end()
            if i < n and query[i] in "\"{":
                close = '"' if query[i] == '"' else "}"
                end = query.find(close, i + 1)
                if end < 0:
                    raise QueryError("line 1:%d mismatched input '<EOF>': unclosed %s"
                                     % (i, query[i]))
                value = query[i + 1:end]
                i = end + 1
            else:
                j = i
                while j < n and not query[j].isspace() and query[j] not in "()":
                    j += 1
                value = query[i:j]
                i = j
            if field is None and value in ("AND", "OR", "NOT"):
                tokens.append((value, None, start))
            elif field is not None:
                if not value:
                    raise QueryError("line 1:%d no viable alternative at input '%s:'"
                                     % (start, field))
                tokens.append(("TERM", (field.lower(), value), start))
            else:
                tokens.append(("TERM", (None, value), start))
    return tokens


class _QueryParser:
    """Recursive descent; AND binds tighter than OR::

        or    := and (OR and)*
        and   := unary ((AND)? unary)*
        unary := (NOT | -) unary | "(" or ")" | term
    """

    def __init__(self, server: FakeGerrit, query: str, user: str | None):
        self.server = server
        self.user = user
        self.tokens = tokenize(query)
        self.pos = 0
        self.limits: list[int] = []

    def parse(self):
        if not self.tokens:
            raise QueryError("line 1:0 no viable alternative at input '<EOF>'")
        pred = self._or()
        if self.pos < len(self.tokens):
            kind, _val, at = self.tokens[self.pos]
            raise QueryError("line 1:%d extraneous input '%s' expecting <EOF>" % (at, kind))
        return pred

    def _peek(self):
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else None

    def _or(self):
        preds = [self._and()]
        while self._peek() == "OR":
            self.pos += 1
            preds.append(self._and())
        if len(preds) == 1:
            return preds[0]
        return lambda c: any(p(c) for p in preds)

    def _and(self):
        preds = [self._unary()]
        while self._peek() not in (None, "OR", ")"):
            if self._peek() == "AND":
                self.pos += 1
            preds.append(self._unary())
        if len(preds) == 1:
            return preds[0]
        return lambda c: all(p(c) for p in preds)

    def _unary(self):
        kind = self._peek()
        if kind is None:
            raise QueryError("line 1:%d no viable alternative at input '<EOF>'" % self.pos)
        tok = self.tokens[self.pos]
        self.pos += 1
        if kind == "NOT":
            inner = self._unary()
            return lambda c: not inner(c)
        if kind == "(":
            inner = self._or()
            if self._peek() != ")":
                raise QueryError("line 1:%d missing ')'" % tok[2])
            self.pos += 1
            return inner
        if kind == "TERM":
            return self._term(*tok[1])
        raise QueryError("line 1:%d no viable alternative at input '%s'" % (tok[2], kind))

    # -- operators ---------------------------------------------------------

    def _term(self, field, value):
        if field is None:
            if value.isdigit():
                return self._term("change", value)
            if re.match(r"^I[0-9a-f]{4,40}$", value):
                return self._term("change", value)
            low = value.lower()
            return lambda c: low in (c.get("subject") or "").lower()
        handler = getattr(self, "_op_" + field.replace("-", "_"), None)
        if handler is None:
            handler = {"p": self._op_project, "r": self._op_reviewer, "since": self._op_after,
                       "until": self._op_before, "ref": self._op_branch}.get(field)
        if handler is None:
            raise QueryError("Unsupported operator %s:%s" % (field, value))
        return handler(value)

    def _status_pred(self, value):
        value = value.lower()
        groups = {"open": {"NEW", "DRAFT"}, "pending": {"NEW", "DRAFT"}, "new": {"NEW"},
                  "closed": {"MERGED", "ABANDONED"}, "merged": {"MERGED"},
                  "abandoned": {"ABANDONED"}}
        if self.server.profile.name == "legacy":
            groups["draft"] = {"DRAFT"}
        if value not in groups:
            raise QueryError("Unrecognized value: %s" % value)
        wanted = groups[value]
        return lambda c: c.get("status") in wanted

    def _op_status(self, value):
        return self._status_pred(value)

    def _op_is(self, value):
        low = value.lower()
        flags = {"wip": "work_in_progress", "private": "is_private"}
        if low in flags:
            key = flags[low]
            return lambda c: bool(c.get(key))
        return self._status_pred(low)

    @staticmethod
    def _matcher(value):
        if value.startswith("^"):
            try:
                rx = re.compile(value[1:])
            except re.error as exc:
                raise QueryError("Invalid regular expression %s: %s" % (value, exc)) from None
            return lambda s: s is not None and rx.fullmatch(s) is not None
        return lambda s: s == value

    def _op_project(self, value):
        match = self._matcher(value)
        return lambda c: match(c.get("project"))

    def _op_projects(self, value):
        return lambda c: (c.get("project") or "").startswith(value)

    def _op_branch(self, value):
        if value.startswith("refs/heads/"):
            value = value[len("refs/heads/"):]
        match = self._matcher(value)
        return lambda c: match(c.get("branch"))

    def _op_topic(self, value):
        return lambda c: c.get("topic") == value

    def _op_change(self, value):
        if value.isdigit():
            num = int(value)
            return lambda c: c.get("_number") == num
        if "~" in value:
            return lambda c: self.server._matches_id(c, value)
        return lambda c: (c.get("change_id") or "").startswith(value)

    def _op_message(self, value):
        low = value.lower()

        def pred(c):
            texts = [c.get("subject") or ""]
            texts += [(r.get("commit") or {}).get("message") or ""
                      for r in (c.get("revisions") or {}).values()]
            return any(low in t.lower() for t in texts)
        return pred

    def _op_comment(self, value):
        low = value.lower()
        return lambda c: any(low in (m.get("message") or "").lower()
                             for m in c.get("messages") or ())

    def _accounts(self, value):
        found = self.server.accounts.find(value, self.user)
        if value == "self" and not self.user:
            raise QueryError("Must be signed-in to use self")
        return {a["_account_id"] for a in found}

    def _op_owner(self, value):
        ids = self._accounts(value)
        return lambda c: (c.get("owner") or {}).get("_account_id") in ids

    @staticmethod
    def _reviewer_ids(c, state):
        reviewers = c.get("reviewers")
        if reviewers is not None:
            return {a.get("_account_id") for a in reviewers.get(state) or ()}
        if state != "REVIEWER":
            return set()
        return {a.get("_account_id") for label in (c.get("labels") or {}).values()
                for a in label.get("all") or ()}

    def _op_reviewer(self, value):
        ids = self._accounts(value)
        return lambda c: bool(ids & self._reviewer_ids(c, "REVIEWER"))

    def _op_cc(self, value):
        ids = self._accounts(value)
        return lambda c: bool(ids & self._reviewer_ids(c, "CC"))

    def _op_commentby(self, value):
        ids = self._accounts(value)
        return lambda c: any((m.get("author") or {}).get("_account_id") in ids
                             for m in c.get("messages") or ())

    def _op_from(self, value):
        owner, commentby = self._op_owner(value), self._op_commentby(value)
        return lambda c: owner(c) or commentby(c)

    def _op_label(self, value):
        spec, *extras = value.split(",")
        m = re.match(r"^(.+?)(>=|<=|=)([+-]?\d+)$", spec) or re.match(r"^(.+?)()([+-]\d+)$", spec)
        if not m:
            raise QueryError("Invalid label expression: %s" % value)
        name, op, wanted = m.group(1), m.group(2) or "=", int(m.group(3))
        user_ids = None
        for extra in extras:
            key, _, arg = extra.partition("=")
            if key == "user":
                user_ids = self._accounts(arg)
            elif key == "group":
                members = self.server._group_members(arg)
                if members is None:
                    raise QueryError("Group %s not found" % arg)
                user_ids = {a["_account_id"] for a in members}
            else:
                raise QueryError("Invalid label expression: %s" % value)
        compare = {"=": lambda v: v == wanted, ">=": lambda v: v >= wanted,
                   "<=": lambda v: v <= wanted}[op]

        def pred(c):
            entries = [a for a in ((c.get("labels") or {}).get(name) or {}).get("all") or ()
                       if user_ids is None or a.get("_account_id") in user_ids]
            values = [a.get("value", 0) for a in entries if a.get("value")]
            if wanted == 0 and op == "=":
                return not values
            return any(compare(v) for v in values)
        return pred

    def _op_after(self, value):
        cut = parse_query_time(value)
        return lambda c: parse_ts(c["updated"]) >= cut

    def _op_before(self, value):
        cut = parse_query_time(value)
        return lambda c: parse_ts(c["updated"]) <= cut

    def _op_age(self, value):
        cut = self.server.now() - dt.timedelta(seconds=_age_seconds(value))
        return lambda c: parse_ts(c["updated"]) <= cut

    def _op_limit(self, value):
        if not value.isdigit() or int(value) < 1:
            raise QueryError("Invalid limit: %s" % value)
        self.limits.append(int(value))
        return lambda c: True


# --------------------------------------------------------------------------
# Rendering a stored ChangeInfo for one request
# --------------------------------------------------------------------------


def _quote_id(part):
    return urllib.parse.quote(part, safe="")


def _trim_account(acc, detailed, profile, approval=False):
    if not isinstance(acc, dict):
        return acc
    extra = {k: acc[k] for k in _APPROVAL_KEYS if approval and k in acc}
    if approval and not profile.tags:
        extra.pop("tag", None)
    if approval and profile.name == "legacy":
        extra.pop("permitted_voting_range", None)
        extra.pop("post_submit", None)
    if detailed:
        if profile.name == "modern":
            out = {k: v for k, v in acc.items() if k not in _APPROVAL_KEYS}
        else:
            out = {k: acc[k] for k in _ACCOUNT_KEYS if k in acc}
    elif profile.name == "modern":
        out = {"_account_id": acc["_account_id"]} if "_account_id" in acc else {}
    else:
        out = {"name": acc["name"]} if acc.get("name") else {}
    out.update(extra)
    return out


def render_change(stored: dict, options: set, profile: Profile) -> dict:
    c = copy.deepcopy(stored)
    project, branch = c.get("project", ""), c.get("branch", "")
    triplet = "%s~%s~%s" % (_quote_id(project), _quote_id(branch), c.get("change_id", ""))
    out = {}
    if profile.numeric_ids:
        out["id"] = "%s~%s" % (_quote_id(project), c.get("_number"))
        out["triplet_id"] = triplet
    else:
        out["id"] = triplet
    for key, value in c.items():
        if key not in ("id", "triplet_id"):
            out[key] = value
    c = out
    detailed = "DETAILED_ACCOUNTS" in options

    if "MESSAGES" not in options:
        c.pop("messages", None)
    revisions = c.get("revisions") or {}
    current = c.get("current_revision")
    if "ALL_REVISIONS" in options or "ALL_COMMITS" in options:
        pass
    elif {"CURRENT_REVISION", "CURRENT_COMMIT"} & options:
        c["revisions"] = {k: v for k, v in revisions.items() if k == current}
    else:
        c.pop("revisions", None)
        c.pop("current_revision", None)
        c.pop("current_revision_number", None)
    for rev in (c.get("revisions") or {}).values():
        if not {"CURRENT_COMMIT", "ALL_COMMITS"} & options:
            rev.pop("commit", None)
        if profile.name == "legacy":
            rev.pop("real_uploader", None)
    if "DETAILED_LABELS" in options:
        pass
    elif "LABELS" in options:
        for label in (c.get("labels") or {}).values():
            label.pop("values", None)
            if profile.name == "modern":
                for approval in label.get("all") or ():
                    approval.pop("permitted_voting_range", None)
            else:
                label.pop("all", None)
        c.pop("permitted_labels", None)
        c.pop("removable_labels", None)
        c.pop("reviewers", None)
    else:
        for key in ("labels", "permitted_labels", "removable_labels", "reviewers"):
            c.pop(key, None)
    if "SKIP_DIFFSTAT" in options:
        c.pop("insertions", None)
        c.pop("deletions", None)

    # Accounts everywhere.
    for key in ("owner", "submitter"):
        if key in c:
            c[key] = _trim_account(c[key], detailed, profile)
    for msg in c.get("messages") or ():
        for key in ("author", "real_author"):
            if key in msg:
                msg[key] = _trim_account(msg[key], detailed, profile)
        if not profile.tags:
            msg.pop("tag", None)
            msg.pop("real_author", None)
            msg.pop("accounts_in_message", None)
    for rev in (c.get("revisions") or {}).values():
        for key in ("uploader", "real_uploader"):
            if key in rev:
                rev[key] = _trim_account(rev[key], detailed, profile)
    for label in (c.get("labels") or {}).values():
        for key in ("approved", "rejected", "recommended", "disliked"):
            if key in label:
                label[key] = _trim_account(label[key], detailed, profile)
        if "all" in label:
            label["all"] = [_trim_account(a, detailed, profile, approval=True)
                            for a in label["all"]]
    for state, people in list((c.get("reviewers") or {}).items()):
        c["reviewers"][state] = [_trim_account(a, detailed, profile) for a in people]

    if profile.name == "legacy":
        for key in _MODERN_ONLY_CHANGE_FIELDS:
            c.pop(key, None)
    return c


def gson_dumps(obj, pretty=False) -> str:
    """JSON as Gerrit's Gson writes it: HTML-safe escapes, no ASCII escaping."""
    if pretty:
        text = json.dumps(obj, ensure_ascii=False, indent=2, separators=(",", ": "))
    else:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("=", "\\u003d"),
                    ("'", "\\u0027")):
        text = text.replace(ch, esc)
    return text


# --------------------------------------------------------------------------
# Faults and the request log
# --------------------------------------------------------------------------

_PROXY_PAGES = {
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}
_REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
            405: "Method Not Allowed", 409: "Conflict", 429: "Too Many Requests",
            500: "Internal server error"}


def proxy_page(status):
    title = "%d %s" % (status, _PROXY_PAGES.get(status, "Error"))
    return ("<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>"
            "\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n" % (title, title))


@dataclasses.dataclass
class Fault:
    kind: str                   # "status", "slow", "truncate", "disconnect"
    count: int = 1
    status: int = 500
    retry_after: str | None = None
    body: str | None = None
    content_type: str | None = None
    delay: float = 0.0
    mode: str = "body"          # truncate: "body" (cut JSON) or "connection"
    path: re.Pattern | None = None

    def matches(self, path):
        return self.count > 0 and (self.path is None or self.path.search(path) is not None)


@dataclasses.dataclass
class LoggedRequest:
    method: str
    target: str                 # raw request target (path?query)
    path: str                   # raw path, percent-encoded
    params: dict                # parse_qs of the query string
    headers: dict
    user: str | None = None
    status: int | None = None
    fault: str | None = None

    def param(self, name, default=None):
        values = self.params.get(name)
        return values[0] if values else default


@dataclasses.dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: list = dataclasses.field(default_factory=list)
    json: bool = False


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, handler, fake):
        self.fake = fake
        self.open_sockets: set = set()
        self.sockets_lock = threading.Lock()
        super().__init__(addr, handler)

    def process_request(self, request, client_address):
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024  # headers and body leave in one write

    def version_string(self):
        return "Jetty(9.4.53)"

    def do_GET(self):
        self.server.fake._handle(self, "GET")

    def do_HEAD(self):
        self.server.fake._handle(self, "HEAD")

    def do_POST(self):
        self.server.fake._handle(self, "POST")

    def do_PUT(self):
        self.server.fake._handle(self, "PUT")

    def do_DELETE(self):
        self.server.fake._handle(self, "DELETE")

    def log_message(self, format, *args):  # noqa: A002 - quiet test output
        pass


class FakeGerrit:
    """A fake Gerrit on 127.0.0.1 (port 0 = any free port).

    ``users``: HTTP passwords for ``/a/`` ({username: password}).
    ``query_limit``: the server-side cap on ``n`` (queryLimit, default 500).
    ``anonymous_read``: False makes anonymous queries see no changes.
    ``group_member_shape``: "account" (AccountInfo) or "member" (<=2.6
    MemberInfo) for ``/groups/{id}/members/``.
    ``now``: clock for ``age:`` and default message dates.
    """

    def __init__(self, profile: str = "modern", *, users: dict | None = None,
                 query_limit: int = 500, anonymous_read: bool = True,
                 auth_scheme: str | None = None, version: str | None = None,
                 group_member_shape: str = "account", gzip_min: int = 256,
                 now: Callable[[], dt.datetime] | None = None, port: int = 0):
        if profile not in PROFILES:
            raise ValueError("unknown profile %r" % profile)
        self.profile = PROFILES[profile]
        self.users = dict(users if users is not None else {"radar": "secret"})
        self.query_limit = query_limit
        self.anonymous_read = anonymous_read
        self.auth_scheme = auth_scheme or self.profile.auth_scheme
        self.version = version or self.profile.version
        self.group_member_shape = group_member_shape
        self.gzip_min = gzip_min
        self.now = now or _utcnow
        self.accounts = AccountRegistry()
        self.requests: list[LoggedRequest] = []
        self._changes: dict[int, dict] = {}
        self._groups: dict[str, dict] = {}
        self._faults: list[Fault] = []
        self._hooks: list[tuple[int, Callable]] = []
        self._changes_queries = 0
        self._nonces: set[str] = set()
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._port = port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self):
        self._stopping.clear()
        self._httpd = _HTTPServer(("127.0.0.1", self._port), _Handler, self)
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="fake-gerrit", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        with self._httpd.sockets_lock:
            lingering = list(self._httpd.open_sockets)
        for sock in lingering:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        self._thread.join(5)
        self._httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.port

    # -- data --------------------------------------------------------------

    def _normalise_ts(self, obj):
        prec = self.profile.ts_precision
        for key in ("created", "updated", "submitted", "date"):
            if isinstance(obj.get(key), str):
                obj[key] = format_ts(parse_ts(obj[key]), prec)

    def add_change(self, info: dict) -> dict:
        """Store a full ChangeInfo (deep-copied). Missing fields are filled
        the way a server would; timestamps follow the profile's precision;
        accounts get ids from the server's registry. Returns the stored copy.
        """
        c = copy.deepcopy(info)
        if "_number" not in c or "project" not in c:
            raise ValueError("a ChangeInfo needs _number and project")
        c["_number"] = int(c["_number"])
        c.setdefault("branch", "master")
        c.setdefault("change_id", "I" + _synthetic_sha("change-id", c["project"], c["_number"]))
        c.setdefault("subject", "")
        c.setdefault("status", "NEW")
        if c["status"] not in self.profile.statuses:
            raise ValueError("status %s does not exist in the %s profile"
                             % (c["status"], self.profile.name))
        for key in ("owner", "submitter"):
            if key in c:
                c[key] = self.accounts.info(c[key])
        self._normalise_ts(c)
        for index, msg in enumerate(c.setdefault("messages", [])):
            self._normalise_ts(msg)
            msg.setdefault("id", _message_id(c["_number"], index, msg.get("date"),
                                             msg.get("message"), self.profile.name))
            for key in ("author", "real_author"):
                if key in msg:
                    msg[key] = self.accounts.info(msg[key])
        for rev in (c.get("revisions") or {}).values():
            self._normalise_ts(rev)
            for key in ("uploader", "real_uploader"):
                if key in rev:
                    rev[key] = self.accounts.info(rev[key])
        for label in (c.get("labels") or {}).values():
            for key in ("approved", "rejected", "recommended", "disliked"):
                if key in label:
                    label[key] = self.accounts.info(label[key])
            merged = []
            for approval in label.get("all") or ():
                self._normalise_ts(approval)
                acc = self.accounts.info({k: approval[k] for k in _ACCOUNT_KEYS
                                          if k in approval}) or {}
                acc.update({k: approval[k] for k in _APPROVAL_KEYS if k in approval})
                merged.append(acc)
            if "all" in label:
                label["all"] = merged
        for state, people in (c.get("reviewers") or {}).items():
            c["reviewers"][state] = [self.accounts.info(p) for p in people]
        if "updated" not in c:
            times = [m["date"] for m in c["messages"] if m.get("date")]
            times += [c["created"]] if c.get("created") else []
            c["updated"] = max(times, key=parse_ts) if times else format_ts(
                self.now(), self.profile.ts_precision)
        c.setdefault("created", c["updated"])
        if c.get("revisions") and "current_revision" not in c:
            c["current_revision"] = max(c["revisions"].items(),
                                        key=lambda kv: kv[1].get("_number", 0))[0]
        with self._lock:
            self._changes[c["_number"]] = c
        return copy.deepcopy(c)

    def add_record(self, rec: ChangeRec, **kwargs) -> dict:
        """Replay a normalised record (for example from SSH data) as REST data."""
        info = change_info_from_record(rec, self.accounts, profile=self.profile.name, **kwargs)
        return self.add_change(info)

    def add_records(self, recs: Iterable[ChangeRec], **kwargs) -> list[dict]:
        return [self.add_record(r, **kwargs) for r in recs]

    def get_change(self, number: int) -> dict:
        with self._lock:
            return copy.deepcopy(self._changes[number])

    def remove_change(self, number: int):
        with self._lock:
            self._changes.pop(number, None)

    def update_change(self, number: int, updated: dt.datetime | None = None, **fields) -> dict:
        """Set top-level fields and move ``updated`` (default: now)."""
        with self._lock:
            c = self._changes[number]
            c.update(copy.deepcopy(fields))
            c["updated"] = format_ts(updated or self.now(), self.profile.ts_precision)
            self._normalise_ts(c)
            return copy.deepcopy(c)

    def add_message(self, number: int, text: str, *, author=None, date=None,
                    patchset: int | None = None, tag: str | None = None) -> dict:
        """Append a message (as a review would) and move ``updated``."""
        with self._lock:
            c = self._changes[number]
            when = format_ts(date or self.now(), self.profile.ts_precision)
            msg = {"id": _message_id(number, len(c["messages"]), when, text, self.profile.name)}
            if author is not None:
                msg["author"] = self.accounts.info(author)
            msg["date"] = when
            msg["message"] = text
            if tag:
                msg["tag"] = tag
            ps = patchset or patchset_from_text(text)
            if ps is None and c.get("revisions"):
                ps = max(r.get("_number", 0) for r in c["revisions"].values())
            if ps:
                msg["_revision_number"] = ps
            c["messages"].append(msg)
            if parse_ts(when) > parse_ts(c["updated"]):
                c["updated"] = when
            return copy.deepcopy(msg)

    def add_account(self, account) -> dict:
        return self.accounts.info(account)

    def add_group(self, group_id: str, members: Iterable, name: str | None = None,
                  numeric_id: int | None = None):
        infos = [self.accounts.info(m) for m in members]
        with self._lock:
            self._groups[group_id] = {"id": group_id, "name": name or group_id,
                                      "group_id": numeric_id, "members": infos}

    def _group_members(self, group_id):
        with self._lock:
            for group in self._groups.values():
                if group_id in (group["id"], group["name"], str(group["group_id"])):
                    return copy.deepcopy(group["members"])
        return None

    def _matches_id(self, c, ident):
        parts = [urllib.parse.unquote(p) for p in ident.split("~")]
        if len(parts) == 2:
            return c["project"] == parts[0] and parts[1].isdigit() and c["_number"] == int(
                parts[1])
        if len(parts) == 3:
            return (c["project"], c["branch"], c["change_id"]) == tuple(parts)
        return False

    # -- faults and hooks --------------------------------------------------

    def _add_fault(self, fault, path):
        fault.path = re.compile(path) if path else None
        with self._lock:
            self._faults.append(fault)
        return fault

    def fail_next(self, count: int = 1, status: int = 500, *, retry_after=None,
                  body: str | None = None, content_type: str | None = None,
                  path: str | None = None) -> Fault:
        """Answer the next ``count`` requests (whose path matches the regex
        ``path``) with ``status``. 5xx default to an HTML proxy page, 429 to
        Gerrit's text; ``retry_after`` (seconds or an HTTP date) adds a
        Retry-After header."""
        return self._add_fault(Fault("status", count, status,
                                     None if retry_after is None else str(retry_after),
                                     body, content_type), path)

    def slow_next(self, count: int = 1, delay: float = 1.0, *, path: str | None = None) -> Fault:
        """Wait ``delay`` seconds before answering (for client timeouts)."""
        return self._add_fault(Fault("slow", count, delay=delay), path)

    def truncate_next(self, count: int = 1, mode: str = "body", *,
                      path: str | None = None) -> Fault:
        """Cut the body in half: ``body`` sends a consistent Content-Length
        (invalid JSON), ``connection`` announces the full length and closes
        early."""
        return self._add_fault(Fault("truncate", count, mode=mode), path)

    def disconnect_next(self, count: int = 1, *, path: str | None = None) -> Fault:
        """Close the connection without an answer."""
        return self._add_fault(Fault("disconnect", count), path)

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def between_pages(self, fn: Callable[[FakeGerrit], None], after: int = 1):
        """Run ``fn(fake)`` once, after ``after`` /changes/ queries have been
        answered and before the next one is evaluated (the "updated while
        paging" case)."""
        with self._lock:
            self._hooks.append((self._changes_queries + after, fn))

    def _take_fault(self, path):
        with self._lock:
            for fault in self._faults:
                if fault.matches(path):
                    fault.count -= 1
                    return fault
        return None

    # -- request log -------------------------------------------------------

    def change_queries(self) -> list[LoggedRequest]:
        """Logged /changes/ list requests (anonymous and /a/)."""
        return [r for r in self.requests if re.fullmatch(r"(/a)?/changes/?", r.path)]

    def reset_log(self):
        with self._lock:
            self.requests.clear()

    # -- HTTP --------------------------------------------------------------

    def _handle(self, handler, method):
        target = handler.path
        raw_path, _, raw_query = target.partition("?")
        params = urllib.parse.parse_qs(raw_query, keep_blank_values=True)
        entry = LoggedRequest(method, target, raw_path, params, dict(handler.headers.items()))
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)
        with self._lock:
            self.requests.append(entry)
        fault = self._take_fault(raw_path)
        if fault:
            entry.fault = fault.kind
        if fault and fault.kind == "disconnect":
            handler.close_connection = True
            return
        if fault and fault.kind == "slow":
            if self._stopping.wait(fault.delay):
                handler.close_connection = True
                return
        if fault and fault.kind == "status":
            resp = self._fault_response(fault)
        else:
            try:
                resp = self._route(handler, method, raw_path, params, entry)
            except Exception as exc:  # a bug in the fake: answer like Gerrit would
                resp = self._error(method, 500, "Internal server error: %r" % (exc,))
        entry.status = resp.status
        body = resp.body
        truncate = fault if fault and fault.kind == "truncate" else None
        if truncate and truncate.mode == "body":
            body = body[:max(1, len(body) // 2)]
        headers = list(resp.headers)
        accept_enc = handler.headers.get("Accept-Encoding", "")
        if "gzip" in accept_enc.lower() and len(body) >= self.gzip_min:
            packed = gzip.compress(body)
            if len(packed) < len(body):
                body = packed
                headers.append(("Content-Encoding", "gzip"))
                headers.append(("Vary", "Accept-Encoding"))
        sent = body
        if truncate and truncate.mode == "connection":
            sent = body[:max(1, len(body) // 2)]
            handler.close_connection = True
        try:
            handler.send_response(resp.status, _REASONS.get(resp.status))
            for name, value in headers:
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            if method != "HEAD":
                handler.wfile.write(sent)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    def _fault_response(self, fault):
        headers = []
        if fault.retry_after is not None:
            headers.append(("Retry-After", fault.retry_after))
        if fault.body is not None:
            headers.append(("Content-Type", fault.content_type or TEXT_TYPE))
            return _Response(fault.status, fault.body.encode("utf-8"), headers)
        if fault.status >= 500:
            headers.append(("Content-Type", "text/html"))
            return _Response(fault.status, proxy_page(fault.status).encode(), headers)
        text = {429: "exceeded rate limit"}.get(fault.status, _REASONS.get(fault.status, "Error"))
        headers += [("Content-Type", TEXT_TYPE), ("X-Content-Type-Options", "nosniff")]
        return _Response(fault.status, (text + "\n").encode("utf-8"), headers)

    def _json(self, handler, params, obj):
        pp = (params.get("pp") or params.get("prettyPrint") or [None])[0]
        if pp is not None:
            pretty = pp not in ("0", "false")
        else:
            pretty = "application/json" not in handler.headers.get("Accept", "")
        body = MAGIC + gson_dumps(obj, pretty).encode("utf-8") + b"\n"
        return _Response(200, body, [("Content-Type", JSON_TYPE),
                                     ("Content-Disposition", "attachment"),
                                     ("X-Content-Type-Options", "nosniff"),
                                     ("Cache-Control",
                                      "no-cache, no-store, max-age=0, must-revalidate"),
                                     ("Pragma", "no-cache"),
                                     ("Expires", "Mon, 01 Jan 1990 00:00:00 GMT")], json=True)

    @staticmethod
    def _error(method, status, text):
        headers = [("X-Content-Type-Options", "nosniff")]
        if method in ("GET", "HEAD") and ("<" in text or "&" in text):
            # Gerrit's anti-XSS quirk: the text becomes a JSON string.
            body = MAGIC + gson_dumps(text).encode("utf-8") + b"\n"
            headers.append(("Content-Type", JSON_TYPE))
        else:
            body = (text + "\n").encode("utf-8")
            headers.append(("Content-Type", TEXT_TYPE))
        return _Response(status, body, headers)

    def _unauthorized(self, path):
        if self.auth_scheme == "digest":
            nonce = secrets.token_hex(16)
            with self._lock:
                self._nonces.add(nonce)
            challenge = ('Digest realm="%s", domain="/", nonce="%s", algorithm=MD5, qop="auth"'
                         % (REALM, nonce))
        else:
            challenge = 'Basic realm="%s"' % REALM
        page = ('<html>\n<head>\n<meta http-equiv="Content-Type" content="text/html;'
                'charset=ISO-8859-1"/>\n<title>Error 401 Unauthorized</title>\n</head>\n'
                '<body><h2>HTTP ERROR 401</h2>\n<p>Problem accessing %s. Reason:\n<pre>    '
                'Unauthorized</pre></p><hr><a href="http://eclipse.org/jetty">Powered by Jetty://'
                '</a><hr/>\n</body>\n</html>\n' % path)
        return _Response(401, page.encode("iso-8859-1", "replace"),
                         [("WWW-Authenticate", challenge),
                          ("Content-Type", "text/html;charset=iso-8859-1"),
                          ("Cache-Control", "must-revalidate,no-cache,no-store")])

    def _authenticate(self, handler, method):
        header = handler.headers.get("Authorization") or ""
        scheme, _, data = header.partition(" ")
        if self.auth_scheme == "basic" and scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(data.strip()).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            if user in self.users and secrets.compare_digest(self.users[user], password):
                return user
            return None
        if self.auth_scheme == "digest" and scheme.lower() == "digest":
            fields = urllib.request.parse_keqv_list(urllib.request.parse_http_list(data))
            user = fields.get("username")
            with self._lock:
                known_nonce = fields.get("nonce") in self._nonces
            if user not in self.users or not known_nonce or fields.get("uri") != handler.path:
                return None

            def md5(text):
                return hashlib.md5(text.encode("utf-8")).hexdigest()
            ha1 = md5("%s:%s:%s" % (user, fields.get("realm"), self.users[user]))
            ha2 = md5("%s:%s" % (method, fields.get("uri")))
            if fields.get("qop"):
                expected = md5(":".join([ha1, fields["nonce"], fields.get("nc", ""),
                                         fields.get("cnonce", ""), fields["qop"], ha2]))
            else:
                expected = md5("%s:%s:%s" % (ha1, fields["nonce"], ha2))
            if fields.get("realm") == REALM and secrets.compare_digest(
                    expected, fields.get("response", "")):
                return user
        return None

    def _route(self, handler, method, raw_path, params, entry):
        user = None
        path = raw_path
        if path == "/a" or path.startswith("/a/"):
            user = self._authenticate(handler, method)
            if user is None:
                return self._unauthorized(raw_path)
            entry.user = user
            path = path[2:]
        if method not in ("GET", "HEAD"):
            if user is None:
                return self._error(method, 403, "Authentication required")
            return self._error(method, 405, "Method Not Allowed")
        segments = [s for s in path.split("/")]
        if segments and segments[0] == "":
            segments = segments[1:]
        if segments and segments[-1] == "" and len(segments) > 1:
            segments = segments[:-1]
        try:
            if segments == ["changes"]:
                return self._query_changes(handler, params, user)
            if len(segments) >= 2 and segments[0] == "changes":
                return self._change_view(handler, params, user, segments[1], segments[2:])
            if segments == ["accounts"]:
                return self._query_accounts(handler, params, user)
            if len(segments) == 2 and segments[0] == "accounts":
                return self._get_account(handler, params, user,
                                         urllib.parse.unquote(segments[1]))
            if len(segments) == 3 and segments[0] == "groups" and segments[2] == "members":
                return self._group_members_view(handler, params, user,
                                                urllib.parse.unquote(segments[1]))
            if segments == ["config", "server", "version"]:
                return self._json(handler, params, self.version)
        except QueryError as exc:
            return self._error(method, 400, str(exc))
        return self._error(method, 404, "Not Found")

    # -- endpoints ---------------------------------------------------------

    def _options(self, params, preset=()):
        options = set(preset)
        for value in params.get("o", []):
            name = value.upper()
            if name not in self.profile.options:
                raise QueryError('"%s" is not a valid value for "-o"' % value)
            options.add(name)
        return options

    def _int_param(self, params, *names):
        for name in names:
            if name in params:
                value = params[name][0]
                try:
                    return int(value)
                except ValueError:
                    raise QueryError('"%s" is not a valid value for "-%s"'
                                     % (value, name)) from None
        return None

    def _visible(self, user):
        with self._lock:
            changes = [copy.deepcopy(c) for c in self._changes.values()]
        if user is None and not self.anonymous_read:
            return []
        return changes

    def _query_changes(self, handler, params, user):
        for name in params:
            if name not in self.profile.params:
                raise QueryError('"--%s" is not a valid option' % name)
        with self._lock:
            index = self._changes_queries
            self._changes_queries += 1
            due = [fn for at, fn in self._hooks if at == index]
            self._hooks = [(at, fn) for at, fn in self._hooks if at != index]
        for fn in due:
            fn(self)
        options = self._options(params)
        n = self._int_param(params, "n")
        start = self._int_param(params, "S", "start") or 0
        if start < 0:
            raise QueryError("start must be >= 0")
        queries = params.get("q") or ["status:open"]
        no_limit = ("no-limit" in params and user is not None)
        results = []
        for query in queries:
            parser = _QueryParser(self, query, user)
            pred = parser.parse()
            limit = None if no_limit else self.query_limit
            if n is not None and n > 0:
                limit = n if limit is None else min(n, limit)
            for lim in parser.limits:
                limit = lim if limit is None else min(lim, limit)
            matched = [c for c in self._visible(user) if pred(c)]
            matched.sort(key=lambda c: (parse_ts(c["updated"]), c["_number"]), reverse=True)
            window = matched[start:]
            page = window if limit is None else window[:limit]
            rendered = [render_change(c, options, self.profile) for c in page]
            if limit is not None and len(window) > limit and rendered:
                rendered[-1]["_more_changes"] = True
            results.append(rendered)
        return self._json(handler, params, results[0] if len(queries) == 1 else results)

    def _find_change(self, ident, user):
        ident_dec = urllib.parse.unquote(ident)
        found = []
        for c in self._visible(user):
            if ident_dec.isdigit():
                ok = c["_number"] == int(ident_dec)
            elif "~" in ident:
                ok = self._matches_id(c, ident)
            else:
                ok = c.get("change_id") == ident_dec
            if ok:
                found.append(c)
        return found[0] if len(found) == 1 else None

    def _change_view(self, handler, params, user, ident, rest):
        change = self._find_change(ident, user)
        if change is None:
            return self._error("GET", 404, "Not found: %s" % urllib.parse.unquote(ident))
        if rest == []:
            options = self._options(params)
        elif rest == ["detail"]:
            options = self._options(params, ("LABELS", "DETAILED_LABELS", "DETAILED_ACCOUNTS",
                                             "REVIEWER_UPDATES", "MESSAGES"))
        elif rest == ["messages"]:
            rendered = render_change(change, {"MESSAGES", "DETAILED_ACCOUNTS"}, self.profile)
            return self._json(handler, params, rendered.get("messages", []))
        else:
            return self._error("GET", 404, "Not Found")
        return self._json(handler, params, render_change(change, options, self.profile))

    def _render_account(self, acc, details):
        if details:
            return _trim_account(acc, True, self.profile)
        return {"_account_id": acc["_account_id"]}

    def _query_accounts(self, handler, params, user):
        if not params.get("q"):
            raise QueryError("missing query field")
        details = any(o.upper() in ("DETAILS", "ALL_EMAILS") for o in params.get("o", []))
        n = self._int_param(params, "n")
        start = self._int_param(params, "S", "start") or 0
        preds = []
        for field, value in (t[1] for t in tokenize(params["q"][0]) if t[0] == "TERM"):
            low = value.lower()
            if field in ("name", "username", "email"):
                preds.append(lambda a, f=field, v=low: v in (a.get(f) or "").lower())
            elif field == "is" and low == "active":
                preds.append(lambda a: not a.get("inactive"))
            elif field is None:
                preds.append(lambda a, v=low: any(v in (a.get(f) or "").lower()
                                                  for f in ("name", "username", "email")))
            else:
                raise QueryError("Unsupported operator %s:%s" % (field, value))
        if user is None and not self.anonymous_read:
            return self._json(handler, params, [])
        with self.accounts._lock:
            accounts = sorted(self.accounts.by_id.values(), key=lambda a: a["_account_id"])
            matched = [copy.deepcopy(a) for a in accounts if all(p(a) for p in preds)]
        limit = min(n, self.query_limit) if n and n > 0 else self.query_limit
        page = matched[start:start + limit]
        out = [self._render_account(a, details) for a in page]
        if len(matched) > start + limit and out:
            out[-1]["_more_accounts"] = True
        return self._json(handler, params, out)

    def _get_account(self, handler, params, user, ident):
        if ident == "self" and user is None:
            return self._error("GET", 403, "Authentication required")
        if user is None and not self.anonymous_read:
            return self._error("GET", 404, "Account '%s' not found" % ident)
        found = self.accounts.find(ident, user)
        if len(found) != 1:
            return self._error("GET", 404, "Account '%s' not found" % ident)
        return self._json(handler, params, _trim_account(found[0], True, self.profile))

    def _group_members_view(self, handler, params, user, group_id):
        members = self._group_members(group_id)
        if members is None or (user is None and not self.anonymous_read):
            return self._error("GET", 404, "Group Not Found: %s" % group_id)
        if self.group_member_shape == "member":
            out = [{"kind": "gerritcodereview#member", "full_name": a.get("name"),
                    "account_id": a["_account_id"], "preferred_email": a.get("email"),
                    "user_name": a.get("username")} for a in members]
            out = [{k: v for k, v in m.items() if v is not None} for m in out]
        else:
            out = [_trim_account(a, True, self.profile) for a in members]
        out.sort(key=lambda a: (a.get("name") or a.get("full_name") or "").lower())
        return self._json(handler, params, out)


@contextlib.contextmanager
def running(**kwargs):
    """``with running(profile="legacy") as gerrit: ...``"""
    fake = FakeGerrit(**kwargs)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def serve(**kwargs):
    """Generator for pytest fixtures: ``yield from serve(profile=...)``."""
    with running(**kwargs) as fake:
        yield fake
