"""Classify Gerrit messages written by CI systems (pure functions, no I/O).

The meaning of a report and the order of the rules that decide its result
are fixed by DESIGN.md §5; the message shapes come from
reference/gerrit-wire-format.md §2.5 (the "Patch Set N:" header) and §5
(Zuul v2/v3+, Jenkins Gerrit Trigger, free-form vendors, recheck).

For a CI author's message the kinds are:

* START: an "in progress" notice ("Starting check jobs.", "Build Started").
* REPORT: the message states a result, decided by the first rule that
  applies: (1) the headline, (2) the Verified vote, (3) the job lines,
  (4) UNKNOWN.
* VOTE_REMOVAL: the header only removes a vote ("Patch Set 1: -Verified").
* CHATTER: anything else without a result or a vote.

Decisions where the rules are silent (kept here so the code and its
readers agree):

* "No Builds Executed" (Gerrit Trigger, nothing ran) is a REPORT with
  result UNKNOWN: the CI answered the patch set, but neither passed nor
  failed it, so it counts for coverage and not for the success rate.
* A vote on a label other than Verified (Gerrit Trigger's "unstable" casts
  Code-Review-1) makes a message a REPORT; only Verified decides a result,
  so without a headline or job lines the result is UNKNOWN.
* Gerrit Trigger's " (skipped)" marks a build whose result does not count
  towards the vote, which is what "(non-voting)" means for Zuul: such jobs
  get voting=False.
* A job named only by its URL whose path has no usable segment (Hyper-V's
  ``http://64.119.130.115/92468/1/``) is named after the URL's host: change
  and patch set numbers would give the "same" job a new name per change.
* "recheck bug 1234" / "recheck no bug" (OpenStack's 2013-2014 syntax) ask
  every CI, so their target is None.
* Gerrit's own messages are never reports, whoever they are attributed to
  (old servers credit the merge message to the CI that submitted).
"""

import dataclasses
import functools
import re
from urllib.parse import urlsplit

from radar.db.models import CANCELED, FAILURE, MERGE_FAILED, SUCCESS, UNKNOWN

__all__ = [
    "SUCCESS", "FAILURE", "MERGE_FAILED", "CANCELED", "UNKNOWN",
    "REPORT", "START", "VOTE_REMOVAL", "CHATTER", "VERIFIED_LABELS",
    "JobLine", "Header", "Classification",
    "parse_header", "classify_ci_message", "is_gerrit_system_message", "parse_recheck",
]

REPORT, START, VOTE_REMOVAL, CHATTER = "report", "start", "vote_removal", "chatter"

VERIFIED_LABELS = ("Verified", "VRIF")
VERIFIED = "Verified"

# Column sizes in radar.db.models (ci_reports, ci_job_results).
MAX_HEADLINE = 255
MAX_DETAIL = 255
MAX_RESULT = 64
MAX_NAME = 255
MAX_URL = 1024
MAX_PIPELINE = 64
MAX_TARGET = 255
# Gerrit caps review messages far below this; the cap only bounds the work
# done on hostile or corrupt input.
MAX_TEXT = 256 * 1024

# Old label codes (stream-events of ReviewDb-era servers) -> label names.
_LABEL_ALIASES = {"VRIF": VERIFIED, "CRVW": "Code-Review", "APRV": "Approved"}


@dataclasses.dataclass
class JobLine:
    name: str
    url: str | None
    result: str
    voting: bool
    duration_s: float | None
    detail: str | None
    passed: bool


@dataclasses.dataclass
class Header:
    patchset: int | None
    votes: dict[str, int]
    removed: list[str]
    body: str


@dataclasses.dataclass
class Classification:
    kind: str
    result: str | None
    pipeline: str | None
    headline: str | None
    vote_label: str | None
    vote: int | None
    jobs: list[JobLine]
    truncated: bool
    patchset: int | None


# --------------------------------------------------------------------------
# Header: "Patch Set <N>:" + (" " + vote)* + "\n\n" + message   (§2.5)

