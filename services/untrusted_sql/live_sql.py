"""Run SQL we did not write (Claude's, or typed by a user) on a live PostgreSQL source.

The same first wall as for uploaded files (`sql_guard.check_sql`: one SELECT over the chosen
tables, functions DuckDB knows and the guard allows), then what a live source adds:
- the checked DuckDB-flavoured SQL is transpiled with sqlglot, each chosen table replaced by
  its schema-qualified name, and the PostgreSQL text is checked again: every function must
  be on `ALLOWED_FUNCTIONS` (nothing that reads server files or settings, sleeps, opens
  other connections or runs SQL text), casts only to plain value types (never
  `'pg_authid'::regclass`), no table outside the chosen ones;
- it runs as one cursor (`DECLARE … CURSOR` takes exactly one query and no data-changing
  WITH) in a `READ ONLY` transaction with `statement_timeout`, row and byte caps, and an
  empty `search_path` (functions and operators come from pg_catalog only, never from a
  schema someone could write to) and `standard_conforming_strings` on (a backslash in a
  string stays a backslash, so PostgreSQL reads the strings as the guard did); the
  transaction is always rolled back.
The database role's own rights stay the outer wall; the admin is told to make it read-only.
"""

import re
import time
from collections.abc import Mapping

import pandas as pd
import psycopg
import sqlglot
from psycopg import errors as pg_errors
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import URL
from sqlalchemy.engine import make_url as sa_make_url
from sqlalchemy.pool import NullPool, PoolProxiedConnection
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError, UnsupportedError

from services.errors import InvalidInput, QueryFailed, QueryTimeout, QueryTooBig, UnsafeQuery
from services.untrusted_sql.sql_guard import check_sql, cte_names_in_scope

# A chosen table as the query names it -> where it lives: (schema, table).
LiveTables = Mapping[str, tuple[str, str]]

MAX_RESULT_MB = 64
CONNECT_TIMEOUT_S = 5
# Rows fetched per round trip at most; fewer while rows are large (see `_next_batch`).
FETCH_BATCH = 1000
# A transaction left idle (the app stalled between fetches) is ended this long after the
# query's own time limit.
IDLE_GRACE_S = 60

MSG_FUNCTION = (
    "The function “{name}” is not allowed on a database source; please use plain calculations "
    "instead."
)
MSG_TYPE = "This query converts values to a type that is not allowed here."
MSG_QUALIFIED = "This query calls a function by a schema name, which is not allowed here."
MSG_LOCK = "This query tries to lock rows, which is not allowed here; only reading is."
MSG_SAME_NAME = (
    "A WITH part has the same name as one of your tables; please give it another name."
)
MSG_UNSUPPORTED = (
    "This query uses something this database cannot run; please ask it another way."
)
MSG_TABLE = "The table “{name}” is not one of the tables you picked."
MSG_DIALECT = "Only PostgreSQL databases can be asked questions for now."
MSG_UNREACHABLE = "The database could not be reached just now; please try again later."
MSG_TOO_LARGE = (
    "The answer is larger than {mb} MB, too large to show here; "
    "try a question that returns fewer or shorter values."
)
MSG_READ_ONLY = "This query tries to change data, which is not allowed here; only reading is."

# Functions PostgreSQL may run for a question: calculations on the values only.
ALLOWED_FUNCTIONS = frozenset({
    # aggregates and statistics
    "count", "sum", "avg", "min", "max", "stddev", "stddev_samp", "stddev_pop", "variance",
    "var_samp", "var_pop", "percentile_cont", "percentile_disc", "mode", "string_agg",
    "array_agg", "bool_and", "bool_or", "every", "corr", "covar_pop", "covar_samp",
    "regr_slope", "regr_intercept", "regr_r2", "regr_count", "regr_avgx", "regr_avgy",
    "bit_and", "bit_or",
    # windows
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
    "first_value", "last_value", "nth_value",
    # numbers
    "abs", "ceil", "ceiling", "floor", "round", "trunc", "sqrt", "cbrt", "power", "pow", "exp",
    "ln", "log", "log10", "mod", "sign", "pi", "div", "degrees", "radians", "sin", "cos",
    "tan", "asin", "acos", "atan", "atan2", "width_bucket", "random", "greatest", "least",
    "isnan", "factorial", "gcd", "lcm",
    # text
    "lower", "upper", "length", "char_length", "character_length", "octet_length", "substring",
    "substr", "trim", "btrim", "ltrim", "rtrim", "replace", "concat", "concat_ws", "left",
    "right", "lpad", "rpad", "position", "strpos", "split_part", "initcap", "reverse",
    "repeat", "regexp_replace", "regexp_match", "regexp_matches", "regexp_split_to_array",
    "starts_with", "translate", "md5", "ascii", "chr", "to_hex", "format", "overlay",
    "string_to_array", "array_to_string", "unaccent",
    # dates and times
    "date_trunc", "date_part", "extract", "now", "current_date", "current_timestamp",
    "current_time", "localtimestamp", "localtime", "age", "make_date", "make_time",
    "make_timestamp", "make_timestamptz", "make_interval", "to_char", "to_date",
    "to_timestamp", "to_number", "date_bin", "justify_days", "justify_hours",
    "justify_interval", "isfinite", "timezone",
    # conditions, casts, arrays, JSON values
    "coalesce", "nullif", "cast", "exists", "any", "all", "some", "in", "array", "row",
    "array_length", "array_position", "array_remove", "array_append", "array_cat",
    "cardinality", "unnest", "generate_series", "json_extract_path_text",
    "jsonb_extract_path_text", "json_extract_path", "jsonb_extract_path", "to_json", "to_jsonb",
    "json_build_object", "jsonb_build_object", "json_build_array", "jsonb_build_array",
    "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg", "json_typeof",
    "jsonb_typeof", "json_array_length", "jsonb_array_length",
})

