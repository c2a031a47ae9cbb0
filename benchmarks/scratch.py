"""Scratch databases for the benchmarks: created migrated, dropped at the end."""

import os

import pymysql
import sqlalchemy as sa


class Databases:
    """Scratch databases <prefix>_<pid>[_<suffix>] on one MariaDB/MySQL server."""

    def __init__(self, url, prefix):
        self.base = sa.engine.make_url(url)
        self.admin = sa.create_engine(self.base.set(database=""))
        self.prefix = prefix
        self.created = []

    def url(self, name):
        return self.base.set(database=name).render_as_string(hide_password=False)

    def create(self, suffix=""):
        """A new database with radar's schema (alembic upgrade head); its name."""
        from radar.db import migration
        name = "%s_%d%s" % (self.prefix, os.getpid(), "_" + suffix if suffix else "")
        with self.admin.begin() as conn:
            conn.execute(sa.text("DROP DATABASE IF EXISTS %s" % name))
            conn.execute(sa.text("CREATE DATABASE %s CHARACTER SET utf8mb4 "
                                 "COLLATE utf8mb4_bin" % name))
        self.created.append(name)
        migration.upgrade(self.url(name))
        return name

    def _rows(self, name, sql):
        engine = sa.create_engine(self.url(name))
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(sql)).all()
        finally:
            engine.dispose()

    def scalar(self, name, sql):
        rows = self._rows(name, sql)
        return rows[0][0] if rows else None

    def column(self, name, sql):
        return [row[0] for row in self._rows(name, sql)]

    def pymysql(self, name):
        """A raw PyMySQL connection (the raw-INSERT baseline bypasses SQLAlchemy)."""
        u = self.base
        return pymysql.connect(host=u.host or "127.0.0.1", port=u.port or 3306,
                               user=u.username or "root", password=u.password or "",
                               database=name, charset="utf8mb4", autocommit=False)

    def version(self):
        with self.admin.connect() as conn:
            return conn.execute(sa.text("SELECT VERSION()")).scalar()

    def variable(self, name):
        with self.admin.connect() as conn:
            row = conn.execute(sa.text("SHOW VARIABLES LIKE :n"), {"n": name}).first()
            return row[1] if row else None

    def drop_all(self):
        with self.admin.begin() as conn:
            for name in self.created:
                conn.execute(sa.text("DROP DATABASE IF EXISTS %s" % name))
        self.created = []
        self.admin.dispose()
