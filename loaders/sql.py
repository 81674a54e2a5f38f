"""Department data held in a relational database (`format: sql`), as exchange centres keep it.

`url` is an SQLAlchemy URL whose `${VAR}`s are read from the environment when the source is read,
so a password never stands in the manifest (`postgresql://reader:${CITY_DB_PASSWORD}@host/city`,
or the whole URL: `${CITY_DB_URL}`). `table` (`name` or `schema.name`) is read whole in the order
of the record id; `query` is run as given, without parameters. Either runs in a transaction that
is rolled back, on PostgreSQL a READ ONLY one, and is streamed through a server-side cursor,
CHUNK rows at a time, so a big table is never held whole beside the mentions made from it.
"""
from __future__ import annotations

import os
import re

from creditgraph.loaders.cells import date_columns, raw_line, row_texts
from creditgraph.loaders.manifest import SourceSpec

CHUNK = 5000
_VAR = re.compile(r"\$\{(\w+)\}")
# `postgresql://` means psycopg2 to SQLAlchemy; the declared driver is psycopg (3).
_DRIVERS = {"postgresql": "postgresql+psycopg"}


class SqlSourceError(ValueError):
    """The table or query cannot be read: a failed source, not a reject."""


def expand(url: str) -> str:
    missing = sorted({name for name in _VAR.findall(url) if name not in os.environ})
    if missing:
        raise SqlSourceError(f"the url names environment variable(s) {missing}, not set")
    return _VAR.sub(lambda m: os.environ[m[1]], url)


def sql_rows(source: SourceSpec):
    """(label, header, rows): the label names the database (password hidden) and the table, the
    rejects' `file`; rows yields (ordinal in the result, texts, raw, problem)."""
    import sqlalchemy as sa

    url = _url(source, sa)
    label = f"{url.render_as_string(hide_password=True)} " + (f"table {source.table}" if source.table
                                                               else f"query of {source.name}")
    engine, conn = sa.create_engine(url, poolclass=sa.pool.NullPool), None
    try:
        conn = engine.connect()
        result = _execute(conn, source, sa)
    except sa.exc.SQLAlchemyError as e:
        if conn is not None:
            conn.close()
        engine.dispose()
        raise SqlSourceError(_message(e, source, url.password)) from None
    header = [str(k) for k in result.keys()]
    return label, header, _data(engine, conn, result, source, header)


def _url(source: SourceSpec, sa):
    try:
        url = sa.engine.make_url(expand(source.url))
    except sa.exc.ArgumentError:
        raise SqlSourceError("the url is not an SQLAlchemy URL (dialect+driver://user@host/database)") from None
    return url.set(drivername=_DRIVERS.get(url.drivername, url.drivername))


def _execute(conn, source: SourceSpec, sa):
    options = {"stream_results": True, "yield_per": CHUNK}
    if conn.dialect.name == "postgresql":
        options["postgresql_readonly"] = True
    conn = conn.execution_options(**options)
    if source.query is not None:
        query = source.query
        if conn.dialect.paramstyle in ("format", "pyformat"):
            query = query.replace("%", "%%")  # no parameters: a % is the query's own (LIKE '%x')
        return conn.exec_driver_sql(query)
    schema, _, name = source.table.rpartition(".")
    table = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=conn)
    ordered = sa.select(table)
    if source.record_id in table.c:  # else the reader fails the source for the missing column
        ordered = ordered.order_by(table.c[source.record_id])
    return conn.execute(ordered)


def _data(engine, conn, result, source: SourceSpec, header: list[str]):
    read, dates = source.columns(), date_columns(source)
    try:
        for ordinal, values in enumerate(result, 1):
            texts, problem = row_texts(header, values, read, dates, spreadsheet=False)
            yield ordinal, texts, raw_line(texts), problem
    finally:
        conn.rollback()  # read only: nothing a query did is kept
        conn.close()
        engine.dispose()


def _message(error, source: SourceSpec, password: str | None) -> str:
    from sqlalchemy.exc import NoSuchTableError

    if isinstance(error, NoSuchTableError):
        return f"no table {source.table} in the database"
    orig = getattr(error, "orig", None)
    text = str(orig if orig is not None else error).strip().splitlines()[0]
    return text.replace(password, "***") if password else text
