"""radar_daemon.sources.gerrit_files: real recorded files and composed fixtures."""

import collections
import io
import json
import logging
import tracemalloc
from pathlib import Path

import pytest

from radar.common import exception
from radar.common.timeutils import from_epoch, parse_gerrit
from radar_daemon.sources import gerrit_files as gf

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gerrit"
DRIVERLOG = REAL / "driverlog__sample_review.json"
ELASTIC = REAL / "elastic-recheck__gerrit_events.json"
PERCEVAL = REAL / "grimoirelab-perceval__gerrit_reviews_page_1"

def needs_real(test):
    """The real data is always beside the repository (CI too): fail, never skip."""
    assert REAL.is_dir(), "shared Gerrit data not present at %s" % REAL
    return test


def read(source, **kwargs):
    errors = []
    reader = gf.iter_records(source, errors=errors, **kwargs)
    return list(reader), errors, reader


def per_patchset(rec):
    return dict(collections.Counter(m.patchset for m in rec.messages))


# --- real files ---------------------------------------------------------------


@needs_real
def test_driverlog_pretty_query_change():
    recs, errors, reader = read(DRIVERLOG)
    assert errors == []
    assert (reader.fmt, reader.layout) == ("query", "document")
    assert len(recs) == 1
    rec = recs[0]
    assert rec.number == 92468
    assert rec.project == "openstack/neutron"
    assert rec.branch == "master"
    assert rec.change_key == "I3dab0c9cbecdd9296466c991d02d590d6bd5bd49"
    assert rec.status == "MERGED"
    assert rec.owner.username == "armando-migliaccio"
    assert rec.created == from_epoch(1399410454)
    assert rec.updated == from_epoch(1399602161)
    # The "Change has been successfully merged" comment (SUBM agrees).
    assert rec.merged_at == from_epoch(1399602161)
    assert rec.location == "%s:1" % DRIVERLOG

    # Only currentPatchSet (2) is in the file; PS1 comes from createdOn and
    # the "Uploaded patch set 1." message.
    assert [p.number for p in rec.patchsets] == [1, 2]
    ps1, ps2 = rec.patchsets
    assert ps1.created == from_epoch(1399410454)
    assert ps1.uploader.username == "armando-migliaccio"
    assert ps1.revision is None
    assert ps2.created == from_epoch(1399475444)
    assert ps2.revision == "af020da544ac4cf21b293d23710545ee5cdcdfa4"

    assert len(rec.messages) == 40
    authors = collections.Counter(m.author.username for m in rec.messages)
    assert len(authors) == 15
    assert authors["jenkins"] == 9
    assert authors["armando-migliaccio"] == 7
    assert authors["vmwareminesweeper"] == 4
    assert authors["pcm"] == 3
    assert rec.messages[1].author.name == "Jenkins"
    assert rec.messages[1].author.email is None
    assert rec.messages[3].author.email == "plumgrid-ci-os@plumgrid.com"
    # 19 "Patch Set 1:" comments + the upload; 19 "Patch Set 2:" + the
    # upload + the header-less merge message (attributed by time).
    assert per_patchset(rec) == {1: 20, 2: 20}
    assert rec.messages[-1].text.startswith("Change has been successfully merged")
    assert rec.messages[-1].patchset == 2
    uploads = [m for m in rec.messages if m.tag == gf.NEW_PATCHSET_TAG]
    assert [(m.patchset, m.date) for m in uploads] == [
        (1, from_epoch(1399410454)), (2, from_epoch(1399475444))]
    assert all(m.votes is None for m in rec.messages)


