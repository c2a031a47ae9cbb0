"""How values are shown: readable in tables, machine values everywhere else.

A table (`-f table`, the default) shows rates as percentages ("78.6%"),
durations as readable spans ("4m 12s"), times as short ISO-8601 UTC
("2026-03-01T08:00:00Z"), lists joined by commas, and a health word
coloured when stdout is a terminal. Every other format (json, yaml, csv,
value, shell) keeps the API's values: rates as fractions, seconds, the
API's ISO-8601 strings, lists and objects (as JSON text in csv/value).

Commands call `cells(row, kinds, parsed_args, stdout)` on each row.
"""

import datetime as dt
import json
import os
import re

from cliff import columns

MISSING = "-"

# ANSI colours of the health words (only on a terminal, not with NO_COLOR).
HEALTH_COLOURS = {"GREEN": "32", "YELLOW": "33", "RED": "31", "SILENT": "35",
                  "UNKNOWN": "2"}


# --- plain functions (also used by tests and docs) ---------------------------------


def percent(fraction):
    """0.7857 -> '78.6%'; None -> '-'."""
    if fraction is None:
        return MISSING
    value = round(float(fraction) * 100, 1)
    if value == int(value):
        return "%d%%" % value
    return "%.1f%%" % value


def span(seconds):
    """Seconds as a readable span: '11s', '4m 12s', '1h 32m', '2d 3h'; None -> '-'."""
    if seconds is None:
        return MISSING
    seconds = float(seconds)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 10 and seconds != int(seconds):
        return "%s%.1fs" % (sign, seconds)
    total = int(round(seconds))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        parts = ["%dd" % days] + (["%dh" % hours] if hours else [])
    elif hours:
        parts = ["%dh" % hours] + (["%dm" % minutes] if minutes else [])
    elif minutes:
        parts = ["%dm" % minutes] + (["%ds" % secs] if secs else [])
    else:
        parts = ["%ds" % secs]
    return sign + " ".join(parts)


def parse_iso(text):
    """An API time string as an aware datetime (naive means UTC)."""
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value


def iso_time(text):
    """'2014-05-07T15:54:07.250000+00:00' -> '2014-05-07T15:54:07Z' (UTC, seconds)."""
    if text is None or text == "":
        return MISSING
    try:
        value = parse_iso(str(text))
    except ValueError:
        return str(text)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def yes_no(value):
    if value is None:
        return MISSING
    return "yes" if value else "no"


def use_colour(stdout):
    if os.environ.get("NO_COLOR"):
        return False
    try:
        return bool(stdout.isatty())
    except (AttributeError, ValueError):
        return False


def coloured(text, health_word, colour):
    """`text` in the colour of a health word, when colour is on."""
    code = HEALTH_COLOURS.get(str(health_word).upper())
    if colour and code:
        return "\033[%sm%s\033[0m" % (code, text)
    return text


def health(word, colour=False):
    if word is None:
        return MISSING
    return coloured(str(word), word, colour)


_ANSI = re.compile(r"\033\[[0-9;]*m")


def strip_ansi(text):
    return _ANSI.sub("", text)


# --- cells -------------------------------------------------------------------------


class Cell(columns.FormattableColumn):
    """A value shown by `show(value)` in tables; the value itself elsewhere.

    Sorting (cliff's --sort-column) compares the values, missing ones last.
    """

    def __init__(self, value, show):
        super().__init__(value)
        self._show = show

    def human_readable(self):
        return self._show(self._value)

    def _key(self):
        return _sort_key(self._value)

    def __lt__(self, other):
        other_value = other._value if isinstance(other, Cell) else other
        try:
            return self._key() < _sort_key(other_value)
        except TypeError:
            return str(self._value) < str(other_value)

    def __gt__(self, other):
        other_value = other._value if isinstance(other, Cell) else other
        try:
            return self._key() > _sort_key(other_value)
        except TypeError:
            return str(self._value) > str(other_value)

    def __hash__(self):
        return hash(repr(self._value))


def _sort_key(value):
    return (value is None, value if value is not None else 0)


def _joined(value):
    if value is None:
        return MISSING
    if isinstance(value, dict):
        return ", ".join("%s=%s" % (k, v) for k, v in value.items()) or MISSING
    return ", ".join(str(v) for v in value) or MISSING


def _lines(value):
    if value is None:
        return MISSING
    return "\n".join(str(v) for v in value) or MISSING


def _text(value):
    return MISSING if value is None or value == "" else str(value)


def human(kind, value, colour=False):
    """The table text of a value of this kind."""
    if kind == "percent":
        return percent(value)
    if kind == "span":
        return span(value)
    if kind == "time":
        return iso_time(value)
    if kind == "bool":
        return yes_no(value)
    if kind == "health":
        return health(value, colour)
    if kind == "list":
        return _joined(value)
    if kind == "lines":
        return _lines(value)
    if kind == "text":
        return _text(value)
    if callable(kind):
        return kind(value)
    raise ValueError("unknown kind %r" % (kind,))


def machine(value, formatter):
    """The value for json/yaml as is; for csv, value and shell, lists and
    objects as JSON text, booleans as true/false and a missing value as an
    empty string (as the API's own CSV)."""
    if formatter in ("csv", "value", "shell"):
        if isinstance(value, (list, dict)):
            return json.dumps(value, sort_keys=False, ensure_ascii=False)
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
    return value


def cell(kind, value, parsed_args, stdout=None):
    """What a command returns for one value: a Cell in tables, else the value."""
    formatter = getattr(parsed_args, "formatter", "table")
    if formatter != "table":
        return machine(value, formatter)
    if kind is None:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value  # numbers as they are, right-aligned
        kind = ("text" if value is None or isinstance(value, str) else
                "bool" if isinstance(value, bool) else
                "list" if isinstance(value, (list, dict)) else str)
    colour = kind == "health" and stdout is not None and use_colour(stdout)
    return Cell(value, lambda v: human(kind, v, colour))


def row(item, fields, kinds, parsed_args, stdout=None):
    """A tuple of cells for the dict `item`; `kinds` maps a field to its kind
    (percent, span, time, bool, health, list, lines, text or a function);
    other fields are shown as they are."""
    return tuple(cell(kinds.get(field), item.get(field), parsed_args, stdout)
                 for field in fields)
