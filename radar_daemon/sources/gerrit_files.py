"""Read saved Gerrit output from files: the source behind ``radar-daemon import``.

Three formats (``FORMATS``), each in the layouts real tools write them:

``query``
    ``gerrit query --format=JSON`` output: one change object per line and a
    final ``{"type":"stats",...}`` trailer (skipped, it is not a record), or a
    single pretty-printed change object.
``stream``
    ``gerrit stream-events`` logs: one event per line, or a JSON array of
    events.
``rest``
    Saved ``GET /changes/`` responses, with or without the ``)]}'`` prefix:
    an array of ChangeInfo, an array of such arrays (repeated ``q=``), or
    one ChangeInfo; several saved responses may follow each other.

Reading streams. JSON lines are read line by line from a rolling byte
buffer; arrays and pretty-printed objects are decoded one element at a time
(``json.JSONDecoder.raw_decode`` over a rolling text buffer), so memory stays
flat whatever the file size. One record is held in memory at a time; a single
record larger than ``MAX_RECORD_BYTES`` is reported and skipped (JSON lines)
or ends the file (other layouts: there is no safe place to resume).

Bad records. A line or element that cannot be read (bad JSON, missing or
mistyped fields) is logged at WARNING with its location, appended to
``errors`` (when given) as ``(location, message)``, and skipped; reading goes
on. A location is ``"<name>:<line>"``: the line a JSON line or an array
element starts on (compact one-line arrays also name the byte offset in the
message). Events of types radar does not use (``ref-updated``,
``reviewer-added``, ``dropped-output``, ...) are skipped quietly (DEBUG).

Resuming a growing file. ``iter_records`` returns a :class:`GerritFileReader`,
an iterator whose ``offset`` attribute is the byte offset just after the last
complete line it has consumed (records, skipped lines and bad lines alike).
While the caller handles a record, ``offset`` already counts that record's
line. A ``files`` source that tails a stream-events log stores ``offset``
after a pass and passes it back as ``start_offset`` next time, so it reads
only what was appended::

    reader = iter_records(path, start_offset=saved, start_line=lines, tail=True)
    ingest(reader)
    saved, lines = reader.offset, reader.lines

``start_line`` (optional) is the number of lines before ``start_offset``,
so that locations keep naming absolute line numbers; without it, lines are
counted from the resume point. If the file turns out shorter than
``start_offset`` (rotated or truncated), reading restarts at byte 0 and
line 1 with a WARNING.

An unterminated last line (a writer caught mid-line) is never counted in
``offset``. With ``tail=True`` it is left alone for the next pass; without it,
it is parsed if it can be (a file that just lacks a final newline) and
reported as truncated if it cannot. ``start_offset`` works for JSON lines
only; for arrays and pretty-printed objects ``offset`` is informational
(bytes read so far).

Mapping decisions where the data is ambiguous:

* Message dates in stream events. ``comment-added`` uses ``eventCreatedOn``.
  Old servers (the elastic-recheck capture, review.openstack.org 2013) send no
  ``eventCreatedOn`` and no ``grantedOn`` at all, so the only time on the
  event is ``patchSet.createdOn``, the upload time, which is a lower bound
  only (a CI report comes minutes to hours later). The fallbacks, in order,
  are the newest ``grantedOn`` of the approvals changed by the event, then
  ``patchSet.createdOn``. When the upload time is used, the reader counts the
  message in ``reader.undated`` and logs one WARNING per file (DEBUG per
  event), and marks the message ``date_estimated`` so that ingest derives no
  latency from it. Such messages will not deduplicate against the same
  message read later from REST (the fingerprint includes the second).
* ``merged_at`` (query): the time of the "Change has been successfully
  merged/cherry-picked/rebased/pushed" message; else the newest ``SUBM``
  approval; else ``lastUpdated``, an upper bound that later comments can
  push out. Only for MERGED changes. Stream: ``change-merged`` uses
  ``eventCreatedOn`` (None without it). REST ChangeInfo is converted by
  ``gerrit_rest.parse_change_info``, the same code the REST collector uses
  (``merged_at`` = ``submitted`` there).
* Votes (``MessageRec.votes``) come only from stream ``comment-added``:
  approvals with ``oldValue`` (changed in this event, Gerrit 2.12+); if none
  has ``oldValue`` and the comment has no ``Patch Set N:`` header (old
  servers list approvals only when they change), all approvals. Otherwise
  None, since the header text carries the votes. Old label codes are renamed
  (``VRIF`` Verified, ``CRVW`` Code-Review, ``APRV`` Workflow), ``SUBM`` is
  not a vote, and values become ints (``"-1"`` becomes -1).
* Query patch sets: ``patchSets`` if present, plus ``currentPatchSet``; any
  patch set named by an "Uploaded patch set N." message and not listed is
  added (created and uploader from that message). Patch set 1 is always
  added when missing: from its upload message, else the change's
  ``createdOn`` (the change is created by uploading patch set 1) with no
  uploader.
* A query message's patch set: the ``Patch Set N:`` header or the
  "Uploaded patch set N" text; else the newest patch set created at or
  before the message. Stream messages: ``patchSet.number``.
  Query "Uploaded patch set N." messages get the tag
  ``autogenerated:gerrit:newPatchSet``, as REST and ``patchset-created``
  events have.
* Status: ``NEW``/``MERGED``/``ABANDONED`` kept; old ``DRAFT``, ``SUBMITTED``
  and ``OPEN`` become NEW; with no ``status``, ``open: true`` gives NEW, and
  ``open: false`` gives MERGED if a merge message is present, else None.
"""

