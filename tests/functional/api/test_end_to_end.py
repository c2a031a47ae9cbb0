"""radar-daemon imports real recorded Gerrit data; the API serves it."""

import pathlib
import subprocess
import sys

import webtest

from radar.api import app as api_app


def test_imported_real_data_through_the_api(tmp_path, db_url, engine, make_conf,
                                            shared_data):
    conf_file = tmp_path / "radar.conf"
    conf_file.write_text("[DEFAULT]\nstate_path = %s\n[database]\nconnection = %s\n"
                         % (tmp_path / "state", db_url))
    daemon = pathlib.Path(sys.executable).parent / "radar-daemon"
    out = subprocess.run([str(daemon), "--config-file", str(conf_file), "import",
                          str(shared_data / "driverlog__sample_review.json")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    conf = make_conf(**{"database.connection": db_url, "api.access_log": False})
    app = webtest.TestApp(api_app.setup_app(conf, engine=engine))
    window = {"since": "2014-05-01", "until": "2014-07-01"}

    change = app.get("/v1/changes/92468").json
    assert change["project"] == "openstack/neutron"
    reports = [r for ps in change["patchsets"] for r in ps["reports"]]
    assert len({r["system"] for r in reports}) >= 5
    for ps in change["patchsets"]:
        times = [r["reported_at"] for r in ps["reports"]]
        assert times == sorted(times)

    listing = app.get("/v1/reports", params=dict(window, limit="5"))
    assert int(listing.headers["X-Total-Count"]) == len(reports)
    assert len(listing.json) == 5

    systems = app.get("/v1/systems", params=window).json
    assert sum(s["reports"] for s in systems) == len(reports)
    jenkins = [s for s in systems if s["name"] == "jenkins"]
    assert jenkins and jenkins[0]["reports"] >= 1
    detail = app.get("/v1/systems/jenkins", params=window).json
    assert detail["reports"] == jenkins[0]["reports"]
    assert app.get("/v1/systems/jenkins/jobs", params=window).json
    project = app.get("/v1/projects/openstack/neutron", params=window).json
    assert {s["name"] for s in project["systems"]} >= {"jenkins"}
    assert app.get("/v1/systems", params=dict(window, format="csv")).text.count("\n") == \
        len(systems) + 1