# Types a value may be cast to: plain values only, never the catalog's (regclass, oid, xml).
ALLOWED_TYPES = frozenset({
    "BOOLEAN", "TINYINT", "SMALLINT", "INT", "BIGINT", "DECIMAL", "BIGDECIMAL", "FLOAT",
    "DOUBLE", "TEXT", "VARCHAR", "CHAR", "NCHAR", "NVARCHAR", "DATE", "TIME", "TIMETZ",
    "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMPLTZ", "DATETIME", "INTERVAL", "JSON", "JSONB",
    "ARRAY", "UUID",
})

_CALL = re.compile(r'\s*"?([A-Za-z_][A-Za-z0-9_$]*)"?\s*\(')
_BARE_WORD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*")
_DIALECTS = {"postgresql": "postgres"}


class LiveResult(BaseModel):
    """At most `max_rows` rows of the answer from a live source."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    frame: pd.DataFrame
    columns: list[str]
    truncated: bool
    elapsed_ms: float
    sql: str


def to_dialect(sql: str, tables: LiveTables, dialect: str = "postgres") -> str:
    """The checked query in `dialect`, over the chosen tables' real names, or `UnsafeQuery`."""
    normalised = check_sql(sql, set(tables))
    lowered = {name.lower(): place for name, place in tables.items()}
    try:
        statement = sqlglot.parse_one(normalised, read="duckdb")
    except (ParseError, TokenError) as error:  # DuckDB-only syntax the guard let through
        raise UnsafeQuery(MSG_UNSUPPORTED) from error
    for table in list(statement.find_all(exp.Table)):
        _qualify(table, lowered)
    if dialect != "duckdb":
        _without_duckdb_shorthands(statement)
    try:
        rendered = statement.sql(dialect=dialect, comments=False,
                                 unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as error:
        raise UnsafeQuery(MSG_UNSUPPORTED) from error
    _check_rendered(rendered, dialect, {place for place in lowered.values()})
    return rendered


def run_live(
    source: Engine | URL | str,
    sql: str,
    tables: LiveTables,
    *,
    timeout_s: float = 10,
    max_rows: int = 10_000,
    max_bytes: int = MAX_RESULT_MB << 20,
) -> LiveResult:
    """Check `sql`, transpile it, and run it read-only on the source; one sentence on failure.

    Raises `UnsafeQuery` (refused), `QueryTimeout`, `QueryTooBig` or `QueryFailed`.
    """
    started = time.perf_counter()
    if timeout_s <= 0 or max_rows < 1 or max_bytes < 1:
        raise InvalidInput("The time limit, the row limit and the size limit must be above zero.")
    engine, owned = _engine(source)
    try:
        dialect = _DIALECTS.get(engine.dialect.name)
        if dialect is None:
            raise InvalidInput(MSG_DIALECT)
        query = to_dialect(sql, tables, dialect)
        frame, truncated = _fetch(engine, query, timeout_s, max_rows, max_bytes)
    finally:
        if owned:
            engine.dispose()
    return LiveResult(frame=frame, columns=[str(c) for c in frame.columns], truncated=truncated,
                      elapsed_ms=(time.perf_counter() - started) * 1000, sql=query)


def _engine(source: Engine | URL | str) -> tuple[Engine, bool]:
    if isinstance(source, Engine):
        return source, False
    url = sa_make_url(source) if isinstance(source, str) else source
    return create_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
                         poolclass=NullPool), True


