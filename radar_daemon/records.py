"""Normalised Gerrit records: what every source yields and ingest consumes.

A source never talks to the database; it turns its wire format into these
records. Fields left as None mean "this source does not say", and ingest
keeps what it already knows for them.
"""

import dataclasses
import datetime as dt
import hashlib
import re

_HEADER = re.compile(r"^Patch Set \d+:[^\n]*(?:\n+|$)")


@dataclasses.dataclass(frozen=True)
class AccountRef:
    gerrit_id: int | None = None
    username: str | None = None
    name: str | None = None
    email: str | None = None

    @property
    def key(self):
        """Identity shared by REST (has ids) and SSH/stream data (has none)."""
        if self.username:
            return self.username.lower()
        if self.gerrit_id is not None:
            return "#%d" % self.gerrit_id
        if self.email:
            return self.email.lower()
        if self.name:
            return self.name.lower()
        return None


@dataclasses.dataclass
class PatchSetRec:
    number: int
    revision: str | None = None
    created: dt.datetime | None = None
    uploader: AccountRef | None = None
    kind: str | None = None


@dataclasses.dataclass
class MessageRec:
    date: dt.datetime
    text: str
    author: AccountRef | None = None
    # The patch set the message belongs to, when the source says so.
    patchset: int | None = None
    tag: str | None = None
    gerrit_id: str | None = None
    # Votes cast by this message that are not in its text (old stream-events
    # comments have no "Patch Set N: Verified+1" header): {"Verified": 1}.
    votes: dict | None = None
    # True when the source gives no time for the message and `date` is a
    # lower bound (old stream-events without eventCreatedOn).
    date_estimated: bool = False

    def fingerprint(self, change_number):
        """Same message, same key, whichever path brought it.

        The "Patch Set N: votes" header is left out because old
        stream-events comments lack it; times are cut to whole seconds
        because SSH formats carry no fraction.
        """
        body = _HEADER.sub("", self.text.strip(), count=1).strip()
        author = self.author.key if self.author else ""
        raw = "%d|%d|%s|%s" % (change_number, int(self.date.timestamp()), author or "", body)
        return hashlib.sha1(raw.encode("utf-8")).hexdigest()


@dataclasses.dataclass
class ChangeRec:
    number: int
    project: str
    branch: str | None = None
    change_key: str | None = None
    subject: str | None = None
    owner: AccountRef | None = None
    status: str | None = None
    created: dt.datetime | None = None
    updated: dt.datetime | None = None
    merged_at: dt.datetime | None = None
    patchsets: list[PatchSetRec] = dataclasses.field(default_factory=list)
    messages: list[MessageRec] = dataclasses.field(default_factory=list)
    # Where the record came from, for log lines: "file.json:12", "REST page 3".
    location: str | None = None
