"""Charts over a table that lives in a database (PostgreSQL first).

The chart queries are the Parquet file's (services/charts/aggregate.py, written once in
DuckDB's SQL); here they are parsed with sqlglot and rendered in the database's dialect, so
the grouping, filters, bins, time groups and the 10,000-mark limit all run where the rows
are. Values stay bound parameters all the way: sqlglot turns DuckDB's `$pN` into the
driver's placeholders and the values travel apart from the SQL. At most `MAX_MARKS + 1`
rows come back, whatever the query.
"""

import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import TypeVar

import pandas as pd
import sqlglot
from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, NoSuchTableError
from sqlglot import exp

from services.charts.aggregate import (
    MAX_MARKS,
    ChartColumn,
    ChartData,
    ChartSource,
    build_chart,
    common_values_of,
    range_of,
    rows_after,
    stats_of,
    total_of,
)
from services.charts.spec import ChartSpec, Filter
from services.data.column_kinds import duckdb_chart_kind
from services.data.column_roles import ColumnStats
from services.data.sql_names import quote_ident
from services.errors import InvalidInput, NotFound
from services.settings import get_settings
from services.sources import problems

DIALECTS = {"postgresql": "postgres"}  # SQLAlchemy dialect name → sqlglot dialect name
_TEXT = {exp.DataType.Type.TEXT, exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR,
         exp.DataType.Type.NCHAR, exp.DataType.Type.NVARCHAR, exp.DataType.Type.BPCHAR,
         exp.DataType.Type.NAME}


# --- DuckDB SQL → the database's dialect ----------------------------------------------------

@lru_cache(maxsize=256)
def compile_sql(duck_sql: str, dialect: str) -> str:
    """One chart query, written in DuckDB's SQL, in `dialect` (a sqlglot dialect name).
    Kept per text (values are never in it): a compile costs 10–30 ms, a redraw nothing."""
    tree = sqlglot.parse_one(duck_sql, read="duckdb")
    tree = tree.transform(_portable)
    return tree.sql(dialect=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE)


def _portable(node: exp.Expression) -> exp.Expression:
    """DuckDB shorthands other engines lack, spelled in plain SQL with the same meaning."""
    if isinstance(node, exp.Select) and isinstance(node.args.get("group"), exp.Group) \
            and node.args["group"].args.get("all"):
        return _group_by_all(node)
    if isinstance(node, exp.Anonymous) and node.name.lower() == "isfinite":
        # x - x is 0 for every finite number and NaN for infinity and NaN (never 0)
        value = node.expressions[0]
        return exp.paren(exp.EQ(this=exp.Sub(this=value.copy(), expression=value.copy()),
                                expression=exp.Literal.number(0)))
    if _is_float_as_text(node):
        return _float_text(node.this.this)
    if isinstance(node, exp.IgnoreNulls) and isinstance(node.this, exp.AnyValue):
        # any_value is PostgreSQL 16+; the rows it picks from hold one value anyway
        return exp.Max(this=node.this.this.copy())
    if isinstance(node, exp.AnyValue):
        return exp.Max(this=node.this.copy())
    if isinstance(node, exp.Subquery) and isinstance(node.parent, exp.From | exp.Join) \
            and not node.alias:
        node.set("alias", exp.TableAlias(this=exp.to_identifier("_sub")))
    return node


_FLOATS = {exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT}


def _is_float_as_text(node: exp.Expression) -> bool:
    """aggregate._as_text's mark: CAST(CAST(x AS <float type>) AS VARCHAR)."""
    return (isinstance(node, exp.Cast) and node.to.this in _TEXT
            and isinstance(node.this, exp.Cast) and node.this.to.this in _FLOATS)


def _float_text(value: exp.Expression) -> exp.Expression:
    """A float as DuckDB writes it: a whole one keeps its ".0" (PostgreSQL drops it), up to
    where both switch to an exponent."""
    number = exp.cast(value.copy(), exp.DataType.Type.DOUBLE)
    as_text = exp.cast(number.copy(), exp.DataType.Type.VARCHAR)
    whole = exp.and_(exp.EQ(this=number.copy(), expression=exp.Floor(this=number.copy())),
                     exp.LT(this=exp.Abs(this=number.copy()),
                            expression=exp.Literal.number("1e15")))
    return exp.Case(ifs=[exp.If(this=whole, true=exp.DPipe(
        this=as_text.copy(), expression=exp.Literal.string(".0")))], default=as_text)