import codecs
import io
import json
import logging
import os
import re
import sys
from collections.abc import Iterator

from radar.common import exception, timeutils
from radar_daemon.records import AccountRef, ChangeRec, MessageRec, PatchSetRec
from radar_daemon.sources import gerrit_rest

LOG = logging.getLogger(__name__)

FORMATS = ("query", "stream", "rest")

CHUNK_SIZE = 1 << 20
MAX_RECORD_BYTES = 64 << 20
XSSI_PREFIX = ")]}'"

NEW_PATCHSET_TAG = "autogenerated:gerrit:newPatchSet"
LABEL_CODES = {"VRIF": "Verified", "CRVW": "Code-Review", "APRV": "Workflow"}
STREAM_TYPES = ("comment-added", "patchset-created", "change-merged",
                "change-abandoned", "change-restored")

_PS_HEADER = re.compile(r"^\s*Patch Set (\d+):")
_UPLOADED = re.compile(r"^\s*Uploaded patch set (\d+)\b")
_MERGED = re.compile(r"^\s*Change has been successfully "
                     r"(?:merged|cherry-picked|rebased|pushed)")
_STATUSES = {"NEW": "NEW", "MERGED": "MERGED", "ABANDONED": "ABANDONED",
             "DRAFT": "NEW", "SUBMITTED": "NEW", "OPEN": "NEW"}


class FormatError(exception.RecordError, ValueError):
    """A file whose format is unknown or cannot be read as asked."""


# --- format detection ------------------------------------------------------

# Top-level keys of events that change objects (query or REST) never have.
_EVENT_KEYS = frozenset(("type", "change", "patchSet", "comment", "author", "approvals",
                         "uploader", "submitter", "abandoner", "restorer", "refUpdate",
                         "eventCreatedOn", "changeKey"))


def _format_of(keys, type_value=None):
    """Decide the format from an object's top-level keys, or None."""
    if "_number" in keys:
        return "rest"
    if "number" in keys and "project" in keys:
        return "query"
    if type_value == "stats":
        return "query"
    if not _EVENT_KEYS.isdisjoint(keys):
        return "stream"
    return None


_KEY_SCAN = re.compile(r'["\[\]{}:,]')
_STR_END = re.compile(r'["\\]')


def _sniff_object(text, i):
    """Top-level keys (and the string value of "type") of the object at
    text[i], reading no further than the text goes (it may be cut)."""
    keys, type_value = set(), None
    depth, last_str, n = 0, None, len(text)
    while i < n:
        m = _KEY_SCAN.search(text, i)
        if not m:
            break
        ch, i = m.group(), m.end()
        if ch == '"':
            start = i
            while True:
                e = _STR_END.search(text, i)
                if e is None:
                    return keys, type_value
                if e.group() == "\\":
                    i = e.end() + 1
                    continue
                i = e.end()
                break
            value = text[start:i - 1]
            if depth == 1 and last_str == ("key", "type"):
                type_value = value
                last_str = None
            else:
                last_str = ("str", value)
        elif ch == ",":
            last_str = None
        elif ch == ":":
            if depth == 1 and last_str and last_str[0] == "str":
                keys.add(last_str[1])
                last_str = ("key", last_str[1])
            else:
                last_str = None
        elif ch in "[{":
            depth += 1
            last_str = None
        else:
            depth -= 1
            last_str = None
            if depth == 0:
                break
    return keys, type_value


