"""What the `radar` output must be, worked out from the API's JSON.

The readable forms are written here again on purpose (not imported from
python_radar.format), so a wrong formatter cannot agree with itself.
"""

import csv
import datetime as dt
import io
import json
import re

import yaml

DASH = "-"


# --- the readable (table) forms ---------------------------------------------------------


def pct(v):
    if v is None:
        return DASH
    hundred = round(v * 100, 1)
    return ("%d%%" % hundred) if hundred == int(hundred) else ("%.1f%%" % hundred)


def span(v):
    if v is None:
        return DASH
    if v < 10 and v != int(v):
        return "%.1fs" % v
    left = int(round(v))
    units = []
    for name, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        units.append((name, left // size))
        left %= size
    # The largest unit that is not zero, and the next one when it is not zero.
    for i, (name, count) in enumerate(units):
        if count or name == "s":
            parts = ["%d%s" % (count, name)]
            if i + 1 < len(units) and units[i + 1][1]:
                parts.append("%d%s" % (units[i + 1][1], units[i + 1][0]))
            return " ".join(parts)


def when(v):
    if v is None:
        return DASH
    return dt.datetime.fromisoformat(v).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plain(v):
    if v is None or v == "":
        return DASH
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, list):
        return ", ".join(str(x) for x in v) or DASH
    if isinstance(v, dict):
        return ", ".join("%s=%s" % kv for kv in v.items()) or DASH
    return str(v)


def job_lines(jobs):
    lines = []
    for job in jobs or []:
        words = [job["result"], job["name"]]
        if job.get("voting") is False:
            words.append("(non-voting)")
        if job.get("duration_s") is not None:
            words.append(span(job["duration_s"]))
        if job.get("url"):
            words.append(job["url"])
        lines.append(" ".join(words))
    return "\n".join(lines) or DASH


def vote(v):
    return DASH if v is None else ("%+d" % v if v else "0")


SUMMARY = {
    "success_rate": pct, "first_attempt_success_rate": pct, "final_success_rate": pct,
    "coverage": pct, "flake_rate": pct, "agreement": pct, "latency_p50_s": span,
    "latency_p90_s": span, "retry_latency_p50_s": span, "last_seen": when,
    "start": when, "end": when,
}


def human(item, columns, kinds):
    return [normalise(kinds.get(c, plain)(item.get(c))) for c in columns]


def normalise(text):
    """As a parsed table cell: each line stripped."""
    return "\n".join(line.strip() for line in str(text).split("\n"))


# --- the machine forms --------------------------------------------------------------


def text_of(v):
    """csv / value / shell: as python_radar prints a machine value in text."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


# --- reading the output ------------------------------------------------------------


def parse_table(text):
    """(header, rows) of a cliff/prettytable table; multi-line cells joined."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    if not lines:
        return None, []

    def cells(line):
        return [c.strip() for c in line.strip()[1:-1].split("|")]

    header = cells(lines[0])
    rows = []
    for line in lines[1:]:
        values = cells(line)
        if values[0] == "" and rows:
            for i, v in enumerate(values):
                if v:
                    rows[-1][i] = rows[-1][i] + "\n" + v if rows[-1][i] else v
        else:
            rows.append(values)
    return header, rows


def parse_csv(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def parse_yaml(text):
    return yaml.safe_load(text)


SHELL_LINE = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"\n')


def parse_shell(text):
    """name="value" lines (values may span lines) as a dict."""
    out = {}
    pos = 0
    while pos < len(text):
        found = SHELL_LINE.match(text, pos)
        assert found, "not shell output at %r" % text[pos:pos + 80]
        out[found.group(1)] = found.group(2).replace('\\"', '"')
        pos = found.end()
    return out


# --- the checks -----------------------------------------------------------------------


def check_list(out, fmt, columns, items, kinds):
    machine = [{c: i.get(c) for c in columns} for i in items]
    if fmt == "json":
        assert json.loads(out) == machine
    elif fmt == "yaml":
        assert parse_yaml(out) == machine
    elif fmt == "csv":
        header, rows = parse_csv(out)
        assert header == columns
        assert rows == [[text_of(m[c]) for c in columns] for m in machine]
    elif fmt == "value":
        assert out == "".join(" ".join(text_of(m[c]) for c in columns) + "\n"
                              for m in machine)
    else:
        assert "\033[" not in out  # no colour when stdout is not a terminal
        header, rows = parse_table(out)
        assert header == columns
        assert rows == [human(i, columns, kinds) for i in items]


def check_one(out, fmt, columns, item, kinds):
    machine = {c: item.get(c) for c in columns}
    if fmt == "json":
        assert json.loads(out) == machine
    elif fmt == "yaml":
        assert parse_yaml(out) == machine
    elif fmt == "value":
        assert out == "".join(text_of(machine[c]) + "\n" for c in columns)
    elif fmt == "shell":
        assert parse_shell(out) == {c: text_of(machine[c]) for c in columns}
    else:
        assert "\033[" not in out
        header, rows = parse_table(out)
        assert header == ["Field", "Value"]
        assert rows == [[c] + human(item, [c], kinds) for c in columns]
