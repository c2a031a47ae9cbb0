"""list_opts() for oslo-config-generator (DEFAULT first, then alphabetical)."""

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


def list_opts():
    return [
        ("DEFAULT", default.OPTS),
        ("api", api.OPTS),
        ("ci", ci.OPTS),
        ("daemon", daemon.OPTS),
        ("database", database.OPTS),
        ("dora", dora.OPTS),
        ("gerrit", gerrit.OPTS),
        ("gerrit:example", gerrit.SOURCE_OPTS),
        ("kubernetes", kubernetes.OPTS),
        ("kubernetes:example", kubernetes.SOURCE_OPTS),
        ("notifications", notifications.OPTS),
        ("releases", releases.OPTS),
        ("stats", stats.OPTS),
    ]
