"""Run SQL we did not write in a throw-away DuckDB instance that sees only the given files.

Second wall after `services.sql_guard`: a fresh in-memory instance per call (nothing is
shared between callers or threads), views over exactly the given Parquet files, then
`allowed_paths` limited to those files, external access off (no other file, no network,
no Python variables), no extension auto-install/auto-load, no spilling to disk, memory and
thread limits from settings, and the configuration locked so the SQL cannot undo any of
it. A watchdog thread interrupts the query at the time limit; rows are capped.
"""

import queue
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

import duckdb
import pandas as pd
from pydantic import BaseModel, ConfigDict

from services.errors import InvalidInput, NotFound, QueryFailed, QueryTimeout, UnsafeQuery
from services.settings import get_settings
from services.sql_guard import check_sql
from services.time_zone import pin_time_zone

# After the first interrupt, keep interrupting until the caller stops the watchdog, so a
# query that starts a moment after the deadline is still stopped.
REINTERRUPT_EVERY_S = 0.05
# Counting the full result of a truncated query is a courtesy: it gets at most this long.
COUNT_BUDGET_S = 2.0
# Opening a DuckDB instance is most of the set-up cost (~10 ms), so a helper thread keeps
# a few blank ones ready. Each is handed out once, gets its views and locks, and is closed
# (in the background) after that one query: nothing is ever shared between callers.
SPARE_INSTANCES = 2
_SPARES: "queue.Queue[tuple[tuple[int, str], duckdb.DuckDBPyConnection]]" = queue.Queue(
    maxsize=SPARE_INSTANCES
)
_HELPER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-helper")
_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
MSG_OUTSIDE = (
    "This query tries to reach something outside the datasets you picked, "
    "which is not allowed here."
)
MSG_MEMORY = (
    "The query needed more memory than allowed and was stopped. "
    "Try a narrower question or add a filter."
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
    """Run `sql` in the sandbox without the parser check (tests prove the walls hold alone)."""
    started = time.perf_counter() if started is None else started
    con = _open_sandbox(tables)
    try:
        frame = _fetch_capped(con, sql, max_rows, timeout_s)
        truncated = len(frame) > max_rows
        if truncated:
            frame = frame.iloc[:max_rows]
            remaining = timeout_s - (time.perf_counter() - started)
            total_rows = _count_rows(con, sql, min(remaining, COUNT_BUDGET_S))
        else:
            total_rows = len(frame)
    finally:
        _HELPER.submit(con.close)
    return SandboxResult(
        frame=frame,
        columns=[str(c) for c in frame.columns],
        total_rows=total_rows,
        truncated=truncated,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        sql=sql,
    )


def _open_sandbox(tables: dict[str, Path]) -> duckdb.DuckDBPyConnection:
    files = {name: _checked_file(name, path) for name, path in tables.items()}
    con = _take_instance()
    try:
        # Views are bound while files are still readable; the locks come after.
        for name, path in files.items():
            con.execute(
                f"CREATE VIEW {_ident(name)} AS SELECT * FROM read_parquet({_literal(path)})"
            )
        paths = ", ".join(_literal(path) for path in files.values())
        con.execute(f"SET allowed_paths = [{paths}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
    except duckdb.Error as error:
        con.close()
        raise QueryFailed(
            "A dataset file could not be opened for this query; "
            "try again, or ask an admin to check the dataset."
        ) from error
    return con


def _limits() -> tuple[int, str]:
    settings = get_settings()
    return settings.sandbox_threads, settings.sandbox_memory_limit


def _new_instance(limits: tuple[int, str]) -> duckdb.DuckDBPyConnection:
    threads, memory_limit = limits
    con = duckdb.connect(
        ":memory:",
        config={
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "allow_persistent_secrets": False,
            "python_enable_replacements": False,
            "temp_directory": "",  # never spill to disk: no file writes at all
            "threads": threads,
            "memory_limit": memory_limit,
        },
    )
    return pin_time_zone(con)  # zoned times come back in UTC, before the lock


def _take_instance() -> duckdb.DuckDBPyConnection:
    """A blank, never-used instance with the current limits: a spare if one is ready."""
    limits = _limits()
    con: duckdb.DuckDBPyConnection | None = None
    try:
        spare_limits, spare = _SPARES.get_nowait()
        if spare_limits == limits:
            con = spare
        else:
            _HELPER.submit(spare.close)  # settings changed since it was opened
    except queue.Empty:
        pass
    _HELPER.submit(_refill_spares, limits)
    return con if con is not None else _new_instance(limits)


def _refill_spares(limits: tuple[int, str]) -> None:
    while not _SPARES.full():
        spare = _new_instance(limits)
        try:
            _SPARES.put_nowait((limits, spare))
        except queue.Full:
            spare.close()
            return


def _checked_file(name: str, path: Path) -> str:
    if not _SAFE_NAME.fullmatch(name):
        raise InvalidInput(f"“{name}” cannot be used as a table name in a query.")
    resolved = Path(path).resolve()
    if resolved.suffix.lower() != ".parquet" or not resolved.is_file():
        raise NotFound(f"The data file for “{name}” is missing; ask an admin to check it.")
    return str(resolved)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _fetch_capped(
    con: duckdb.DuckDBPyConnection, sql: str, max_rows: int, timeout_s: float
) -> pd.DataFrame:
    capped = f"SELECT * FROM ({sql}) LIMIT {max_rows + 1}"
    try:
        with _Watchdog(con, timeout_s):
            return con.execute(capped).fetchdf()
    except duckdb.InterruptException as error:
        raise QueryTimeout(
            f"The query took longer than {timeout_s:g} seconds and was stopped. "
            "Try a narrower question or add a filter."
        ) from error
    except duckdb.Error as error:
        raise _translate(error) from error


def _count_rows(con: duckdb.DuckDBPyConnection, sql: str, budget_s: float) -> int | None:
    if budget_s <= 0:
        return None
    try:
        with _Watchdog(con, budget_s):
            row = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
    except duckdb.Error:
        return None  # the capped rows are already in hand; the total is optional
    return int(row[0]) if row else None


def _translate(error: duckdb.Error) -> Exception:
    if isinstance(error, duckdb.PermissionException):
        return UnsafeQuery(MSG_OUTSIDE)
    text = str(error)
    if "configuration has been locked" in text or "disabled by configuration" in text:
        return UnsafeQuery(MSG_OUTSIDE)
    if isinstance(error, duckdb.OutOfMemoryException):
        return QueryFailed(MSG_MEMORY)
    return QueryFailed(f"The query could not run: {_short_reason(text)}")


def _short_reason(text: str) -> str:
    """DuckDB's first line without its "Binder Error:" prefix, plus any hint it gives.

    This sentence also goes back to Claude for a repair, so the key detail stays.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return "DuckDB gave no reason."
    first = re.sub(r"^[A-Za-z ]*Error:\s*", "", lines[0])
    hints = [ln for ln in lines[1:3] if ln.startswith(("Candidate", "Did you mean"))]
    reason = " ".join([first, *hints])
    return reason.replace("VARCHAR", "text")


class _Watchdog:
    """Interrupts `con` once `timeout_s` has passed, until stopped (a context manager)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, timeout_s: float) -> None:
        self._con = con
        self._timeout_s = timeout_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="sandbox-watchdog", daemon=True)

    def __enter__(self) -> "_Watchdog":
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        if self._stop.wait(self._timeout_s):
            return
        while True:
            try:
                self._con.interrupt()
            except duckdb.Error:
                return  # connection already closed: nothing left to stop
            if self._stop.wait(REINTERRUPT_EVERY_S):
                return
