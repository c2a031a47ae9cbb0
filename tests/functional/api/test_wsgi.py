"""radar.api.wsgi:application under any WSGI server, and radar-api start-up errors."""

import subprocess
import sys


def test_wsgi_module_reads_radar_config_file(tmp_path, db_url, engine):
    conf_file = tmp_path / "radar.conf"
    conf_file.write_text("[database]\nconnection = %s\n[api]\naccess_log = false\n" % db_url)
    code = (
        "import webtest\n"
        "from radar.api import wsgi\n"
        "app = webtest.TestApp(wsgi.application)\n"
        "print(app.get('/').json['name'], app.get('/v1/reports').json)\n"
    )
    env = {"RADAR_CONFIG_FILE": str(conf_file), "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "radar []"


def test_radar_api_rejects_a_bad_config(tmp_path):
    from radar.api import cmd

    bad = tmp_path / "bad.conf"
    bad.write_text("[api]\nport = not-a-port\n")
    assert cmd.main(["--config-file", str(bad)]) == 2
    assert cmd.main(["--config-file", str(tmp_path / "missing.conf")]) == 2
