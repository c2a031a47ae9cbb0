"""Portable SQL pieces the statistics need (SQLite and MySQL/MariaDB)."""

import bisect

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import expression

from radar.db.types import UtcDateTime


class usec_between(expression.FunctionElement):  # noqa: N801 (SQL function style)
    """Exact whole microseconds from the first UtcDateTime column to the second."""

    type = sa.BigInteger()
    name = "usec_between"
    inherit_cache = True


@compiles(usec_between)
def _usec_default(element, compiler, **kw):
    raise NotImplementedError("usec_between is defined for SQLite and MySQL only")


@compiles(usec_between, "mysql")
def _usec_mysql(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return "TIMESTAMPDIFF(MICROSECOND, %s, %s)" % (start, end)


@compiles(usec_between, "sqlite")
def _usec_sqlite(element, compiler, **kw):
    # SQLAlchemy stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff':
    # whole seconds from strftime('%s'), microseconds from characters 21-26.
    # Integer arithmetic only, so boundaries compare exactly (julianday()
    # is a double and is off by tens of microseconds).
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return ("((CAST(strftime('%%s', %(e)s) AS INTEGER) - CAST(strftime('%%s', %(s)s) AS INTEGER))"
            " * 1000000 + CAST(substr(%(e)s, 21, 6) AS INTEGER)"
            " - CAST(substr(%(s)s, 21, 6) AS INTEGER))" % {"s": start, "e": end})


class Buckets:
    """Consecutive windows (a series, or one window) and their SQL bucket index."""

    def __init__(self, windows):
        if not windows:
            raise ValueError("no buckets")
        self.windows = list(windows)
        self.since = self.windows[0].since
        self.until = self.windows[-1].until
        self._starts = [w.since for w in self.windows]

    def __len__(self):
        return len(self.windows)

    def index(self, when):
        """Bucket of a time inside [since, until)."""
        return bisect.bisect_right(self._starts, when) - 1

    def case(self, column):
        """SQL: the bucket index of a time column already limited to [since, until)."""
        if len(self.windows) == 1:
            return sa.literal(0, sa.Integer())
        return sa.case(*[(column < w.until, i) for i, w in enumerate(self.windows[:-1])],
                       else_=len(self.windows) - 1)

    def day_case(self, day_column):
        """SQL: the bucket index of a Date column (whole days inside [since, until))."""
        if len(self.windows) == 1:
            return sa.literal(0, sa.Integer())
        return sa.case(*[(day_column < w.until.date(), i)
                         for i, w in enumerate(self.windows[:-1])],
                       else_=len(self.windows) - 1)

    def bounds(self, index_column):
        """SQL: (since, until) of the bucket whose index is in `index_column`."""
        if len(self.windows) == 1:
            return (sa.literal(self.since, UtcDateTime()), sa.literal(self.until, UtcDateTime()))
        since = sa.case({i: sa.literal(w.since, UtcDateTime())
                         for i, w in enumerate(self.windows)}, value=index_column)
        until = sa.case({i: sa.literal(w.until, UtcDateTime())
                         for i, w in enumerate(self.windows)}, value=index_column)
        return since, until