def detect_format(first_chunk):
    """Tell the format of a file from its first bytes (str or bytes).

    ``)`` starts a saved REST response; ``[`` an array, told by its first
    element; ``{`` an object: ``_number`` means REST, ``number`` and
    ``project`` a query change, ``type`` (and no change number) an event.
    The chunk may end anywhere. Raises FormatError if it cannot tell.
    """
    if isinstance(first_chunk, bytes):
        first_chunk = first_chunk.decode("utf-8", "replace")
    text = first_chunk.lstrip("\ufeff \t\r\n")
    if not text:
        raise FormatError("cannot tell the format of an empty input")
    if text.startswith(")"):
        return "rest"
    i = 0
    while i < len(text) and text[i] in "[ \t\r\n":
        i += 1
    if i < len(text) and text[i] == "{":
        fmt = _format_of(*_sniff_object(text, i))
        if fmt:
            return fmt
    raise FormatError(
        "cannot tell the Gerrit format from %r...: expected saved REST /changes/ "
        "output, `gerrit stream-events` events or `gerrit query --format=JSON` "
        "changes; pass fmt= (one of %s)" % (text[:60], ", ".join(FORMATS)))


# --- field helpers ----------------------------------------------------------

def _bad(msg, *args):
    return exception.RecordError(msg % args if args else msg)


def _int(value, what):
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise _bad("%s is not a number: %r", what, value)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise _bad("%s is not a number: %r", what, value) from None


def _epoch(value, what):
    if value is None:
        return None
    try:
        return timeutils.from_epoch(_int(value, what))
    except (OverflowError, OSError, ValueError):
        raise _bad("%s is not a time: %r", what, value) from None


def _str(value, what):
    if value is None or isinstance(value, str):
        return value or None
    raise _bad("%s is not a string: %r", what, value)


def _dict(value, what):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _bad("%s is not an object", what)
    return value


def _list(value, what):
    if value is None:
        return []
    if not isinstance(value, list):
        raise _bad("%s is not a list", what)
    return value


def _account(value, what):
    if value is None:
        return None
    value = _dict(value, what)
    gerrit_id = value.get("_account_id")
    ref = AccountRef(
        gerrit_id=None if gerrit_id is None else _int(gerrit_id, what + "._account_id"),
        username=_str(value.get("username"), what + ".username"),
        name=_str(value.get("name"), what + ".name"),
        email=_str(value.get("email"), what + ".email"))
    return ref if ref.key else None


def _status(value, is_open=None, merged_seen=False):
    if isinstance(value, str) and value.strip():
        status = _STATUSES.get(value.strip().upper())
        if status is None:
            LOG.debug("unknown change status %r", value)
        return status
    if is_open is True:
        return "NEW"
    if is_open is False and merged_seen:
        return "MERGED"
    return None


def _change_base(change, what="change"):
    change = _dict(change, what)
    if "number" not in change:
        raise _bad("%s has no number", what)
    number = _int(change["number"], what + ".number")
    project = change.get("project")
    if not isinstance(project, str) or not project:
        raise _bad("%s %s has no project", what, number)
    return ChangeRec(
        number=number, project=project,
        branch=_str(change.get("branch"), "branch"),
        change_key=_str(change.get("id"), "id"),
        subject=_str(change.get("subject"), "subject"),
        owner=_account(change.get("owner"), "owner"),
        status=_status(change.get("status"), change.get("open")),
        created=_epoch(change.get("createdOn"), "createdOn"),
        updated=_epoch(change.get("lastUpdated"), "lastUpdated"))


def _patchset(ps, what="patchSet"):
    ps = _dict(ps, what)
    if "number" not in ps:
        raise _bad("%s has no number", what)
    return PatchSetRec(
        number=_int(ps["number"], what + ".number"),
        revision=_str(ps.get("revision"), what + ".revision"),
        created=_epoch(ps.get("createdOn"), what + ".createdOn"),
        uploader=_account(ps.get("uploader"), what + ".uploader"),
        kind=_str(ps.get("kind"), what + ".kind"))


