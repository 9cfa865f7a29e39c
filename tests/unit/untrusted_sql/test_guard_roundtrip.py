"""Property: every statement the guard accepts is, to DuckDB's own parser, exactly one
SELECT-type statement, and it means the same as what was written (same rows).

Queries are built from harmless and hostile pieces (functions that read files, settings or
run SQL; catalog tables; comments, semicolons and second statements; odd casing), so both
sides of the guard are exercised.
"""

import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.errors import UnsafeQuery
from services.untrusted_sql import sandbox, sql_engine_check
from services.untrusted_sql.sql_guard import check_sql

ALLOWED = {"sales", "regions"}
SALES_SQL = """
SELECT i AS order_id, DATE '2024-01-01' + CAST(i % 90 AS INTEGER) AS order_date,
       ['North', 'South', 'East', 'West'][1 + i % 4] AS region,
       ['Apple', 'Banana', 'Cherry'][1 + i % 3] AS product,
       (i % 10 + 1) * 10.0 AS amount, i % 5 + 1 AS quantity
FROM range(1, 41) t(i)
"""
REGIONS_SQL = "SELECT * FROM (VALUES ('North', 'Ann'), ('South', 'Bob')) AS v(region, manager)"

ITEMS = [
    "region", "product", "amount", "order_id", "amount * 2 AS twice", "upper(region) AS r",
    "count(*) AS n", "sum(amount) AS total", "'a; DROP TABLE sales' AS s",
    "'-- not a comment' AS c", "CASE WHEN amount > 50 THEN 'big' ELSE 'small' END AS size",
    "date_trunc('month', order_date) AS m", "levenshtein(region, product) AS d",
    "row_number() OVER (ORDER BY order_id) AS rn", "list_sum([1, 2]) AS l",
    "(SELECT max(amount) FROM sales) AS top",
    # hostile
    "json_serialize_plan('SELECT 1') AS p", "current_setting('threads') AS t",
    "read_text('/etc/passwd') AS f", "getenv('HOME') AS h", "query('SELECT 1') AS q",
    "version() AS v", "json_serialize_sql('SELECT 1') AS j",
]
SOURCES = [
    "sales", "regions", "sales s JOIN regions r USING (region)", "range(5) t(i)",
    "(SELECT * FROM sales WHERE amount > 20) q", "sales, regions",
    # hostile
    "read_csv('/etc/passwd')", "duckdb_settings()", "'x.csv'", "information_schema.tables",
    "other_table", "main.sales", "(DESCRIBE sales)", "pragma_version()",
]
FILTERS = [
    "", " WHERE amount > 10", " WHERE region = 'North'",
    " WHERE region IN (SELECT region FROM regions)", " WHERE amount > (SELECT avg(amount) "
    "FROM sales)", " WHERE current_setting('threads') = '1'",
]
TAILS = ["", " ORDER BY 1", " LIMIT 3", " ORDER BY 1 DESC LIMIT 2", " GROUP BY ALL"]
WRAPPERS = [
    "{}", "{};", "{} -- trailing", "/* lead */ {}", "-- lead\n{}", "{}; DROP TABLE sales",
    "{}; SELECT 1", "WITH w AS ({}) SELECT * FROM w", "SELECT * FROM ({}) x",
    "{} UNION ALL {}", "DESCRIBE {}", "COPY ({}) TO '/tmp/x.csv'", "EXPLAIN {}",
    "PIVOT ({}) ON 1 USING count(*)",
]


@st.composite
def queries(draw: st.DrawFn) -> str:
    items = draw(st.lists(st.sampled_from(ITEMS), min_size=1, max_size=3, unique=True))
    core = (f"SELECT {', '.join(items)} FROM {draw(st.sampled_from(SOURCES))}"
            f"{draw(st.sampled_from(FILTERS))}{draw(st.sampled_from(TAILS))}")
    sql = draw(st.sampled_from(WRAPPERS)).replace("{}", core)
    if draw(st.booleans()):
        sql = "".join(c.upper() if draw_flip else c
                      for c, draw_flip in zip(sql, draw(st.lists(
                          st.booleans(), min_size=len(sql), max_size=len(sql))), strict=True))
    return sql


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[duckdb.DuckDBPyConnection]:
    """A locked sandbox instance in this process, one thread so results compare exactly."""
    folder: Path = tmp_path_factory.mktemp("roundtrip")
    with duckdb.connect() as con:
        con.execute(f"COPY ({SALES_SQL}) TO '{folder / 'sales.parquet'}'")
        con.execute(f"COPY ({REGIONS_SQL}) TO '{folder / 'regions.parquet'}'")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RESEARCH_DESK_SANDBOX_THREADS", "1")
        from services.settings import reset_settings_cache
        reset_settings_cache()
        con = sandbox._open_sandbox({"sales": folder / "sales.parquet",
                                     "regions": folder / "regions.parquet"})
        reset_settings_cache()
    yield con
    con.close()


def _cell(value: Any) -> Any:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else round(value, 9)
    return value


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[str, Any]:
    try:
        rows = con.execute(sql).fetchall()
    except duckdb.Error as error:
        return "error", type(error).__name__
    return "rows", sorted(repr(tuple(_cell(v) for v in row)) for row in rows)


@settings(max_examples=250, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(sql=queries())
def test_what_the_guard_accepts_is_one_select_that_means_the_same(
        sql: str, engine: duckdb.DuckDBPyConnection) -> None:
    try:
        normalised = check_sql(sql, ALLOWED)
    except UnsafeQuery:
        return
    kinds = sql_engine_check.statement_kinds(normalised)
    assert len(kinds) == 1 and kinds[0] in {"SELECT", "MULTI"}, (sql, normalised, kinds)
    assert sql_engine_check.statement_kinds(f"SELECT * FROM (\n{normalised}\n)") == ["SELECT"]
    code = re.sub(r"'(?:[^']|'')*'", "''", normalised)  # '-- text' in a literal is data
    assert "--" not in code and "/*" not in code
    assert _rows(engine, normalised) == _rows(engine, sql), (sql, normalised)


def test_the_generated_queries_reach_both_sides() -> None:
    """The property above means something only if the generator gives the guard both
    harmless and hostile queries; counted here on its own, whatever order tests run in."""
    counts = {"accepted": 0, "refused": 0}

    @settings(max_examples=150, deadline=None, database=None, derandomize=True)
    @given(sql=queries())
    def count(sql: str) -> None:
        try:
            check_sql(sql, ALLOWED)
        except UnsafeQuery:
            counts["refused"] += 1
            return
        counts["accepted"] += 1

    count()
    assert counts["accepted"] >= 25 and counts["refused"] >= 25, counts
