"""Run SQL we did not write in a throw-away DuckDB instance that sees only the given files.

Second wall after `sql_guard`, and it runs where the operating system bounds it:
in one of a few warm worker processes (`sandbox_pool`, `sandbox_worker`),
never in the server process. Each worker caps its own memory with `RLIMIT_AS`
(`RESEARCH_DESK_QUERY_MEMORY_MB` above its start-up size); the server kills a worker whose
query outlives the time limit by more than `HARD_KILL_GRACE_S` and starts a new one; at most
`RESEARCH_DESK_QUERY_CONCURRENCY` queries run at once. Inside the worker: a fresh in-memory
instance per query, views over exactly the given Parquet files, then `allowed_paths` limited
to those files, external access off, no extensions, no spilling to disk, DuckDB's own memory
and thread limits, and the configuration locked. Rows and result bytes are capped.
"""

import re
import time
from pathlib import Path

import duckdb
import pandas as pd
from pydantic import BaseModel, ConfigDict

from services.errors import (
    InvalidInput,
    NotFound,
    QueryFailed,
    QueryTimeout,
    QueryTooBig,
    UnsafeQuery,
)
from services.settings import get_settings
from services.untrusted_sql import sandbox_pool, sandbox_worker
from services.untrusted_sql.sql_guard import check_sql

# Counting the full result of a truncated query is a courtesy: it gets at most this long.
COUNT_BUDGET_S = 2.0
# The server kills a worker this long after the time limit if DuckDB has not stopped.
HARD_KILL_GRACE_S = 1.0
# How long a query may wait for a free worker, beyond its own time limit.
WAIT_FOR_WORKER_S = 10.0
# The result handed to the server is capped in bytes as well as rows.
MAX_RESULT_MB = 64
# DuckDB's own (soft) limit inside a worker: this share of the worker's hard cap at most.
DUCKDB_SHARE = 0.75
_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_SIZE = re.compile(r"^\s*([0-9.]+)\s*([KMGT]?)i?B?\s*$", re.IGNORECASE)
MSG_OUTSIDE = sandbox_worker.MSG_OUTSIDE
MSG_MEMORY = sandbox_worker.MSG_MEMORY
MSG_TOO_LARGE = (
    "The answer is larger than {mb} MB, too large to show here; "
    "try a question that returns fewer or shorter values."
)
MSG_BUSY = (
    "Other queries are using the sandbox just now and this one could not start; "
    "try again in a moment."
)


class SandboxResult(BaseModel):
    """At most `max_rows` rows of the answer, and what we know about the rest."""

    model_config = ConfigDict(arbitrary_types_allowed=True, frozen=True)

    frame: pd.DataFrame
    columns: list[str]
    total_rows: int | None
    truncated: bool
    elapsed_ms: float
    sql: str


def run_sandboxed(
    sql: str,
    tables: dict[str, Path],
    *,
    timeout_s: float = 10,
    max_rows: int = 10_000,
) -> SandboxResult:
    """Check `sql` with the guard, then run it over views named after the keys of `tables`."""
    started = time.perf_counter()
    if timeout_s <= 0 or max_rows < 1:
        raise InvalidInput("The time limit and the row limit must both be above zero.")
    normalised = check_sql(sql, set(tables))
    return _run_unchecked(normalised, tables, timeout_s, max_rows, started)