def _text_patchset(text):
    m = _PS_HEADER.match(text) or _UPLOADED.match(text)
    return int(m.group(1)) if m else None


def _attribute(messages, patchsets):
    """Give header-less messages the newest patch set created by then."""
    dated = sorted((ps.created, ps.number) for ps in patchsets if ps.created)
    for msg in messages:
        if msg.patchset is None:
            best = None
            for created, number in dated:
                if created <= msg.date and (best is None or number > best):
                    best = number
            msg.patchset = best


# --- query ------------------------------------------------------------------

def _query_change(obj):
    rec = _change_base(obj)
    by_number = {}
    for i, raw in enumerate(_list(obj.get("patchSets"), "patchSets")):
        ps = _patchset(raw, "patchSets[%d]" % i)
        by_number[ps.number] = ps
    current = obj.get("currentPatchSet")
    if current is not None:
        ps = _patchset(current, "currentPatchSet")
        by_number.setdefault(ps.number, ps)

    merged_msg = None
    for i, raw in enumerate(_list(obj.get("comments"), "comments")):
        what = "comments[%d]" % i
        raw = _dict(raw, what)
        text = raw.get("message")
        if not isinstance(text, str):
            raise _bad("%s has no message text", what)
        date = _epoch(raw.get("timestamp"), what + ".timestamp")
        if date is None:
            raise _bad("%s has no timestamp", what)
        msg = MessageRec(date=date, text=text,
                         author=_account(raw.get("reviewer"), what + ".reviewer"),
                         patchset=_text_patchset(text))
        uploaded = _UPLOADED.match(text)
        if uploaded:
            msg.tag = NEW_PATCHSET_TAG
            number = int(uploaded.group(1))
            if number not in by_number:
                by_number[number] = PatchSetRec(number=number, created=date, uploader=msg.author)
        if _MERGED.match(text) and (merged_msg is None or date >= merged_msg):
            merged_msg = date
        rec.messages.append(msg)

    if 1 not in by_number and rec.created is not None:
        by_number[1] = PatchSetRec(number=1, created=rec.created)
    rec.patchsets = [by_number[n] for n in sorted(by_number)]
    _attribute(rec.messages, rec.patchsets)

    if rec.status is None:
        rec.status = _status(None, obj.get("open"), merged_msg is not None)
    if rec.status == "MERGED":
        rec.merged_at = merged_msg or _query_submit_time(obj) or rec.updated
    return rec


def _query_submit_time(obj):
    best = None
    sets = list(_list(obj.get("patchSets"), "patchSets"))
    if obj.get("currentPatchSet") is not None:
        sets.append(obj["currentPatchSet"])
    for ps in sets:
        for appr in _list(_dict(ps, "patch set").get("approvals"), "approvals"):
            if isinstance(appr, dict) and appr.get("type") == "SUBM":
                when = _epoch(appr.get("grantedOn"), "approval grantedOn")
                if when and (best is None or when > best):
                    best = when
    return best


# --- stream -----------------------------------------------------------------

def _votes(approvals, text):
    approvals = [a for a in _list(approvals, "approvals") if isinstance(a, dict)]
    changed = [a for a in approvals if "oldValue" in a]
    if not changed and not _PS_HEADER.match(text or ""):
        changed = approvals
    votes = {}
    for appr in changed:
        label = appr.get("type")
        if not isinstance(label, str) or label == "SUBM":
            continue
        try:
            value = int(appr.get("value"))
        except (TypeError, ValueError):
            LOG.debug("approval %r has no numeric value", appr)
            continue
        votes[LABEL_CODES.get(label, label)] = value
    return votes or None, changed