def _qualify(table: exp.Table, tables: dict[str, tuple[str, str]]) -> None:
    """Name a chosen table by schema and table, so no search path can redirect it."""
    if not isinstance(table.this, exp.Identifier) or table.args.get("db"):
        return  # a table function (checked later) or already refused by the guard
    name = table.name.lower()
    is_cte = name in cte_names_in_scope(table)
    if is_cte and name in tables:
        raise UnsafeQuery(MSG_SAME_NAME)
    if is_cte:
        return
    place = tables.get(name)
    if place is None:
        raise UnsafeQuery(MSG_TABLE.format(name=table.name))
    if not table.args.get("alias"):  # the query's own name keeps working for its columns
        table.set("alias", exp.TableAlias(this=table.this.copy()))
    table.set("this", exp.to_identifier(place[1], quoted=True))
    table.set("db", exp.to_identifier(place[0], quoted=True))


def _without_duckdb_shorthands(statement: exp.Expr) -> None:
    """DuckDB's `GROUP BY ALL` / `ORDER BY ALL` as column positions, which every dialect
    reads (sqlglot passes `ALL` through, and PostgreSQL before 19 refuses it); `* EXCLUDE`
    and friends have no equivalent without knowing the columns, so they are refused."""
    for star in statement.find_all(exp.Star):
        if any(star.args.get(key) for key in ("except_", "except", "replace", "rename")):
            raise UnsafeQuery(MSG_UNSUPPORTED)
    for ordered in list(statement.find_all(exp.Ordered)):
        if isinstance(ordered.this, exp.Var) and ordered.this.name.upper() == "ALL":
            _expand_order_by_all(ordered)
    for group in list(statement.find_all(exp.Group)):
        select = group.parent
        if not group.args.get("all") or not isinstance(select, exp.Select):
            continue
        positions = [exp.Literal.number(index) for index, column in
                     enumerate(select.expressions, start=1)
                     if not column.find(exp.AggFunc, exp.Window)]
        if positions:
            group.set("all", None)
            group.set("expressions", positions)
        else:
            group.pop()


def _expand_order_by_all(ordered: exp.Ordered) -> None:
    order, select = ordered.parent, ordered.parent and ordered.parent.parent
    if not isinstance(order, exp.Order) or not isinstance(select, exp.Select) or any(
            isinstance(column, exp.Star) or column.find(exp.Star)
            for column in select.expressions):
        raise UnsafeQuery(MSG_UNSUPPORTED)
    order.set("expressions", [
        exp.Ordered(this=exp.Literal.number(index), desc=ordered.args.get("desc"),
                    nulls_first=ordered.args.get("nulls_first"))
        for index in range(1, len(select.expressions) + 1)])


def _check_rendered(sql: str, dialect: str, places: set[tuple[str, str]]) -> None:
    """Check the text that will run, as the target dialect reads it."""
    try:
        parsed = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as error:
        raise UnsafeQuery("This query cannot be run on this database; please rephrase it.") \
            from error
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Query):
        raise UnsafeQuery("Only one query that reads data (SELECT) is allowed here.")
    for node in parsed[0].walk():
        if isinstance(node, exp.Lock):
            raise UnsafeQuery(MSG_LOCK)
        if isinstance(node, exp.DataType) and not _allowed_type(node):
            raise UnsafeQuery(MSG_TYPE)
        if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
            raise UnsafeQuery(MSG_QUALIFIED)
        if isinstance(node, exp.Func):
            _check_function(node, dialect)
        elif isinstance(node, exp.Table):
            _check_table(node, places)


def _allowed_type(data_type: exp.DataType) -> bool:
    kind = data_type.this
    return isinstance(kind, exp.DataType.Type) and kind.name in ALLOWED_TYPES


def _check_function(function: exp.Func, dialect: str) -> None:
    text = function.sql(dialect=dialect, comments=False)
    call = _CALL.match(text)
    bare = _BARE_WORD.fullmatch(text)
    name = call.group(1) if call else bare.group(1) if bare else None
    if isinstance(function, exp.Anonymous):
        name = function.name
    if name is None:
        return  # written as an operator or CASE; its operands are checked on their own
    if name.lower() not in ALLOWED_FUNCTIONS:
        raise UnsafeQuery(MSG_FUNCTION.format(name=name.lower()))


def _check_table(table: exp.Table, places: set[tuple[str, str]]) -> None:
    if isinstance(table.this, exp.Func):
        return  # a table function: checked as a function
    if table.args.get("catalog"):
        raise UnsafeQuery(MSG_TABLE.format(name=table.sql()))
    schema = table.args.get("db")
    if schema is None:
        if table.name.lower() in cte_names_in_scope(table):
            return
        raise UnsafeQuery(MSG_TABLE.format(name=table.name))
    if (schema.name, table.name) not in places:
        raise UnsafeQuery(MSG_TABLE.format(name=f"{schema.name}.{table.name}"))


