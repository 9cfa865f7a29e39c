"""The sandbox: harmless analytics give correct answers; the walls hold even without the guard."""

import math
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from services.errors import InvalidInput, NotFound, QueryFailed, QueryTimeout, UnsafeQuery
from services.untrusted_sql import sandbox
from services.untrusted_sql.sandbox import run_sandboxed
from tests.unit.hostile_sql import BOMBS, SANDBOX_ONLY

# 120 orders: region cycles North/South/East/West, product Banana/Cherry/Apple,
# amount (i % 10 + 1) * 10, quantity i % 5 + 1, dates from 2024-01-01 (+ i % 90 days).
SALES_SQL = """
SELECT i AS order_id, DATE '2024-01-01' + CAST(i % 90 AS INTEGER) AS order_date,
       ['North', 'South', 'East', 'West'][1 + i % 4] AS region,
       ['Apple', 'Banana', 'Cherry'][1 + i % 3] AS product,
       (i % 10 + 1) * 10.0 AS amount, i % 5 + 1 AS quantity,
       'user' || (i % 3) AS "user", i % 2 = 0 AS "set", i % 7 AS "drop", 'sel' AS "select"
FROM range(1, 121) t(i)
"""
REGIONS_SQL = """
SELECT * FROM (VALUES ('North', 'Ann'), ('South', 'Bob'), ('East', 'Cy'), ('West', 'Di'))
AS v(region, manager)
"""


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sandbox")
    con = duckdb.connect()
    con.execute(f"COPY ({SALES_SQL}) TO '{folder / 'sales.parquet'}'")
    con.execute(f"COPY ({REGIONS_SQL}) TO '{folder / 'regions.parquet'}'")
    con.execute(f"COPY (SELECT 'hash$secret' AS password) TO '{folder / 'other.parquet'}'")
    con.close()
    return folder


@pytest.fixture(scope="module")
def tables(data_dir: Path) -> dict[str, Path]:
    return {"sales": data_dir / "sales.parquet", "regions": data_dir / "regions.parquet"}


