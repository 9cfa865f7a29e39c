"""B12: a live PostgreSQL source — a chart and a profile pushed down to the database.

The bench starts its own throwaway PostgreSQL 15 (initdb in the work folder, no fsync),
generates a `sales` table with `generate_series` (B12_ROWS rows, 10,000,000 by default;
B12_ROWS=200000 for a quick run), makes a read-only role, adds it as a data source and a
live dataset, and measures, as medians of B12_REPEATS interleaved rounds:

(a) a filtered group-by bar chart through `where.chart_at` on the LiveTarget against the
    same question as hand-written SQL sent with psycopg on one open connection (≤ 1.3×);
(b) the live profile against a hand-written one-pass aggregate query (≤ 3×);
(c) the growth of this process's peak RSS while the chart runs (≤ 100 MB): the rows stay
    in the database, only the chart's few groups come back.
Generating the table is not timed.
"""

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from services.access import users
from services.access.permissions import Role
from services.access.users import NewUser
from services.charts import where
from services.charts.spec import ChartSpec, Filter
from services.data import live_datasets, live_profile
from services.data.live_datasets import LiveTarget
from services.settings import reset_settings_cache
from services.sources import catalog, door
from services.sources.catalog import SourceInput
from tests.postgres_server import PostgresServer, throwaway_cluster

ROWS = int(os.environ.get("B12_ROWS", "10000000"))
REPEATS = max(5, int(os.environ.get("B12_REPEATS", "7")))
CHART_TARGET, PROFILE_TARGET, RSS_TARGET_MB = 1.3, 3.0, 100.0
DATABASE, READER, PASSWORD = "b12", "b12_reader", "b12-reader-Quince7"
PRODUCTS = ["Product 007", "Product 042", "Product 133"]
SINCE, UNTIL = "2023-01-01", "2024-06-30"
SPEC = ChartSpec(chart_type="bar", x="region", y="amount", agg="sum",
                 filters=[Filter(column="product", op="in", value=PRODUCTS),
                          Filter(column="day", op="between", value=[SINCE, UNTIL])])
HAND_SQL = ("SELECT region, sum(amount) AS amount FROM public.sales "
            "WHERE product IN (%s, %s, %s) AND day BETWEEN %s AND %s "
            "GROUP BY region ORDER BY region")
HAND_VALUES = (*PRODUCTS, SINCE, UNTIL)
# What a profile shows, by hand, in one scan: rows, and per column missing values, distinct
# values, range; mean and spread for numbers.
PROFILE_SQL = """SELECT count(*),
  count(day), count(DISTINCT day), min(day), max(day),
  count(region), count(DISTINCT region), min(region), max(region),
  count(product), count(DISTINCT product), min(product), max(product),
  count(amount), count(DISTINCT amount), min(amount), max(amount), avg(amount),
  stddev(amount),
  count(quantity), count(DISTINCT quantity), min(quantity), max(quantity), avg(quantity),
  stddev(quantity)
FROM public.sales"""
TABLE_SQL = """CREATE TABLE public.sales AS
SELECT DATE '2022-01-01' + (i % 1461) AS day,
       (ARRAY['North','South','East','West','Central','Islands','Coast','Mountains'])
           [1 + floor(random() * 8)::int] AS region,
       'Product ' || lpad(floor(random() * 200)::int::text, 3, '0') AS product,
       round((random() * 500)::numeric, 2) AS amount,
       1 + floor(random() * 20)::int AS quantity
FROM generate_series(1, {rows}) AS i"""


def make_sales(server: PostgresServer, rows: int) -> float:
    """The `sales` table and a read-only role that may read it; returns seconds taken."""
    started = time.perf_counter()
    server.execute(f"CREATE DATABASE {DATABASE}")
    with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres",
                         dbname=DATABASE, autocommit=True) as connection:
        connection.execute("SELECT setseed(0.21)")
        connection.execute(TABLE_SQL.format(rows=int(rows)).encode())
        connection.execute("ANALYZE public.sales")
        connection.execute(f"CREATE ROLE {READER} LOGIN PASSWORD '{PASSWORD}'".encode())
        connection.execute(f"GRANT USAGE ON SCHEMA public TO {READER}".encode())
        connection.execute(f"GRANT SELECT ON public.sales TO {READER}".encode())
    return time.perf_counter() - started


def live_sales(server: PostgresServer) -> LiveTarget:
    """The table as a stored data source and a live dataset, as an admin adds them."""
    admin = users.create_first_admin(NewUser(username="bench", name="Bench Admin",
                                             password="Quiet-Elm-Harbour-93", role=Role.ADMIN))
    source = catalog.add_source(admin, SourceInput.parse(
        name="bench warehouse", url=f"postgresql://{READER}@127.0.0.1:{server.port}/{DATABASE}",
        password=PASSWORD, schemas="public"))
    dataset = live_datasets.create_live_dataset(admin, source.id, "public", "sales")
    target = live_datasets.live_target(admin, dataset.id)
    assert target is not None
    return target