@needs_real
def test_elastic_recheck_event_array(caplog):
    caplog.set_level(logging.WARNING, logger=gf.__name__)
    recs, errors, reader = read(ELASTIC)
    assert errors == []
    assert (reader.fmt, reader.layout) == ("stream", "document")
    assert len(recs) == 10
    assert len({r.number for r in recs}) == 10
    assert len({r.project for r in recs}) == 9
    assert all(isinstance(r.number, int) for r in recs)
    first = recs[0]
    assert first.number == 60244
    assert first.project == "openstack/keystone"
    assert first.change_key == "I0ce62e720e797718dbfde6bfcd4b22a213985867"
    assert first.owner.username == "marek-denis"
    assert first.status is None
    assert first.location == "%s:2" % ELASTIC
    assert [(p.number, p.revision, p.uploader.username) for p in first.patchsets] == [
        (12, "74d75a1050c96eef498e9daaa80fcb9652003a20", "stevemar")]
    (msg,) = first.messages
    assert msg.text.startswith("Build succeeded.")
    assert msg.author.username == "jenkins"
    assert msg.patchset == 12
    # No eventCreatedOn, no grantedOn: dated by the upload, and counted.
    assert msg.date == from_epoch(1389371115)
    assert reader.undated == 10
    assert "10 stream event(s) carry no eventCreatedOn" in caplog.text
    # Header-less old-server comments: every approval is a vote; VRIF renamed.
    votes = sorted((r.number, r.messages[0].patchset, r.messages[0].votes) for r in recs)
    assert votes == [
        (60244, 12, {"Verified": 1}), (61074, 12, {"Verified": 2}),
        (63078, 19, {"Verified": -1}), (64749, 6, {"Verified": -1}),
        (65361, 2, {"Verified": -1}), (65378, 15, {"Verified": 1}),
        (65805, 1, {"Verified": 1}), (65902, 3, {"Verified": 1}),
        (65925, 1, {"Verified": 2}), (66064, 1, {"Verified": 1})]


@needs_real
def test_perceval_query_lines_with_stats_trailer():
    recs, errors, reader = read(PERCEVAL)
    assert errors == []
    assert (reader.fmt, reader.layout) == ("query", "lines")
    assert reader.offset == PERCEVAL.stat().st_size
    assert [r.number for r in recs] == [416443, 415319]
    assert [r.location for r in recs] == ["%s:1" % PERCEVAL, "%s:2" % PERCEVAL]
    assert sum(len(r.patchsets) for r in recs) == 3
    assert sum(len(r.messages) for r in recs) == 31

    merged, open_ = recs
    assert merged.project == "operations/puppet"
    assert merged.status == "MERGED"
    assert merged.merged_at == from_epoch(1520261099)
    assert [(p.number, p.kind, p.created) for p in merged.patchsets] == [
        (1, "REWORK", from_epoch(1520260711)), (2, "TRIVIAL_REBASE", from_epoch(1520260722))]
    assert per_patchset(merged) == {1: 1, 2: 4}
    jenkins = [m for m in merged.messages if m.author.username == "jenkins-bot"]
    assert len(jenkins) == 1
    assert jenkins[0].author.email is None  # "" in the file

    assert open_.project == "mediawiki/extensions/Wikibase"
    assert open_.status == "NEW"
    assert open_.merged_at is None
    assert [p.number for p in open_.patchsets] == [1]
    assert per_patchset(open_) == {1: 26}
    removed = [m for m in open_.messages if m.text.startswith("Removed Verified-1")]
    assert removed[0].patchset == 1  # no header: newest patch set by then
    authors = collections.Counter(m.author.username for m in open_.messages)
    assert authors["jenkins-bot"] == 9


@needs_real
def test_real_files_detected_from_their_first_chunk():
    assert gf.detect_format(DRIVERLOG.read_bytes()[:300]) == "query"
    assert gf.detect_format(ELASTIC.read_text()[:200]) == "stream"
    assert gf.detect_format(PERCEVAL.read_text()[:4096]) == "query"


# --- composed fixtures ------------------------------------------------------------

ANA = {"name": "Ana Souza", "email": "ana@example.org", "username": "asouza"}
ZUUL = {"name": "Zuul", "username": "zuul"}
CHANGE = {"project": "acme/widgets", "branch": "main", "id": "Iabc123",
          "number": 501, "subject": "Fix the frobnicator", "owner": ANA,
          "url": "https://review.example.org/501", "createdOn": 1700000000,
          "status": "NEW"}
PS2 = {"number": 2, "revision": "b" * 40, "ref": "refs/changes/01/501/2",
       "uploader": ANA, "createdOn": 1700003600, "kind": "REWORK"}


