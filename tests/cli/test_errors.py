"""Failures that need no database: no server, a silent server, a server that
is not radar, a radar API that fails (5xx), bad arguments. Each runs the
installed `radar` script: one line on stderr, a non-zero exit status, no
traceback; --debug adds the traceback.
"""

import http.server
import socket
import threading
from wsgiref import simple_server

import pytest

from radar.api import app as api_app
from tests.cli.conftest import run_proc
from tests.functional.api.test_server import free_port


def one_error_line(result, status=1):
    assert result.rc == status, result
    lines = result.err.splitlines()
    assert len(lines) == 1, result
    assert "Traceback" not in result.err
    assert result.out == ""
    return lines[0]


class _Handler(http.server.BaseHTTPRequestHandler):
    status = 200
    body = b"<html><body>It works!</body></html>"

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(self.status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


class _Thread:
    """A server on a loopback port, served by a thread until stop()."""

    def __init__(self, server):
        self.server = server
        self.url = "http://127.0.0.1:%d" % server.server_address[1]
        self.thread = threading.Thread(target=server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture
def not_radar():
    """A web server that is not radar: 200 with HTML, and 502 on /v1/reports."""

    class Handler(_Handler):
        def do_GET(self):  # noqa: N802
            self.status = 502 if self.path.startswith("/v1/reports") else 200
            super().do_GET()

    running = _Thread(http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler))
    yield running.url
    running.stop()


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def broken_api(make_conf, tmp_path):
    """The real radar API over a database that has no tables: every statistic is a 500."""
    conf = make_conf(**{"database.connection": "sqlite:///%s" % (tmp_path / "empty.sqlite"),
                        "api.access_log": False, "api.metrics": False})
    app = api_app.setup_app(conf)
    server = simple_server.make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    running = _Thread(server)
    yield running.url
    running.stop()
    app.engine.dispose()


def test_unreachable_server():
    port = free_port()  # nobody listens there
    result = run_proc(["--url", "http://127.0.0.1:%d" % port, "system", "list"])
    assert one_error_line(result) == (
        "radar: cannot reach the radar API at http://127.0.0.1:%d: connection refused "
        "(check --url or RADAR_URL)" % port)


def test_unreachable_server_from_the_environment():
    port = free_port()
    from tests.cli.conftest import clean_env

    result = run_proc(["system", "list"], env=clean_env(RADAR_URL="http://127.0.0.1:%d/" % port))
    assert "cannot reach the radar API at http://127.0.0.1:%d:" % port in one_error_line(result)


def test_timeout():
    # A socket that accepts connections (the kernel's backlog) and never answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = "http://127.0.0.1:%d" % silent.getsockname()[1]
        result = run_proc(["--url", url, "--timeout", "0.5", "system", "show", "jenkins"])
    assert one_error_line(result) == (
        "radar: the radar API at %s did not answer within 0.5 s (raise --timeout)" % url)


def test_not_a_radar_api(not_radar):
    result = run_proc(["--url", not_radar, "system", "list"])
    assert one_error_line(result) == (
        "radar: %s answered 200 with something that is not JSON: is it a radar API? (check "
        "--url or RADAR_URL)" % not_radar)
    result = run_proc(["--url", not_radar, "report", "list"])
    assert one_error_line(result) == (
        "radar: %s answered HTTP 502 Bad Gateway without a radar error: is it a radar API? "
        "(check --url or RADAR_URL)" % not_radar)


def test_server_error(broken_api):
    result = run_proc(["--url", broken_api, "system", "list"])
    line = one_error_line(result)
    assert line.startswith("radar: the radar API failed (HTTP 500): The server could not "
                           "complete the request. Quote request id req-")
    # What went wrong stays on the server.
    assert "sqlite" not in line.lower() and "table" not in line.lower()
    result = run_proc(["--url", broken_api, "--debug", "system", "list"])
    assert result.rc == 1 and "Traceback" in result.err and "HTTP 500" in result.err


@pytest.mark.parametrize("argv,message", [
    (["--url", "ftp://example.org", "system", "list"],
     "radar: invalid API URL 'ftp://example.org': expected http://host[:port] or "
     "https://host[:port] (--url or RADAR_URL)"),
    (["--url", "localhost:8080", "system", "list"],
     "radar: invalid API URL 'localhost:8080': expected http://host[:port] or "
     "https://host[:port] (--url or RADAR_URL)"),
], ids=["scheme", "no-scheme"])
def test_bad_url(argv, message):
    assert one_error_line(run_proc(argv)) == message


@pytest.mark.parametrize("argv,message", [
    (["system", "list", "--since", "last tuesday"],
     "radar system list: argument --since: expected an ISO-8601 date or time (2026-03-01, "
     "2026-03-01T12:00:00Z) or a span back from now (30m, 24h, 7d, 4w), got 'last tuesday' "
     "(see 'radar help system list')"),
    (["system", "list", "--until", "2026-02-30"],
     "radar system list: argument --until: expected an ISO-8601 date or time (2026-03-01, "
     "2026-03-01T12:00:00Z) or a span back from now (30m, 24h, 7d, 4w), got '2026-02-30' "
     "(see 'radar help system list')"),
    (["system", "list", "--health", "blue"],
     "radar system list: argument --health: expected one of GREEN, YELLOW, RED, SILENT, "
     "UNKNOWN, got 'blue' (see 'radar help system list')"),
    (["report", "list", "--limit", "-3"],
     "radar report list: argument --limit: must be 0 or more, got -3 "
     "(see 'radar help report list')"),
    (["report", "list", "--result", "passed"],
     "radar report list: argument --result: expected one of SUCCESS, FAILURE, MERGE_FAILED, "
     "CANCELED, UNKNOWN, got 'passed' (see 'radar help report list')"),
    (["change", "show", "abc"],
     "radar change show: argument <number>: expected a whole number, got 'abc' "
     "(see 'radar help change show')"),
    (["system", "series", "jenkins", "--interval", "month"],
     "radar system series: argument --interval: invalid choice: 'month' (choose from 'day', "
     "'week') (see 'radar help system series')"),
    (["system", "show"],
     "radar system show: the following arguments are required: <system> "
     "(see 'radar help system show')"),
    (["--timeout", "soon", "system", "list"],
     "radar: argument --timeout: expected a number of seconds, got 'soon' "
     "(see 'radar --help')"),
    (["system", "list", "-f", "xml"],
     "radar system list: argument -f/--format: invalid choice: 'xml' (choose from 'csv', "
     "'json', 'table', 'value', 'yaml') (see 'radar help system list')"),
], ids=["since", "until", "health", "limit", "result", "number", "interval", "missing",
        "timeout", "format"])
def test_bad_arguments(argv, message):
    # No server is needed: the arguments are checked first.
    result = run_proc(["--url", "http://127.0.0.1:9"] + argv)
    assert one_error_line(result, status=2) == message


def test_compare_needs_two_systems():
    result = run_proc(["--url", "http://127.0.0.1:9", "system", "compare", "jenkins"])
    assert one_error_line(result) == "radar: 'radar system compare' needs at least two CI systems"


def test_unknown_command_suggests():
    result = run_proc(["system", "lst"])
    assert result.rc == 2
    assert "system list" in result.out and "Traceback" not in result.err


def test_help_version_and_completion():
    result = run_proc(["help", "system", "list"])
    assert result.rc == 0 and "--since <time>" in result.out and "--health" in result.out
    result = run_proc(["system", "show", "--help"])
    assert result.rc == 0 and "<system>" in result.out
    result = run_proc(["--help"])
    assert result.rc == 0 and "--url" in result.out and "RADAR_URL" in result.out
    for command in ("system list", "operator add system", "collector status",
                    "change show", "report list", "project show"):
        assert command in result.out
    result = run_proc(["--version"])
    assert result.rc == 0 and result.out.startswith("radar ")
    result = run_proc(["complete"])
    assert result.rc == 0
    assert "_radar()" in result.out and "complete -F _radar radar" in result.out
    assert "system" in result.out and "operator" in result.out
    assert "cmds_system='badge compare jobs list missed reports series set show'" in result.out
    assert "cmds_operator_add='system'" in result.out
