"""A throwaway Redis server for the tests of the team set-up's queue and shared limits.

`redis_server` starts one redis-server per test process on a free loopback port (no
persistence) and shuts it down at the end; `redis_url` gives a test its own logical
database, emptied first, and points RESEARCH_DESK_REDIS_URL at it.
"""

import itertools
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from services.settings import reset_settings_cache

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
# Redis has 16 logical databases by default; tests take them in turn and empty each first.
_databases = itertools.cycle(range(16))


@dataclass(frozen=True)
class RedisServer:
    folder: Path
    port: int
    process: subprocess.Popen

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_answering(url: str, process: subprocess.Popen) -> bool:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if redis.Redis.from_url(url, socket_timeout=1).ping():
                return True
        except redis.RedisError:
            time.sleep(0.05)
    return False


def start_redis(folder: Path) -> RedisServer:
    """A redis-server on a free port; a port taken meanwhile by someone else is retried."""
    for _ in range(3):
        port = _free_port()
        process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
             "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = RedisServer(folder=folder, port=port, process=process)
        if _wait_until_answering(server.url(), process):
            return server
        stop_redis(server)
    raise RuntimeError("redis-server did not start on a free port (tried 3 times)")


def stop_redis(server: RedisServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None and not Path(REDIS_SERVER).exists():
        pytest.fail("redis-server is not installed; the team set-up's tests need the "
                    "redis-server package (.ci/run installs it).")
    folder = Path(tempfile.mkdtemp(prefix="rd-redis-"))
    server = start_redis(folder)
    try:
        yield server
    finally:
        stop_redis(server)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server: RedisServer, data_dir: Path,
              monkeypatch: pytest.MonkeyPatch) -> str:
    """An empty Redis database, made the test's RESEARCH_DESK_REDIS_URL."""
    url = redis_server.url(next(_databases))
    redis.Redis.from_url(url).flushdb()
    monkeypatch.setenv("RESEARCH_DESK_REDIS_URL", url)
    reset_settings_cache()
    return url
