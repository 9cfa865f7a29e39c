"""B1: ingest a generated 5M-row × 12-column CSV vs DuckDB's own COPY to Parquet.

Both runs happen in child processes, each reporting its own peak RSS (VmHWM: a child's
ru_maxrss would include the bench runner's own peak from before the exec, e.g. B11's wide
file). Generation time is not part of the ratio.
"""

import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROWS = 5_000_000
ROOT = Path(__file__).resolve().parent.parent

# 12 columns, mixed types and some mess: missing values, whitespace and case variants,
# numbers written with thousands separators inside quotes, a mostly-empty column.
DATA_SQL = f"""
SELECT
  i AS order_id,
  DATE '2020-01-01' + CAST(i % 1500 AS INTEGER) AS order_date,
  TIMESTAMP '2020-01-01 00:00:00' + to_seconds(i * 7) AS created_at,
  'cust_' || (i % 200000) AS customer,
  ['North', 'north ', 'NORTH', 'South', 'East', 'West', 'N.'][1 + CAST(hash(i) % 7 AS BIGINT)]
    AS region,
  'product ' || CAST(hash(i * 3) % 40 AS BIGINT) AS product,
  CAST(1 + CAST(hash(i * 5) % 20 AS BIGINT) AS INTEGER) AS quantity,
  CASE WHEN i % 17 = 0 THEN NULL
       ELSE round(1 + CAST(hash(i * 7) % 100000 AS BIGINT) / 100.0, 2) END AS price,
  round(CAST(hash(i * 11) % 50 AS BIGINT) / 100.0, 2) AS discount,
  printf('%,.2f', CAST(hash(i * 13) % 10000000 AS BIGINT) / 100.0) AS amount_text,
  CAST(hash(i * 17) % 10 AS BIGINT) < 2 AS is_return,
  CASE WHEN i % 10 = 0 THEN 'note ' || (i % 1000) ELSE NULL END AS note
FROM range({ROWS}) t(i)
"""


def generate_csv(path: Path, rows: int = ROWS) -> None:
    con = duckdb.connect()
    sql = DATA_SQL.replace(f"range({ROWS})", f"range({rows})")
    con.execute(f"COPY ({sql}) TO '{path}' (FORMAT csv, HEADER true)")
    con.close()


_INGEST = """
import sys, time
from pathlib import Path
from services.data.ingest import ingest_file
t = time.perf_counter()
r = ingest_file(Path(sys.argv[1]), original_name='orders.csv', dest_dir=Path(sys.argv[2]))
seconds = time.perf_counter() - t
# VmHWM, not the parent's ru_maxrss: that keeps the forking parent's peak across exec
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(seconds, r.rows, peak_kb, flush=True)
"""

_BASELINE = """
import sys, time, duckdb
t = time.perf_counter()
con = duckdb.connect()
con.execute('SET enable_progress_bar = false')
n = con.execute(f"COPY (FROM read_csv('{sys.argv[1]}')) TO '{sys.argv[2]}/base.parquet' "
                "(FORMAT parquet)").fetchall()[0][0]
seconds = time.perf_counter() - t
# VmHWM, not the parent's ru_maxrss: that keeps the forking parent's peak across exec
with open("/proc/self/status") as status:
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(seconds, n, peak_kb, flush=True)
"""


def _child(script: str, *args: str) -> tuple[float, int, float]:
    """(seconds, rows, peak RSS in MB) of one run in a fresh interpreter."""
    proc = subprocess.Popen([sys.executable, "-c", script, *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(err)
    seconds, rows, peak_kb = out.strip().splitlines()[-1].split()[:3]
    return float(seconds), int(rows), int(peak_kb) / 1024


def run(work_dir: Path) -> dict[str, dict]:
    csv_path = work_dir / "orders.csv"
    started = time.perf_counter()
    generate_csv(csv_path)
    generated = time.perf_counter() - started
    size_mb = csv_path.stat().st_size / 1024 / 1024
    ours, base, rss = [], [], []
    for attempt in range(2):  # alternate so neither side gets a warmer cache
        out_dir = work_dir / f"out{attempt}"
        out_dir.mkdir()
        b_seconds, b_rows, _ = _child(_BASELINE, str(csv_path), str(out_dir))
        o_seconds, o_rows, o_rss = _child(_INGEST, str(csv_path), str(out_dir))
        assert o_rows == b_rows == ROWS, (o_rows, b_rows)
        ours.append(o_seconds)
        base.append(b_seconds)
        rss.append(o_rss)
    ratio = min(ours) / min(base)
    detail = (f"{ROWS:,} rows × 12 columns, CSV {size_mb:,.0f} MB (generated in "
              f"{generated:.1f} s); ingest_file {min(ours):.2f} s vs DuckDB COPY "
              f"{min(base):.2f} s; includes detection and converting a text column with "
              "thousands separators to numbers")
    return {
        "B1_ingest_ratio": {"value": ratio, "target": 1.3, "unit": "× DuckDB COPY",
                            "ok": ratio <= 1.3, "detail": detail},
        "B1_ingest_peak_rss": {"value": max(rss), "target": 1024, "unit": "MB",
                               "ok": max(rss) <= 1024,
                               "detail": "peak RSS (VmHWM) of the ingest child process (whole "
                                         "interpreter, including imports)"},
    }
