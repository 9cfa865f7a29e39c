"""The one door to DuckDB for Research Desk's own SQL, as Datasette's `Database.execute` is
for Datasette. SQL we did not write (Ask's) runs in the sandbox instead
(services.untrusted_sql), with stricter limits of its own.

Everything that goes through this door has
- a memory limit and a thread cap (DuckDB otherwise takes 80 % of the machine's memory and
  every core), a spill folder under the data folder for work that does not fit, no progress
  bar, and zoned times computed in one stated zone (UTC);
- a time limit: one shared watchdog thread interrupts the work at its deadline, and again
  every 0.1 s until it ends (`RESEARCH_DESK_SCREEN_QUERY_SECONDS` for a query whose answer
  goes to a screen, `RESEARCH_DESK_OWN_QUERY_SECONDS` for work on a whole file);
- a row limit where rows go to a screen (`query_shown` says whether it cut any);
- thread-safe use: a query runs on its own cursor of one process-wide instance (a cursor
  costs well under a millisecond, a new instance ~10 ms or more); a session has an instance
  of its own for one thread, and `cursor(con)` gives another thread a cursor that the
  session's time limit covers too;
- DuckDB's errors turned into one sentence for people, the project's own errors
  (`QueryTimeout`, `QueryTooBig`, `InvalidInput`, `QueryFailed`), worded in one place:
  services.data.duckdb_errors, for the `Task` the SQL was doing.

Which to use:
- `query_frame`, `query_rows`, `query_row`, `query_value`: one statement (charts,
  statistics, a file's columns);
- `query_shown`: one statement whose rows go to a screen, at most `row_limit` of them;
- `with session() as con:` statements that belong together (reading an upload, a profile,
  a cleaning recipe, a download): COPY, temporary tables, read_csv …

Only this module (and the sandbox worker) opens DuckDB; a test checks that.
"""

import atexit
import heapq
import itertools
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from services.data import duckdb_errors
from services.data.duckdb_errors import OWN_QUERY, Task
from services.data.time_zone import pin_time_zone
from services.errors import ResearchDeskError
from services.settings import get_settings

Params = Sequence[object] | Mapping[str, object] | None
T = TypeVar("T")
REPEAT_S = 0.1  # after the deadline, interrupt again this often until the work ends
_VECTOR_ROWS = 2048  # rows in one DuckDB vector (the unit `fetch_df_chunk` counts in)


# --- the query functions --------------------------------------------------------------------

@dataclass(frozen=True)
class Shown:
    """Rows for a screen: at most `row_limit`; `truncated` when the answer had more."""

    frame: pd.DataFrame
    row_limit: int
    truncated: bool

    @property
    def note(self) -> str:
        """The sentence a page shows under cut rows ("" when nothing was cut)."""
        if not self.truncated:
            return ""
        return f"Only the first {self.row_limit:,} rows are shown."


def query_frame(sql: str, params: Params = None, *, time_limit_s: float | None = None,
                row_limit: int | None = None, task: Task = OWN_QUERY) -> pd.DataFrame:
    """The answer as a DataFrame (its first `row_limit` rows when given)."""
    if row_limit is None:
        return _query(sql, params, time_limit_s, task, lambda result: result.df())
    return query_shown(sql, params, time_limit_s=time_limit_s, row_limit=row_limit,
                       task=task).frame


def query_shown(sql: str, params: Params = None, *, row_limit: int | None = None,
                time_limit_s: float | None = None, task: Task = OWN_QUERY) -> Shown:
    """At most `row_limit` rows (default `RESEARCH_DESK_SCREEN_MAX_ROWS`) for a screen, and
    whether there were more. Only the rows kept are read from DuckDB."""
    limit = max(0, int(row_limit if row_limit is not None else get_settings().screen_max_rows))
    frame, truncated = _query(sql, params, time_limit_s, task,
                              lambda result: _first_rows(result, limit))
    return Shown(frame=frame, row_limit=limit, truncated=truncated)


def query_rows(sql: str, params: Params = None, *, time_limit_s: float | None = None,
               row_limit: int | None = None, task: Task = OWN_QUERY) -> list[tuple[Any, ...]]:
    """The answer as tuples (its first `row_limit` rows when given)."""
    if row_limit is None:
        return _query(sql, params, time_limit_s, task, lambda result: result.fetchall())
    return _query(sql, params, time_limit_s, task,
                  lambda result: result.fetchmany(max(0, int(row_limit))))


def query_row(sql: str, params: Params = None, *, time_limit_s: float | None = None,
              task: Task = OWN_QUERY) -> tuple[Any, ...] | None:
    """The first row of the answer, or None when it has none."""
    return _query(sql, params, time_limit_s, task, lambda result: result.fetchone())