def _fetch(engine: Engine, query: str, timeout_s: float, max_rows: int,
           max_bytes: int) -> tuple[pd.DataFrame, bool]:
    """One read-only transaction, one cursor, rolled back whatever happens."""
    deadline = time.monotonic() + timeout_s
    try:
        raw = engine.raw_connection()
    except Exception as error:  # noqa: BLE001 - any connect failure is "unreachable"
        raise QueryFailed(MSG_UNREACHABLE) from error
    try:
        connection = raw.driver_connection
        if not isinstance(connection, psycopg.Connection):
            raise InvalidInput(MSG_DIALECT)
        autocommit = connection.autocommit
        connection.rollback()  # whatever the pool left: our settings must open the transaction
        connection.autocommit = False
        try:
            return _read(connection, query, timeout_s, deadline, max_rows, max_bytes)
        finally:
            connection.rollback()  # never commit: nothing the query did may stay
            connection.autocommit = autocommit
    except pg_errors.QueryCanceled as error:
        raise QueryTimeout(_timeout_message(timeout_s)) from error
    except pg_errors.ReadOnlySqlTransaction as error:
        raise QueryFailed(MSG_READ_ONLY) from error
    except psycopg.OperationalError as error:
        raise QueryFailed(MSG_UNREACHABLE) from error
    except psycopg.Error as error:
        raise QueryFailed(_failure_message(error)) from error
    finally:
        _close(raw)


def _read(connection: psycopg.Connection, query: str, timeout_s: float, deadline: float,
          max_rows: int, max_bytes: int) -> tuple[pd.DataFrame, bool]:
    with connection.cursor() as setup:
        setup.execute(b"SET TRANSACTION READ ONLY")
        setup.execute(b"SELECT set_config('statement_timeout', %s, true), "
                      b"set_config('idle_in_transaction_session_timeout', %s, true), "
                      b"set_config('search_path', '', true), "
                      b"set_config('standard_conforming_strings', 'on', true)",
                      (f"{max(1, int(timeout_s * 1000))}ms",
                       f"{int((timeout_s + IDLE_GRACE_S) * 1000)}ms"))
    rows: list[tuple] = []
    size = 0
    with connection.cursor(name="research_desk_live") as cursor:
        cursor.execute(query.encode())  # no parameters: the text is sent exactly as checked
        columns = [column.name for column in cursor.description or []]
        while len(rows) <= max_rows:
            wanted = min(_next_batch(len(rows), size, max_bytes), max_rows + 1 - len(rows))
            batch = cursor.fetchmany(wanted)
            if not batch:
                break
            size += sum(_row_bytes(row) for row in batch)
            if size > max_bytes:
                raise QueryTooBig(MSG_TOO_LARGE.format(mb=max(1, max_bytes >> 20)))
            rows.extend(batch)
            if time.monotonic() > deadline:
                raise QueryTimeout(_timeout_message(timeout_s))
    truncated = len(rows) > max_rows
    return pd.DataFrame.from_records(rows[:max_rows], columns=columns), truncated


def _next_batch(fetched: int, size: int, max_bytes: int) -> int:
    """One row first, then as many as fit a quarter of the bytes left at the average size
    so far: the app never holds much more than the byte cap, even for huge values."""
    if fetched == 0:
        return 1
    average = max(1, size // fetched)
    return max(1, min(FETCH_BATCH, (max_bytes - size) // (4 * average)))


def _row_bytes(row: tuple) -> int:
    return sum(_value_bytes(value) for value in row)


def _value_bytes(value: object) -> int:
    """About what a value costs in memory; arrays and JSON (ARRAY_AGG, to_json) count whole."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, list | tuple):
        return 8 + sum(_value_bytes(item) for item in value)
    if isinstance(value, dict):
        return 8 + sum(_value_bytes(k) + _value_bytes(v) for k, v in value.items())
    return 16


def _close(raw: PoolProxiedConnection) -> None:
    try:
        raw.rollback()
    except Exception:  # noqa: BLE001 - a dead connection is simply discarded
        raw.invalidate()
    raw.close()


def _timeout_message(timeout_s: float) -> str:
    return (f"The database took longer than {timeout_s:g} seconds and the query was stopped; "
            "try a narrower question or add a filter.")


def _failure_message(error: psycopg.Error) -> str:
    detail = (getattr(error.diag, "message_primary", None) or "").strip().rstrip(".")
    if not detail:
        return "The database could not run this query."
    return f"The database could not run this query: {detail.splitlines()[0]}."