_PATCH_SET_RE = re.compile(r"[ \t]*Patch Set (?P<ps>\d{1,9}):(?P<rest>[^\n]*)")
_UPLOADED_RE = re.compile(r"[ \t]*Uploaded patch set (?P<ps>\d{1,9})\b[.:]?(?P<rest>[^\n]*)",
                          re.IGNORECASE)
# "Verified+1", "Code-Review-2"; the lazy label lets "Code-Review-1" split
# at the last sign. Values are small; a longer number is not a vote.
_VOTE_TOKEN_RE = re.compile(r"(?P<label>[A-Za-z][A-Za-z0-9_-]*?)(?P<value>[+-]\d{1,4})")
# "-Verified": the vote was set to 0 (removed).
_REMOVAL_TOKEN_RE = re.compile(r"-(?P<label>[A-Za-z][A-Za-z0-9_-]*)")
# Gerrit's count of inline comments, "(2 comments)" or (≤2.8) "(2 inline comments)".
_COMMENT_COUNT_RE = re.compile(r"\(\d+ (?:inline )?comments?\)")


def _normalise(text) -> str:
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = text[:MAX_TEXT]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_header(text: str) -> Header:
    """Split a message into its Gerrit header (patch set, votes) and body.

    Messages without a header (stream-events comments) give patchset None,
    no votes and the whole text as the body.
    """
    text = _normalise(text)
    m = _PATCH_SET_RE.match(text) or _UPLOADED_RE.match(text)
    if m is None:
        return Header(patchset=None, votes={}, removed=[], body=text.strip())
    patchset = int(m.group("ps"))
    votes: dict[str, int] = {}
    removed: list[str] = []
    tokens = m.group("rest").split()
    # Votes come first on the header line; the first token that is not a
    # vote starts the body ("Patch Set 2: Patch Set 1 was rebased").
    consumed = 0
    for token in tokens:
        vote = _VOTE_TOKEN_RE.fullmatch(token)
        removal = _REMOVAL_TOKEN_RE.fullmatch(token)
        if vote:
            value = int(vote.group("value"))
            if value == 0:
                # Gerrit ≈2.6 printed a removal as "Verified+0".
                removed.append(vote.group("label"))
            else:
                votes[vote.group("label")] = value
        elif removal:
            removed.append(removal.group("label"))
        else:
            break
        consumed += 1
    leftover = " ".join(tokens[consumed:])
    body = (leftover + "\n" + text[m.end():]).strip()
    return Header(patchset=patchset, votes=votes, removed=removed, body=body)


def _canonical_label(label: str) -> str:
    return _LABEL_ALIASES.get(label, label)


def _vote_value(value) -> int | None:
    """A vote from outside the text: int, "1", "-1", "+2" (strings on old servers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,4}\s*", value):
        return int(value)
    return None


def _merge_votes(header: Header, extra) -> dict[str, int]:
    """Votes cast by the message: the header's, over the ones known from outside."""
    merged: dict[str, int] = {}
    removed = {_canonical_label(label) for label in header.removed}
    if isinstance(extra, dict):
        for label, value in extra.items():
            if not isinstance(label, str):
                continue
            label = _canonical_label(label)
            number = _vote_value(value)
            # 0 is no vote; a removal in the header beats a stale approval.
            if number and label not in removed:
                merged[label] = number
    for label, value in header.votes.items():
        merged[_canonical_label(label)] = value
    return merged


# --------------------------------------------------------------------------
# Gerrit's own messages

_GERRIT_TAG_PREFIX = "autogenerated:gerrit:"
_SYSTEM_MESSAGE_RES = [re.compile(p) for p in (
    r"Uploaded patch set \d+\s*(?:[.:]|$)",
    r"Patch Set \d+: (?:Patch Set \d+ was rebased|Cherry Picked\b|Commit message was updated"
    r"|New patch set was added with same tree|Published edit on patch set \d+"
    r"|No code changes|Reverted\b|Abandoned\b|Restored\b)",
    r"Change has been successfully (?:merged|cherry-picked|pushed|rebased)",
    r"Change (?:could not|cannot) be merged\b",
    r"Your change (?:could not be merged|requires a manual merge)",
    r"(?:Abandoned|Restored|Reverted)\b",
    r"Created a revert of this change\b",
    r"Removed (?:reviewer|cc)\s",
    r"Removed (?:the following )?votes?\b",
    # Vote deletion by an admin: "Removed Verified-1 by jenkins-bot <>".
    r"Removed [A-Za-z][A-Za-z0-9_-]*?[+-]\d+ by\b",
    r"Topic (?:set to|changed from|removed|\S+ removed)\b",
    r"Hashtags? (?:added|removed|set)\b",
    r"Set (?:Work In Progress|Ready For Review|private)\b",
    r"Unset private\b",
    r"(?:Moved|Change has been moved) (?:from|to) branch\b",
    r"Assignee (?:added|changed|deleted|removed)\b",
    r"Description (?:set to|changed to|removed)\b",
)]