def _stream_event(event, reader):
    """One event -> ChangeRec, or None for event types radar does not use."""
    etype = event.get("type")
    if not isinstance(etype, str):
        raise _bad("event has no type")
    if etype not in STREAM_TYPES:
        return None
    rec = _change_base(event.get("change"), "change")
    event_time = _epoch(event.get("eventCreatedOn"), "eventCreatedOn")
    ps = None
    if event.get("patchSet") is not None:
        ps = _patchset(event["patchSet"])
        rec.patchsets.append(ps)

    if etype == "comment-added":
        if ps is None:
            raise _bad("comment-added event without patchSet")
        text = event.get("comment")
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise _bad("comment is not a string")
        votes, changed = _votes(event.get("approvals"), text)
        date, estimated = event_time, False
        if date is None:
            granted = [_epoch(a.get("grantedOn"), "grantedOn") for a in changed
                       if a.get("grantedOn") is not None]
            date = max(granted) if granted else None
        if date is None:
            date = ps.created
            if date is None:
                raise _bad("comment-added event has no time at all")
            estimated = True
            reader._undated()
        rec.messages.append(MessageRec(
            date=date, text=text, author=_account(event.get("author"), "author"),
            patchset=ps.number, votes=votes, date_estimated=estimated))
    elif etype == "patchset-created":
        if ps is None:
            raise _bad("patchset-created event without patchSet")
        if ps.uploader is None:
            ps.uploader = _account(event.get("uploader"), "uploader")
        if ps.created is None:
            ps.created = event_time
        if ps.created is not None:
            rec.messages.append(MessageRec(
                date=ps.created, text="Uploaded patch set %d." % ps.number,
                author=ps.uploader, patchset=ps.number, tag=NEW_PATCHSET_TAG))
    elif etype == "change-merged":
        rec.status = "MERGED"
        rec.merged_at = event_time
    elif etype == "change-abandoned":
        rec.status = "ABANDONED"
    else:  # change-restored
        rec.status = "NEW"
    return rec


# --- reading ----------------------------------------------------------------

class _Skip(Exception):
    """Not a record and not an error (stats trailer, unused event)."""


