"""Engine and sessions from `conf`; SQLite tuned to act like a real database."""

import os

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import sessionmaker


def database_url(conf):
    if conf.database.connection:
        return conf.database.connection
    state = os.path.abspath(os.path.expanduser(conf.state_path))
    os.makedirs(state, exist_ok=True)
    return "sqlite:///" + os.path.join(state, "radar.sqlite")


def create_engine(conf=None, url=None):
    url = url or database_url(conf)
    busy_ms = conf.database.sqlite_busy_timeout if conf is not None else 30000
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": busy_ms / 1000.0})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            # WAL: the API reads while the daemon writes.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=%d" % busy_ms)
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    recycle = conf.database.pool_recycle if conf is not None else 3600
    return sa.create_engine(url, pool_pre_ping=True, pool_recycle=recycle)


def make_sessionmaker(engine):
    # expire_on_commit=False: rows stay readable after commit (API types are
    # built from them after the transaction ends).
    return sessionmaker(bind=engine, expire_on_commit=False)
