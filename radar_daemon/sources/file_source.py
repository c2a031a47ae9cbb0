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
import io
import json
import logging
import os

from radar_daemon.sources import gerrit_files

LOG = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20


def _is_json_lines(path):
    """True when the first non-blank line is one complete JSON object."""
    with open(path, "rb") as fh:
        for raw in fh:
            line = raw.strip()
            if not line:
                continue
            if not line.startswith(b"{"):
                return False
            try:
                json.loads(line)
            except ValueError:
                return False
            return True
    return True


class FileSource:
    def __init__(self, name, opts):
        self.name = name
        self.opts = opts
        self.batch_size = 200
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
            except OSError as exc:
                LOG.warning("source %s: cannot stat %s: %s", self.name, path, exc)
                continue
            prev = state.get(path, {})
            same_file = prev.get("inode") == stat.st_ino and prev.get("offset", 0) <= stat.st_size
            if _is_json_lines(path):
                offset = prev.get("offset", 0) if same_file else 0
                batches = self._tail(path, offset, stat.st_size)
            else:
                if same_file and prev.get("mtime") == stat.st_mtime_ns \
                        and prev.get("offset") == stat.st_size:
                    continue
                batches = self._whole(path, stat.st_size)
            pending = []
            for records, end in batches:
                pending.extend(records)
                # Intermediate batches keep the old position: it stays valid
                # until everything before `end` has been handed over.
                while len(pending) >= self.batch_size:
                    yield pending[:self.batch_size], {"files": dict(state)}
                    pending = pending[self.batch_size:]
                state[path] = {"inode": stat.st_ino, "offset": end,
                               "mtime": stat.st_mtime_ns}
            yield pending, {"files": dict(state)}

    def _errors(self):
        return _CountingList(self)

    def _whole(self, path, size):
        errors = self._errors()
        with open(path, "rb") as fh:
            records = list(gerrit_files.iter_records(fh, name=path, errors=errors))
        yield records, size

    def _tail(self, path, offset, size):
        """Yield (records, offset after them) for complete lines in [offset, size)."""
        with open(path, "rb") as fh:
            fh.seek(offset)
            position = offset
            while position < size:
                chunk = fh.read(min(CHUNK_BYTES, size - position))
                if not chunk:
                    break
                cut = chunk.rfind(b"\n")
                if cut < 0:
                    if position + len(chunk) < size:
                        # A line longer than a chunk: read on until its end.
                        rest = fh.readline()
                        chunk += rest
                        cut = chunk.rfind(b"\n")
                    if cut < 0:
                        break  # an incomplete last line: wait for the writer
                lines = chunk[:cut + 1]
                fh.seek(position + len(lines))
                errors = self._errors()
                records = list(gerrit_files.iter_records(
                    io.BytesIO(lines), name="%s@%d" % (path, position), errors=errors))
                position += len(lines)
                yield records, position


class _CountingList(list):
    """Collects record errors and counts them for the collector state."""

    def __init__(self, source):
        super().__init__()
        self._source = source

    def append(self, item):
        super().append(item)
        self._source._skipped += 1
