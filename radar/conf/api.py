from oslo_config import cfg

GROUP = cfg.OptGroup("api", title="REST API server")

OPTS = [
    cfg.HostAddressOpt("host", default="127.0.0.1",
                       help="Address the API server listens on."),
    cfg.PortOpt("port", default=8080,
                help="Port the API server listens on."),
    cfg.IntOpt("workers", default=2, min=1,
               help="Worker processes of the API server."),
]


def register_opts(conf):
    conf.register_group(GROUP)
    conf.register_opts(OPTS, group=GROUP)