def event(etype, when=None, **fields):
    obj = {"type": etype, **fields}
    if when is not None:
        obj["eventCreatedOn"] = when
    return json.dumps(obj)


STREAM_LINES = [
    event("patchset-created", 1700003601, change=CHANGE, patchSet=PS2, uploader=ANA),
    event("comment-added", 1700004000, change=CHANGE, patchSet=PS2, author=ZUUL,
          comment="Patch Set 2: Verified+1\n\nBuild succeeded (check pipeline).",
          approvals=[{"type": "Verified", "description": "Verified", "value": "1",
                      "oldValue": "0"},
                     {"type": "Code-Review", "description": "Code-Review", "value": "0"}]),
    event("ref-updated", 1700004001, submitter=ZUUL,
          refUpdate={"oldRev": "a" * 40, "newRev": "c" * 40,
                     "refName": "refs/heads/main", "project": "acme/widgets"}),
    event("dropped-output"),
    event("change-merged", 1700005000, change=dict(CHANGE, status="MERGED"),
          patchSet=PS2, submitter=ZUUL, newRev="c" * 40),
    event("change-abandoned", 1700006000, change=dict(CHANGE, number=502),
          patchSet=dict(PS2, number=1), abandoner=ANA, reason="dup"),
    event("change-restored", 1700007000, change=dict(CHANGE, number=502),
          patchSet=dict(PS2, number=1), restorer=ANA),
    event("reviewer-added", 1700007001, change=CHANGE, patchSet=PS2, reviewer=ZUUL),
]


def write_lines(path, lines, end="\n"):
    path.write_text("\n".join(lines) + end)
    return path


def test_stream_lines_new_server(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger=gf.__name__)
    path = write_lines(tmp_path / "events.log", STREAM_LINES)
    recs, errors, reader = read(path)
    assert errors == []
    assert reader.fmt == "stream" and reader.layout == "lines"
    assert reader.undated == 0
    assert [(r.number, r.location) for r in recs] == [
        (501, "%s:1" % path), (501, "%s:2" % path), (501, "%s:5" % path),
        (502, "%s:6" % path), (502, "%s:7" % path)]
    assert "skipping ref-updated event" in caplog.text
    assert "skipping dropped-output event" in caplog.text

    created, comment, merged, abandoned, restored = recs
    (ps,) = created.patchsets
    assert (ps.number, ps.revision, ps.created, ps.uploader.username, ps.kind) == (
        2, "b" * 40, from_epoch(1700003600), "asouza", "REWORK")
    (upload,) = created.messages
    assert upload.text == "Uploaded patch set 2."
    assert upload.tag == "autogenerated:gerrit:newPatchSet"
    assert (upload.date, upload.patchset, upload.author.username) == (
        from_epoch(1700003600), 2, "asouza")
    assert created.status == "NEW" and created.created == from_epoch(1700000000)

    (msg,) = comment.messages
    assert msg.date == from_epoch(1700004000)
    assert msg.author.username == "zuul" and msg.patchset == 2
    assert msg.votes == {"Verified": 1}  # only the approval with oldValue
    assert msg.text.startswith("Patch Set 2: Verified+1")

    assert merged.status == "MERGED"
    assert merged.merged_at == from_epoch(1700005000)
    assert merged.messages == []
    assert abandoned.status == "ABANDONED"
    assert restored.status == "NEW"


def test_stream_old_server_strings_and_codes():
    old = dict(CHANGE, number="77")
    lines = [
        # Header-less, no eventCreatedOn, but grantedOn: that is the date.
        event("comment-added", change=old, patchSet=dict(PS2, number="3"), author=ZUUL,
              comment="Build failed.",
              approvals=[{"type": "VRIF", "value": "-1", "grantedOn": 1700009000},
                         {"type": "CRVW", "value": "-2", "grantedOn": 1700008000}]),
        # With a header and no oldValue: the votes are in the text.
        event("comment-added", change=old, patchSet=dict(PS2, number="3"), author=ANA,
              comment="Patch Set 3: Workflow+1", eventCreatedOn=1700009500,
              approvals=[{"type": "APRV", "value": "1"}]),
    ]
    recs, errors, reader = read(io.StringIO("\n".join(lines) + "\n"))
    assert errors == []
    assert reader.undated == 0
    assert [r.number for r in recs] == [77, 77]
    first, second = (r.messages[0] for r in recs)
    assert first.date == from_epoch(1700009000)
    assert first.votes == {"Verified": -1, "Code-Review": -2}
    assert first.patchset == 3
    assert second.votes is None
    assert second.date == from_epoch(1700009500)


