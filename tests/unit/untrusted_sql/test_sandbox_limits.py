"""Untrusted SQL runs where the OS bounds it: the server process stays small and answers in
time, whatever the query does; the worker's peak stays under its memory cap.

Small limits keep this fast: 512 MB per worker, 1–2 s per query.
"""

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import psutil
import pytest

from services.errors import QueryTimeout, QueryTooBig
from services.settings import reset_settings_cache
from services.untrusted_sql import sandbox, sandbox_pool
from services.untrusted_sql.sandbox import HARD_KILL_GRACE_S, run_sandboxed
from tests.unit.hostile_sql import CPU_BOMBS, MEMORY_BOMBS

LIMIT_MB = 512
# The server may grow a little (a result frame, thread stacks), never by a bomb's size.
SERVER_GROWTH_MB = 40
SLACK_S = 4.0  # start-up of a replacement worker on a busy 2-core test machine

SALES_SQL = """
SELECT i AS order_id, ['North', 'South', 'East', 'West'][1 + i % 4] AS region,
       ['Apple', 'Banana', 'Cherry'][1 + i % 3] AS product, (i % 10 + 1) * 10.0 AS amount
FROM range(1, 61) t(i)
"""


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("limits")
    with duckdb.connect() as con:
        con.execute(f"COPY ({SALES_SQL}) TO '{folder / 'sales.parquet'}'")
    return {"sales": folder / "sales.parquet"}


@pytest.fixture(autouse=True)
def small_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("RESEARCH_DESK_QUERY_MEMORY_MB", str(LIMIT_MB))
    monkeypatch.setenv("RESEARCH_DESK_QUERY_CONCURRENCY", "2")
    monkeypatch.setenv("RESEARCH_DESK_SANDBOX_THREADS", "1")
    reset_settings_cache()
    assert sandbox.warm_up(wait=True)
    yield
    reset_settings_cache()


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _worker_peaks_mb() -> list[float]:
    """Peak resident memory of the live workers (VmHWM), in MB."""
    peaks = []
    for pid in sandbox.pool().worker_pids():
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]) / 1024)
        except FileNotFoundError:
            continue
    return peaks


def _ended_peaks_mb() -> list[float]:
    """Peak resident memory of the workers the pool killed or replaced, in MB (read by wait4,
    so other child processes of the test run do not count)."""
    return list(sandbox.pool().ended_peaks_mb)


def _cap_mb() -> int:
    """The address-space cap the workers set themselves (start-up size + LIMIT_MB)."""
    pool = sandbox.pool()
    assert pool.wait_ready()
    with pool._idle.mutex:
        caps = [w.limit_mb for w in pool._idle.queue]
    assert caps and all(LIMIT_MB < cap < LIMIT_MB + 1024 for cap in caps)
    return max(caps)


@pytest.mark.parametrize("sql", MEMORY_BOMBS)
def test_memory_bombs_stay_in_the_worker(sql: str, tables: dict[str, Path]) -> None:
    cap = _cap_mb()
    before = _rss_mb()
    started = time.perf_counter()
    timeout_s = 8.0
    try:
        result = run_sandboxed(sql, tables, timeout_s=timeout_s)
    except (QueryTooBig, QueryTimeout) as error:
        message = str(error)
        assert message.count(". ") == 0 and message.endswith(".")  # one sentence
    else:  # DuckDB may stream it in bounded memory; then the answer is small
        assert len(result.frame) <= 10_000
    assert time.perf_counter() - started < timeout_s + HARD_KILL_GRACE_S + SLACK_S
    assert _rss_mb() - before < SERVER_GROWTH_MB
    assert max(_worker_peaks_mb() + _ended_peaks_mb()) <= cap
    assert sandbox.pool().wait_ready()  # a killed worker was replaced
    assert run_sandboxed("SELECT count(*) AS n FROM sales", tables).frame["n"][0] == 60


def test_the_issue_memory_bomb_is_stopped_and_said_in_one_sentence(
        tables: dict[str, Path]) -> None:
    before = _rss_mb()
    with pytest.raises(QueryTooBig, match="^The query needed more memory than allowed and was "
                                          "stopped; try a narrower question or add a filter.$"):
        run_sandboxed("SELECT len(range(0, 1000000000))", tables, timeout_s=5)
    assert _rss_mb() - before < SERVER_GROWTH_MB


@pytest.mark.parametrize("sql", CPU_BOMBS)
def test_cpu_bombs_end_within_the_limit_plus_grace(sql: str, tables: dict[str, Path]) -> None:
    """What matters is the outcome: stopped in time, said in one sentence, server flat. Which
    limit stops a bomb first (time or memory) depends on the machine's load, so either is right."""
    timeout_s = 1.0
    before = _rss_mb()
    started = time.perf_counter()
    with pytest.raises((QueryTimeout, QueryTooBig)) as stopped:
        run_sandboxed(sql, tables, timeout_s=timeout_s)
    assert str(stopped.value) in {
        "The query took longer than 1 seconds and was stopped; try a narrower question or add "
        "a filter.",
        "The query needed more memory than allowed and was stopped; try a narrower question or "
        "add a filter.",
    }
    elapsed = time.perf_counter() - started
    assert elapsed < timeout_s + HARD_KILL_GRACE_S + SLACK_S
    assert _rss_mb() - before < SERVER_GROWTH_MB
    assert sandbox.pool().wait_ready()
    assert run_sandboxed("SELECT count(*) AS n FROM sales", tables).frame["n"][0] == 60