class GerritFileReader:
    """Iterator of ChangeRec over one file; see the module docstring.

    Attributes: ``name``, ``fmt`` (known once the first record is read, or
    as given), ``layout`` ("lines" or "document"), ``offset`` (bytes; the
    resume point for JSON lines), ``lines`` (JSON lines consumed up to
    ``offset``, counting ``start_line``), ``records`` (yielded), ``skipped``
    (bad records), ``undated`` (stream messages dated by their patch set
    upload).
    """

    def __init__(self, source, fmt=None, name=None, errors=None, start_offset=0,
                 tail=False, start_line=0, chunk_size=CHUNK_SIZE,
                 max_record_bytes=MAX_RECORD_BYTES):
        if fmt is not None and fmt not in FORMATS:
            raise FormatError("unknown Gerrit file format %r; expected one of %s"
                              % (fmt, ", ".join(FORMATS)))
        if start_offset < 0 or start_line < 0:
            raise ValueError("start_offset and start_line must be >= 0")
        self.fmt = fmt
        self.errors = errors
        self.tail = tail
        self.chunk_size = chunk_size
        self.max_record_bytes = max_record_bytes
        self.layout = None
        self.records = 0
        self.skipped = 0
        self.undated = 0
        self._owned = False
        if isinstance(source, (str, os.PathLike)) and os.fspath(source) == "-":
            source = sys.stdin
            name = name or "<stdin>"
        if isinstance(source, (str, os.PathLike)):
            self.name = name or os.fspath(source)
            self._raw = open(source, "rb")  # closed by close() or at the end
            self._owned = True
        else:
            if isinstance(source, io.TextIOWrapper):
                # Read the bytes under sys.stdin and friends: byte offsets
                # and no newline translation.
                source = source.buffer
            self.name = name or _stream_name(source)
            self._raw = source
        self.offset = self._seek(start_offset)
        self.lines = start_line if self.offset else 0
        self._gen = self._run()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._gen)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._gen.close()
        if self._owned:
            self._raw.close()

    # -- plumbing --

    def _seek(self, start):
        if start == 0:
            return 0
        raw = self._raw
        seekable = getattr(raw, "seekable", None)
        if seekable is not None and seekable() and not isinstance(raw, io.TextIOBase):
            size = raw.seek(0, io.SEEK_END)
            if start > size:
                LOG.warning("%s: is shorter (%d bytes) than the resume offset %d: "
                            "reading it again from the start", self.name, size, start)
                start = 0
            raw.seek(start)
            return start
        # Text or unseekable streams: drop whole lines up to `start`.
        left = start
        while left > 0:
            line = raw.readline()
            if isinstance(line, str):
                line = line.encode("utf-8")
            if not line:
                raise ValueError("%s: ends before the resume offset %d" % (self.name, start))
            if len(line) > left:
                raise ValueError("%s: the resume offset %d is not at the start of a line"
                                 % (self.name, start))
            left -= len(line)
        return start

    def _read(self, size):
        data = self._raw.read(size)
        if isinstance(data, str):
            data = data.encode("utf-8")
        return data or b""

    def _undated(self):
        self.undated += 1
        LOG.debug("%s: event without eventCreatedOn: dated by its patch set upload",
                  self.name)

    def _error(self, location, message):
        self.skipped += 1
        LOG.warning("%s: skipped: %s", location, message)
        if self.errors is not None:
            self.errors.append((location, message))

    def _convert(self, obj, location):
        """Turn one decoded object into a ChangeRec; raise _Skip or RecordError."""
        if not isinstance(obj, dict):
            raise _bad("not a JSON object but %s", type(obj).__name__)
        if self.fmt is None:
            fmt = _format_of(obj.keys(), obj.get("type"))
            if fmt is None:
                raise FormatError(
                    "%s: cannot tell the Gerrit format from the first record (keys: %s); "
                    "pass fmt= (one of %s)" % (location, ", ".join(sorted(obj)[:10]),
                                               ", ".join(FORMATS)))
            self.fmt = fmt
            LOG.debug("%s: format %s", self.name, fmt)
        if self.fmt == "query":
            kind = obj.get("type")
            if kind == "stats":
                raise _Skip()
            if kind is not None and "number" not in obj:
                raise _bad("query output line of type %r: %s", kind,
                           str(obj.get("message", ""))[:200])
            rec = _query_change(obj)
        elif self.fmt == "stream":
            rec = _stream_event(obj, self)
            if rec is None:
                LOG.debug("%s: skipping %s event", location, obj.get("type"))
                raise _Skip()
        else:
            rec = gerrit_rest.parse_change_info(obj)
        rec.location = location
        return rec

    def _handle(self, obj, location):
        try:
            rec = self._convert(obj, location)
        except _Skip:
            return None
        except FormatError:
            raise
        except exception.RecordError as exc:
            self._error(location, str(exc))
            return None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self._error(location, "cannot read record: %s" % exc)
            return None
        self.records += 1
        return rec

    def _run(self):
        try:
            head = self._read(self.chunk_size)
            if head.startswith(codecs.BOM_UTF8) and self.offset == 0:
                head = head[len(codecs.BOM_UTF8):]
                self.offset = len(codecs.BOM_UTF8)
            self.layout = _layout(head)
            if self.layout == "lines":
                yield from self._lines(head)
            elif self.layout == "document":
                if self.offset:
                    raise FormatError("%s: resuming at a byte offset works for JSON lines "
                                      "only, and this is a JSON document" % self.name)
                yield from self._document(head)
            if self.undated:
                LOG.warning("%s: %d stream event(s) carry no eventCreatedOn; their "
                            "messages are dated by the patch set upload time (a lower "
                            "bound)", self.name, self.undated)
        finally:
            if self._owned:
                self._raw.close()

    # -- JSON lines --

    def _lines(self, buf):
        lineno = self.lines
        pos = 0
        eof = False
        dropping = False
        while True:
            nl = buf.find(b"\n", pos)
            if nl < 0:
                if eof:
                    break
                if len(buf) - pos > self.max_record_bytes:
                    if not dropping:
                        lineno += 1
                        self._error("%s:%d" % (self.name, lineno),
                                    "line longer than %d bytes" % self.max_record_bytes)
                        dropping = True
                    self.offset += len(buf) - pos
                    buf, pos = b"", 0
                data = self._read(self.chunk_size)
                if not data:
                    eof = True
                    continue
                buf = buf[pos:] + data if pos < len(buf) else data
                pos = 0
                continue
            line = buf[pos:nl]
            end = nl + 1
            self.offset += end - pos
            pos = end
            if dropping:
                dropping = False
                continue
            lineno += 1
            self.lines = lineno
            if not line.strip():
                continue
            rec = self._line(line, lineno)
            if rec is not None:
                yield rec
        rest = buf[pos:]
        if rest.strip() and not dropping and not self.tail:
            lineno += 1
            location = "%s:%d" % (self.name, lineno)
            try:
                obj = json.loads(rest)
            except ValueError as exc:
                self._error(location, "truncated last line (no newline at the end): %s"
                            % _short(exc))
                return
            self.offset += len(rest)
            self.lines = lineno
            rec = self._handle(obj, location)
            if rec is not None:
                yield rec

    def _line(self, line, lineno):
        location = "%s:%d" % (self.name, lineno)
        try:
            obj = json.loads(line)
        except ValueError as exc:
            self._error(location, "bad JSON: %s" % _short(exc))
            return None
        return self._handle(obj, location)

    # -- JSON documents (arrays, pretty-printed objects) --

    def _document(self, head):
        doc = _TextBuffer(self, head)
        depth = 0
        while True:
            if not doc.skip_space():
                break
            ch = doc.buf[doc.pos]
            if ch == "{":
                line, byte = doc.where()
                obj, err = doc.decode_object()
                location = "%s:%d" % (self.name, line)
                if err is not None:
                    self._error(location, "%s (byte offset %d)" % (err, byte))
                    if doc.fatal:
                        break
                    continue
                rec = self._handle(obj, location)
                if rec is not None:
                    yield rec
            elif ch == "[":
                depth += 1
                doc.pos += 1
            elif ch == "]" and depth > 0:
                depth -= 1
                doc.pos += 1
            elif ch == "," and depth > 0:
                doc.pos += 1
            elif (depth == 0 and ch == ")" and doc.need(len(XSSI_PREFIX))
                  and doc.buf.startswith(XSSI_PREFIX, doc.pos)):
                doc.pos += len(XSSI_PREFIX)
            else:
                line, byte = doc.where()
                location = "%s:%d" % (self.name, line)
                what = doc.skip_scalar()
                if what is not None:
                    self._error(location, "not a JSON object but %s (byte offset %d)"
                                % (what, byte))
                    continue
                self._error(location, "unexpected %r in a JSON document (byte offset %d)"
                            % (doc.buf[doc.pos:doc.pos + 20], byte))
                if not doc.skip_line():
                    break
        if depth > 0 and not doc.fatal:
            line, byte = doc.where()
            self._error("%s:%d" % (self.name, line), "array not closed at the end of the file")
        self.offset = doc.consumed_bytes()


