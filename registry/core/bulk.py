"""Set-based writes whose statement count does not depend on how many rows there are.

An executemany INSERT is split by the driver into pages (SQLAlchemy sends 1,000 rows per multi-row
INSERT, and no statement may carry more than 32,766 parameters on SQLite or 65,535 on PostgreSQL), so a
nightly job that inserts 3,000 notifications would send more statements than one that inserts 30.
Here every row travels in ONE JSON document bound as ONE parameter and the database unpacks it:
json_each() on SQLite, jsonb_to_recordset() on PostgreSQL.

- insert_rows(model, rows): INSERT … SELECT from the document (column defaults filled in as the ORM
  would; values converted by the column's own type, so what is stored is what the ORM would store).
- json_rows(columns, rows): the document as a selectable, e.g. for a (user_id, key) IN (…) test.
"""
import json
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from sqlalchemy import JSON, Boolean, Integer, String, bindparam, column, insert, inspect, select, text
from sqlalchemy import Enum as SAEnum

from registry.extensions import db


def _pg_value(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _identity(value):
    return value


def _encoder(col, dialect):
    """value -> what goes into the JSON document for this column on this dialect."""
    type_ = col.type
    if isinstance(type_, JSON):
        # As JSON text, so None becomes the JSON null the ORM stores (SQL NULL only for none_as_null).
        if type_.none_as_null:
            return lambda value: None if value is None else json.dumps(value, ensure_ascii=False)
        return lambda value: json.dumps(value, ensure_ascii=False)
    if dialect.name == "postgresql":
        plain = isinstance(type_, (Integer, String, Boolean)) and not isinstance(type_, SAEnum)
        return _identity if plain else _pg_value
    process = type_.bind_processor(dialect)  # SQLite: dates and datetimes as SQLAlchemy stores them
    if process is None:
        return _identity if isinstance(type_, (Integer, String, Boolean)) else _pg_value
    return lambda value: None if value is None else _pg_value(process(value))


def _selectable(columns, dialect, document):
    """SELECT c0, c1, … FROM <document> with the given (name, type) columns, in document order."""
    names = [f"c{i}" for i in range(len(columns))]
    if dialect.name == "postgresql":
        # JSON columns travel as text and are cast back, so a JSON null stays a JSON value.
        kinds = ["TEXT" if isinstance(type_, JSON) else type_.compile(dialect=dialect) for _, type_ in columns]
        picks = ", ".join(f"CAST({n} AS {type_.compile(dialect=dialect)}) AS {n}" if isinstance(type_, JSON) else n
                          for n, (_, type_) in zip(names, columns, strict=True))
        spec = ", ".join(f"{n} {kind}" for n, kind in zip(names, kinds, strict=True))
        sql = (f"SELECT {picks} FROM ROWS FROM (jsonb_to_recordset(CAST(:rows AS jsonb)) AS ({spec})) "
               f"WITH ORDINALITY AS r({', '.join(names)}, n) ORDER BY n")
    else:
        picks = ", ".join(f"json_extract(value, '$[{i}]') AS {n}" for i, n in enumerate(names))
        sql = f"SELECT {picks} FROM json_each(:rows) ORDER BY key"
    typed = [column(n, type_) for n, (_, type_) in zip(names, columns, strict=True)]
    return text(sql).bindparams(bindparam("rows", document, unique=True)).columns(*typed).subquery()


def _document(dialect, encoders, rows):
    if dialect.name == "postgresql":
        payload = [{f"c{i}": enc(v) for i, (enc, v) in enumerate(zip(encoders, row, strict=False))} for row in rows]
    else:
        payload = [[enc(v) for enc, v in zip(encoders, row, strict=False)] for row in rows]
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _default(col):
    default = col.default
    if default is None:
        return None
    if default.is_callable:
        return default.arg(None)
    return default.arg


def insert_rows(model, rows):
    """Insert `rows` (dicts keyed by attribute name) into the model's table with one statement."""
    rows = list(rows)
    if not rows:
        return 0
    mapper = inspect(model)
    keys = list(dict.fromkeys(k for row in rows for k in row))
    unknown = [k for k in keys if k not in mapper.columns]
    if unknown:
        raise KeyError(f"{model.__name__} has no column {unknown[0]!r}")
    cols = [(k, c) for k, c in mapper.columns.items()
            if k in keys or (c.default is not None and not c.primary_key)]
    dialect = db.session.get_bind().dialect
    encoders = [_encoder(c, dialect) for _, c in cols]
    fallback = {k: _default(c) for k, c in cols}   # a key a row leaves out gets the column default
    values = [[row[k] if k in row else fallback[k] for k, _ in cols] for row in rows]
    source = _selectable([(c.name, c.type) for _, c in cols], dialect, _document(dialect, encoders, values))
    db.session.execute(insert(mapper.local_table).from_select([c.name for _, c in cols], select(*source.c)))
    return len(rows)


def json_rows(columns, rows):
    """A selectable over `rows` (tuples), one column per (name, SQLAlchemy type) in `columns`;
    its columns are named c0, c1, …"""
    dialect = db.session.get_bind().dialect
    encoders = [_encoder(column(name, type_), dialect) for name, type_ in columns]
    return _selectable(columns, dialect, _document(dialect, encoders, rows))
