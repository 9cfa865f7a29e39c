"""A few warm worker processes that run sandboxed SQL (see `services.untrusted_sql.sandbox_worker`).

The pool holds `concurrency` workers; a query takes an idle one (waiting if all are busy, so
at most `concurrency` queries run at once), sends it the request and reads the answer with a
hard deadline. A worker that misses the deadline is killed (SIGKILL) and replaced in the
background; so is one that died (its memory cap was hit) or answered garbage. The server
process only ever holds the capped, already-serialised result.

Workers get the minimal environment of every bounded child (`services.data.bounded_child`:
no API keys, few malloc arenas), so their address space, which the cap counts, stays close
to what they use.
"""

import atexit
import collections
import json
import logging
import os
import queue
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.data.bounded_child import child_env

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
START_RETRIES = 3
READ_CHUNK = 1 << 20
_HEADER = struct.Struct(">I")


class WorkerTimedOut(Exception):
    """The worker did not answer before the hard deadline and was killed."""


class WorkerDied(Exception):
    """The worker ended (or broke the protocol) while running the query."""


class PoolBusy(Exception):
    """No worker became free in time."""


@dataclass(frozen=True)
class PoolConfig:
    threads: int
    duckdb_mb: int
    limit_mb: int
    concurrency: int


class Worker:
    """One child process speaking the length-prefixed protocol."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self.limit_mb = 0
        self.peak_mb = 0.0  # its peak resident memory, known once it has ended
        self.proc = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "services.untrusted_sql.sandbox_worker", str(config.threads),
             str(config.duckdb_mb), str(config.limit_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, env=child_env(),
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in = self.proc.stdin.fileno()
        self._out = self.proc.stdout.fileno()
        try:
            ready = json.loads(self._read(time.monotonic() + START_TIMEOUT_S, 1 << 16))
        except (WorkerTimedOut, WorkerDied, ValueError):
            self.kill()
            raise
        self.pid = int(ready["pid"])
        self.limit_mb = int(ready["limit_mb"])

    @property
    def alive(self) -> bool:
        if self.proc.returncode is not None:
            return False
        try:  # WNOWAIT leaves an ended process to _reap, which reads its memory use
            ended = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return False
        return ended is None

    def ask(self, request: dict[str, Any], deadline: float, max_body: int) -> tuple[dict, bytes]:
        payload = json.dumps(request).encode()
        try:
            os.write(self._in, _HEADER.pack(len(payload)) + payload)
        except OSError as error:
            raise WorkerDied() from error
        header = json.loads(self._read(deadline, 1 << 20))
        body = self._read(deadline, max_body)
        return header, body

    def await_ready(self, deadline: float) -> None:
        if not json.loads(self._read(deadline, 1 << 10)).get("ready"):
            raise WorkerDied()

    def _read(self, deadline: float, limit: int) -> bytes:
        head = self._read_exact(_HEADER.size, deadline)
        (size,) = _HEADER.unpack(head)
        if size > limit:
            raise WorkerDied()
        return self._read_exact(size, deadline)

    def _read_exact(self, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        left = size
        while left > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WorkerTimedOut()
            ready, _, _ = select.select([self._out], [], [], remaining)
            if not ready:
                raise WorkerTimedOut()
            chunk = os.read(self._out, min(left, READ_CHUNK))
            if not chunk:
                raise WorkerDied()
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        # os.kill, not Popen.send_signal: that polls first and would reap the process before
        # _reap can read its resource usage
        try:
            os.kill(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self._reap()

    def close(self) -> None:
        """Ask politely (close its stdin), then kill if it lingers."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()
        self._reap()

    def _reap(self) -> None:
        """Wait for the ended process with wait4, which also says how much memory it used."""
        give_up = time.monotonic() + 5
        while True:
            try:
                pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            except ChildProcessError:
                break  # already reaped
            if pid:
                self.peak_mb = usage.ru_maxrss / 1024
                self.proc.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > give_up:
                log.warning("sandbox worker %s did not exit", self.proc.pid)
                break
            time.sleep(0.01)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


