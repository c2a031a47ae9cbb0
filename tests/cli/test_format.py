"""The readable forms and the argument parsers, with literal expectations."""

import argparse
import datetime as dt
import io
import subprocess
import sys

import pytest

from python_radar import client, format, shell, v1

NOW = dt.datetime(2026, 3, 10, 12, 30, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("value,text", [
    (None, "-"), (0.0, "0%"), (1.0, "100%"), (0.5, "50%"), (11 / 14, "78.6%"),
    (1 / 9, "11.1%"), (0.29, "29%"), (0.9996, "100%"), (0.0004, "0%"), (0.123, "12.3%"),
])
def test_percent(value, text):
    assert format.percent(value) == text


@pytest.mark.parametrize("seconds,text", [
    (None, "-"), (0, "0s"), (0.25, "0.2s"), (9.96, "10.0s"), (11.0, "11s"), (60, "1m"),
    (252, "4m 12s"), (480.5, "8m"), (3600, "1h"), (3661, "1h 1m"), (5542, "1h 32m"),
    (86400, "1d"), (2 * 86400 + 3 * 3600 + 59, "2d 3h"), (-90, "-1m 30s"),
])
def test_span(seconds, text):
    assert format.span(seconds) == text


@pytest.mark.parametrize("value,text", [
    (None, "-"), ("2014-05-07T15:54:07+00:00", "2014-05-07T15:54:07Z"),
    ("2026-03-01T08:00:00.250000+00:00", "2026-03-01T08:00:00Z"),
    ("2026-03-01T10:00:00+02:00", "2026-03-01T08:00:00Z"), ("not a time", "not a time"),
])
def test_iso_time(value, text):
    assert format.iso_time(value) == text


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_health_colour_only_on_a_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert format.health("RED", format.use_colour(_Tty())) == "\033[31mRED\033[0m"
    assert format.health("GREEN", format.use_colour(io.StringIO())) == "GREEN"
    monkeypatch.setenv("NO_COLOR", "1")
    assert format.health("RED", format.use_colour(_Tty())) == "RED"
    assert format.health(None) == "-"


def test_machine_values_per_formatter():
    args = argparse.Namespace(formatter="json")
    assert format.cell("percent", 0.5, args) == 0.5
    assert format.cell("list", ["a"], args) == ["a"]
    assert format.cell("time", None, args) is None
    csv = argparse.Namespace(formatter="csv")
    assert format.cell("list", ["a", "b"], csv) == '["a", "b"]'
    assert format.cell("bool", True, csv) == "true"
    assert format.cell("percent", None, csv) == ""
    table = argparse.Namespace(formatter="table")
    assert format.cell("percent", 0.5, table).human_readable() == "50%"
    assert format.cell("percent", 0.5, table).machine_readable() == 0.5
    assert format.cell(None, 7, table) == 7
    cells = sorted([format.cell("span", v, table) for v in (30.0, None, 5.0)])
    assert [c.machine_readable() for c in cells] == [5.0, 30.0, None]


@pytest.mark.parametrize("text,value", [
    ("7d", "2026-03-03T12:30:00Z"), ("24h", "2026-03-09T12:30:00Z"),
    ("4w", "2026-02-10T12:30:00Z"), ("30m", "2026-03-10T12:00:00Z"),
    ("90s", "2026-03-10T12:28:30Z"), (" 2D ", "2026-03-08T12:30:00Z"),
    ("2026-03-01", "2026-03-01"), ("2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z"),
    ("2026-03-01T12:00", "2026-03-01T12:00:00Z"),
    ("2026-03-01T14:00:00+02:00", "2026-03-01T12:00:00Z"),
    ("2026-03-01 12:00:00.5", "2026-03-01T12:00:00.500000Z"),
])
def test_time_arguments(text, value):
    assert v1.time_arg(text, now=NOW) == value


@pytest.mark.parametrize("text", ["", "7", "7y", "-7d", "yesterday", "2026-02-30",
                                  "2026-13-01T00:00:00", "9999999w"])
def test_bad_time_arguments(text):
    with pytest.raises(argparse.ArgumentTypeError):
        v1.time_arg(text, now=NOW)


def test_sort_values_starting_with_a_dash():
    assert shell._dash_values(["system", "list", "--sort", "-success_rate", "-f", "json"]) == [
        "system", "list", "--sort=-success_rate", "-f", "json"]
    assert shell._dash_values(["--sort", "--long"]) == ["--sort", "--long"]
    assert shell._dash_values(["--sort", "name"]) == ["--sort", "name"]
    assert shell._dash_values(["--sort", "-f", "json"]) == ["--sort", "-f", "json"]


def test_client_messages_are_one_line():
    assert client.one_line("a\nb\r\n  c\x00") == "a b c"
    assert len(client.one_line("x" * 5000)) == client.MAX_MESSAGE
    with pytest.raises(client.ClientError, match="invalid timeout"):
        client.Client("http://127.0.0.1:9", timeout=0)
    api = client.Client("http://127.0.0.1:9/", token="t", timeout=1)
    assert api.url == "http://127.0.0.1:9"
    api.close()
    assert client.quote("acme ci/x") == "acme%20ci%2Fx"


@pytest.mark.parametrize("source,status", [
    ({"stale": False, "last_success_at": "2026-03-01T10:00:00+00:00"}, "ok"),
    ({"stale": True, "last_success_at": "2026-03-01T10:00:00+00:00"}, "stale"),
    ({"stale": True, "last_success_at": None, "last_error": None}, "stale"),
    ({"stale": False, "last_success_at": "2026-03-01T10:00:00+00:00",
      "last_error": "HTTP 503", "last_error_at": "2026-03-01T10:05:00+00:00"}, "failing"),
    ({"stale": False, "last_success_at": "2026-03-01T10:10:00+00:00",
      "last_error": "HTTP 503", "last_error_at": "2026-03-01T10:05:00+00:00"}, "ok"),
    ({"stale": True, "last_success_at": None, "last_error": "refused",
      "last_error_at": "2026-03-01T10:05:00+00:00"}, "failing"),
])
def test_collector_status_of_a_source(source, status):
    from python_radar.v1 import collector

    assert collector.status_of(source) == status


def test_the_client_never_imports_radar():
    """python_radar speaks HTTP only: importing every command loads no radar module."""
    code = ("import sys, importlib.metadata as m\n"
            "from python_radar import shell\n"
            "for ep in m.entry_points(group='radar.cli'):\n"
            "    ep.load()\n"
            "bad = sorted(n for n in sys.modules if n == 'radar' or n.startswith('radar.'))\n"
            "assert not bad, bad\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
