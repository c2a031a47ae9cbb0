"""[stats]: thresholds and periods behind the health statistics (DESIGN.md §5)."""

from oslo_config import cfg

GROUP = cfg.OptGroup("stats", title="Health statistics")

OPTS = [
    cfg.IntOpt("coverage_grace_period", default=3 * 3600, min=0,
               help="Seconds a patch set must have been current (not "
                    "superseded by a newer patch set) to be eligible for "
                    "coverage, unless the CI system reported on it anyway. "
                    "Patch sets younger than this are not yet due."),
    cfg.IntOpt("coverage_lookback_days", default=30, min=1,
               help="A CI system without configured projects covers the "
                    "projects it reported on in this many days before the "
                    "end of the window, or in the window itself."),
    cfg.IntOpt("silence_threshold", default=24 * 3600, min=1,
               help="Seconds without any report after which a CI system "
                    "is SILENT, if eligible patch sets arrived meanwhile."),
    cfg.IntOpt("stale_collector_threshold", default=1800, min=1,
               help="Seconds since a source's last successful collection "
                    "after which its data is stale; health is then UNKNOWN "
                    "rather than judged on incomplete data."),
    cfg.IntOpt("health_min_reports", default=5, min=0,
               help="Fewest reports in the window for a health judgement "
                    "on the success rate; with fewer it is UNKNOWN "
                    "(unless coverage or silence decide)."),
    cfg.FloatOpt("success_rate_yellow", default=0.8, min=0.0, max=1.0,
                 help="Success rate below which a CI system is YELLOW."),
    cfg.FloatOpt("success_rate_red", default=0.5, min=0.0, max=1.0,
                 help="Success rate below which a CI system is RED."),
    cfg.FloatOpt("coverage_yellow", default=0.9, min=0.0, max=1.0,
                 help="Coverage below which a CI system is YELLOW."),
    cfg.FloatOpt("coverage_red", default=0.5, min=0.0, max=1.0,
                 help="Coverage below which a CI system is RED."),
]


def register_opts(conf):
    # A fresh OptGroup per ConfigOpts: oslo.config copies a registered group
    # shallowly, so a shared module-level group would share its option
    # table, and set_override on one ConfigOpts would leak into every other.
    conf.register_group(cfg.OptGroup(GROUP.name, title=GROUP.title))
    conf.register_opts(OPTS, group=GROUP.name)