def is_gerrit_system_message(text: str, tag: str | None) -> bool:
    """True for messages Gerrit writes itself (uploads, merges, abandons...)."""
    if isinstance(tag, str) and tag.startswith(_GERRIT_TAG_PREFIX):
        return True
    text = _normalise(text).lstrip()
    return any(r.match(text) for r in _SYSTEM_MESSAGE_RES)


# --------------------------------------------------------------------------
# Headlines

_START_RES = [re.compile(p, re.IGNORECASE) for p in (
    r"Starting (?P<pipeline>[\w.+-]+) jobs\b",          # Zuul start-message
    r"Build Started\b",                                  # Gerrit Trigger
    r"(?:the\s+)?(?:build|builds|tests?|testing|jobs?|checks?)\s+"
    r"(?:(?:is|are|has|have|been)\s+){0,2}"
    r"(?:started|starting|queued|enqueued|running|in progress)\b",
)]

# A few words before the verb: "Main test build succeeded.",
# "Gate pipeline build failed.", "Arista third party testing PASSED".
_LEAD = r"(?:[\w.+-]+\s+){0,5}?"
_SUBJECT = r"(?:build|builds|tests?|testing|checks?|jobs?)\s+"

# Ordered: the first pattern that matches the headline decides.
_HEADLINE_RESULT_RES = [(re.compile(p, flags), result) for p, flags, result in (
    (r"Merge Failed\b", re.I, MERGE_FAILED),
    (r"(?:This change depends|These changes depend) on (?:a )?changes? that failed to merge",
     re.I, MERGE_FAILED),
    (r"This change (?:or one of its cross-repo dependencies )?was unable to be "
     r"automatically merged", re.I, MERGE_FAILED),
    (r"This change is unable to merge\b", re.I, MERGE_FAILED),
    (r"This change was not merged by the code review system", re.I, MERGE_FAILED),
    (r"Build cancell?ed\b", re.I, CANCELED),
    (r"Build Aborted\b", re.I, CANCELED),
    (r"No Builds Executed\b", re.I, UNKNOWN),
    (r"Build Unstable\b", re.I, FAILURE),
    (_LEAD + _SUBJECT + r"(?:failed|failure)\b", re.I, FAILURE),
    (_LEAD + r"FAILED\b", 0, FAILURE),
    (r"Failed using\b", 0, FAILURE),                     # XenServer CI
    (r"Doesn't seem to work\b", re.I, FAILURE),          # Big Switch CI
    (_LEAD + _SUBJECT + r"(?:succeeded|successful|passed)\b", re.I, SUCCESS),
    (_LEAD + r"PASSED\b", 0, SUCCESS),
    (r"Passed using\b", 0, SUCCESS),                     # XenServer CI
)]

_TAG_PIPELINE_RE = re.compile(r"autogenerated:zuul:(?P<pipeline>[^\s:]+)")
_HEADLINE_PIPELINE_RES = [re.compile(p, re.IGNORECASE) for p in (
    r"\((?P<pipeline>[\w.+-]+) pipeline\)",              # "Build succeeded (check pipeline)."
    r"^(?P<pipeline>[\w.+-]+) pipeline\b",               # "Gate pipeline build failed."
    r"^Starting (?P<pipeline>[\w.+-]+) jobs\b",          # "Starting gate jobs."
)]

_TRUNCATED_RE = re.compile(
    r"Successful jobs omitted due to length restrictions|\.\.\. \(truncated\)\s*$")


