"""Configuration: one module per option group; code gets `conf` explicitly."""

import logging

from oslo_config import cfg

from radar.common import exception
from radar.conf import (
    api,
    ci,
    daemon,
    database,
    default,
    dora,
    gerrit,
    kubernetes,
    notifications,
    releases,
    stats,
)

MODULES = (default, api, ci, daemon, database, dora, gerrit, kubernetes, notifications,
           releases, stats)


def new_conf():
    conf = cfg.ConfigOpts()
    for module in MODULES:
        module.register_opts(conf)
    return conf


def load(argv=None, conf=None, prog=None, default_config_files=None):
    """Parse arguments and files, register source groups, read every option.

    Reading every option here makes a bad value fail at start-up with one
    clear message instead of later in a cycle.
    """
    conf = conf or new_conf()
    try:
        conf(argv if argv is not None else [], project="radar", prog=prog,
             default_config_files=default_config_files)
        for name in conf.gerrit.sources:
            gerrit.register_source_opts(conf, name)
        for name in conf.kubernetes.sources:
            kubernetes.register_source_opts(conf, name)
        check(conf)
    except (cfg.Error, ValueError) as exc:
        raise exception.ConfigError("configuration error: %s" % exc) from None
    return conf


def check(conf):
    """Read every option once (oslo.config converts lazily)."""
    for group_name in [None] + sorted(conf.list_all_sections()):
        if group_name in (None, "DEFAULT"):
            group, names = conf, [o for o in conf._opts]
        elif group_name in conf:
            group = conf[group_name]
            names = list(conf._groups[group_name]._opts)
        else:
            continue
        for name in names:
            getattr(group, name)
    for name in conf.gerrit.sources:
        source = conf[gerrit.source_group(name)]
        if source.type == "rest" and not source.url:
            raise exception.ConfigError(
                "configuration error: [gerrit:%s] url is required for a "
                "rest source" % name)
        if source.type == "files" and not source.paths:
            raise exception.ConfigError(
                "configuration error: [gerrit:%s] paths is required for a "
                "files source" % name)
    both = set(conf.gerrit.sources) & set(conf.kubernetes.sources)
    if both:
        # Sources share one name space (collector state, leases).
        raise exception.ConfigError(
            "configuration error: source names used by both [gerrit] and "
            "[kubernetes]: %s" % ", ".join(sorted(both)))
    releases.check(conf)


def log_values(conf, logger):
    conf.log_opt_values(logger, logging.INFO)


def setup_logging(conf):
    logging.basicConfig(
        level=logging.DEBUG if conf.debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
