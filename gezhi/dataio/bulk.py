"""Batch writes for imports: COPY on PostgreSQL, bulk_create / bulk_update elsewhere.

On PostgreSQL, `bulk_create` of 2,000 people costs about 90 µs a row (statement building and
a 40,000-parameter INSERT), COPY about 20 µs: the difference between missing and meeting the
importer's 10,000 rows a second. Ids are taken from the table's sequence first, so the caller
knows them (for residence links and tags) without RETURNING. SQLite is in process and fast
with plain `bulk_create`.

Rows are tuples of column values in the order of `fields` (attribute names, e.g. "grid_id").
"""

from __future__ import annotations

import zlib

from django.db import connection

BATCH = 2000


def _columns(model, fields: list[str]) -> list[str]:
    by_attname = {f.attname: f.column for f in model._meta.concrete_fields}
    return [by_attname[name] for name in fields]


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def immediate_constraints() -> None:
    """Check foreign keys as each batch is written rather than all at commit (Django makes
    them deferred on PostgreSQL): the checks then run beside the workers instead of after
    them, and the server does not queue a check per row for the whole file."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def insert(model, fields: list[str], rows: list[tuple]) -> list[int]:
    """Insert rows; returns their new primary keys in order."""
    if not rows:
        return []
    if connection.vendor == "postgresql":
        return _copy_insert(model, fields, rows)
    objs = [model(**dict(zip(fields, row, strict=True))) for row in rows]
    model.objects.bulk_create(objs, batch_size=500)
    return [obj.pk for obj in objs]


def _pg_types(model, fields: list[str]) -> list[str]:
    """Type names for a binary COPY: "varchar(50)" → "varchar", "numeric(8, 2)" → "numeric"."""
    by_attname = {f.attname: f for f in model._meta.concrete_fields}
    return [by_attname[name].db_type(connection).split("(")[0].strip() for name in fields]


def _copy_insert(model, fields: list[str], rows: list[tuple]) -> list[int]:
    table = model._meta.db_table
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                       "FROM generate_series(1, %s)", [table, pk.column, len(rows)])
        ids = [r[0] for r in cursor.fetchall()]
        columns = ", ".join(_quote(c) for c in [pk.column, *_columns(model, fields)])
        # Binary: no text formatting here, no text parsing in the server.
        with cursor.cursor.copy(f"COPY {_quote(table)} ({columns}) FROM STDIN "
                                "(FORMAT BINARY)") as copy:
            copy.set_types(_pg_types(model, [pk.attname, *fields]))
            for pk_value, row in zip(ids, rows, strict=True):
                copy.write_row((pk_value, *row))
    return ids


def select_in(model, columns: list[str], field: str, values, **equal) -> list[tuple]:
    """Rows (tuples of `columns`) whose `field` is one of `values` and whose other columns
    equal `equal` (None: IS NULL). On PostgreSQL one array parameter joined to the table,
    bound by the server: a 2,000-value IN list costs more to build and plan than to run."""
    values = list(values)
    if not values:
        return []
    if connection.vendor != "postgresql":
        filters = {f"{field}__in": values}
        for name, value in equal.items():
            filters[f"{name}__isnull" if value is None else name] = True if value is None \
                else value
        return list(model.objects.filter(**filters).values_list(*columns))
    import psycopg

    meta = model._meta
    by_attname = {f.attname: f for f in meta.concrete_fields}
    column = by_attname[field]
    array_type = column.db_type(connection).split("(")[0]
    names = ", ".join("t." + _quote(by_attname[c].column) for c in columns)
    where, params = [f"t.{_quote(column.column)} = k.v"], [values]
    for name, value in equal.items():
        if value is None:
            where.append(f"t.{_quote(by_attname[name].column)} IS NULL")
        else:
            where.append(f"t.{_quote(by_attname[name].column)} = %s")
            params.append(value)
    # One index probe per key, whatever the planner believes of the table: right after an
    # import it has no statistics for the rows it added, and left to itself came to scan
    # the whole growing table for every batch (a million-row import slowed to a third). The
    # lateral subquery (OFFSET 0 keeps it one) fixes the keys as the outer side; with
    # sequential scans off for this statement, the inner side is the index.
    sql = (f"SELECT {names} FROM unnest(%s::{array_type}[]) AS k(v) CROSS JOIN LATERAL "
           f"(SELECT * FROM {_quote(meta.db_table)} AS t WHERE {' AND '.join(where)} "
           f"OFFSET 0) AS t")
    with connection.cursor() as cursor:
        raw = psycopg.Cursor(cursor.cursor.connection)  # server-side binding
        raw.execute("SET LOCAL enable_seqscan = off")
        try:
            raw.execute(sql, params)
            return raw.fetchall()
        finally:
            raw.execute("RESET enable_seqscan")


class StaleRows(Exception):
    """Some rows changed (their version moved on) between reading and writing them."""


def update(model, fields: list[str], rows: list[tuple], *, versioned: bool = False) -> None:
    """Update rows given as (pk, *values in `fields` order).

    With `versioned`, "version" must be the last field and carry the new version; a row whose
    stored version is not the one before it was edited by someone else meanwhile: StaleRows.
    """
    if not rows:
        return
    if connection.vendor == "postgresql":
        _copy_update(model, fields, rows, versioned=versioned)
        return
    objs = []
    for pk, *values in rows:
        obj = model(pk=pk)
        for name, value in zip(fields, values, strict=True):
            setattr(obj, name, value)
        objs.append(obj)
    model.objects.bulk_update(objs, fields, batch_size=500)


def _copy_update(model, fields: list[str], rows: list[tuple], *, versioned: bool) -> None:
    table = model._meta.db_table
    pk = model._meta.pk.column
    columns = _columns(model, fields)
    names = ", ".join(_quote(c) for c in [pk, *columns])
    temp = _quote(f"_import_{table}_{zlib.crc32(names.encode()):08x}")
    with connection.cursor() as cursor:
        # The changed columns only, without their NOT NULL constraints; dropped at commit.
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {temp} ON COMMIT DROP AS "
                       f"SELECT {names} FROM {_quote(table)} WITH NO DATA")
        cursor.execute(f"TRUNCATE {temp}")
        with cursor.cursor.copy(f"COPY {temp} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(_pg_types(model, [model._meta.pk.attname, *fields]))
            for row in rows:
                copy.write_row(row)
        assignments = ", ".join(f"{_quote(c)} = t.{_quote(c)}" for c in columns)
        where = f"p.{_quote(pk)} = t.{_quote(pk)}"
        if versioned:
            where += " AND p.version = t.version - 1"
        cursor.execute(f"UPDATE {_quote(table)} AS p SET {assignments} FROM {temp} AS t "
                       f"WHERE {where}")
        if versioned and cursor.rowcount != len(rows):
            raise StaleRows()
