"""Database helpers the ORM lacks: the few writes of the order path that
run for every order, in fewer statements and with less Python per row than
``bulk_create`` and ``bulk_update`` spend on them."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections, models
from psycopg.types.json import set_json_loads


def _connection():
    """The default connection itself: ``django.db.connection`` is a proxy
    that looks it up (in a context-local) at every attribute read, which a
    loop over many rows' fields pays thousands of times."""
    return connections[DEFAULT_DB_ALIAS]


def server_cursor(json_loads=None):
    """A cursor binding parameters on the server (psycopg's ``Cursor``, not
    the ``ClientCursor`` Django uses): psycopg dumps them in C instead of
    quoting each into the statement in Python, and prepares a statement it
    runs often (after ``prepare_threshold`` runs on a connection). Wrapped
    like Django's own cursors, so it is logged and counted. ``json_loads``
    replaces ``json.loads`` for the JSON it reads."""
    connection = _connection()
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    if json_loads is not None:
        set_json_loads(json_loads, raw)
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


def update_rows(objs: Sequence[models.Model], fields: Sequence[str]) -> int:
    """Write ``fields`` of saved ``objs`` (one model) in one statement,
    ``UPDATE ... FROM unnest(<one array per column>)``: what
    ``QuerySet.bulk_update`` does, without its ``CASE WHEN`` per row and
    field, which costs the ORM more time to build than the database to run.
    Values go through each field's ``pre_save`` (``auto_now``) and
    ``get_db_prep_save``, as a ``save`` would, and are bound on the server;
    the statement is the same for any number of rows, so PostgreSQL plans it
    once per connection. Returns the number of rows updated."""
    if not objs:
        return 0
    connection = _connection()
    meta = type(objs[0])._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    arrays = [[pk.get_db_prep_save(obj.pk, connection) for obj in objs]]
    for field in columns:
        arrays.append(
            [field.get_db_prep_save(field.pre_save(obj, add=False), connection) for obj in objs]
        )
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in [pk, *columns])
    casts = ", ".join(f"%s::{field.db_type(connection)}[]" for field in [pk, *columns])
    sets = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns)
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {sets} FROM unnest({casts}) AS v({names}) "
        f"WHERE t.{quote(pk.column)} = v.{quote(pk.column)}"
    )
    with server_cursor() as cursor:
        cursor.execute(sql, arrays)
        return cursor.rowcount


# Fields whose value, of exactly this type, ``get_db_prep_save`` gives back
# unchanged on PostgreSQL (after ``to_python``, which leaves it as it is):
# ``insert_rows`` writes such a value as it is and hands any other to the
# field. Exact classes only: a subclass may prepare its values differently.
_AS_IS: dict[type, type] = {
    models.CharField: str,
    models.TextField: str,
    models.DecimalField: Decimal,
    models.BooleanField: bool,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.ForeignKey: int,
    models.DateTimeField: datetime,
}


def _value_of(field: models.Field, connection):
    """``obj -> value to write`` for ``field``: ``pre_save`` (``auto_now_add``)
    then ``get_db_prep_save``, the two skipped where they would change
    nothing (a plain attribute of the field's own type, see ``_AS_IS``)."""
    kind = _AS_IS.get(type(field))
    if type(field) is models.ForeignKey and type(field.target_field) not in (
        models.AutoField,
        models.BigAutoField,
        models.IntegerField,
        models.BigIntegerField,
    ):
        kind = None
    own_pre_save = type(field).pre_save is not models.Field.pre_save
    if isinstance(field, models.DateField) and not (field.auto_now or field.auto_now_add):
        own_pre_save = False  # DateField.pre_save only fills auto_now(_add)
    attname = field.attname
    prepare = field.get_db_prep_save

    # What the field would still do to a value of its own type: make a naive
    # datetime aware (with a warning); refuse a decimal NaN or infinity.
    check = {datetime: lambda v: v.tzinfo is not None, Decimal: Decimal.is_finite}.get(kind)

    def value(obj):
        raw = field.pre_save(obj, add=True) if own_pre_save else getattr(obj, attname)
        if raw is None or (type(raw) is kind and (check is None or check(raw))):
            return raw
        return prepare(raw, connection)

    return value


# Below this many rows ``insert_rows`` uses ``bulk_create``: one statement
# instead of two is worth more than the Python ``COPY`` saves on a few rows.
COPY_MIN_ROWS = 8


def insert_rows(objs: Sequence[models.Model]) -> None:
    """Insert new ``objs`` (one model, without primary keys) as
    ``QuerySet.bulk_create`` would, and set their primary keys. From
    ``COPY_MIN_ROWS`` rows on, the keys are drawn from the table's sequence
    in one query and the rows sent with one ``COPY``, which costs about half
    the Python of a ``bulk_create`` of as many rows. Values go through
    ``pre_save`` (``auto_now_add``) and ``get_db_prep_save`` (see
    ``_value_of``); a related object saved since it was assigned gives
    its key, and an unsaved one is refused, as ``bulk_create`` does. No
    signals are sent (``bulk_create`` sends none either). The ``COPY`` is
    logged and counted with the queries when Django logs them."""
    if not objs:
        return
    connection = _connection()
    model = type(objs[0])
    meta = model._meta
    pk = meta.pk
    if any(obj.pk is not None for obj in objs):
        raise ValueError("insert_rows() inserts new rows only: some objects have a primary key.")
    if len(objs) < COPY_MIN_ROWS:
        model._base_manager.bulk_create(objs)
        return
    fields = [f for f in meta.concrete_fields if f is not pk and not f.generated]
    quote = connection.ops.quote_name
    values = [_value_of(f, connection) for f in fields]
    rows = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert_rows")
        rows.append([value(obj) for value in values])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, pk.column, len(objs)],
        )
        keys = [key for (key,) in cursor.fetchall()]
    columns = ", ".join(quote(f.column) for f in [pk, *fields])
    sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
    started = time.monotonic()
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for key, row in zip(keys, rows, strict=True):
            copy.write_row([key, *row])
    if connection.queries_logged:
        connection.queries_log.append(
            {"sql": f"{sql} -- {len(objs)} rows", "time": f"{time.monotonic() - started:.3f}"}
        )
    for key, obj in zip(keys, objs, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = connection.alias
