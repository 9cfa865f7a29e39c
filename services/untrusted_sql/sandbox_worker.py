"""The child process that runs SQL we did not write, where the operating system bounds it.

Started by `sandbox_pool` as
`python -m services.untrusted_sql.sandbox_worker THREADS DUCKDB_MB LIMIT_MB`.
It imports only DuckDB, pandas and pyarrow, opens one blank DuckDB instance ahead,
then caps its own address space (`RLIMIT_AS`) at its start-up size plus LIMIT_MB, so
no query can take more memory than that, whatever DuckDB's own accounting thinks. The parent
kills it outright if a query outlives the time limit (DuckDB only checks for interruption
between vectors).

Protocol on stdin/stdout, each message a 4-byte big-endian length and a payload:
- worker → parent once at start: JSON `{"ready": true, "pid": ..., "limit_mb": ...}`;
- parent → worker: JSON `{"sql", "files": {name: path}, "timeout_s", "max_rows",
  "count_budget_s"}`;
- worker → parent: JSON header `{"ok": true, "total_rows", "truncated"}` or `{"ok": false,
  "kind": "unsafe"|"failed"|"memory"|"too_big"|"timeout", "message"}`, then one body
  message: the result as Arrow IPC stream bytes (empty on error); then, once the used
  instance is closed and a fresh one is open, `{"ready": true}` again.
No pickle in either direction. Stray prints go to stderr, never into the protocol.

Each query gets a fresh in-memory instance (nothing is shared between queries): views over
exactly the given Parquet files, then `allowed_paths` limited to those files, external access
off (no other file, no network, no Python variables), no extension auto-install/auto-load,
no spilling to disk, memory and thread limits, and the configuration locked.
"""

import json
import os
import re
import struct
import sys
import threading
import time
from types import TracebackType
from typing import Any, BinaryIO

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.ipc as pa_ipc

from services.data.bounded_child import cap_memory
from services.data.time_zone import pin_time_zone

REINTERRUPT_EVERY_S = 0.05
PARENT_CHECK_EVERY_S = 1.0
MSG_OUTSIDE = (
    "This query tries to reach something outside the datasets you picked, "
    "which is not allowed here."
)
MSG_MEMORY = (
    "The query needed more memory than allowed and was stopped; "
    "try a narrower question or add a filter."
)
MSG_OPEN = (
    "A dataset file could not be opened for this query; "
    "try again, or ask an admin to check the dataset."
)
_HEADER = struct.Struct(">I")


class WorkerError(Exception):
    """A query that failed in a way the parent turns into one of its errors."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# --- DuckDB lockdown (also used in-process by tests, through sandbox.py) ---

def new_instance(threads: int, memory_limit: str) -> duckdb.DuckDBPyConnection:
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
    return pin_time_zone(con)  # zoned times come back in one stated zone, before the lock


def lock_down(con: duckdb.DuckDBPyConnection, files: dict[str, str]) -> None:
    """Views over `files` (name → resolved path), then the locks. Raises `WorkerError`."""
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
        raise WorkerError("failed", MSG_OPEN) from error


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def fetch_capped(
    con: duckdb.DuckDBPyConnection, sql: str, max_rows: int, timeout_s: float
) -> pd.DataFrame:
    capped = f"SELECT * FROM ({sql}) LIMIT {max_rows + 1}"
    try:
        with Watchdog(con, timeout_s):
            return con.execute(capped).fetchdf()
    except duckdb.InterruptException as error:
        raise WorkerError("timeout", "") from error
    except MemoryError as error:
        raise WorkerError("memory", MSG_MEMORY) from error
    except duckdb.Error as error:
        raise translate(error) from error


def count_rows(con: duckdb.DuckDBPyConnection, sql: str, budget_s: float) -> int | None:
    if budget_s <= 0:
        return None
    try:
        with Watchdog(con, budget_s):
            row = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()
    except (duckdb.Error, MemoryError):
        return None  # the capped rows are already in hand; the total is optional
    return int(row[0]) if row else None


def translate(error: duckdb.Error) -> WorkerError:
    if isinstance(error, duckdb.PermissionException):
        return WorkerError("unsafe", MSG_OUTSIDE)
    text = str(error)
    if "configuration has been locked" in text or "disabled by configuration" in text:
        return WorkerError("unsafe", MSG_OUTSIDE)
    if isinstance(error, duckdb.OutOfMemoryException) or "bad_alloc" in text:
        return WorkerError("memory", MSG_MEMORY)
    return WorkerError("failed", f"The query could not run: {short_reason(text)}")


def short_reason(text: str) -> str:
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


class Watchdog:
    """Interrupts `con` once `timeout_s` has passed, until stopped (a context manager)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, timeout_s: float) -> None:
        self._con = con
        self._timeout_s = timeout_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="sandbox-watchdog", daemon=True)

    def __enter__(self) -> "Watchdog":
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


