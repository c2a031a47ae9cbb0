"""Shared fixtures: a real database (SQLite file and MariaDB) built with alembic.

Every test that takes `db_url` runs twice: on SQLite and on MySQL/MariaDB
(RADAR_TEST_MYSQL_URL, default the local server). A missing MySQL server is
an error, not a skip: CI must exercise both databases.
"""

import os
import pathlib
import uuid

import pytest
import sqlalchemy as sa

from radar import conf as radar_conf
from radar.db import engine as db_engine
from radar.db import migration, models

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data" / "gerrit"
MYSQL_URL = os.environ.get("RADAR_TEST_MYSQL_URL",
                           "mysql+pymysql://root@127.0.0.1:3306/?charset=utf8mb4")
BACKENDS = os.environ.get("RADAR_TEST_BACKENDS", "sqlite,mysql").split(",")


def _mysql_database_url(name):
    url = sa.engine.make_url(MYSQL_URL)
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def shared_data():
    assert SHARED_DATA.is_dir(), "../shared/data/gerrit is missing beside the repo"
    return SHARED_DATA


def _create_database(backend, tmp_path_factory):
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / "radar.sqlite"
        return "sqlite:///%s" % path, None
    name = "radar_test_%d_%s" % (os.getpid(), uuid.uuid4().hex[:8])
    admin = sa.create_engine(MYSQL_URL)
    with admin.begin() as conn:
        conn.execute(sa.text("CREATE DATABASE %s CHARACTER SET utf8mb4 "
                             "COLLATE utf8mb4_bin" % name))
    return _mysql_database_url(name), (admin, name)


def _drop_database(handle):
    if handle is None:
        return
    admin, name = handle
    with admin.begin() as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS %s" % name))
    admin.dispose()


@pytest.fixture(scope="module", params=[b for b in BACKENDS if b])
def db_url(request, tmp_path_factory):
    """A migrated, empty database per test module and backend."""
    url, handle = _create_database(request.param, tmp_path_factory)
    migration.upgrade(url)
    yield url
    _drop_database(handle)


@pytest.fixture
def fresh_db_url(request, tmp_path_factory):
    """A migrated database for one test (for tests that need a clean start)."""
    backend = getattr(request, "param", "sqlite")
    url, handle = _create_database(backend, tmp_path_factory)
    migration.upgrade(url)
    yield url
    _drop_database(handle)


def truncate_all(engine):
    with engine.begin() as conn:
        for table in reversed(models.Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def engine(db_url):
    eng = db_engine.create_engine(url=db_url)
    truncate_all(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine):
    with db_engine.make_sessionmaker(engine)() as sess:
        yield sess


@pytest.fixture
def conf(tmp_path):
    """A fresh ConfigOpts with state in tmp_path (no global state)."""
    return _conf(tmp_path)


def _conf(tmp_path, **overrides):
    c = radar_conf.new_conf()
    c([], project="radar", default_config_files=[])
    c.set_override("state_path", str(tmp_path / "state"))
    for key, value in overrides.items():
        group, _, name = key.rpartition(".")
        c.set_override(name, value, group=group or None)
    return c


@pytest.fixture
def make_conf(tmp_path):
    def factory(**overrides):
        return _conf(tmp_path, **overrides)
    return factory