def query_value(sql: str, params: Params = None, *, time_limit_s: float | None = None,
                task: Task = OWN_QUERY) -> Any:
    """The first value of the first row (None when there is no row)."""
    row = query_row(sql, params, time_limit_s=time_limit_s, task=task)
    return row[0] if row else None


@contextmanager
def session(*, time_limit_s: float | None = None, task: Task = OWN_QUERY,
            translate: bool = True, memory_mb: int | None = None, threads: int | None = None,
            ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB instance of its own for statements that belong together, closed at the end.

    The whole block has one time limit (default `RESEARCH_DESK_OWN_QUERY_SECONDS`): past it
    every statement is interrupted and the block ends in `QueryTimeout`, even when the
    block caught the interruption itself. A DuckDB error leaving the block becomes the
    project's error worded for `task`; with `translate=False` it leaves as it is, for a
    caller that words it itself (reading an upload names the file)."""
    settings = get_settings()
    seconds = _seconds(time_limit_s, settings.own_query_seconds)
    memory = int(memory_mb or settings.duckdb_memory_mb)
    con = _connect(memory_mb=memory_mb, threads=threads)
    watch = _WATCHDOG.arm(seconds, con) if seconds else None
    if watch is not None:
        _WATCHDOG.register(con, watch)
    try:
        yield con
    except (duckdb.Error, ResearchDeskError) as error:
        if watch is not None and watch.fired:
            raise duckdb_errors.translate(error, task, seconds=seconds,
                                          timed_out=True) from error
        if translate and isinstance(error, duckdb.Error):
            raise duckdb_errors.translate(error, task, seconds=seconds,
                                          memory_mb=memory) from error
        raise
    finally:
        if watch is not None:
            _WATCHDOG.disarm(watch)
            _WATCHDOG.unregister(con)
        con.close()
    if watch is not None and watch.fired:  # it caught the interruptions: the work is not whole
        raise duckdb_errors.translate(duckdb.InterruptException("time limit"), task,
                                      seconds=seconds, timed_out=True)


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of a session's connection for another thread (a connection must not be
    shared between threads); the session's time limit covers it too. Close it after use."""
    cur = con.cursor()
    _WATCHDOG.cover(con, cur)
    return cur


def spill_root() -> Path:
    """Where connections spill; a crash can leave folders here (removed at start-up)."""
    return get_settings().data_dir / "tmp" / "duckdb"


# --- how a query runs -----------------------------------------------------------------------

def _query(sql: str, params: Params, time_limit_s: float | None, task: Task,
           fetch: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
    settings = get_settings()
    seconds = _seconds(time_limit_s, settings.screen_query_seconds)
    with _engine().cursor() as cur:  # a cursor per query: threads never share one
        watch = _WATCHDOG.arm(seconds, cur) if seconds else None
        try:
            result = cur.execute(sql) if params is None else cur.execute(sql, params)
            return fetch(result)
        except duckdb.Error as error:
            raise duckdb_errors.translate(
                error, task, seconds=seconds, memory_mb=int(settings.duckdb_memory_mb),
                timed_out=watch is not None and watch.fired) from error
        finally:
            if watch is not None:
                _WATCHDOG.disarm(watch)


def _first_rows(result: duckdb.DuckDBPyConnection, limit: int) -> tuple[pd.DataFrame, bool]:
    """The first `limit` rows, and whether there were more; DuckDB streams the answer, so
    rows past the limit are never made."""
    vectors = max(1, math.ceil((limit + 1) / _VECTOR_ROWS))
    chunks = [result.fetch_df_chunk(vectors)]
    got = len(chunks[0])
    while got <= limit and len(chunks[-1]):
        chunk = result.fetch_df_chunk(vectors)
        if chunk.empty:
            break
        chunks.append(chunk)
        got += len(chunk)
    frame = chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)
    return frame.head(limit).reset_index(drop=True), got > limit


def _seconds(time_limit_s: float | None, default: float) -> float | None:
    """The time limit to enforce; None for none (a setting of 0 turns limits off)."""
    value = default if time_limit_s is None else time_limit_s
    return float(value) if value and value > 0 else None


_ENGINE_LOCK = threading.Lock()
_engine_now: tuple[tuple[int, int, str], duckdb.DuckDBPyConnection] | None = None


def _engine() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB for this process's own queries; each query gets its own cursor
    and so skips the start-up of an instance. It holds no tables: queries read only the
    Parquet files they name, and versions are immutable, so caching Parquet metadata is
    safe. A change of the memory, thread or data-folder settings starts a new one."""
    global _engine_now
    settings = get_settings()
    key = (int(settings.duckdb_memory_mb), int(settings.duckdb_threads), str(spill_root()))
    with _ENGINE_LOCK:
        if _engine_now is None or _engine_now[0] != key:
            con = _connect()
            con.execute("SET parquet_metadata_cache = true")
            _engine_now = (key, con)
        return _engine_now[1]


def _connect(*, memory_mb: int | None = None, threads: int | None = None,
             ) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with a memory limit, a thread cap, a spill folder, no
    progress bar and one time zone. Only the door calls it."""
    settings = get_settings()
    limit = int(memory_mb or settings.duckdb_memory_mb)
    config: dict[str, str | bool | int | float | list[str]] = {
        "memory_limit": f"{max(limit, 64)}MiB",
        "threads": int(threads or settings.duckdb_threads),
    }
    spill = spill_root()
    try:
        if settings.data_dir.is_dir():  # made at start-up; a query never creates the data folder
            spill.mkdir(parents=True, exist_ok=True, mode=0o700)
            # one folder per connection: DuckDB creates it and removes it again on close
            config["temp_directory"] = str(spill / uuid.uuid4().hex)
    except OSError:
        pass  # no spill folder: DuckDB then fails cleanly when a query does not fit
    con = duckdb.connect(config=config)
    con.execute("SET enable_progress_bar = false")
    return pin_time_zone(con)  # zoned times are computed and shown in one stated zone


# --- time limits ----------------------------------------------------------------------------

class _Watch:
    """One piece of work with a deadline: the connections to interrupt when it passes."""

    __slots__ = ("deadline", "done", "fired", "targets")

    def __init__(self, deadline: float, target: duckdb.DuckDBPyConnection) -> None:
        self.deadline = deadline
        self.targets = [target]
        self.fired = False
        self.done = False


class _Watchdog:
    """One daemon thread for every time limit in the process: a heap of deadlines it sleeps
    towards. Arming and disarming are a lock and a heap push (microseconds), so even the
    smallest query can have a limit; a finished watch is dropped when it reaches the top."""

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._heap: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._sessions: dict[int, _Watch] = {}
        self._finished = 0

    def arm(self, seconds: float, target: duckdb.DuckDBPyConnection) -> _Watch:
        watch = _Watch(time.monotonic() + seconds, target)
        with self._lock:
            earliest = not self._heap or watch.deadline < self._heap[0][0]
            heapq.heappush(self._heap, (watch.deadline, next(self._order), watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, daemon=True,
                                                name="duckdb-time-limits")
                self._thread.start()
            elif earliest:
                self._lock.notify()
        return watch

    def disarm(self, watch: _Watch) -> None:
        with self._lock:
            watch.done = True
            watch.targets.clear()  # nothing keeps a finished query's cursor alive
            self._finished += 1
            if self._finished > 256 and self._finished * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].done]
                heapq.heapify(self._heap)
                self._finished = 0

    def register(self, con: duckdb.DuckDBPyConnection, watch: _Watch) -> None:
        with self._lock:
            self._sessions[id(con)] = watch

    def unregister(self, con: duckdb.DuckDBPyConnection) -> None:
        with self._lock:
            self._sessions.pop(id(con), None)

    def cover(self, con: duckdb.DuckDBPyConnection, cur: duckdb.DuckDBPyConnection) -> None:
        """Interrupt `cur` too when the session of `con` runs out of time."""
        with self._lock:
            watch = self._sessions.get(id(con))
            if watch is None or watch.done:
                return
            watch.targets.append(cur)
            if watch.fired:
                _interrupt(cur)

    def stop(self) -> None:
        """End the thread (at interpreter exit: a thread still waiting then makes DuckDB's
        bindings report leaks); a later `arm` starts a new one."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._lock.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1)

    def _run(self) -> None:
        me = threading.current_thread()
        with self._lock:
            while self._thread is me:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                    self._finished = max(0, self._finished - 1)
                if not self._heap:
                    self._lock.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._lock.wait(wait)
                    continue
                _, _, watch = heapq.heappop(self._heap)
                watch.fired = True
                for target in watch.targets:
                    _interrupt(target)
                heapq.heappush(self._heap, (time.monotonic() + REPEAT_S, next(self._order),
                                            watch))


def _interrupt(con: duckdb.DuckDBPyConnection) -> None:
    try:
        con.interrupt()
    except duckdb.Error:
        pass  # closed in the meantime: nothing left to stop


_WATCHDOG = _Watchdog()
atexit.register(_WATCHDOG.stop)
