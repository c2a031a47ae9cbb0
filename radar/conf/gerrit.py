"""[gerrit] and the per-source groups [gerrit:<name>]."""

from oslo_config import cfg

GROUP = cfg.OptGroup("gerrit", title="Gerrit collection")

OPTS = [
    cfg.ListOpt("sources", default=[],
                help="Names of the Gerrit sources to collect. Each name "
                     "has its own group [gerrit:<name>] with the options "
                     "shown under [gerrit:example]."),
    cfg.IntOpt("poll_interval", default=300, min=1,
               help="Seconds between two collection cycles."),
]

SOURCE_OPTS = [
    cfg.StrOpt("type", default="rest", choices=["rest", "files"],
               help="rest: poll a Gerrit server's REST API. files: import "
                    "new lines of local files (gerrit query --format=JSON, "
                    "stream-events logs, saved /changes/ responses)."),
    cfg.URIOpt("url", schemes=["http", "https"],
               help="Base URL of the Gerrit server, e.g. "
                    "https://review.opendev.org (type rest)."),
    cfg.StrOpt("web_url",
               help="Base URL for links to changes; defaults to url."),
    cfg.StrOpt("username",
               help="Gerrit user for authenticated access under /a/. "
                    "Empty: anonymous."),
    cfg.StrOpt("password", secret=True,
               help="HTTP password of that user (Gerrit's generated HTTP "
                    "password, not the web login password)."),
    cfg.StrOpt("auth_type", default="basic", choices=["basic", "digest"],
               help="HTTP authentication scheme: basic (Gerrit 2.14 and "
                    "later) or digest (older servers)."),
    cfg.ListOpt("projects", default=[],
                help="Projects to collect. Empty: every visible project "
                     "(or what query selects)."),
    cfg.StrOpt("query", default="",
               help="Extra Gerrit query terms ANDed to every poll, e.g. "
                    "'branch:master -is:wip'."),
    cfg.IntOpt("page_size", default=100, min=1, max=500,
               help="Changes per REST page (n=). Gerrit caps it at the "
                    "caller's queryLimit, by default 500."),
    cfg.IntOpt("overlap", default=300, min=0,
               help="Seconds by which each incremental poll reaches back "
                    "behind the last high-water mark (clock skew, "
                    "one-second timestamps, inclusive after:)."),
    cfg.IntOpt("initial_days", default=7, min=0,
               help="How many days back the first poll of a new source "
                    "reaches."),
    cfg.FloatOpt("timeout", default=30.0, min=0.1,
                 help="Seconds to wait for the server on each request."),
    cfg.IntOpt("retries", default=5, min=0,
               help="Retries of a request that failed with a timeout, a "
                    "connection error, 429 or 5xx."),
    cfg.FloatOpt("backoff", default=1.0, min=0.0,
                 help="First retry delay in seconds; it doubles on every "
                      "retry, with jitter, up to backoff_max."),
    cfg.FloatOpt("backoff_max", default=60.0, min=0.0,
                 help="Longest delay between two retries (also caps "
                      "Retry-After)."),
    cfg.BoolOpt("verify_tls", default=True,
                help="Verify the server's TLS certificate."),
    cfg.BoolOpt("skip_diffstat", default=True,
                help="Send o=SKIP_DIFFSTAT (Gerrit 3.x). Turn off for old "
                     "servers, which reject unknown options."),
    cfg.ListOpt("paths", default=[],
                help="Files or glob patterns to import (type files). Files "
                     "that grow are read from where the last cycle "
                     "stopped."),
]


def source_group(name):
    return "gerrit:%s" % name


def register_opts(conf):
    # A fresh OptGroup per ConfigOpts: a shared one would share its options
    # (and their overrides) between configurations.
    conf.register_group(cfg.OptGroup(GROUP.name, title=GROUP.title))
    conf.register_opts(OPTS, group=GROUP)


def register_source_opts(conf, name):
    """Source groups are dynamic: register them once the names are known."""
    group = source_group(name)
    if group not in conf:
        conf.register_group(cfg.OptGroup(group, title="Gerrit source %s" % name))
        conf.register_opts(SOURCE_OPTS, group=group)
    return conf[group]
