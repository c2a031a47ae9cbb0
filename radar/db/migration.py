"""Programmatic Alembic: no alembic.ini, URL from conf."""

import os

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


def alembic_config(url):
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    # '%' would be read as interpolation by ConfigParser.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url, revision="head"):
    command.upgrade(alembic_config(url), revision)


def current(engine):
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head(url):
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def check(url):
    """Raise alembic.util.CommandError if the models and migrations differ."""
    command.check(alembic_config(url))
