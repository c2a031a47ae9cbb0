"""Schema: alembic head matches the models on both databases; radar-db-manage."""

import datetime as dt
import subprocess
import sys

import pytest
import sqlalchemy as sa

from radar.db import migration, models
from tests.functional import daemon_helpers


def test_migrations_match_models(db_url):
    # Raises when autogenerate finds a difference between models and head.
    migration.check(db_url)


@pytest.mark.parametrize("fresh_db_url", ["sqlite", "mysql"], indirect=True)
def test_db_manage_commands(fresh_db_url, tmp_path):
    conf = daemon_helpers.write_conf(tmp_path, fresh_db_url)

    def manage(*args):
        return subprocess.run([sys.executable, "-m", "radar.db.manage", "--config-file",
                               conf, *args], capture_output=True, text=True, timeout=120)

    head = migration.head(fresh_db_url)
    current = manage("current")
    assert current.returncode == 0 and current.stdout.strip() == head
    assert manage("check").returncode == 0
    # Behind head: check fails and says what to do.
    engine = sa.create_engine(fresh_db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'old'"))
    engine.dispose()
    behind = manage("check")
    assert behind.returncode == 1 and "radar-db-manage upgrade" in behind.stderr


@pytest.mark.parametrize("fresh_db_url", ["mysql"], indirect=True)
def test_mysql_tables_are_innodb_utf8mb4(fresh_db_url):
    engine = sa.create_engine(fresh_db_url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT table_name, engine, table_collation FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_name != 'alembic_version'")).all()
    engine.dispose()
    assert {r[0] for r in rows} == set(models.Base.metadata.tables)
    assert all(r[1] == "InnoDB" and r[2].startswith("utf8mb4") for r in rows)


def test_microseconds_and_emoji_survive(engine):
    when = dt.datetime(2024, 3, 11, 9, 12, 40, 512345, tzinfo=dt.UTC)
    source = models.Source.__table__
    with engine.begin() as conn:
        conn.execute(source.insert().values(name="s\U0001F600", type="files", created_at=when))
    with engine.connect() as conn:
        row = conn.execute(sa.select(source.c.name, source.c.created_at)).one()
    assert row.name == "s\U0001F600"
    assert row.created_at == when and row.created_at.tzinfo is not None