def test_query_lines_string_numbers_and_current_patchset_only():
    change = dict(CHANGE, number="900", status=None, open=False, lastUpdated=1700090000,
                  currentPatchSet={"number": "3", "revision": "d" * 40,
                                   "createdOn": 1700020000, "uploader": ANA,
                                   "approvals": [{"type": "SUBM", "value": "1",
                                                  "grantedOn": 1700080000, "by": ZUUL}]},
                  comments=[
                      {"timestamp": 1700000000, "reviewer": ANA,
                       "message": "Uploaded patch set 1."},
                      {"timestamp": 1700000100, "reviewer": ZUUL, "message": "Build failed."},
                      {"timestamp": 1700010000, "reviewer": ANA,
                       "message": "Uploaded patch set 2."},
                      {"timestamp": 1700010100, "reviewer": ZUUL,
                       "message": "Patch Set 1:\n\nlate report on the old patch set"},
                      {"timestamp": "1700020100", "reviewer": ZUUL,
                       "message": "Patch Set 3: Verified+1"},
                  ])
    del change["status"]
    stats = {"type": "stats", "rowCount": 1, "runTimeMilliseconds": 3}
    data = (json.dumps(change) + "\n" + json.dumps(stats) + "\n").encode()
    recs, errors, reader = read(io.BytesIO(data), name="q.json")
    assert errors == []
    (rec,) = recs
    assert rec.location == "q.json:1"
    assert rec.number == 900
    # open: false and no merge message: status unknown, so no merged_at.
    assert rec.status is None and rec.merged_at is None
    assert [(p.number, p.created) for p in rec.patchsets] == [
        (1, from_epoch(1700000000)), (2, from_epoch(1700010000)),
        (3, from_epoch(1700020000))]
    assert rec.patchsets[1].uploader.username == "asouza"
    assert [m.patchset for m in rec.messages] == [1, 1, 2, 1, 3]
    assert reader.offset == len(data)

    # MERGED without a merge message: the SUBM approval time.
    change["status"] = "MERGED"
    (rec,), errors, _ = read(io.StringIO(json.dumps(change)), fmt="query")
    assert errors == [] and rec.merged_at == from_epoch(1700080000)
    # ... and without SUBM either: lastUpdated.
    del change["currentPatchSet"]["approvals"]
    (rec,), errors, _ = read(io.StringIO(json.dumps(change)), fmt="query")
    assert rec.merged_at == from_epoch(1700090000)
    # ... and PS1 from createdOn when nothing else names it.
    change["comments"] = []
    (rec,), _, _ = read(io.StringIO(json.dumps(change)), fmt="query")
    assert [(p.number, p.created, p.uploader) for p in rec.patchsets] == [
        (1, from_epoch(1700000000), None), (3, from_epoch(1700020000),
                                             rec.patchsets[1].uploader)]


