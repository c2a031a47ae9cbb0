"""`[gerrit:<name>] type = files`: import local Gerrit JSON files each cycle.

JSON-lines files (stream-events logs, `gerrit query` output) are tailed:
the cursor keeps, per file, the byte offset after the last complete line,
so a log that another process appends to is read on from there. A file
whose inode changed or that shrank (rotated, truncated) is read from the
start. Whole JSON documents (arrays, pretty-printed objects, REST dumps)
are imported again when their size or modification time changes, which
is harmless because ingest is idempotent.
"""

import glob
import json
import logging
import os

from radar_daemon.sources import gerrit_files

LOG = logging.getLogger(__name__)


def _is_json_lines(path):
    """True when the first non-blank line is one complete JSON object."""
    with open(path, "rb") as fh:
        while True:
            # Bounded: a compact JSON array may be one huge line.
            line = fh.readline(1 << 20)
            if not line:
                return True
            line = line.strip()
            if not line:
                continue
            if not line.startswith(b"{"):
                return False
            try:
                json.loads(line)
            except ValueError:
                return False
            return True


class FileSource:
    def __init__(self, name, opts, batch_size=200):
        self.name = name
        self.opts = opts
        self.batch_size = batch_size
        self._skipped = 0

    def take_skipped(self):
        skipped, self._skipped = self._skipped, 0
        return skipped

    def _paths(self):
        paths = set()
        for pattern in self.opts.paths:
            matches = glob.glob(os.path.expanduser(pattern))
            if not matches and not glob.has_magic(pattern):
                LOG.warning("source %s: %s does not exist", self.name, pattern)
            paths.update(m for m in matches if os.path.isfile(m))
        return sorted(paths)

    def poll(self, cursor):
        state = dict((cursor or {}).get("files", {}))
        for path in self._paths():
            try:
                stat = os.stat(path)
                lines = _is_json_lines(path)
            except OSError as exc:
                LOG.warning("source %s: cannot read %s: %s", self.name, path, exc)
                continue
            prev = state.get(path, {})
            same_file = prev.get("inode") == stat.st_ino and prev.get("offset", 0) <= stat.st_size
            if lines:
                offset = prev.get("offset", 0) if same_file else 0
                if offset == stat.st_size:
                    continue
            elif same_file and prev.get("mtime") == stat.st_mtime_ns \
                    and prev.get("offset") == stat.st_size:
                continue
            else:
                offset = 0
            errors = _CountingList(self)
            # tail=True leaves an unfinished last line for the next cycle.
            reader = gerrit_files.iter_records(path, name=path, errors=errors,
                                               start_offset=offset, tail=lines)

            batch = []
            for record in reader:
                batch.append(record)
                if len(batch) >= self.batch_size:
                    # A JSON-lines file can resume right after this batch; a
                    # whole document only from its start.
                    if lines:
                        state[path] = _position(stat, reader.offset)
                    yield batch, {"files": dict(state)}
                    batch = []
            state[path] = _position(stat, reader.offset if lines else stat.st_size)
            yield batch, {"files": dict(state)}


def _position(stat, offset):
    return {"inode": stat.st_ino, "offset": offset, "mtime": stat.st_mtime_ns}


class _CountingList(list):
    """Collects record errors and counts them for the collector state."""

    def __init__(self, source):
        super().__init__()
        self._source = source

    def append(self, item):
        super().append(item)
        self._source._skipped += 1
