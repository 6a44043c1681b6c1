"""Setup speed only: insert many model instances with one ``executemany``.

Django compiles the INSERT for one row (so no SQL is written by hand), and every row's values go
through the same ``pre_save`` and ``get_db_prep_save`` as ``bulk_create``, which means encrypted
fields are sealed by the field itself. It skips ``bulk_create``'s per-batch SQL compilation, which
dominates setup time at 100k rows. Primary keys are not set on the instances afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models, transaction
from django.db.models.sql import InsertQuery


def insert_rows(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    if not objs:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    query = InsertQuery(model)
    query.insert_values(fields, objs[:1])
    compiler = query.get_compiler(connection=connection)
    [(statement, _)] = compiler.as_sql()
    params = [[compiler.prepare_value(f, compiler.pre_save_val(f, obj)) for f in fields] for obj in objs]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(statement, params)