CHANGE_INFO = {
    "id": "acme%2Fwidgets~601", "project": "acme/widgets", "branch": "main",
    "change_id": "Idef456", "subject": "Speed up", "status": "MERGED",
    "created": "2024-03-11 09:12:40.000000000", "updated": "2024-03-11 15:47:03.000000000",
    "submitted": "2024-03-11 15:40:00.000000000", "_number": 601,
    "owner": {"_account_id": 1000, "name": "Ana Souza", "username": "asouza"},
    "revisions": {
        "e" * 40: {"_number": 1, "kind": "REWORK", "created": "2024-03-11 09:12:40.000000000",
                   "uploader": {"_account_id": 1000}},
        "f" * 40: {"_number": 2, "kind": "REWORK", "created": "2024-03-11 14:58:27.000000000",
                   "uploader": {"_account_id": 1000}}},
    "messages": [
        {"id": "m1", "author": {"_account_id": 1000}, "date": "2024-03-11 09:12:40.000000000",
         "message": "Uploaded patch set 1.", "tag": "autogenerated:gerrit:newPatchSet",
         "_revision_number": 1},
        {"id": "m2", "author": {"_account_id": 22, "username": "zuul"},
         "date": "2024-03-11 15:21:55.512000000",
         "message": "Patch Set 2: Verified+1\n\nBuild succeeded.",
         "tag": "autogenerated:zuul:check", "_revision_number": 2},
        {"id": "m3", "date": "2024-03-11 15:40:00.000000000",
         "message": "Change has been successfully merged"}],
}


def test_rest_dump_with_prefix(tmp_path):
    other = dict(CHANGE_INFO, _number=602, status="NEW", messages=[], revisions={})
    path = tmp_path / "changes.json"
    path.write_text(")]}'\n" + json.dumps([CHANGE_INFO, other]) + "\n")
    recs, errors, reader = read(path)
    assert errors == []
    assert (reader.fmt, reader.layout) == ("rest", "document")
    assert reader.offset == path.stat().st_size
    assert [(r.number, r.status, r.location) for r in recs] == [
        (601, "MERGED", "%s:2" % path), (602, "NEW", "%s:2" % path)]
    rec = recs[0]
    assert rec.change_key == "Idef456"
    assert rec.owner.gerrit_id == 1000
    assert rec.merged_at == parse_gerrit("2024-03-11 15:40:00.000000000")
    assert [(p.number, p.revision) for p in rec.patchsets] == [(1, "e" * 40), (2, "f" * 40)]
    assert [(m.gerrit_id, m.patchset) for m in rec.messages[:2]] == [("m1", 1), ("m2", 2)]
    assert rec.messages[2].gerrit_id == "m3"
    assert rec.messages[1].date.microsecond == 512000
    assert rec.messages[2].author is None


def test_rest_array_of_arrays_pretty_and_repeated_responses():
    pages = [[CHANGE_INFO], [dict(CHANGE_INFO, _number=603)]]
    text = ")]}'\n" + json.dumps(pages, indent=2) + "\n)]}'\n" + json.dumps(
        [dict(CHANGE_INFO, _number=604)]) + "\n"
    recs, errors, reader = read(io.StringIO(text))
    assert errors == []
    assert reader.fmt == "rest"
    assert [r.number for r in recs] == [601, 603, 604]
    assert recs[0].location == "<stream>:4"  # ")]}'", "[", "  [", "    {"


def test_garbage_line_in_the_middle(tmp_path, caplog):
    lines = [STREAM_LINES[0], "this is not JSON {", '["a list"]',
             event("comment-added", 1, change={"number": 5}, patchSet=PS2),
             json.dumps(dict(CHANGE, number="abc")), STREAM_LINES[1]]
    path = write_lines(tmp_path / "events.log", lines)
    recs, errors, reader = read(path, fmt="stream")
    assert [r.location for r in recs] == ["%s:1" % path, "%s:6" % path]
    assert [loc for loc, _ in errors] == ["%s:%d" % (path, n) for n in (2, 3, 4, 5)]
    assert errors[0][1].startswith("bad JSON")
    assert "not a JSON object" in errors[1][1]
    assert "has no project" in errors[2][1]
    assert "no type" in errors[3][1]
    assert reader.skipped == 4 and reader.records == 2
    assert "%s:2: skipped: bad JSON" % path in caplog.text


