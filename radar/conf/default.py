import os

from oslo_config import cfg

OPTS = [
    cfg.StrOpt("state_path",
               default=os.path.join(os.path.expanduser("~"), ".local", "state", "radar"),
               sample_default="~/.local/state/radar",
               help="Directory where radar keeps its state: the embedded "
                    "SQLite database and nothing else."),
    cfg.BoolOpt("debug", default=False,
                help="Log at DEBUG level instead of INFO."),
]


def register_opts(conf):
    conf.register_opts(OPTS)
