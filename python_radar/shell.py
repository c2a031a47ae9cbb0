"""`radar`: the command line client of the radar API (cliff).

Commands are `radar <noun> <verb>` and come from the `radar.cli` entry
point group (setup.cfg), so later nouns (release, deploy, dora) only add
entry points. Global options: --url / RADAR_URL, --token / RADAR_TOKEN,
--timeout, --debug. Every failure is one line on stderr and a non-zero exit
status; --debug adds the traceback.
"""

import argparse
import functools
import importlib.metadata
import logging
import os
import re
import sys

from cliff import app, commandmanager

from python_radar import client as radar_client

LOG_NAME = "python_radar"


def version():
    try:
        return importlib.metadata.version("radar")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def one_line_error(parser, stream, message):
    """argparse errors as one line (exit status 2), with a pointer to help."""
    prog = parser.prog
    hint = "radar help %s" % prog[len("radar "):] if prog.startswith("radar ") else "radar --help"
    (stream or sys.stderr).write("%s: %s (see '%s')\n"
                                 % (prog, radar_client.one_line(message), hint))
    raise SystemExit(2)


def _dash_values(args, options=("--sort",)):
    """'--sort -success_rate' as '--sort=-success_rate' (argparse would take the
    value for an option); a short option ('-f') stays an option."""
    out = []
    args = list(args)
    i = 0
    while i < len(args):
        if (args[i] in options and i + 1 < len(args)
                and re.fullmatch(r"-[A-Za-z_][A-Za-z0-9_]+", args[i + 1])):
            out.append("%s=%s" % (args[i], args[i + 1]))
            i += 2
            continue
        out.append(args[i])
        i += 1
    return out


def quiet_parser(parser, stream=None):
    """Make `parser` report errors on one line, on `stream` (default stderr)."""
    parser.error = functools.partial(one_line_error, parser, stream)
    parse_known_args = parser.parse_known_args

    def parse(args=None, namespace=None):
        if args is not None:
            args = _dash_values(args)
        return parse_known_args(args, namespace)

    parser.parse_known_args = parse
    return parser


def positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a number of seconds, got %r" % text) from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number of seconds, got %r" % text)
    return value


class RadarApp(app.App):
    NAME = "radar"
    LOG = logging.getLogger(LOG_NAME)
    CONSOLE_MESSAGE_FORMAT = "radar: %(message)s"

    def __init__(self, stdin=None, stdout=None, stderr=None):
        super().__init__(
            description="Command line client of the radar CI health API.",
            version=version(),
            command_manager=commandmanager.CommandManager("radar.cli"),
            deferred_help=True,
            stdin=stdin, stdout=stdout, stderr=stderr)
        self._client = None
        self._handler = None

    def build_option_parser(self, description, version, argparse_kwargs=None):
        parser = super().build_option_parser(description, version, argparse_kwargs)
        parser.prog = "radar"
        parser.add_argument(
            "--url", metavar="<url>",
            default=os.environ.get("RADAR_URL") or radar_client.DEFAULT_URL,
            help="Root URL of the radar API (env RADAR_URL; default %s)."
                 % radar_client.DEFAULT_URL)
        parser.add_argument(
            "--token", metavar="<token>", default=os.environ.get("RADAR_TOKEN"),
            help="API token for the commands that change something (env RADAR_TOKEN).")
        parser.add_argument(
            "--timeout", metavar="<seconds>", type=positive_float,
            default=radar_client.DEFAULT_TIMEOUT,
            help="Seconds to wait for the API (default %g)." % radar_client.DEFAULT_TIMEOUT)
        return quiet_parser(parser, self.stderr)

    def run(self, argv):
        # cliff parses the global options anywhere in argv, so a command's own
        # option of the same name (release task set ... --url <link>) would be
        # taken for the API's --url: leave such options to the command.
        parse = self.parser.parse_known_args

        def parse_known_args(args=None, namespace=None):
            head, tail = self._command_owned(list(args or []))
            options, remainder = parse(head, namespace)
            return options, remainder + tail

        self.parser.parse_known_args = parse_known_args
        try:
            return super().run(argv)
        finally:
            self.parser.parse_known_args = parse

    def _command_owned(self, args):
        """(args without the command's options that shadow global ones, those options)."""
        actions = self.parser._option_string_actions
        start = 0
        while start < len(args) and args[start].startswith("-"):
            action = actions.get(args[start])
            start += 2 if action is not None and action.nargs != 0 else 1
        try:
            factory, name, _ = self.command_manager.find_command(args[start:])
            command = factory(self, None, cmd_name=name)
            own = command.get_parser("radar " + name)._option_string_actions
        except Exception:  # noqa: BLE001 - not a command: cliff reports it as usual
            return args, []
        shadowed = set(own) & set(actions) - {"-h", "--help"}
        head, tail = args[:start], []
        i = start
        while i < len(args):
            option = args[i].split("=", 1)[0]
            if option in shadowed:
                takes = "=" not in args[i] and own[option].nargs != 0
                tail += args[i:i + (2 if takes else 1)]
                i += 2 if takes else 1
            else:
                head.append(args[i])
                i += 1
        return head, tail

    def configure_logging(self):
        """Console messages go to our own logger only (no root handlers piling
        up when the app runs several times in one process)."""
        logger = logging.getLogger(LOG_NAME)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.DEBUG)
        level = {0: logging.ERROR, 1: logging.WARNING, 2: logging.INFO}.get(
            self.options.verbose_level, logging.DEBUG)
        if self.options.debug:
            level = min(level, logging.DEBUG)
        handler = logging.StreamHandler(self.stderr)
        handler.setLevel(level)
        handler.setFormatter(logging.Formatter(self.CONSOLE_MESSAGE_FORMAT))
        logger.addHandler(handler)
        if self.options.log_file:
            file_handler = logging.FileHandler(self.options.log_file)
            file_handler.setFormatter(logging.Formatter(self.LOG_FILE_MESSAGE_FORMAT))
            logger.addHandler(file_handler)
        self._handler = handler

    @property
    def client(self):
        """The API client, built on first use from the global options."""
        if self._client is None:
            self._client = radar_client.Client(self.options.url, token=self.options.token,
                                               timeout=self.options.timeout)
        return self._client

    def interact(self):
        """The interactive shell (radar without a command). cmd2 would run the
        program's own arguments (--url ...) as shell commands: hide them."""
        argv = sys.argv
        sys.argv = argv[:1]
        try:
            super().interact()
        finally:
            sys.argv = argv

    def clean_up(self, cmd, result, err):
        if self._client is not None:
            self._client.close()
            self._client = None


def main(argv=None, stdin=None, stdout=None, stderr=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return RadarApp(stdin=stdin, stdout=stdout, stderr=stderr).run(argv)
    except SystemExit as exc:  # argparse: usage errors (2), --help and --version (0)
        code = exc.code
        if code is None:
            return 0
        return code if isinstance(code, int) else 1


if __name__ == "__main__":
    sys.exit(main())