def test_wrong_types_are_record_errors():
    bad_number = dict(CHANGE, number="abc")
    bad_time = dict(CHANGE, createdOn="yesterday")
    bad_ps = dict(CHANGE, patchSets=[{"number": None}])
    bad_comment = dict(CHANGE, comments=[{"timestamp": 1, "message": 5}])
    good = dict(CHANGE, number=9)
    text = "\n".join(json.dumps(c) for c in (good, bad_number, bad_time, bad_ps,
                                              bad_comment, good))
    recs, errors, _ = read(io.StringIO(text), name="x")
    assert [r.location for r in recs] == ["x:1", "x:6"]
    assert [loc for loc, _ in errors] == ["x:2", "x:3", "x:4", "x:5"]
    assert "not a number" in errors[0][1]
    assert "createdOn is not a number" in errors[1][1]


def test_truncated_last_line(tmp_path):
    path = tmp_path / "events.log"
    path.write_text(STREAM_LINES[0] + "\n" + STREAM_LINES[1][:50])
    recs, errors, reader = read(path)
    assert len(recs) == 1
    assert len(errors) == 1
    assert errors[0][0] == "%s:2" % path
    assert "truncated last line" in errors[0][1]
    # The offset stays before the partial line.
    assert reader.offset == len(STREAM_LINES[0]) + 1


def test_last_line_without_newline_is_read():
    text = STREAM_LINES[0] + "\n" + STREAM_LINES[1]
    recs, errors, reader = read(io.BytesIO(text.encode()))
    assert errors == [] and len(recs) == 2
    assert reader.offset == len(text.encode())


def test_truncated_array(tmp_path):
    path = tmp_path / "events.json"
    text = json.dumps([json.loads(line) for line in STREAM_LINES[:2]], indent=1)
    path.write_text(text[:-40])
    recs, errors, _ = read(path)
    assert len(recs) == 1
    assert len(errors) == 1 and "truncated record" in errors[0][1]


def test_bad_element_in_array_is_skipped():
    good = json.loads(STREAM_LINES[1])
    text = "[\n%s,\n{\"type\": \"comment-added\", \"change\": {\"number\": 1,, }},\n42,\n%s\n]" % (
        json.dumps(good), json.dumps(good))
    recs, errors, _ = read(io.StringIO(text), name="a.json")
    assert [r.location for r in recs] == ["a.json:2", "a.json:5"]
    assert [loc for loc, _ in errors] == ["a.json:3", "a.json:4"]
    assert "bad JSON" in errors[0][1] and "byte offset" in errors[0][1]
    assert "not a JSON object" in errors[1][1]