def _cap(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:limit] if value else None


def _first_line(body: str) -> str | None:
    """The headline candidate: the first line that is not Gerrit's comment count."""
    for line in body.split("\n"):
        line = line.strip()
        if line and not _COMMENT_COUNT_RE.fullmatch(line):
            return line
    return None


def _pipeline(tag: str | None, headline: str | None) -> str | None:
    # The tag is Zuul's own statement of the pipeline; headlines are
    # deployment-configured text and come second (§5.6).
    if isinstance(tag, str):
        m = _TAG_PIPELINE_RE.match(tag)
        if m:
            return _cap(m.group("pipeline").lower(), MAX_PIPELINE)
    if headline:
        for regex in _HEADLINE_PIPELINE_RES:
            m = regex.search(headline)
            if m:
                return _cap(m.group("pipeline").lower(), MAX_PIPELINE)
    return None


def _headline_result(headline: str | None) -> str | None:
    if headline:
        for regex, result in _HEADLINE_RESULT_RES:
            if regex.match(headline):
                return result
    return None


# --------------------------------------------------------------------------
# Job lines

# Every job word Zuul (v2, v3+) and Jenkins print (DESIGN.md §5, §5.2, §5.3).
JOB_RESULTS = frozenset((
    "SUCCESS", "FAILURE", "ERROR", "POST_FAILURE", "TIMED_OUT", "RETRY_LIMIT",
    "NODE_FAILURE", "SKIPPED", "ABORTED", "CANCELED", "NOT_REGISTERED", "LOST",
    "MERGE_CONFLICT", "MERGE_FAILURE", "CONFIG_ERROR", "DISK_FULL", "EXCEPTION",
    "UNSTABLE", "NOT_BUILT",
))
_PASSED_RESULTS = frozenset(("SUCCESS", "SKIPPED"))
# Custom job messages (Zuul success_message, vendor CIs) that clearly mean
# success: "Looks good to me", "Passed", "OK".
_CUSTOM_PASS_RE = re.compile(
    r"(?:success(?:ful(?:ly)?)?|succeeded|pass(?:ed|es)?|ok(?:ay)?|looks good|good|green)\b",
    re.IGNORECASE)

# Zuul v3+ "- ", ciwatch-style "* "; Gerrit Trigger lines have no bullet.
_BULLET_RE = re.compile(r"[-*][ \t]+")
_SEPARATOR_RE = re.compile(r"[ \t]+:(?:[ \t]+|$)")
# Zuul: " in 1h 02m 03s", " in 4m 03s", " in 14s" (always ends with seconds).
_ELAPSED_RE = re.compile(
    r"(?:^|\s)in\s+(?:(?P<h>\d{1,6})h\s*)?(?:(?P<m>\d{1,6})m\s*)?(?P<s>\d{1,6}(?:\.\d+)?)s\b")
_NON_VOTING_RE = re.compile(r"\(non-voting\)", re.IGNORECASE)
_SKIPPED_MARK_RE = re.compile(r"\(skipped\)", re.IGNORECASE)
# Path segments that never name a job: build hashes, UUIDs and numbers
# (change, patch set, build number) vary from run to run...
_ID_SEGMENT_RE = re.compile(r"[0-9a-f]{6,40}|[0-9a-f]{8}-[0-9a-f-]{27}|\d+", re.IGNORECASE)
# ...and these name a page or a folder, not the job.
_PAGE_SEGMENT_RE = re.compile(
    r"console(?:Full|Text)?|index\.html?|html|build|builds|logs?|artifacts|ci-artifacts"
    r"|doc|docs|job",
    re.IGNORECASE)
# OpenStack log layout .../<nn>/<change>/<ps>/<pipeline>/<job>/<hash>.
_OPENSTACK_LOG_RE = re.compile(r"/\d+/\d+/\d+/[^/]+/(?P<job>[^/]+)")
# Jenkins: .../job/<name>/<build>/ (the last one for folders).
_JENKINS_JOB_RE = re.compile(r".*/job/(?P<job>[^/]+)/\d+")


def _looks_like_url(token: str) -> bool:
    return "://" in token or token.startswith(("build/", "/"))


