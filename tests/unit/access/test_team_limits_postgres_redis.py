"""The sign-in brakes and the API request limit, raced from two processes (two servers) on
one PostgreSQL database, counted in the store and in Redis (RESEARCH_DESK_REDIS_URL): never
more passwords checked, nor requests accepted, than the limits allow. And Redis not
answering lets nobody through, with one sentence."""

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from services.access import api_tokens, rate_limits, users
from services.errors import StorageUnavailable
from services.settings import reset_settings_cache
from services.store.db import dispose_engines, session_scope
from services.store.models import AuditEntry
from tests.factories import PASSWORD, make_admin
from tests.unit.api.conftest import Api, problem_of

ROOT = Path(__file__).resolve().parents[3]
TRIES = 6  # per process: 12 in all
CHILD = """
import sys, time
from pathlib import Path
from services.access import users
from services.errors import AuthenticationFailed
from services.store.db import get_engine
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
get_engine()  # connected before the starting signal
ready.touch()
while not go.exists():
    time.sleep(0.005)
accepted = 0
for _ in range(int(sys.argv[3])):
    try:
        users.verify_login("ada", "not her password", client="10.0.0.9")
    except AuthenticationFailed as refused:
        accepted += "do not match" in str(refused)  # the password was checked
print(accepted)
"""


def _two_servers_guess(folder: Path) -> list[int]:
    """How many wrong passwords each of two processes had checked, started at one moment."""
    dispose_engines()
    go = folder / "go"
    children = [(folder / f"ready-{n}", subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder / f"ready-{n}"), str(go), str(TRIES)],
        cwd=ROOT, env=dict(os.environ), text=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)) for n in range(2)]
    try:
        deadline = time.monotonic() + 60
        while not all(ready.exists() for ready, _ in children):
            assert time.monotonic() < deadline, "the two processes did not start in time"
            for _, child in children:
                assert child.poll() is None, child.communicate()[1]
            time.sleep(0.005)
        go.touch()
        accepted = []
        for _, child in children:
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
            accepted.append(int(out))
        return accepted
    finally:
        for _, child in children:
            if child.poll() is None:
                child.kill()
                child.wait()


def _admin_with_a_slow_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """A password check as slow as a real server's few ms, so checks overlap in the race."""
    monkeypatch.setenv("RESEARCH_DESK_BCRYPT_ROUNDS", "9")
    reset_settings_cache()
    make_admin()


def _checked_passwords() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "sign_in_failed", AuditEntry.detail == "wrong password")) or 0


def _store_counts() -> int:
    with session_scope() as session:
        return session.scalar(text("SELECT count(*) FROM rate_counts")) or 0


def test_wrong_passwords_from_two_servers_check_at_most_the_limit_postgres(
        postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _admin_with_a_slow_hash(monkeypatch)
    checked = _two_servers_guess(tmp_path)
    assert sum(checked) == 5 == _checked_passwords()  # 12 tries, the account's limit is 5
    assert _store_counts() > 0  # no Redis set: counted in the store


def test_wrong_passwords_from_two_servers_counted_in_redis_postgres(
        postgres_url: str, redis_url: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _admin_with_a_slow_hash(monkeypatch)
    checked = _two_servers_guess(tmp_path)
    assert sum(checked) == 5 == _checked_passwords()
    assert _store_counts() == 0  # all in Redis
    # the owner, from another browser, still gets in; that success is not counted
    assert users.verify_login("ada", PASSWORD,
                              client="10.0.0.1").username == "ada"


def test_api_limit_from_two_servers_counted_in_redis_postgres(
        postgres_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two API apps (as on two servers), each with its own client, asked at one moment."""
    monkeypatch.setenv("RESEARCH_DESK_API_REQUESTS_PER_MINUTE", "10")
    reset_settings_cache()
    secret = api_tokens.create_token(make_admin(), "tests").secret
    servers = [Api(), Api()]
    start = threading.Barrier(2)

    def ask(server: Api) -> int:
        start.wait()
        return sum(server.get("/v1/datasets", token=secret).status_code == 200
                   for _ in range(TRIES))

    with ThreadPoolExecutor(2) as pool:
        accepted = list(pool.map(ask, servers))
    assert sum(accepted) == 10  # 12 requests, a limit of 10 a minute
    assert rate_limits.peek("api person ada")["api person ada"].hits == 2 * TRIES
    assert _store_counts() == 0  # all in Redis


@pytest.fixture
def redis_down(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> None:
    """RESEARCH_DESK_REDIS_URL set, but nothing answers there (a closed port)."""
    monkeypatch.setenv("RESEARCH_DESK_REDIS_URL", "redis://127.0.0.1:9/0")
    reset_settings_cache()


def test_redis_not_answering_lets_nobody_sign_in_with_one_sentence(redis_down: None) -> None:
    make_admin()
    with pytest.raises(StorageUnavailable) as refused:
        users.verify_login("ada", PASSWORD, client="10.0.0.1")
    assert str(refused.value) == rate_limits.MSG_REDIS_DOWN
    assert _checked_passwords() == 0  # refused before any password was checked


def test_redis_not_answering_refuses_api_requests_with_one_sentence(redis_down: None) -> None:
    secret = api_tokens.create_token(make_admin(), "tests").secret
    answer = Api().get("/v1/datasets", token=secret)
    assert problem_of(answer, 503) == rate_limits.MSG_REDIS_DOWN


@pytest.fixture(params=["store", "redis"])
def counted_in(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        request.getfixturevalue("redis_url")
    return str(request.param)


def test_take_counts_only_under_the_limit_in_the_store_and_in_redis(counted_in: str) -> None:
    assert [rate_limits.take("s", 60, 2).taken for _ in range(3)] == [True, True, False]
    refused = rate_limits.take("s", 60, 2)
    assert not refused.taken and refused.count.hits == 2 and refused.count.wait_s(2) > 50
    assert rate_limits.take("s", 60, 2, anyway=True).count.hits == 3
    rate_limits.give_back("s")
    assert rate_limits.peek("s")["s"].hits == 2
    rate_limits.hit({"short": 0.05})
    time.sleep(0.15)
    assert rate_limits.peek("short")["short"].hits == 0  # its window has ended
    assert rate_limits.take("short", 60, 1).count.hits == 1  # a new window starts at 1
    rate_limits.forget("s")
    assert rate_limits.peek("s")["s"] == rate_limits.Count()
    assert (_store_counts() == 0) == (counted_in == "redis")
