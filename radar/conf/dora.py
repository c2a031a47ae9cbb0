"""[dora]: what counts as production, wave order, the DORA window (doc/source/deployments.rst)."""

from oslo_config import cfg

GROUP = cfg.OptGroup("dora", title="Deployments and DORA metrics")

OPTS = [
    cfg.ListOpt("production_environments", default=["production", "prod"],
                help="Deployment environments (compared case-insensitively) whose "
                     "deployments the DORA metrics count when a request names no "
                     "environment."),
    cfg.ListOpt("wave_order", default=["canary", "blue", "green"],
                help="Order of the rollout waves in /v1/deployments/waves; waves not "
                     "listed follow in alphabetical order."),
    cfg.IntOpt("min_deployments", default=5, min=1,
               help="Fewest finished production deployments in the window for a "
                    "change failure rate; with fewer it is null, with a note (a rate "
                    "over one or two deployments says little)."),
    cfg.IntOpt("default_window_days", default=90, min=7,
               help="Days covered by /v1/dora when the client gives no 'since' "
                    "(DORA looks at months, not days)."),
]


def register_opts(conf):
    # A fresh OptGroup per ConfigOpts (see radar.conf.daemon).
    conf.register_group(cfg.OptGroup(GROUP.name, title=GROUP.title))
    conf.register_opts(OPTS, group=GROUP)
