from oslo_config import cfg

GROUP = cfg.OptGroup("database", title="Database options")

OPTS = [
    cfg.StrOpt("connection", secret=True, default="",
               help="SQLAlchemy URL of the database. Empty means the "
                    "embedded SQLite file $state_path/radar.sqlite. For "
                    "production use mysql+pymysql://user:password@host/radar"
                    "?charset=utf8mb4."),
    cfg.IntOpt("sqlite_busy_timeout", default=30000, min=0,
               help="Milliseconds an SQLite connection waits for a lock "
                    "held by another process (the API and the daemon share "
                    "the file)."),
    cfg.IntOpt("pool_recycle", default=3600, min=1,
               help="Seconds after which a pooled MySQL connection is "
                    "replaced, so that server-side idle timeouts never "
                    "break a query."),
]


def register_opts(conf):
    # A fresh OptGroup per ConfigOpts: a shared one would share its options
    # (and their overrides) between configurations.
    conf.register_group(cfg.OptGroup(GROUP.name, title=GROUP.title))
    conf.register_opts(OPTS, group=GROUP)