# name -> (sql, expected first rows, expected row count)
HARMLESS: dict[str, tuple[str, list[tuple[Any, ...]], int]] = {
    "count": ("SELECT count(*) AS n FROM sales", [(120,)], 1),
    "group_by": (
        "SELECT region, count(*) AS n, sum(amount) AS total FROM sales "
        "GROUP BY region ORDER BY region",
        [("East", 30, 1500), ("North", 30, 1500), ("South", 30, 1800), ("West", 30, 1800)], 4,
    ),
    "filter_group": (
        "SELECT product, sum(quantity) AS q FROM sales WHERE region = 'North' "
        "GROUP BY product ORDER BY product",
        [("Apple", 30), ("Banana", 30), ("Cherry", 30)], 3,
    ),
    "running_sum": (
        "SELECT order_id, sum(amount) OVER (ORDER BY order_id) AS running FROM sales "
        "ORDER BY order_id LIMIT 3",
        [(1, 20), (2, 50), (3, 90)], 3,
    ),
    "rank_qualify": (
        "SELECT region, order_id, rank() OVER (PARTITION BY region ORDER BY amount DESC, "
        "order_id) AS r FROM sales QUALIFY r = 1 ORDER BY region",
        [("East", 18, 1), ("North", 8, 1), ("South", 9, 1), ("West", 19, 1)], 4,
    ),
    "lag": (
        "SELECT order_id, amount - lag(amount) OVER (ORDER BY order_id) AS diff FROM sales "
        "ORDER BY order_id LIMIT 3",
        [(1, None), (2, 10), (3, 10)], 3,
    ),
    "cte": (
        "WITH t AS (SELECT region, sum(amount) AS s FROM sales GROUP BY region) "
        "SELECT max(s) - min(s) AS spread, count(*) AS n FROM t",
        [(300, 4)], 1,
    ),
    "recursive_cte": (
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) "
        "SELECT sum(n) AS s FROM r",
        [(15,)], 1,
    ),
    "qualify_row_number": (
        "SELECT product, order_id FROM sales QUALIFY row_number() OVER "
        "(PARTITION BY product ORDER BY order_id) = 1 ORDER BY product",
        [("Apple", 3), ("Banana", 1), ("Cherry", 2)], 3,
    ),
    "pivot_statement": (
        "SELECT * FROM (PIVOT sales ON product USING sum(amount) GROUP BY region) "
        "ORDER BY region",
        [("East", 500, 500, 500), ("North", 500, 500, 500), ("South", 600, 600, 600)], 4,
    ),
    "pivot_bare": (
        "PIVOT (SELECT product, quantity FROM sales) ON product USING sum(quantity)",
        [(120, 120, 120)], 1,
    ),
    "pivot_order_by": (
        "PIVOT sales ON product USING sum(amount) GROUP BY region ORDER BY region",
        [("East", 500, 500, 500), ("North", 500, 500, 500), ("South", 600, 600, 600)], 4,
    ),
    "pivot_standard": (
        "SELECT * FROM (SELECT region, product, quantity FROM sales) PIVOT "
        "(sum(quantity) FOR product IN ('Apple', 'Banana')) ORDER BY region",
        [("East", 30, 30), ("North", 30, 30)], 4,
    ),
    "unpivot": (
        "SELECT * FROM (UNPIVOT (SELECT order_id, amount, CAST(quantity AS DOUBLE) AS quantity "
        "FROM sales WHERE order_id = 1) ON amount, quantity INTO NAME metric VALUE val) "
        "ORDER BY metric",
        [(1, "amount", 20), (1, "quantity", 2)], 2,
    ),
    "date_trunc": (
        "SELECT date_trunc('month', order_date) AS m, count(*) AS n FROM sales "
        "GROUP BY m ORDER BY m",
        [(date(2024, 1, 1), 61), (date(2024, 2, 1), 29), (date(2024, 3, 1), 30)], 3,
    ),
    "strftime": (
        "SELECT strftime(order_date, '%Y-%m') AS ym, sum(amount) AS s FROM sales "
        "WHERE order_id <= 3 GROUP BY ym",
        [("2024-01", 90)], 1,
    ),
    "date_arithmetic": (
        "SELECT max(order_date) - min(order_date) AS span_days, "
        "min(order_date) + INTERVAL 1 MONTH AS next_month FROM sales",
        [(89, date(2024, 2, 1))], 1,
    ),
    "date_diff_extract": (
        "SELECT date_diff('day', DATE '2024-01-01', max(order_date)) AS d, "
        "extract(year FROM min(order_date)) AS y FROM sales",
        [(89, 2024)], 1,
    ),
    "regexp_matches": (
        "SELECT count(*) AS n FROM sales WHERE regexp_matches(product, '^(A|B)')", [(80,)], 1,
    ),
    "regexp_replace": (
        "SELECT DISTINCT regexp_replace(product, '[aeiou]', '', 'g') AS p FROM sales ORDER BY p",
        [("Appl",), ("Bnn",), ("Chrry",)], 3,
    ),
    "string_agg": (
        "SELECT string_agg(DISTINCT region, ',' ORDER BY region) AS rs FROM sales",
        [("East,North,South,West",)], 1,
    ),
    "case": (
        "SELECT CASE WHEN amount >= 60 THEN 'big' ELSE 'small' END AS size, count(*) AS n "
        "FROM sales GROUP BY size ORDER BY size",
        [("big", 60), ("small", 60)], 2,
    ),
    "rollup": (
        "SELECT region, product, sum(quantity) AS q FROM sales GROUP BY ROLLUP (region, product) "
        "ORDER BY region NULLS LAST, product NULLS LAST",
        [("East", "Apple", 30), ("East", "Banana", 30), ("East", "Cherry", 30),
         ("East", None, 90)], 17,
    ),
    "union_all": (
        "SELECT 'a' AS k, count(*) AS n FROM sales WHERE region = 'East' UNION ALL "
        "SELECT 'b', count(*) FROM sales WHERE region = 'West' ORDER BY k",
        [("a", 30), ("b", 30)], 2,
    ),
    "values_in_from": (
        "SELECT * FROM (VALUES (1, 'x'), (2, 'y')) AS v(id, label) ORDER BY id",
        [(1, "x"), (2, "y")], 2,
    ),
    "values_statement": ("VALUES (1, 'x'), (2, 'y')", [(1, "x"), (2, "y")], 2),
    "filter_clause": (
        "SELECT count(*) FILTER (WHERE region = 'North') AS north, "
        "sum(amount) FILTER (WHERE product = 'Apple') AS apple FROM sales",
        [(30, 2200)], 1,
    ),
    "percentiles": (
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY amount) AS med, "
        "median(amount) AS med2, quantile_cont(amount, 0.9) AS p90 FROM sales",
        [(55, 55, 91)], 1,
    ),
    "keyword_columns": (
        'SELECT "user", count(*) AS n, sum(CAST("set" AS INTEGER)) AS sets, max("drop") AS mx, '
        'min("select") AS sel FROM sales GROUP BY "user" ORDER BY "user"',
        [("user0", 40, 20, 6, "sel"), ("user1", 40, 20, 6, "sel")], 3,
    ),
    "literal_trick": (
        "SELECT 'DROP TABLE; read_csv(''/etc/passwd'')' AS s, count(*) AS n FROM sales "
        "WHERE product <> 'COPY sales TO x; --'",
        [("DROP TABLE; read_csv('/etc/passwd')", 120)], 1,
    ),
    "join": (
        "SELECT r.manager, count(*) AS n FROM sales s JOIN regions r USING (region) "
        "GROUP BY r.manager ORDER BY r.manager",
        [("Ann", 30), ("Bob", 30), ("Cy", 30), ("Di", 30)], 4,
    ),
    "from_first": ("FROM sales SELECT min(order_id) AS lo, max(order_id) AS hi", [(1, 120)], 1),
    "intersect_except": (
        "(SELECT region FROM regions EXCEPT SELECT 'North') INTERSECT "
        "SELECT region FROM sales ORDER BY region",
        [("East",), ("South",), ("West",)], 3,
    ),
    "scalar_subquery": (
        "SELECT count(*) AS n FROM sales WHERE amount > (SELECT avg(amount) FROM sales)",
        [(60,)], 1,
    ),
    "generate_series": (
        "SELECT d::DATE AS d FROM generate_series(DATE '2024-01-01', DATE '2024-01-03', "
        "INTERVAL 1 DAY) AS g(d) ORDER BY d",
        [(date(2024, 1, 1),), (date(2024, 1, 2),), (date(2024, 1, 3),)], 3,
    ),
    "exclude_columns": (
        'SELECT * EXCLUDE (order_date, "user", "set", "drop", "select") FROM sales '
        "ORDER BY order_id LIMIT 1",
        [(1, "South", "Banana", 20, 2)], 1,
    ),
    "lambda": ("SELECT list_sum(list_transform([1, 2, 3], lambda x: x * 2)) AS s", [(12,)], 1),
    "comments": (
        "-- top sellers\nSELECT /* inline */ product, count(*) AS n FROM sales "
        "GROUP BY product ORDER BY product; -- trailing",
        [("Apple", 40), ("Banana", 40), ("Cherry", 40)], 3,
    ),
    "case_insensitive_names": (
        "SELECT COUNT(*) AS n FROM SALES WHERE Region = 'West'", [(30,)], 1,
    ),
    "ntile_count_over": (
        "SELECT ntile(4) OVER (ORDER BY order_id) AS q, count(*) OVER () AS total FROM sales "
        "ORDER BY order_id LIMIT 1",
        [(1, 120)], 1,
    ),
}