def _stream_name(stream):
    name = getattr(stream, "name", None)
    if isinstance(name, str) and name:
        return name
    return "<stream>"


def _short(exc):
    return str(exc)[:200]


def _layout(head):
    """'lines' (JSON lines) or 'document' (array, pretty object, REST dump)."""
    text = head.lstrip(b" \t\r\n")
    if not text:
        return "lines"
    if text[:1] in (b"[", b")"):
        return "document"
    if text[:1] == b"{":
        first_line = text.split(b"\n", 1)[0]
        if not first_line[1:].strip():
            return "document"
    return "lines"


class _TextBuffer:
    """A rolling text buffer over the reader's bytes, for raw_decode."""

    _STRUCT = re.compile(r'["\[\]{}]')
    _STRING = re.compile(r'["\\]')
    _SPACE = re.compile(r"[^ \t\r\n]")

    def __init__(self, reader, head):
        self.reader = reader
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.json = json.JSONDecoder()
        self.buf = self.decoder.decode(head)
        self.pos = 0
        self.eof = False
        self.fatal = False
        # Line and byte counting up to self.mark.
        self.mark = 0
        self.line = 1
        self.bytes = reader.offset

    def fill(self):
        """Read one more chunk; drop what is before pos. False at EOF."""
        if self.eof:
            return False
        data = self.reader._read(self.reader.chunk_size)
        if not data:
            self.eof = True
            tail = self.decoder.decode(b"", final=True)
            if not tail:
                return False
            text = tail
        else:
            text = self.decoder.decode(data)
        self._count(self.pos)
        self.buf = self.buf[self.pos:] + text
        self.mark -= self.pos
        self.pos = 0
        return True

    def need(self, n):
        """Make sure n chars are buffered after pos, if the file has them."""
        while len(self.buf) - self.pos < n:
            if not self.fill():
                return False
        return True

    def _count(self, upto):
        if upto > self.mark:
            part = self.buf[self.mark:upto]
            self.line += part.count("\n")
            self.bytes += len(part) if part.isascii() else len(part.encode("utf-8"))
            self.mark = upto

    def where(self):
        self._count(self.pos)
        return self.line, self.bytes

    def consumed_bytes(self):
        self._count(self.pos)
        return self.bytes

    def skip_space(self):
        """Move to the next non-blank char; False at EOF."""
        while True:
            m = self._SPACE.search(self.buf, self.pos)
            if m:
                self.pos = m.start()
                return True
            self.pos = len(self.buf)
            if not self.fill():
                return False

    def decode_object(self):
        """Decode the object at pos; return (obj, None) or (None, error)."""
        try:
            obj, stop = self.json.raw_decode(self.buf, self.pos)
        except ValueError:
            pass  # cut by the end of the buffer, or bad: scan to tell
        else:
            self.pos = stop
            return obj, None
        state = [0, 0, False]  # scan index (relative to pos), depth, in string
        while True:
            end = self._scan(state)
            if end is not None:
                break
            if len(self.buf) - self.pos > self.reader.max_record_bytes:
                self.fatal = True
                self.pos = len(self.buf)
                return None, ("record longer than %d bytes; the rest of the file is not read"
                              % self.reader.max_record_bytes)
            if not self.fill():
                self.fatal = True
                self.pos = len(self.buf)
                return None, "truncated record at the end of the file"
        try:
            obj, stop = self.json.raw_decode(self.buf, self.pos)
        except ValueError as exc:
            self.pos = end
            return None, "bad JSON: %s" % _short(exc)
        if stop != end:
            self.pos = end
            return None, "bad JSON: object ends unexpectedly"
        self.pos = stop
        return obj, None

    def _scan(self, state):
        """Find the end of the value at pos (an object or array); None if
        the buffer ends first. `state` carries the scan across refills."""
        buf, base = self.buf, self.pos
        i, depth, in_str = base + state[0], state[1], state[2]
        n = len(buf)
        while True:
            if in_str:
                m = self._STRING.search(buf, i)
                if m is None:
                    i = n
                    break
                if m.group() == "\\":
                    if m.end() >= n:
                        i = m.start()
                        break
                    i = m.end() + 1
                    continue
                in_str = False
                i = m.end()
                continue
            m = self._STRUCT.search(buf, i)
            if m is None:
                i = n
                break
            ch, i = m.group(), m.end()
            if ch == '"':
                in_str = True
            elif ch in "[{":
                depth += 1
            else:
                depth -= 1
                if depth <= 0:
                    return i
        state[0], state[1], state[2] = i - base, depth, in_str
        return None

    def skip_scalar(self):
        """Skip a scalar at pos and return its type name, or None."""
        self.need(64)
        try:
            value, stop = self.json.raw_decode(self.buf, self.pos)
        except ValueError:
            return None
        if stop < len(self.buf) or self.eof:
            self.pos = stop
            return type(value).__name__
        return None

    def skip_line(self):
        """After garbage: skip to the next line; False at EOF."""
        while True:
            nl = self.buf.find("\n", self.pos)
            if nl >= 0:
                self.pos = nl + 1
                return True
            self.pos = len(self.buf)
            if not self.fill():
                return False


def iter_records(fileobj_or_path, fmt=None, name=None, errors=None, start_offset=0,
                 tail=False, start_line=0) -> Iterator[ChangeRec]:
    """Stream ChangeRec from a saved Gerrit file; returns a GerritFileReader.

    ``fileobj_or_path``: a path, ``"-"`` for stdin, or a text or binary file
    object. ``fmt``: one of FORMATS, or None to detect it from the first
    record (FormatError, a ValueError, if that fails). ``name``: used in
    locations (default: the path or the file object's name). ``errors``: a
    list that gets ``(location, message)`` for every record skipped as bad.
    ``start_offset``/``tail`` and the reader's ``offset`` attribute: see the
    module docstring ("Resuming a growing file"). Each ChangeRec has
    ``location`` set to ``"<name>:<line>"``.
    """
    return GerritFileReader(fileobj_or_path, fmt=fmt, name=name, errors=errors,
                            start_offset=start_offset, tail=tail, start_line=start_line)
