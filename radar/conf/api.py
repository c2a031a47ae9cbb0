from oslo_config import cfg

GROUP = cfg.OptGroup("api", title="REST API server")

OPTS = [
    cfg.HostAddressOpt("host", default="127.0.0.1",
                       help="Address the API server listens on."),
    cfg.PortOpt("port", default=8080,
                help="Port the API server listens on."),
    cfg.IntOpt("workers", default=2, min=1,
               help="Worker processes of the API server."),
    cfg.IntOpt("timeout", default=60, min=1,
               help="Seconds a worker may spend on one request before the "
                    "server restarts it."),
    cfg.IntOpt("default_limit", default=100, min=1,
               help="Items a list endpoint returns when the client gives "
                    "no limit."),
    cfg.IntOpt("max_limit", default=1000, min=1,
               help="Largest page a list endpoint returns; a larger limit "
                    "is lowered to this value."),
    cfg.IntOpt("default_window_days", default=7, min=1,
               help="Days covered by a statistics window when the client "
                    "gives no 'since'."),
    cfg.IntOpt("max_window_days", default=3660, min=1,
               help="Longest statistics window a client may ask for, in "
                    "days."),
    cfg.IntOpt("max_series_points", default=1000, min=1,
               help="Most intervals one series request may cover."),
    cfg.IntOpt("badge_max_age", default=300, min=0,
               help="Seconds clients and proxies may cache a badge."),
    cfg.BoolOpt("metrics", default=True,
                help="Serve Prometheus metrics at /metrics."),
    cfg.BoolOpt("access_log", default=True,
                help="Log one line per request (method, path, status, "
                     "time, request id; never the Authorization header)."),
    cfg.IntOpt("cache_entries", default=256, min=0,
               help="Responses of the statistics endpoints each API worker "
                    "keeps (0 disables the cache). Any new data invalidates "
                    "them at once; see cache_ttl."),
    cfg.FloatOpt("cache_ttl", default=60.0, min=0,
                 help="Seconds a cached response lives at most, so default "
                      "windows ('the last 7 days') move on."),
    cfg.IntOpt("cache_max_bytes", default=64 * 1024 * 1024, min=0,
               help="Bytes of cached responses each API worker keeps at most "
                    "(a larger single response is not cached)."),
]


def register_opts(conf):
    # A fresh OptGroup per ConfigOpts: a shared one would share its options
    # (and their overrides) between configurations.
    conf.register_group(cfg.OptGroup(GROUP.name, title=GROUP.title))
    conf.register_opts(OPTS, group=GROUP)
