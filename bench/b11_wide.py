"""B11: profile + quality report of a wide table (2,000 columns × 20,000 rows) in bounded
memory: ≤ 1 GB peak resident memory and ≤ 15 s, measured in a child process so the figure
is the work's own (not this process's) and a regression cannot take the machine down."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb

ROWS = 20_000
COLUMNS = 2_000
PEAK_MB = 1024
SECONDS = 15.0

_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    from pathlib import Path
    from services.data.profile import profile_dataset
    from services.data.quality import find_issues
    path = Path(sys.argv[1])
    started = time.perf_counter()
    profile = profile_dataset(path)
    profiled = time.perf_counter() - started
    findings = find_issues(path, profile)
    total = time.perf_counter() - started
    # VmHWM, not ru_maxrss: ru_maxrss keeps the forking parent's peak across exec
    with open("/proc/self/status") as status:
        peak_mb = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:")) / 1024
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"cpu_s": usage.ru_utime + usage.ru_stime, "seconds": total,
                      "profile_s": profiled, "peak_mb": peak_mb,
                      "findings": len(findings), "columns": len(profile.columns)}))
""")


def _column(i: int) -> str:
    """Four kinds in turn: decimals, small whole numbers, categories, numbers kept as text."""
    kind = i % 4
    if kind == 0:
        return f"round(random() * 1000, 2) AS c{i}"
    if kind == 1:
        return f"CAST(floor(random() * 50) AS INTEGER) AS c{i}"
    if kind == 2:
        return f"'group ' || CAST(floor(random() * 12) AS INTEGER) AS c{i}"
    return f"CAST(round(random() * 100, 1) AS VARCHAR) AS c{i}"


def write_wide(path: Path, rows: int = ROWS, columns: int = COLUMNS) -> None:
    select = ", ".join(_column(i) for i in range(columns))
    con = duckdb.connect(config={"memory_limit": "1GB", "threads": 2})
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(f"COPY (SELECT {select} FROM range({rows})) TO '{path}' (FORMAT parquet)")
    finally:
        con.close()


def measure(path: Path, timeout_s: float = 120) -> dict[str, float]:
    """Run profile + quality in a child process; its own peak RSS and wall time."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path)], cwd=root,
                          capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise RuntimeError(f"profile + quality failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(work_dir: Path) -> dict[str, dict]:
    path = work_dir / "wide.parquet"
    write_wide(path)
    figures = measure(path)
    detail = (f"{COLUMNS:,} columns × {ROWS:,} rows; profile {figures['profile_s']:.1f} s, "
              f"profile + quality {figures['seconds']:.1f} s ({figures['cpu_s']:.1f} s of CPU), "
              f"peak {figures['peak_mb']:.0f} MB "
              f"(targets ≤ {PEAK_MB:,} MB and ≤ {SECONDS:.0f} s), {figures['findings']} findings")
    return {
        "B11_wide_peak_mb": {"value": figures["peak_mb"], "target": PEAK_MB, "unit": "MB",
                             "ok": figures["peak_mb"] <= PEAK_MB, "detail": detail},
        "B11_wide_seconds": {"value": figures["seconds"], "target": SECONDS, "unit": "s",
                             "ok": figures["seconds"] <= SECONDS, "detail": detail},
    }