def _run_unchecked(
    sql: str,
    tables: dict[str, Path],
    timeout_s: float,
    max_rows: int,
    started: float | None = None,
) -> SandboxResult:
    """Run `sql` in a worker without the parser check (tests prove the walls hold alone)."""
    started = time.perf_counter() if started is None else started
    files = {name: _checked_file(name, path) for name, path in tables.items()}
    request = {"sql": sql, "files": files, "timeout_s": timeout_s, "max_rows": max_rows,
               "count_budget_s": COUNT_BUDGET_S, "max_bytes": MAX_RESULT_MB << 20}
    try:
        header, body = pool().run(request, hard_limit_s=timeout_s + HARD_KILL_GRACE_S,
                                  wait_s=timeout_s + WAIT_FOR_WORKER_S,
                                  max_body=(MAX_RESULT_MB + 1) << 20)
    except sandbox_pool.WorkerTimedOut as error:
        raise QueryTimeout(_timeout_message(timeout_s)) from error
    except sandbox_pool.WorkerDied as error:
        raise QueryTooBig(MSG_MEMORY) from error
    except sandbox_pool.PoolBusy as error:
        raise QueryTimeout(MSG_BUSY) from error
    if not header.get("ok"):
        raise _error_for(header, timeout_s)
    frame = sandbox_worker.ipc_to_frame(body)
    total = header.get("total_rows")
    return SandboxResult(
        frame=frame,
        columns=[str(c) for c in frame.columns],
        total_rows=int(total) if total is not None else None,
        truncated=bool(header.get("truncated")),
        elapsed_ms=(time.perf_counter() - started) * 1000,
        sql=sql,
    )


def _timeout_message(timeout_s: float) -> str:
    return (f"The query took longer than {timeout_s:g} seconds and was stopped; "
            "try a narrower question or add a filter.")


def _error_for(header: dict, timeout_s: float) -> Exception:
    kind, message = header.get("kind"), str(header.get("message") or "")
    if kind == "timeout":
        return QueryTimeout(_timeout_message(timeout_s))
    if kind == "memory":
        return QueryTooBig(MSG_MEMORY)
    if kind == "too_big":
        return QueryTooBig(MSG_TOO_LARGE.format(mb=MAX_RESULT_MB))
    if kind == "unsafe":
        return UnsafeQuery(message or MSG_OUTSIDE)
    return QueryFailed(message or "The query could not run.")


def pool_config() -> sandbox_pool.PoolConfig:
    """Worker limits from settings (a change starts fresh workers)."""
    settings = get_settings()
    limit_mb = max(64, int(settings.query_memory_mb))
    duckdb_mb = max(32, int(limit_mb * DUCKDB_SHARE))
    configured = _megabytes(settings.sandbox_memory_limit)
    if configured is not None:
        duckdb_mb = min(duckdb_mb, configured)
    return sandbox_pool.PoolConfig(threads=max(1, settings.sandbox_threads),
                                   duckdb_mb=duckdb_mb, limit_mb=limit_mb,
                                   concurrency=max(1, settings.query_concurrency))


def pool() -> sandbox_pool.Pool:
    return sandbox_pool.get_pool(pool_config())


def warm_up(wait: bool = False) -> bool:
    """Start the workers now (app start-up, benchmarks); `wait` until all are ready."""
    started = pool()
    # The server's side of a result (Arrow → pandas) has a first-use cost too.
    sandbox_worker.ipc_to_frame(sandbox_worker.frame_to_ipc(pd.DataFrame({"x": [1], "y": ["a"]})))
    return started.wait_ready() if wait else True


def _megabytes(text: str) -> int | None:
    match = _SIZE.match(text or "")
    if not match:
        return None
    if not match.group(2):
        return None  # plain bytes or no unit: leave DuckDB's limit to the worker's share
    power = {"K": -1, "M": 0, "G": 1, "T": 2}[match.group(2).upper()]
    return max(1, int(float(match.group(1)) * 1024 ** power))


def _open_sandbox(tables: dict[str, Path]) -> duckdb.DuckDBPyConnection:
    """A locked sandbox connection in this process (tests check the DuckDB walls with it)."""
    files = {name: _checked_file(name, path) for name, path in tables.items()}
    config = pool_config()
    con = sandbox_worker.new_instance(config.threads, f"{config.duckdb_mb}MB")
    try:
        sandbox_worker.lock_down(con, files)
    except sandbox_worker.WorkerError as error:
        con.close()
        raise QueryFailed(error.message) from error
    return con


def _checked_file(name: str, path: Path) -> str:
    if not _SAFE_NAME.fullmatch(name):
        raise InvalidInput(f"“{name}” cannot be used as a table name in a query.")
    resolved = Path(path).resolve()
    if resolved.suffix.lower() != ".parquet" or not resolved.is_file():
        raise NotFound(f"The data file for “{name}” is missing; ask an admin to check it.")
    return str(resolved)