def test_levenshtein_that_ignores_interrupts_is_killed(tables: dict[str, Path]) -> None:
    """DuckDB checks for interruption between vectors only: one long vector of levenshtein
    ran 39–91 s under a 10 s limit. Now the worker is killed and replaced."""
    pids = set(sandbox.pool().worker_pids())
    ended = len(_ended_peaks_mb())
    started = time.perf_counter()
    with pytest.raises(QueryTimeout):
        run_sandboxed(CPU_BOMBS[0], tables, timeout_s=1)
    assert time.perf_counter() - started < 1 + HARD_KILL_GRACE_S + SLACK_S
    assert sandbox.pool().wait_ready()
    assert len(_ended_peaks_mb()) > ended and _ended_peaks_mb()[-1] > 10  # wait4 read its memory
    assert set(sandbox.pool().worker_pids()) != pids  # a fresh worker took the killed one's place


def test_answers_larger_than_the_cap_never_reach_the_server(
        tables: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "MAX_RESULT_MB", 1)
    before = _rss_mb()
    with pytest.raises(QueryTooBig, match="larger than 1 MB"):
        run_sandboxed("SELECT repeat('x', 100000) AS s FROM sales", tables, timeout_s=10)
    assert _rss_mb() - before < SERVER_GROWTH_MB
    small = run_sandboxed("SELECT repeat('x', 1000) AS s FROM sales", tables)
    assert len(small.frame) == 60


def test_at_most_the_configured_number_of_queries_run_at_once(
        tables: dict[str, Path]) -> None:
    seen: list[int] = []
    stop = threading.Event()

    def count_workers() -> None:
        me = psutil.Process()
        while not stop.is_set():
            seen.append(sum("services.untrusted_sql.sandbox_worker" in " ".join(c.cmdline())
                            for c in me.children() if c.is_running()))
            time.sleep(0.01)

    watcher = threading.Thread(target=count_workers)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            counts = list(pool.map(
                lambda i: int(run_sandboxed(
                    f"SELECT count(*) AS n FROM sales WHERE order_id > {i}", tables,
                ).frame["n"][0]), range(6)))
    finally:
        stop.set()
        watcher.join()
    assert counts == [60 - i for i in range(6)]
    assert seen and max(seen) <= 2


def test_a_query_waits_for_a_free_worker_then_says_so(
        tables: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "WAIT_FOR_WORKER_S", 0.0)
    pool = sandbox.pool()
    taken = [pool._idle.get(timeout=30) for _ in range(pool.config.concurrency)]
    try:
        with pytest.raises(QueryTimeout, match="Other queries are using the sandbox"):
            run_sandboxed("SELECT 1", tables, timeout_s=0.2)
    finally:
        for worker in taken:
            pool._idle.put(worker)


def test_workers_get_no_secrets_and_a_memory_cap(
        tables: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test-secret")
    monkeypatch.setenv("RESEARCH_DESK_QUERY_MEMORY_MB", str(LIMIT_MB + 1))  # fresh workers
    reset_settings_cache()
    assert sandbox.warm_up(wait=True)
    for pid in sandbox.pool().worker_pids():
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        assert b"sk-test-secret" not in environ and b"ANTHROPIC" not in environ
        soft, hard = psutil.Process(pid).rlimit(psutil.RLIMIT_AS)
        assert 0 < soft == hard <= (LIMIT_MB + 1 + 1024) * 2**20


def test_a_worker_that_dies_is_reported_and_replaced(tables: dict[str, Path]) -> None:
    pool = sandbox.pool()
    worker = pool._idle.get(timeout=30)
    os.kill(worker.proc.pid, 9)
    worker.proc.wait(timeout=5)
    pool._idle.put(worker)  # as if it died while idle: skipped and replaced
    for _ in range(3):
        assert run_sandboxed("SELECT count(*) AS n FROM sales", tables).frame["n"][0] == 60
    assert pool.wait_ready()
    assert all(p != worker.proc.pid for p in pool.worker_pids())


def test_settings_change_retires_old_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    old = sandbox.pool()
    monkeypatch.setenv("RESEARCH_DESK_QUERY_CONCURRENCY", "1")
    reset_settings_cache()
    new = sandbox.pool()
    assert new is not old and new.config.concurrency == 1
    assert old.worker_pids() == []
    assert isinstance(new, sandbox_pool.Pool)
