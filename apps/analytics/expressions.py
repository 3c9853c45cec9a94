"""SQL for reading a stage result's endpoint out of its run's config snapshot, on SQLite and PostgreSQL."""

from __future__ import annotations

from django.db import NotSupportedError
from django.db.models import CharField, F, Func


class StageEndpoint(Func):
    """`run.config["stages"][stage_index]["endpoint"]` of a StageResult row, as text (NULL when absent).

    StageResult does not store its endpoint; the run's config does, per stage. Reading it in SQL lets the
    analytics GROUP BY (model, endpoint) in the database instead of loading one row per call.
    """

    output_field = CharField()

    def __init__(self) -> None:
        super().__init__(F("run__config"), F("stage_index"))

    def _parts(self, compiler, connection) -> tuple[str, str, list]:
        config, index = self.get_source_expressions()
        config_sql, config_params = compiler.compile(config)
        index_sql, index_params = compiler.compile(index)
        return config_sql, index_sql, [*config_params, *index_params]

    def as_sqlite(self, compiler, connection, **extra):
        config, index, params = self._parts(compiler, connection)
        return f"json_extract({config}, '$.stages[' || {index} || '].endpoint')", params

    def as_postgresql(self, compiler, connection, **extra):
        config, index, params = self._parts(compiler, connection)
        return f"(({config}) -> 'stages' -> ({index})::integer ->> 'endpoint')", params

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError(f"StageEndpoint is not implemented for {connection.vendor}.")