def reader_connection(server: PostgresServer) -> psycopg.Connection:
    return psycopg.connect(host="127.0.0.1", port=server.port, user=READER, password=PASSWORD,
                           dbname=DATABASE, autocommit=True)


def hand_chart(connection: psycopg.Connection) -> list[tuple]:
    return connection.execute(HAND_SQL, HAND_VALUES).fetchall()


def hand_profile(connection: psycopg.Connection) -> tuple:
    row = connection.execute(PROFILE_SQL).fetchone()
    assert row is not None
    return row


def run_live_profile(target: LiveTarget) -> object:
    """The live profile of the table, as the Dataset page computes it."""
    return live_profile.profile_table(target)


def _interleaved(baseline: Callable[[], object], ours: Callable[[], object], rounds: int,
                 ) -> tuple[float, float, float]:
    """Alternate baseline and ours; the median of per-round ratios (ours / baseline), so load
    on a shared machine hits both alike. Returns (ratio, median baseline s, median ours s)."""
    base_s, ours_s = [], []
    for _ in range(rounds):
        for fn, times in ((baseline, base_s), (ours, ours_s)):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
    ratio = statistics.median(o / b for o, b in zip(ours_s, base_s, strict=True))
    return ratio, statistics.median(base_s), statistics.median(ours_s)


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field)) / 1024


def peak_growth_mb(work: Callable[[], object]) -> float:
    """How far this process's peak RSS rises above its RSS while `work` runs. The peak is
    reset first (clear_refs 5), so earlier benchmarks in this process do not hide it."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    before = _status_mb("VmRSS:")
    work()
    return _status_mb("VmHWM:") - before


def _same_answer(target: LiveTarget, connection: psycopg.Connection) -> None:
    frame = where.chart_at(target, SPEC).frame
    ours = dict(zip(frame["x"], frame["value"], strict=True))
    theirs = {region: float(amount) for region, amount in hand_chart(connection)}
    assert ours.keys() == theirs.keys() and all(
        abs(ours[k] - theirs[k]) <= 1e-6 * max(1.0, abs(theirs[k])) for k in theirs), \
        (ours, theirs)


def run(work_dir: Path) -> dict[str, dict]:
    limits = ("RESEARCH_DESK_QUERY_TIMEOUT_S", "RESEARCH_DESK_SOURCE_STATEMENT_TIMEOUT_S")
    for name in limits:
        os.environ[name] = "600"  # a loaded machine must not cut it
    reset_settings_cache()
    try:
        with throwaway_cluster(prefix="b12-postgres-") as server:
            return measure(server, make_sales(server, ROWS))
    finally:
        door.dispose_engines()
        for name in limits:
            os.environ.pop(name, None)
        reset_settings_cache()


def measure(server: PostgresServer, made_s: float) -> dict[str, dict]:
    target = live_sales(server)
    with reader_connection(server) as connection:
        _same_answer(target, connection)  # also warms both sides (caches, connections)
        chart_ratio, hand_s, chart_s = _interleaved(
            lambda: hand_chart(connection), lambda: where.chart_at(target, SPEC), REPEATS)
        growth_mb = peak_growth_mb(lambda: where.chart_at(target, SPEC))
        profile, profile_s, live_s = _interleaved(
            lambda: hand_profile(connection), lambda: run_live_profile(target), REPEATS)
    marks = where.chart_at(target, SPEC).mark_count
    setup = (f"{ROWS:,} rows in PostgreSQL 15 on this machine (generated in {made_s:.0f} s), "
             f"medians of {REPEATS} interleaved rounds")
    results = {
        "B12_live_chart_ratio": {
            "value": chart_ratio, "target": CHART_TARGET, "unit": "× hand-written SQL",
            "ok": chart_ratio <= CHART_TARGET,
            "detail": (f"bar: sum of amount by region, product in 3 of 200, 18 of 48 months; "
                       f"where.chart_at {chart_s * 1000:.0f} ms vs psycopg "
                       f"{hand_s * 1000:.0f} ms; {marks} marks back; {setup}")},
        "B12_live_chart_peak_rss": {
            "value": growth_mb, "target": RSS_TARGET_MB, "unit": "MB over start",
            "ok": growth_mb <= RSS_TARGET_MB,
            "detail": (f"peak RSS (VmHWM, reset before) of this process during the chart, "
                       f"over its RSS before; the table's rows stay in the database; {setup}")},
    }
    results["B12_live_profile_ratio"] = {
        "value": profile, "target": PROFILE_TARGET, "unit": "× one-pass aggregate",
        "ok": profile <= PROFILE_TARGET,
        "detail": (f"live profile {live_s:.2f} s vs a hand-written one-pass aggregate (rows, "
                   f"missing, distinct, range, mean, spread of 5 columns) {profile_s:.2f} s; "
                   f"{setup}")}
    return results


if __name__ == "__main__":
    from bench.run import main

    raise SystemExit(main(["b12"]))