def _group_by_all(select: exp.Select) -> exp.Select:
    """`GROUP BY ALL` as positions: every output that is not an aggregate, a constant or a
    scalar subquery (those need no grouping)."""
    keys = [exp.Literal.number(i) for i, item in enumerate(select.expressions, start=1)
            if _is_group_key(item.unalias(), select)]
    select.set("group", exp.Group(expressions=keys) if keys else None)
    return select


def _is_group_key(item: exp.Expression, select: exp.Select) -> bool:
    if isinstance(item, exp.Literal | exp.Boolean | exp.Null | exp.Placeholder
                  | exp.Subquery):
        return False
    if isinstance(item, exp.Cast) and isinstance(item.this, exp.Literal | exp.Placeholder):
        return False
    return not any(agg.find_ancestor(exp.Select) is select and not agg.find_ancestor(exp.Window)
                   for agg in item.find_all(exp.AggFunc))


# --- the live table ---------------------------------------------------------------------------

CONNECT_TIMEOUT_S = 10  # a source that is down answers within this, not never


def _engine(engine_or_url: Engine | URL | str) -> Engine:
    if isinstance(engine_or_url, Engine):
        return engine_or_url
    return create_engine(engine_or_url, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})


def _dialect(engine: Engine) -> str:
    name = DIALECTS.get(engine.dialect.name)
    if name is None:
        raise InvalidInput("Charts over a live table work with PostgreSQL databases for now.")
    return name


def _duck_type(type_text: str, dialect: str) -> str:
    """The DuckDB spelling of a column type, so the column gets the same kind (number, text,
    date, yes/no) and the same filter casts as in a file."""
    try:
        built = exp.DataType.build(type_text, dialect=dialect)
    except sqlglot.errors.ParseError:
        return "VARCHAR"
    if built.this in _TEXT:
        return "VARCHAR"
    if built.this == exp.DataType.Type.INT:
        return "INTEGER"
    return built.sql(dialect="duckdb").upper()


def table_columns(engine: Engine, schema: str, table: str) -> dict[str, ChartColumn]:
    """A live table's columns, in table order, as the chart rules see them."""
    dialect = _dialect(engine)
    try:
        columns = inspect(engine).get_columns(table, schema=schema)
    except NoSuchTableError as error:
        raise NotFound(f"The table “{schema}.{table}” is not in this database — it may have "
                       "been renamed or removed.") from error
    except DBAPIError as error:  # the source's own sentence: down, refused, wrong password
        raise problems.translate(error, engine.url, timeout_s=get_settings().query_timeout_s,
                                 connecting=True) from None
    out = {}
    for column in columns:
        duck_type = _duck_type(column["type"].compile(dialect=engine.dialect), dialect)
        name = str(column["name"])
        out[name] = ChartColumn(name, quote_ident(name), duckdb_chart_kind(duck_type), duck_type)
    return out


_LONE_PERCENT = re.compile(r"%(?!\(p\d+\)s)")


def _runner(engine: Engine, dialect: str) -> Callable[[str, dict[str, object]], pd.DataFrame]:
    timeout_ms = max(1, int(get_settings().query_timeout_s * 1000))

    def run(duck_sql: str, values: dict[str, object]) -> pd.DataFrame:
        # a % of the SQL itself (a column named "share %") is not a placeholder
        sql = _LONE_PERCENT.sub("%%", compile_sql(duck_sql, dialect))
        used = {key: value for key, value in values.items() if f"%({key})s" in sql}
        try:
            with engine.connect() as connection, connection.begin():
                # a chart only reads; dates are grouped by UTC days as in a file
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
                connection.exec_driver_sql(f"SET LOCAL statement_timeout = {timeout_ms}")
                connection.exec_driver_sql("SET LOCAL TIME ZONE 'UTC'")
                result = connection.exec_driver_sql(sql, used)
                names = list(result.keys())
                types = [_EMPTY_DTYPES.get(int(getattr(d, "type_code", 0) or 0), "object")
                         for d in result.cursor.description or []]
                rows = result.fetchmany(MAX_MARKS + 1)
        except DBAPIError as error:  # down, too slow, refused: the source's own sentence
            raise problems.translate(error, engine.url,
                                     timeout_s=get_settings().query_timeout_s) from None
        if not rows:  # no values to tell the types: the columns' own types say them
            return pd.DataFrame({n: pd.Series(dtype=t) for n, t in zip(names, types,
                                                                       strict=True)})
        return _plain(pd.DataFrame(rows, columns=names))

    return run


