from oslo_config import cfg

GROUP = cfg.OptGroup("daemon", title="Collector daemon")

OPTS = [
    cfg.IntOpt("lease_ttl", default=600, min=5,
               help="Seconds a source's lease lasts without renewal. A "
                    "crashed daemon's lease expires after this, so another "
                    "daemon on the same database can take over."),
    cfg.IntOpt("batch_size", default=200, min=1,
               help="Changes or events committed in one transaction."),
    cfg.StrOpt("holder",
               help="Name this daemon uses for its leases. Default: "
                    "host name and process id."),
]


def register_opts(conf):
    # A fresh OptGroup per ConfigOpts: a shared one would share its options
    # (and their overrides) between configurations.
    conf.register_group(cfg.OptGroup(GROUP.name, title=GROUP.title))
    conf.register_opts(OPTS, group=GROUP)