# --- result transfer ---------------------------------------------------------------------

def frame_to_ipc(frame: pd.DataFrame) -> bytes:
    """The frame as Arrow IPC bytes; pandas metadata keeps DuckDB's own pandas types."""
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowException, TypeError, ValueError):
        frame = frame.copy()
        for position in range(frame.shape[1]):
            column = frame.iloc[:, position]
            try:
                pa.array(column, from_pandas=True)
            except (pa.ArrowException, TypeError, ValueError):
                as_text = [None if v is None else str(v) for v in column]
                frame.isetitem(position, as_text)
        table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = pa.BufferOutputStream()
    with pa_ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def ipc_to_frame(body: bytes) -> pd.DataFrame:
    return pa_ipc.open_stream(body).read_all().to_pandas(use_threads=False)  # 10x faster here


# --- framing -----------------------------------------------------------------------------

def write_message(stream: BinaryIO, payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def read_message(stream: BinaryIO) -> bytes | None:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    body = stream.read(size)
    return body if len(body) == size else None


# --- the worker loop ---------------------------------------------------------------------

def _run_one(con: duckdb.DuckDBPyConnection, request: dict[str, Any]) -> tuple[dict, bytes]:
    started = time.perf_counter()
    timeout_s = float(request["timeout_s"])
    max_rows = int(request["max_rows"])
    sql = str(request["sql"])
    lock_down(con, {str(k): str(v) for k, v in request["files"].items()})
    frame = fetch_capped(con, sql, max_rows, timeout_s)
    truncated = len(frame) > max_rows
    if truncated:
        frame = frame.iloc[:max_rows]
        remaining = timeout_s - (time.perf_counter() - started)
        total_rows = count_rows(con, sql, min(remaining, float(request["count_budget_s"])))
    else:
        total_rows = len(frame)
    body = frame_to_ipc(frame)
    if len(body) > int(request["max_bytes"]):
        raise WorkerError("too_big", "")
    return {"ok": True, "total_rows": total_rows, "truncated": truncated}, body


def _answer(con: duckdb.DuckDBPyConnection, request: dict[str, Any]) -> tuple[dict, bytes]:
    try:
        return _run_one(con, request)
    except WorkerError as error:
        return {"ok": False, "kind": error.kind, "message": error.message}, b""
    except MemoryError:
        return {"ok": False, "kind": "memory", "message": MSG_MEMORY}, b""
    except (duckdb.Error, pa.ArrowException, ValueError, TypeError) as error:
        return {"ok": False, "kind": "failed",
                "message": f"The query could not run: {short_reason(str(error))}"}, b""


def _watch_parent(parent: int) -> None:
    """Leave when the parent is gone (its pipe also closes, but a query may be running)."""
    while True:
        time.sleep(PARENT_CHECK_EVERY_S)
        if os.getppid() != parent:
            os._exit(0)


def main(argv: list[str]) -> int:
    threads, duckdb_mb, limit_mb = (int(a) for a in argv[1:4])
    memory_limit = f"{duckdb_mb}MB"
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # stray prints cannot break framing
    protocol_in = sys.stdin.buffer
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    # Warm every library once (their first use maps memory), then cap.
    spare = new_instance(threads, memory_limit)
    warm = new_instance(threads, memory_limit)
    ipc_to_frame(frame_to_ipc(warm.execute("SELECT 1 AS x, 'a' AS y").fetchdf()))
    warm.close()
    cap_mb = cap_memory(limit_mb)
    write_message(protocol_out, json.dumps(
        {"ready": True, "pid": os.getpid(), "limit_mb": cap_mb}).encode())
    while True:
        raw = read_message(protocol_in)
        if raw is None:
            return 0  # the parent closed the pipe: we are done
        header, body = _answer(spare, json.loads(raw))
        write_message(protocol_out, json.dumps(header).encode())
        write_message(protocol_out, body)
        spare.close()
        del body
        try:
            spare = new_instance(threads, memory_limit)
        except (duckdb.Error, MemoryError):
            return 1  # cannot open a fresh instance: let the parent start a new worker
        write_message(protocol_out, b'{"ready": true}')  # a fresh instance is waiting


if __name__ == "__main__":
    code = main(sys.argv)
    sys.stderr.flush()
    os._exit(code)  # skip interpreter teardown: nothing to flush, and DuckDB's is noisy