# PostgreSQL type ids → the pandas types an empty Parquet answer has
_EMPTY_DTYPES = {16: "bool", 20: "int64", 21: "int64", 23: "int64", 700: "float64",
                 701: "float64", 1700: "float64", 1082: "datetime64[ns]",
                 1114: "datetime64[ns]", 1184: "datetime64[ns]"}


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """The same column types a Parquet chart gets: PostgreSQL's exact numbers (a SUM of
    whole numbers) as floats, its time stamps with a time zone as UTC ones without."""
    for name in frame.columns:
        column = frame[name]
        if column.dtype == object and column.map(lambda v: isinstance(v, Decimal)).any():
            frame[name] = pd.to_numeric(column.map(
                lambda v: float(v) if isinstance(v, Decimal) else v), errors="coerce")
        elif isinstance(column.dtype, pd.DatetimeTZDtype):
            frame[name] = column.dt.tz_convert("UTC").dt.tz_localize(None)
    return frame


def table_source(engine: Engine, schema: str, table: str) -> ChartSource:
    dialect = _dialect(engine)

    def row_id(exprs: list[str]) -> str:
        # no file position here: the sample ranks rows by a hash of what they show
        parts = ", ".join(f"CAST({e} AS VARCHAR)" for e in exprs)
        return f"md5(concat_ws(',', {parts}))"

    return ChartSource(relation=f"{quote_ident(schema)}.{quote_ident(table)}",
                       run=_runner(engine, dialect), row_id=row_id, sample_order="_row")


T = TypeVar("T")
Live = Engine | URL | str


def _on_table(engine_or_url: Live, schema: str, table: str,
              work: Callable[[ChartSource, dict[str, ChartColumn]], T]) -> T:
    engine = _engine(engine_or_url)
    try:
        return work(table_source(engine, schema, table), table_columns(engine, schema, table))
    finally:
        if engine is not engine_or_url:  # made here from a URL: close its connections
            engine.dispose()


def aggregate_table(engine_or_url: Live, schema: str, table: str, spec: ChartSpec,
                    ) -> ChartData:
    """The rows one chart of a live table needs (≤ MAX_MARKS), computed in its database:
    the same result as `aggregate` gives for the same rows in a Parquet file."""
    return _on_table(engine_or_url, schema, table,
                     lambda src, columns: build_chart(src, spec, columns))


def table_column_kinds(engine_or_url: Live, schema: str, table: str) -> dict[str, str]:
    """Column name → chart kind, in table order (`column_kinds` of a file)."""
    return _on_table(engine_or_url, schema, table,
                     lambda _, columns: {n: c.kind for n, c in columns.items()})


def table_column_stats(engine_or_url: Live, schema: str, table: str,
                       ) -> dict[str, ColumnStats]:
    """`column_stats` of a live table, from its first rows."""
    return _on_table(engine_or_url, schema, table, stats_of)


def table_count_rows(engine_or_url: Live, schema: str, table: str,
                     filters: list[Filter]) -> int:
    return _on_table(engine_or_url, schema, table,
                     lambda src, columns: rows_after(src, columns, filters))


def table_column_range(engine_or_url: Live, schema: str, table: str, column: str,
                       ) -> tuple[float, float] | tuple[pd.Timestamp, pd.Timestamp] | None:
    return _on_table(engine_or_url, schema, table,
                     lambda src, columns: range_of(src, columns, column))


def table_common_values(engine_or_url: Live, schema: str, table: str, column: str,
                        limit: int = 200) -> list:
    return _on_table(engine_or_url, schema, table,
                     lambda src, columns: common_values_of(src, columns, column, limit))


def table_total(engine_or_url: Live, schema: str, table: str, agg: str, column: str | None,
                filters: list[Filter]) -> object:
    return _on_table(engine_or_url, schema, table,
                     lambda src, columns: total_of(src, columns, agg, column, filters))