class Pool:
    """`config.concurrency` workers; `run` is safe to call from many threads."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self._idle: queue.Queue[Worker] = queue.Queue()
        self._closed = False
        self._starting = 0
        self._settling = 0
        self._lock = threading.Lock()
        # peak memory of replaced workers (a killed one cannot be read in /proc any more)
        self.ended_peaks_mb: collections.deque[float] = collections.deque(maxlen=64)
        for _ in range(config.concurrency):
            self._start_one()

    def _start_one(self) -> None:
        with self._lock:
            self._starting += 1
        threading.Thread(target=self._start_into_pool, name="sandbox-start",
                         daemon=True).start()

    def _start_into_pool(self) -> None:
        worker: Worker | None = None
        for attempt in range(START_RETRIES):
            try:
                worker = Worker(self.config)
                break
            except (OSError, WorkerTimedOut, WorkerDied, ValueError, KeyError):
                log.exception("could not start a sandbox worker (attempt %s)", attempt + 1)
                time.sleep(0.5 * (attempt + 1))
        with self._lock:
            self._starting -= 1
        if worker is None:
            return
        if self._closed:
            worker.close()
            return
        self._idle.put(worker)

    def run(self, request: dict[str, Any], *, hard_limit_s: float, wait_s: float,
            max_body: int) -> tuple[dict, bytes]:
        worker = self._checkout(wait_s)
        deadline = time.monotonic() + hard_limit_s
        try:
            reply = worker.ask(request, deadline, max_body)
        except (WorkerTimedOut, WorkerDied, ValueError):
            self._replace(worker)
            raise
        self._give_back(worker)
        return reply

    def _checkout(self, wait_s: float) -> Worker:
        """An idle, live worker; one that died while idle is replaced and skipped."""
        give_up = time.monotonic() + wait_s
        while True:
            try:
                worker = self._idle.get(timeout=max(0.0, give_up - time.monotonic()))
            except queue.Empty as error:
                raise PoolBusy() from error
            if worker.alive:
                return worker
            self._replace(worker)

    def _give_back(self, worker: Worker) -> None:
        """Back to the idle queue once it says a fresh instance is open (in the background:
        the caller already has its answer)."""
        with self._lock:
            self._settling += 1
        threading.Thread(target=self._settle, args=(worker,), name="sandbox-settle",
                         daemon=True).start()

    def _settle(self, worker: Worker) -> None:
        try:
            worker.await_ready(time.monotonic() + START_TIMEOUT_S)
        except (WorkerTimedOut, WorkerDied, ValueError):
            ready = False
        else:
            ready = True
        with self._lock:
            self._settling -= 1
        if self._closed or not ready or not worker.alive:
            self._replace(worker)
            return
        self._idle.put(worker)

    def _replace(self, worker: Worker) -> None:
        worker.kill()
        self.ended_peaks_mb.append(worker.peak_mb)
        if not self._closed:
            self._start_one()

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> bool:
        """True once every worker is idle (for benchmarks and tests)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._idle.qsize() >= self.config.concurrency:
                return True
            with self._lock:
                if self._starting == 0 and self._settling == 0 and self._idle.qsize() == 0:
                    return False
            time.sleep(0.01)
        return False

    def worker_pids(self) -> list[int]:
        with self._idle.mutex:
            return [w.proc.pid for w in self._idle.queue]

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


_POOL: Pool | None = None
_POOL_LOCK = threading.Lock()


def get_pool(config: PoolConfig) -> Pool:
    """The pool for `config`; a change of settings retires the old workers."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is not None and _POOL.config == config:
            return _POOL
        old, _POOL = _POOL, Pool(config)
    if old is not None:
        old.close()
    return _POOL


def shut_down() -> None:
    global _POOL
    with _POOL_LOCK:
        old, _POOL = _POOL, None
    if old is not None:
        old.close()


atexit.register(shut_down)
