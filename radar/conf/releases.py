"""[releases]: the release task workflow and the CI jobs that move its tasks.

A binding is one `bindings` line:

    <task> = <CI system> : <job regex> [: <branch regex>]

The separator is a colon with white space on both sides (regexes keep
their own colons, as in `(?:...)`). The job regex is searched in job names
of the system's reports; the branch regex, when given, in the branch of the
reported change, and it also says which release the report is about (see
doc/source/releases.rst): a named group `version` (exactly that release) or
`product` (that product's newest release not done), else the first dotted
number in the branch. Example:

    bindings = stage-testing = Acme CI : ^release-stage-test$ : ^release-(?P<product>4\\.19)$
"""

import collections
import re

from oslo_config import cfg

from radar.common import exception

GROUP = cfg.OptGroup("releases", title="Release task tracking")

DEFAULT_WORKFLOW = [
    "take-ownership",
    "image-consistency-check",
    "analyze-candidate-build",
    "analyze-promoted-build",
    "check-cve-tracker-bug",
    "push-to-cdn-staging",
    "stage-testing",
    "image-signed-check",
    "change-advisory-status",
]

OPTS = [
    cfg.ListOpt("workflow", default=DEFAULT_WORKFLOW,
                help="The tasks every new release gets, in workflow order. A "
                     "release keeps the tasks it was created with when this "
                     "changes. Names: lowercase letters, digits, '.', '_' "
                     "and '-', at most 64 characters."),
    cfg.MultiStrOpt("bindings", default=[],
                    help="CI jobs that move release tasks, one per line: "
                         "'<task> = <CI system> : <job regex> [: <branch "
                         "regex>]' (the separator is a colon with spaces "
                         "around it). A SUCCESS job result passes the task, "
                         "a failing one fails it. The branch regex selects "
                         "the release: a named group 'version' (that "
                         "release), 'product' (that product's newest release "
                         "not yet done), else the first dotted number in the "
                         "branch. Example: 'stage-testing = Acme CI : "
                         "^release-stage-test$ : ^release-(?P<version>4\\.19\\.\\d+)$'."),
]

TASK_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_SEPARATOR = re.compile(r"\s+:\s+")

Binding = collections.namedtuple("Binding", "task system job branch text")


def register_opts(conf):
    # A fresh OptGroup per ConfigOpts: a shared one would share its options
    # (and their overrides) between configurations.
    conf.register_group(cfg.OptGroup(GROUP.name, title=GROUP.title))
    conf.register_opts(OPTS, group=GROUP)


def _error(message):
    return exception.ConfigError("configuration error: [releases] %s" % message)


def workflow(conf):
    """The configured task names, checked (ConfigError on a bad list)."""
    names = [n.strip() for n in conf.releases.workflow]
    if not names:
        raise _error("workflow: at least one task is needed")
    seen = set()
    for name in names:
        if not TASK_NAME.match(name):
            raise _error("workflow: invalid task name %r (lowercase letters, digits, "
                         "'.', '_', '-'; at most 64 characters)" % name[:80])
        if name in seen:
            raise _error("workflow: task %r is listed twice" % name)
        seen.add(name)
    return names


def _compile(what, pattern, line):
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise _error("bindings: bad %s regex %r in %r: %s" % (what, pattern, line, exc)) from None


def parse_binding(line, tasks):
    """One bindings line as a Binding; ConfigError naming the line when bad."""
    text = line.strip()
    task, eq, rest = text.partition("=")
    task = task.strip()
    if not eq or not task or not rest.strip():
        raise _error("bindings: expected '<task> = <CI system> : <job regex> [: <branch "
                     "regex>]', got %r" % text)
    if task not in tasks:
        raise _error("bindings: unknown task %r in %r (the workflow has: %s)"
                     % (task, text, ", ".join(tasks)))
    parts = _SEPARATOR.split(" " + rest.strip() + " ")
    # Splitting " a : b " leaves the padding on the ends.
    parts = [p.strip() for p in parts]
    if len(parts) not in (2, 3) or not all(parts):
        raise _error("bindings: expected '<task> = <CI system> : <job regex> [: <branch "
                     "regex>]' (a colon with spaces around it between the parts), got %r"
                     % text)
    job = _compile("job", parts[1], text)
    branch = _compile("branch", parts[2], text) if len(parts) == 3 else None
    return Binding(task, parts[0], job, branch, text)


def bindings(conf):
    """Every configured binding, checked against the workflow."""
    tasks = workflow(conf)
    return [parse_binding(line, tasks) for line in conf.releases.bindings if line.strip()]


def check(conf):
    """Called at load: a bad workflow or binding is a one-line error at start-up."""
    bindings(conf)