def _plain(value: Any) -> Any:
    """Make a frame cell comparable with a literal: missing -> None, timestamps -> dates."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date() if value == value.normalize() else value
    if hasattr(value, "item"):
        return value.item()
    return value


def _rows(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    return [tuple(_plain(v) for v in row) for row in frame.astype(object).itertuples(index=False)]


def test_harmless_set_is_big_enough() -> None:
    assert len(HARMLESS) >= 30


@pytest.mark.parametrize("name", sorted(HARMLESS))
def test_harmless_queries_give_correct_answers(name: str, tables: dict[str, Path]) -> None:
    sql, expected, count = HARMLESS[name]
    result = run_sandboxed(sql, tables, timeout_s=10)
    rows = _rows(result.frame)
    assert rows[: len(expected)] == expected
    assert len(rows) == count == result.total_rows
    assert result.truncated is False
    assert result.columns == [str(c) for c in result.frame.columns]


@pytest.mark.parametrize("name", sorted(HARMLESS))
def test_normalised_sql_means_what_the_original_meant(
    name: str, tables: dict[str, Path]
) -> None:
    sql = HARMLESS[name][0]
    con = duckdb.connect()
    for table, path in tables.items():
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")
    raw = con.execute(sql).fetchdf()
    con.close()
    ran = run_sandboxed(sql, tables).frame
    assert _rows(ran) == _rows(raw)


def test_row_cap_truncates_and_still_counts(tables: dict[str, Path]) -> None:
    result = run_sandboxed("SELECT * FROM sales ORDER BY order_id DESC", tables, max_rows=7)
    assert len(result.frame) == 7 and result.truncated is True
    assert result.total_rows == 120
    assert result.frame["order_id"].tolist() == list(range(120, 113, -1))
    exact = run_sandboxed("SELECT * FROM sales", tables, max_rows=120)
    assert exact.truncated is False and exact.total_rows == 120 and len(exact.frame) == 120


def test_bad_column_fails_with_duckdbs_key_detail(tables: dict[str, Path]) -> None:
    with pytest.raises(QueryFailed) as caught:
        run_sandboxed("SELECT amout FROM sales", tables)
    message = str(caught.value)
    assert message.startswith("The query could not run: ")
    assert '"amout" not found' in message and "amount" in message
    assert "LINE 1" not in message and "Binder Error" not in message


def test_bad_cast_fails_plainly(tables: dict[str, Path]) -> None:
    with pytest.raises(QueryFailed, match="Could not convert"):
        run_sandboxed("SELECT CAST(region AS INTEGER) FROM sales", tables)


def test_guard_runs_first(tables: dict[str, Path]) -> None:
    with pytest.raises(UnsafeQuery, match="read a file"):
        run_sandboxed("SELECT * FROM read_csv('/etc/passwd')", tables)
    with pytest.raises(UnsafeQuery, match="“other”"):
        run_sandboxed("SELECT * FROM other", tables)


@pytest.mark.parametrize("sql", BOMBS)
def test_bombs_are_stopped_by_the_timeout(sql: str, tables: dict[str, Path]) -> None:
    started = time.perf_counter()
    with pytest.raises(QueryTimeout, match="took longer than 0.5 seconds"):
        run_sandboxed(sql, tables, timeout_s=0.5)
    assert time.perf_counter() - started < 5


def test_bypassing_the_guard_still_cannot_read_files(tables: dict[str, Path]) -> None:
    with pytest.raises(UnsafeQuery):
        sandbox._run_unchecked("SELECT * FROM read_csv('/etc/passwd')", tables, 5, 100)


@pytest.fixture()
def locked(tables: dict[str, Path]) -> Iterator[duckdb.DuckDBPyConnection]:
    con = sandbox._open_sandbox(tables)
    yield con
    con.close()


@pytest.mark.parametrize("statement", SANDBOX_ONLY)
def test_sandbox_settings_alone_refuse(
    statement: str, locked: duckdb.DuckDBPyConnection, data_dir: Path
) -> None:
    sql = statement.replace("{other}", str(data_dir / "other.parquet"))
    with pytest.raises(duckdb.Error):
        locked.execute(sql).fetchall()
    assert not (data_dir / "other.parquet.csv").exists()


def test_sandbox_reads_its_own_files_and_nothing_else(
    locked: duckdb.DuckDBPyConnection, tables: dict[str, Path]
) -> None:
    assert locked.execute("SELECT count(*) FROM sales").fetchone() == (120,)
    settings = dict(locked.execute(
        "SELECT name, value FROM duckdb_settings() WHERE name IN "
        "('enable_external_access', 'lock_configuration', 'autoload_known_extensions', "
        "'autoinstall_known_extensions', 'python_enable_replacements', 'temp_directory')"
    ).fetchall())
    assert settings == {
        "enable_external_access": "false", "lock_configuration": "true",
        "autoload_known_extensions": "false", "autoinstall_known_extensions": "false",
        "python_enable_replacements": "false", "temp_directory": "",
    }


def test_python_variables_are_not_reachable(tables: dict[str, Path]) -> None:
    secret_frame = pd.DataFrame({"password": ["hunter2"]})  # noqa: F841 - bait for DuckDB
    with pytest.raises(QueryFailed, match="secret_frame"):
        sandbox._run_unchecked("SELECT * FROM secret_frame", tables, 5, 10)


def test_each_call_gets_a_fresh_instance(tables: dict[str, Path]) -> None:
    con = sandbox._open_sandbox(tables)
    con.execute("CREATE TABLE leftover AS SELECT 1 AS x")
    con.close()
    with pytest.raises(QueryFailed, match="leftover"):
        sandbox._run_unchecked("SELECT * FROM leftover", tables, 5, 10)


def test_bad_table_names_and_missing_files_are_refused(data_dir: Path) -> None:
    with pytest.raises(InvalidInput):
        run_sandboxed("SELECT 1", {'x"; DROP': data_dir / "sales.parquet"})
    with pytest.raises(NotFound):
        run_sandboxed("SELECT 1", {"gone": data_dir / "gone.parquet"})
    with pytest.raises(NotFound):
        run_sandboxed("SELECT 1", {"meta": data_dir / "metadata.duckdb"})
    with pytest.raises(InvalidInput):
        run_sandboxed("SELECT 1", {}, timeout_s=0)


def test_eight_concurrent_calls_succeed(tables: dict[str, Path]) -> None:
    def one(i: int) -> int:
        result = run_sandboxed(
            f"SELECT count(*) AS n FROM sales WHERE order_id > {i}", tables, timeout_s=10
        )
        return int(result.frame["n"].iloc[0])

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(one, range(8)))
    assert counts == [120 - i for i in range(8)]
    assert threading.active_count() < 20  # watchdogs are joined, not leaked


def test_elapsed_is_measured(tables: dict[str, Path]) -> None:
    result = run_sandboxed("SELECT 1 AS one", tables)
    assert 0 < result.elapsed_ms < 5_000
    assert result.sql == "SELECT 1 AS one"