def test_stdin_like_objects():
    text = "\n".join(STREAM_LINES) + "\n"
    for source in (io.StringIO(text), io.BytesIO(text.encode()),
                   io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8")):
        recs, errors, reader = read(source)
        assert errors == [] and len(recs) == 5
        assert recs[0].location == "<stream>:1"
        assert reader.offset == len(text.encode())


def test_dash_means_stdin(monkeypatch):
    text = "\n".join(STREAM_LINES[:2]) + "\n"
    fake = io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", fake)
    recs, errors, _ = read("-")
    assert errors == [] and [r.location for r in recs] == ["<stdin>:1", "<stdin>:2"]


def test_resume_growing_file(tmp_path):
    path = tmp_path / "events.log"
    write_lines(path, STREAM_LINES[:3])
    recs, errors, reader = read(path)
    assert len(recs) == 2 and errors == []
    offset = reader.offset
    assert offset == path.stat().st_size

    recs, _, again = read(path, start_offset=offset)
    assert recs == [] and again.offset == offset

    # The writer appends two events, the second one only half written.
    with path.open("a") as fh:
        fh.write(STREAM_LINES[4] + "\n" + STREAM_LINES[5][:30])
    recs, errors, reader = read(path, start_offset=offset, tail=True)
    assert errors == []
    assert [(r.number, r.status) for r in recs] == [(501, "MERGED")]
    assert recs[0].location == "%s:1" % path  # lines count from the offset
    offset = reader.offset
    assert offset == path.stat().st_size - 30
    assert reader.lines == 1

    with path.open("a") as fh:
        fh.write(STREAM_LINES[5][30:] + "\n" + STREAM_LINES[6] + "\n")
    # With start_line, locations name absolute lines.
    recs, errors, reader = read(path, start_offset=offset, start_line=4, tail=True)
    assert errors == []
    assert [(r.status, r.location) for r in recs] == [
        ("ABANDONED", "%s:5" % path), ("NEW", "%s:6" % path)]
    assert reader.offset == path.stat().st_size
    assert reader.lines == 6

    # Offsets also work on text streams (skipping whole lines).
    text = path.read_text()
    recs, _, _ = read(io.StringIO(text), start_offset=offset)
    assert [r.status for r in recs] == ["ABANDONED", "NEW"]
    recs, _, _ = read(io.StringIO(text), start_offset=reader.offset)
    assert recs == []
    with pytest.raises(ValueError, match="not at the start of a line"):
        read(io.StringIO(text), start_offset=offset + 3)


def test_offset_counts_a_record_while_it_is_handled(tmp_path):
    path = write_lines(tmp_path / "events.log", STREAM_LINES[:2])
    reader = gf.iter_records(path)
    first = next(reader)
    assert first.location.endswith(":1")
    assert reader.offset == len(STREAM_LINES[0]) + 1
    reader.close()


def test_resume_on_a_shrunk_file_starts_again(tmp_path, caplog):
    path = write_lines(tmp_path / "events.log", STREAM_LINES[:2])
    recs, errors, reader = read(path, start_offset=10_000, start_line=99)
    assert "reading it again from the start" in caplog.text
    assert len(recs) == 2 and reader.offset == path.stat().st_size
    assert recs[0].location == "%s:1" % path and reader.lines == 2


def test_resume_in_a_document_is_refused(tmp_path):
    path = tmp_path / "changes.json"
    path.write_text(json.dumps([CHANGE_INFO], indent=1))
    with pytest.raises(gf.FormatError, match="JSON lines only"):
        read(path, start_offset=2)


def test_format_detection():
    assert gf.detect_format(")]}'\n[") == "rest"
    assert gf.detect_format('  [{"_number": 1, "project"') == "rest"
    assert gf.detect_format('[[{"id": "x", "_number": 1') == "rest"
    assert gf.detect_format('[\n {"comment": "x{\\"y", "type": "comment-added"}') == "stream"
    assert gf.detect_format('{"author": {"name": "a"}, "patchSet": {"number": 1') == "stream"
    assert gf.detect_format('{"project": "p", "branch": "b", "number": "5"') == "query"
    assert gf.detect_format('{"type":"stats","rowCount":0}\n') == "query"
    # Nested "type"/"number" keys do not count.
    assert gf.detect_format('{"type": "ref-updated", "refUpdate": {"number": 1, '
                            '"project": "x"}}') == "stream"
    assert gf.detect_format(b'\xef\xbb\xbf{"_number": 5}') == "rest"
    for chunk in ("", "   ", "hello", '{"foo": 1}', '{"type": 5, "x": 1}', "[1, 2]"):
        if chunk == '{"type": 5, "x": 1}':
            assert gf.detect_format(chunk) == "stream"
            continue
        with pytest.raises(gf.FormatError):
            gf.detect_format(chunk)


def test_fmt_override():
    line = json.dumps(dict(CHANGE, type="comment-added"))  # looks like an event
    recs, errors, reader = read(io.StringIO(line + "\n"), fmt="query")
    assert errors == [] and reader.fmt == "query"
    assert recs[0].number == 501
    recs, errors, reader = read(io.StringIO(line + "\n"), fmt="rest")
    assert recs == [] and "_number" in errors[0][1]


def test_unknown_format_is_a_clear_error():
    with pytest.raises(gf.FormatError, match="one of query, stream, rest"):
        gf.iter_records(io.StringIO(""), fmt="csv")
    with pytest.raises(ValueError, match="cannot tell the Gerrit format"):
        read(io.StringIO('{"hello": "world"}\n'), name="odd.json")
    err = pytest.raises(exception.RecordError, read, io.StringIO('[{"a": 1}]'))
    assert "pass fmt=" in str(err.value)


def test_empty_input():
    recs, errors, reader = read(io.BytesIO(b""))
    assert recs == [] and errors == [] and reader.fmt is None and reader.offset == 0


def test_reader_closes_the_file(tmp_path):
    path = write_lines(tmp_path / "events.log", STREAM_LINES)
    with gf.iter_records(path) as reader:
        next(reader)
    assert reader._raw.closed


def test_long_lines_are_skipped_not_buffered(tmp_path):
    path = tmp_path / "events.log"
    path.write_text(STREAM_LINES[0] + "\n" + '{"x": "' + "y" * 5000 + '"}\n'
                    + STREAM_LINES[1] + "\n")
    errors = []
    reader = gf.GerritFileReader(path, errors=errors, chunk_size=256, max_record_bytes=1024)
    recs = list(reader)
    assert [r.location for r in recs] == ["%s:1" % path, "%s:3" % path]
    assert errors == [("%s:2" % path, "line longer than 1024 bytes")]
    assert reader.offset == path.stat().st_size


def test_small_chunks_give_the_same_records(tmp_path):
    items = [json.loads(line) for line in STREAM_LINES] * 3
    items[4]["comment"] = "x\\\"y]}" * 50  # escapes and brackets in a string
    path = tmp_path / "events.json"
    path.write_text(json.dumps(items, indent=2, ensure_ascii=False) + "\n")
    big = list(gf.GerritFileReader(path))
    small = list(gf.GerritFileReader(path, chunk_size=7))
    assert len(big) == 15
    assert [(r.number, r.location, r.messages) for r in big] == [
        (r.number, r.location, r.messages) for r in small]


def test_utf8_split_across_chunks(tmp_path):
    comment = "Patch Set 2:\n\nÉchec — ✗ 失败"
    line = event("comment-added", 1700004000, change=CHANGE, patchSet=PS2, author=ZUUL,
                 comment=comment)
    path = tmp_path / "events.json"
    path.write_text("[" + json.dumps(json.loads(line), ensure_ascii=False) + "]")
    for chunk in (1, 2, 3, 5, 1 << 20):
        (rec,) = gf.GerritFileReader(path, chunk_size=chunk)
        assert rec.messages[0].text == comment
    path.write_text(json.dumps(json.loads(line), ensure_ascii=False) + "\n")
    for chunk in (1, 3, 1 << 20):
        reader = gf.GerritFileReader(path, chunk_size=chunk)
        (rec,) = reader
        assert rec.messages[0].text == comment
        assert reader.offset == path.stat().st_size


@pytest.mark.slow
def test_memory_stays_flat_on_a_big_stream_file(tmp_path):
    path = tmp_path / "big.log"
    filler = "- job-%03d https://logs.example.org/x/y : SUCCESS in 1m 02s\n"
    comment = "Patch Set 2: Verified+1\n\nBuild succeeded.\n\n" + "".join(
        filler % i for i in range(12))
    with path.open("w") as fh:
        size, n = 0, 0
        while size < 50 * 1024 * 1024:
            line = event("comment-added", 1700004000 + n,
                         change=dict(CHANGE, number=1000 + n % 5000), patchSet=PS2,
                         author=ZUUL, comment=comment,
                         approvals=[{"type": "Verified", "value": "1", "oldValue": "0"}])
            fh.write(line + "\n")
            size += len(line) + 1
            n += 1
    count = 0
    tracemalloc.start()
    try:
        reader = gf.iter_records(path)
        for _rec in reader:
            count += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n
    assert reader.offset == path.stat().st_size
    assert peak < 20 * 1024 * 1024, peak


@pytest.mark.slow
def test_memory_stays_flat_on_a_big_array(tmp_path):
    path = tmp_path / "big.json"
    info = dict(CHANGE_INFO, messages=CHANGE_INFO["messages"] * 20)
    with path.open("w") as fh:
        fh.write(")]}'\n[")
        size, n = 0, 0
        while size < 15 * 1024 * 1024:
            text = json.dumps(dict(info, _number=n + 1), indent=2)
            fh.write(("," if n else "") + text)
            size += len(text)
            n += 1
        fh.write("]\n")
    tracemalloc.start()
    try:
        count = sum(1 for _ in gf.iter_records(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n
    assert peak < 20 * 1024 * 1024, peak
