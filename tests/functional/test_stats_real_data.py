"""Statistics over the real recorded data, for windows short and long."""

import datetime as dt

from sqlalchemy.orm import Session

from radar.stats import systems, window
from radar_daemon import cmd
from tests.functional import daemon_helpers

UTC = dt.UTC
NOW = dt.datetime(2019, 1, 2, tzinfo=UTC)


def _summaries(engine, conf, since, until):
    with Session(engine) as session:
        rows = systems.system_summaries(session, conf, window.Window(since, until), now=NOW)
    return {r["name"]: r for r in rows}


def test_coverage_in_a_long_historical_window(engine, db_url, tmp_path, shared_data,
                                              make_conf):
    path = daemon_helpers.write_conf(tmp_path, db_url)
    assert cmd.main(["--config-file", path, "import", "--source", "openstack",
                     str(shared_data / "driverlog__sample_review.json"),
                     str(shared_data / "elastic-recheck__gerrit_events.json")]) == 0
    conf = make_conf(**{"database.connection": db_url})
    month = _summaries(engine, conf, dt.datetime(2014, 5, 1, tzinfo=UTC),
                       dt.datetime(2014, 6, 1, tzinfo=UTC))
    years = _summaries(engine, conf, dt.datetime(2013, 1, 1, tzinfo=UTC),
                       dt.datetime(2019, 1, 1, tzinfo=UTC))
    # May 2014: change 92468's two patch sets, both reported by Mellanox.
    assert (month["mellanox external testing"]["eligible_patchsets"],
            month["mellanox external testing"]["missed"]) == (2, 0)
    # 2013-2018: Mellanox still covers openstack/neutron, where change
    # 65902 (patch set 3, January 2014) got no Mellanox report.
    mellanox = years["mellanox external testing"]
    assert (mellanox["eligible_patchsets"], mellanox["missed"]) == (3, 1)
    assert abs(mellanox["coverage"] - 2 / 3) < 1e-9
    # Jenkins reported on every patch set it covers: 92468's two and the
    # ten elastic-recheck patch sets.
    assert (years["jenkins"]["eligible_patchsets"], years["jenkins"]["coverage"]) == (12, 1.0)