def _job_name_from_url(url: str) -> str:
    """A stable job name for a line that only has a URL (Zuul 2.x, Gerrit Trigger)."""
    try:
        parts = urlsplit(url)
        path, host = parts.path, parts.hostname or ""
    except ValueError:
        path, host = url, ""
    # Known layouts name the job at a fixed place.
    for regex in (_OPENSTACK_LOG_RE, _JENKINS_JOB_RE):
        m = regex.search(path)
        if m and not _ID_SEGMENT_RE.fullmatch(m.group("job")):
            return m.group("job")[:MAX_NAME]
    for segment in reversed([s for s in path.split("/") if s]):
        if not (_ID_SEGMENT_RE.fullmatch(segment) or _PAGE_SEGMENT_RE.fullmatch(segment)):
            return segment[:MAX_NAME]
    return (host or url.strip() or "unknown")[:MAX_NAME]


def _duration(m: re.Match) -> float:
    hours, minutes = int(m.group("h") or 0), int(m.group("m") or 0)
    return hours * 3600 + minutes * 60 + float(m.group("s"))


def _parse_job_line(line: str) -> tuple[JobLine | None, bool]:
    """Parse one job line; the flag says a Gerrit Trigger "<<<" block is still open.

    Job lines start at column 0 (Zuul indents its warning blocks), so an
    indented line is never a job.
    """
    bullet = _BULLET_RE.match(line)
    rest = line[bullet.end():] if bullet else line
    sep = _SEPARATOR_RE.search(rest)
    if sep is None or line[:1].isspace():
        return None, False
    left, right = rest[:sep.start()].split(), rest[sep.end():].strip()
    if not left or len(left) > 2 or not right:
        return None, False
    if not bullet and not (len(left) == 1 and _looks_like_url(left[0])):
        # Without a bullet only Gerrit Trigger's "<url> : RESULT" is a job.
        return None, False

    # Name and URL: "job url", "url" (Zuul 2.x), "job job" (Zuul without URL).
    if len(left) == 2:
        name, url = left[0], left[1]
        if url == name:
            url = None
    elif _looks_like_url(left[0]):
        url = left[0]
        name = _job_name_from_url(url)
    else:
        name, url = left[0], None

    # Gerrit Trigger unsuccessful message: " <<<\nmsg\n>>>" (or on one line).
    block_open, block = False, None
    if "<<<" in right:
        right, _, block = right.partition("<<<")
        block, closed, _ = block.partition(">>>")
        block_open = not closed
    voting = True
    if _NON_VOTING_RE.search(right) or _SKIPPED_MARK_RE.search(right):
        voting = False
        right = _SKIPPED_MARK_RE.sub(" ", _NON_VOTING_RE.sub(" ", right))

    duration = None
    extra = ""
    # The last " in <T>" is the elapsed time; an earlier one belongs to the detail.
    elapsed = None
    for match in _ELAPSED_RE.finditer(right):
        elapsed = match
    if elapsed is not None:
        duration = _duration(elapsed)
        extra = right[elapsed.end():]
        right = right[:elapsed.start()]
    right = right.strip()
    if not right:
        return None, False

    word, _, detail = right.partition(" ")
    if word.rstrip(".,;:").upper() in JOB_RESULTS:
        result = word.rstrip(".,;:").upper()
        passed = result in _PASSED_RESULTS
    elif url is not None:
        # A custom job message ("Looks good to me"): keep it as written.
        result, detail = right, ""
        passed = bool(_CUSTOM_PASS_RE.match(result))
    else:
        # No URL and no known result word: prose such as "- Note : see below".
        return None, False
    details = [d for d in (detail, extra, block) if d and d.strip()]
    job = JobLine(
        name=name[:MAX_NAME],
        url=url[:MAX_URL] if url else None,
        result=result[:MAX_RESULT].strip(),
        voting=voting,
        duration_s=duration,
        detail=_cap(" ".join(d.strip() for d in details), MAX_DETAIL),
        passed=passed,
    )
    return job, block_open


