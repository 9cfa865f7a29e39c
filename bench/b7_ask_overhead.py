"""B7: what Ask costs besides waiting for Claude, over the raw DuckDB query.

On a generated 1M-row Parquet file, a typical Ask query (filtered group-by) is timed
(a) end to end through `run_sandboxed` (guard + fresh locked instance + query + pandas
frame) and (b) raw, on a pre-opened DuckDB connection with a view over the same file,
fetched to pandas too; the sandbox's helper thread is idle before each timing.
Value = median(a) - median(b) over RUNS runs, in ms.
The chart-building part of B7 (rules-chosen chart from the result frame) is added by the
lead once the chart service exists; it belongs inside (a).
"""

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from services import sandbox
from services.sandbox import run_sandboxed
from services.sql_guard import check_sql

ROWS = 1_000_000
RUNS = 21
TARGET_MS = 50.0
ASK_SQL = (
    "SELECT region, product, count(*) AS orders, sum(amount) AS revenue, "
    "avg(quantity) AS avg_qty FROM sales "
    "WHERE order_date >= DATE '2024-03-01' AND amount > 20 "
    "GROUP BY region, product ORDER BY revenue DESC"
)


def _make_dataset(work_dir: Path) -> Path:
    path = work_dir / "sales_1m.parquet"
    con = duckdb.connect()
    con.execute(
        f"""COPY (
            SELECT i AS order_id,
                   DATE '2024-01-01' + CAST(i % 365 AS INTEGER) AS order_date,
                   ['North', 'South', 'East', 'West', 'Central'][1 + i % 5] AS region,
                   'P' || (i % 40) AS product,
                   ((i * 7919) % 1000) / 10.0 AS amount,
                   i % 9 + 1 AS quantity
            FROM range({ROWS}) t(i)
        ) TO '{path}' (FORMAT parquet)"""
    )
    con.close()
    return path


def _time_ms(action: Callable[[], object]) -> float:
    # Let the sandbox's helper finish opening/closing spare instances first, so neither
    # side is slowed by the other's background work (in Ask, Claude's seconds-long reply
    # gives the helper that time anyway).
    sandbox._HELPER.submit(lambda: None).result()
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def run(work_dir: Path) -> dict[str, dict]:
    path = _make_dataset(work_dir)
    tables = {"sales": path}
    raw = duckdb.connect()
    raw.execute(f"CREATE VIEW sales AS SELECT * FROM read_parquet('{path}')")

    # warm both paths once (imports, OS file cache)
    run_sandboxed(ASK_SQL, tables)
    raw.execute(ASK_SQL).fetchdf()

    sandboxed: list[float] = []
    direct: list[float] = []
    guard: list[float] = []
    for _ in range(RUNS):
        direct.append(_time_ms(lambda: raw.execute(ASK_SQL).fetchdf()))
        sandboxed.append(_time_ms(lambda: run_sandboxed(ASK_SQL, tables)))
        guard.append(_time_ms(lambda: check_sql(ASK_SQL, {"sales"})))
    raw.close()

    full_ms, raw_ms = statistics.median(sandboxed), statistics.median(direct)
    overhead = full_ms - raw_ms
    return {
        "B7 ask overhead": {
            "value": overhead,
            "target": TARGET_MS,
            "unit": "ms",
            "ok": overhead <= TARGET_MS,
            "detail": (
                f"1M rows, filtered group-by, median of {RUNS}: sandboxed {full_ms:.1f} ms vs raw "
                f"{raw_ms:.1f} ms (guard alone {statistics.median(guard):.1f} ms); "
                "chart building not yet included"
            ),
        }
    }
