"""Column types that behave the same on SQLite and MySQL."""

import datetime as dt
import json

from sqlalchemy import DateTime, Text, types
from sqlalchemy.dialects import mysql

UTC = dt.UTC


class UtcDateTime(types.TypeDecorator):
    """Naive UTC in the database, aware UTC in Python, microseconds on MySQL."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column: %r" % (value,))
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class LongText(types.TypeDecorator):
    """TEXT on SQLite, MEDIUMTEXT on MySQL (Gerrit messages reach 16 KiB+)."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.MEDIUMTEXT())
        return dialect.type_descriptor(Text())


class JsonText(LongText):
    """JSON stored as text (portable; radar never queries inside it)."""

    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(value, sort_keys=True)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)
