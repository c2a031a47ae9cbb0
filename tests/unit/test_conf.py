"""Configuration: the committed sample is fresh; bad values fail at once."""

import subprocess
import sys

import pytest

from radar import conf as radar_conf
from radar.common import exception
from tests.conftest import REPO


def test_sample_config_is_fresh(tmp_path):
    out = tmp_path / "radar.conf.sample"
    subprocess.run([sys.executable, "-m", "oslo_config.generator",
                    "--config-file", str(REPO / "etc" / "radar-config-generator.conf"),
                    "--output-file", str(out)], check=True, cwd=REPO)
    committed = (REPO / "etc" / "radar.conf.sample").read_text()
    assert out.read_text() == committed, \
        "etc/radar.conf.sample is stale: run tox -e genconfig"


def test_secrets_are_secret():
    conf = radar_conf.new_conf()
    radar_conf.gerrit.register_source_opts(conf, "x")
    assert conf._groups["database"]._opts["connection"]["opt"].secret
    assert conf._groups["gerrit:x"]._opts["password"]["opt"].secret


def _write(tmp_path, text):
    path = tmp_path / "radar.conf"
    path.write_text(text)
    return ["--config-file", str(path)]


def test_load_registers_source_groups(tmp_path):
    conf = radar_conf.load(_write(tmp_path, """
[gerrit]
sources = opendev, archive
[gerrit:opendev]
url = https://review.opendev.org
projects = openstack/nova, openstack/neutron
[gerrit:archive]
type = files
paths = /tmp/*.json
"""))
    assert conf["gerrit:opendev"].projects == ["openstack/nova", "openstack/neutron"]
    assert conf["gerrit:archive"].type == "files"


@pytest.mark.parametrize("text, needle", [
    ("[gerrit]\npoll_interval = soon\n", "poll_interval"),
    ("[api]\nport = 99999\n", "port"),
    ("[gerrit]\nsources = a\n[gerrit:a]\ntype = ssh\n", "type"),
    ("[gerrit]\nsources = a\n[gerrit:a]\nurl = ftp://example.org\n", "url"),
    ("[gerrit]\nsources = a\n[gerrit:a]\ntype = rest\n", "url is required"),
    ("[gerrit]\nsources = a\n[gerrit:a]\ntype = files\n", "paths is required"),
])
def test_bad_values_fail_at_load(tmp_path, text, needle):
    with pytest.raises(exception.ConfigError) as err:
        radar_conf.load(_write(tmp_path, text))
    assert needle in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_config_file_is_a_config_error(tmp_path):
    with pytest.raises(exception.ConfigError):
        radar_conf.load(["--config-file", str(tmp_path / "nope.conf")])


@pytest.mark.parametrize("text, needle", [
    ("[gerrit]\nsources = a\n[gerrit:a]\ntype = ssh\n", "type"),
    ("[gerrit]\nsources = a\n[gerrit:a]\nurl = not a url\n", "url"),
])
def test_daemon_bad_config_one_line_and_nonzero(tmp_path, text, needle):
    args = _write(tmp_path, text + "[DEFAULT]\nstate_path = %s\n" % (tmp_path / "s"))
    proc = subprocess.run([sys.executable, "-m", "radar_daemon.cmd", *args, "run-once"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], proc.stderr


def test_daemon_unreadable_import_file(tmp_path):
    args = _write(tmp_path, "[DEFAULT]\nstate_path = %s\n" % (tmp_path / "s"))
    proc = subprocess.run([sys.executable, "-m", "radar_daemon.cmd", *args, "import",
                           str(tmp_path / "missing.json")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "missing.json" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_overrides_do_not_leak_between_configurations():
    first, second = radar_conf.new_conf(), radar_conf.new_conf()
    first([], project="radar", default_config_files=[])
    second([], project="radar", default_config_files=[])
    first.set_override("poll_interval", 5, group="gerrit")
    first.set_override("connection", "sqlite://", group="database")
    assert second.gerrit.poll_interval == 300
    assert second.database.connection == ""
