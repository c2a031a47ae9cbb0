from oslo_config import cfg

GROUP = cfg.OptGroup("ci", title="Recognising CI systems")

OPTS = [
    cfg.ListOpt("accounts", default=[],
                help="CI accounts, each 'account' or 'System Name=account'. "
                     "An account is a username, a numeric account id, an "
                     "e-mail or a full name. Several accounts may name the "
                     "same system (e.g. 'Zuul=zuul,Zuul=jenkins')."),
    cfg.StrOpt("group", default="",
               help="Gerrit group (UUID or name) whose members are CI "
                    "accounts, read with /groups/{id}/members/ from every "
                    "REST source."),
    cfg.StrOpt("discover_pattern",
               default=r"(?i)(\bCI\b|\bbot\b|jenkins|zuul|\btesting\b|"
                       r"\bsweeper\b|[-_ ]ci$|^ci[-_ ])",
               help="Regular expression on an account's full name or "
                    "username that marks it as a CI when it posts a result. "
                    "Empty turns discovery off. A human is never a CI "
                    "because of what they write: only configured accounts, "
                    "group members and names matching this pattern are."),
    cfg.ListOpt("ignore_accounts", default=[],
                help="Accounts that are never CI systems, even if the "
                     "discovery pattern matches them."),
    cfg.ListOpt("reference_systems", default=[],
                help="Names of the reference CI systems (e.g. Zuul) whose "
                     "results others are compared with."),
    cfg.StrOpt("recheck_pattern",
               default=r"(?im)^\s*recheck(?:\s+(?P<target>[^\s].*?))?\s*$",
               help="Regular expression that marks a human comment as a "
                    "recheck request. A named group 'target' names the CI "
                    "asked to run again; without it every CI is."),
]


def register_opts(conf):
    # A fresh OptGroup per ConfigOpts: a shared one would share its options
    # (and their overrides) between configurations.
    conf.register_group(cfg.OptGroup(GROUP.name, title=GROUP.title))
    conf.register_opts(OPTS, group=GROUP)
