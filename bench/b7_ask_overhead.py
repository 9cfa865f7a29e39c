"""B7: what Ask costs besides waiting for Claude, over the raw DuckDB query.

On a generated 1M-row Parquet file, a typical Ask query (filtered group-by) is timed
(a) end to end through `run_sandboxed` (guard + a warm worker process's fresh locked
instance + query + the result back as Arrow bytes + pandas frame) and (b) raw, on a
pre-opened DuckDB connection with a view over the same file, fetched to pandas too; the
sandbox's workers are idle before each timing.
Value = median(a) - median(b) over RUNS runs, in ms: PRODUCT.md §8 defines B7 as
validation + sandbox + execution setup. Drawing the chart of the result by rules
(`ask.chart_for_result` + `services.charts.ask_chart.build_chart`, as the Ask page does) is timed
on its own and reported beside it (B7 chart), not inside the overhead: since Ask draws a
two-key result as grouped bars (one trace per group) it is plotly's cost, not the sandbox's.
"""

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from services.charts.ask_chart import build_chart
from services.claude.ask import chart_for_result
from services.untrusted_sql import sandbox
from services.untrusted_sql.sandbox import run_sandboxed
from services.untrusted_sql.sql_guard import check_sql

ROWS = 1_000_000
RUNS = 21
TARGET_MS = 50.0
CHART_TARGET_MS = 100.0  # mine: drawing must not feel slower than the query
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
    # Let the sandbox's workers finish opening their next fresh instances first, so neither
    # side is slowed by the other's background work (in Ask, Claude's seconds-long reply
    # gives the workers that time anyway).
    sandbox.pool().wait_ready()
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def _ask_path(tables: dict[str, Path]) -> object:
    """What Ask does around Claude before drawing: guard + sandbox + query."""
    return run_sandboxed(ASK_SQL, tables).frame


def run(work_dir: Path) -> dict[str, dict]:
    path = _make_dataset(work_dir)
    tables = {"sales": path}
    raw = duckdb.connect()
    raw.execute(f"CREATE VIEW sales AS SELECT * FROM read_parquet('{path}')")

    # warm both paths once (imports, OS file cache), and every sandbox worker
    sandbox.warm_up(wait=True)
    for _ in range(sandbox.pool().config.concurrency + 1):
        _time_ms(lambda: _ask_path(tables))
    raw.execute(ASK_SQL).fetchdf()

    sandboxed: list[float] = []
    direct: list[float] = []
    guard: list[float] = []
    chart: list[float] = []
    frame = run_sandboxed(ASK_SQL, tables).frame
    for _ in range(RUNS):
        direct.append(_time_ms(lambda: raw.execute(ASK_SQL).fetchdf()))
        sandboxed.append(_time_ms(lambda: _ask_path(tables)))
        guard.append(_time_ms(lambda: check_sql(ASK_SQL, {"sales"})))
        chart.append(_time_ms(lambda: build_chart(frame, chart_for_result(frame))))  # type: ignore[arg-type]
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
                f"1M rows, filtered group-by, median of {RUNS}: guard + worker process sandbox "
                f"+ query {full_ms:.1f} ms vs raw {raw_ms:.1f} ms (guard alone "
                f"{statistics.median(guard):.1f} ms)"
            ),
        },
        "B7 chart": {
            "value": statistics.median(chart),
            "target": CHART_TARGET_MS,
            "unit": "ms",
            "ok": statistics.median(chart) <= CHART_TARGET_MS,
            "detail": "the rules' chart of the same result (grouped bars, one trace per "
                      "product over the regions), chart_for_result + build_chart; my target",
        },
    }