def _parse_jobs(body: str) -> list[JobLine]:
    jobs: list[JobLine] = []
    lines = body.split("\n")
    i = 0
    while i < len(lines):
        job, block_open = _parse_job_line(lines[i])
        i += 1
        if job is None:
            continue
        if block_open:
            # Gather the Gerrit Trigger message up to its closing ">>>".
            block = [job.detail] if job.detail else []
            while i < len(lines):
                text, closed, _ = lines[i].partition(">>>")
                block.append(text.strip())
                i += 1
                if closed:
                    break
            job.detail = _cap(" ".join(b for b in block if b), MAX_DETAIL)
        jobs.append(job)
    return jobs


def _result_from_jobs(jobs: list[JobLine]) -> str:
    # Non-voting jobs do not count, unless every job is non-voting (CIs that
    # never vote often mark all their jobs so).
    counted = [j for j in jobs if j.voting] or jobs
    return SUCCESS if all(j.passed for j in counted) else FAILURE


# --------------------------------------------------------------------------
# Classification

def classify_ci_message(text: str, tag: str | None = None,
                        votes: dict | None = None) -> Classification:
    """Classify a message written by a CI account.

    `votes` are extra votes known from outside the text (stream-events
    approvals, e.g. {"VRIF": "1"}), merged under the header votes.
    """
    header = parse_header(text)
    headline = _first_line(header.body)
    pipeline = _pipeline(tag, headline)
    base = dict(pipeline=pipeline, headline=_cap(headline, MAX_HEADLINE),
                vote_label=None, vote=None, jobs=[], truncated=False,
                patchset=header.patchset)

    if is_gerrit_system_message(text, tag):
        return Classification(kind=CHATTER, result=None, **base)
    if headline and any(r.match(headline) for r in _START_RES):
        return Classification(kind=START, result=None, **base)

    cast = _merge_votes(header, votes)
    verified = cast.get(VERIFIED)
    jobs = _parse_jobs(header.body)
    if jobs and headline and _parse_job_line(headline)[0] is not None:
        base["headline"] = None  # the first line is a job, not a headline
    base.update(vote_label=VERIFIED if verified else None, vote=verified or None,
                jobs=jobs, truncated=bool(_TRUNCATED_RE.search(header.body)))

    result = _headline_result(headline)
    if result is None and verified:
        result = SUCCESS if verified > 0 else FAILURE
    if result is None and jobs:
        result = _result_from_jobs(jobs)
    if result is None and cast:
        result = UNKNOWN  # voted, but not on Verified
    if result is not None:
        return Classification(kind=REPORT, result=result, **base)

    base.update(jobs=[], truncated=False)
    if header.removed:
        return Classification(kind=VOTE_REMOVAL, result=None, **base)
    return Classification(kind=CHATTER, result=None, **base)


# --------------------------------------------------------------------------
# Recheck requests

# OpenStack's 2013-2014 syntax asked every CI: "recheck bug 1234", "recheck no bug".
_BUG_TARGET_RE = re.compile(r"(?:no\s+bug|bug\b(?:\s*#?\s*\d+)?)(?:\s.*)?", re.IGNORECASE)


@functools.lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def _strip_comment_counts(body: str) -> str:
    lines = [line for line in body.split("\n") if not _COMMENT_COUNT_RE.fullmatch(line.strip())]
    return "\n".join(lines).strip()


def parse_recheck(text: str, pattern: str) -> tuple[bool, str | None]:
    """Is this human comment a recheck request, and for which CI.

    The pattern (radar.conf ci.recheck_pattern, or a system's own such as
    r"(?im)^\\s*recheck-(?P<target>nec)\\s*$") is searched in the body after
    the "Patch Set N:" header and Gerrit's "(n comments)" line. The named
    group 'target', if present and non-empty, is returned stripped and
    lowercased; None means every CI. An invalid pattern raises re.error: it
    is a configuration mistake and should be loud.
    """
    regex = _compile(pattern)
    body = _strip_comment_counts(parse_header(text).body)
    m = regex.search(body)
    if m is None:
        return False, None
    target = m.groupdict().get("target")
    target = target.strip().lower()[:MAX_TARGET] if target else None
    if not target or _BUG_TARGET_RE.fullmatch(target):
        return True, None
    return True, target
