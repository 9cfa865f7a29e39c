"""Limits counted in the metadata store, shared by every server (issue 18, point 8)."""

import threading
import time

import pytest
from sqlalchemy import text

from services.access import rate_limits
from services.settings import reset_settings_cache
from services.store.db import session_scope


def _rows() -> dict[str, int]:
    with session_scope() as session:
        return dict(session.execute(text("SELECT subject, hits FROM rate_counts")).all())


def test_hits_are_counted_in_the_store_and_peek_does_not_count() -> None:
    first = rate_limits.hit({"a": 60, "b": 60})
    assert first["a"].hits == first["b"].hits == 1
    assert first["a"].expires_at == pytest.approx(time.time() + 60, abs=10)
    again = rate_limits.hit({"a": 60})["a"]
    assert again.hits == 2 and again.expires_at == first["a"].expires_at  # the same window
    assert _rows() == {"a": 2, "b": 1}
    assert rate_limits.peek("a", "never")["a"].hits == 2
    assert rate_limits.peek("never")["never"] == rate_limits.Count()
    rate_limits.forget("a")
    assert _rows() == {"b": 1}


def test_hits_from_many_threads_at_once_are_all_counted() -> None:
    start = threading.Barrier(4)

    def count() -> None:
        start.wait()
        for _ in range(5):
            rate_limits.hit({"shared": 60})

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert rate_limits.peek("shared")["shared"].hits == 20


def test_a_window_ends_and_its_row_is_pruned(monkeypatch: pytest.MonkeyPatch) -> None:
    rate_limits.hit({"short": 0.05, "long": 60})
    rate_limits.hit({"short": 0.05})
    time.sleep(0.1)
    assert rate_limits.peek("short")["short"].hits == 0  # the window has ended
    monkeypatch.setattr(rate_limits, "_next_prune", 0.0)
    assert rate_limits.hit({"short": 60})["short"].hits == 1  # a new window starts at 1
    rate_limits.hit({"other": 0.05})
    time.sleep(0.1)
    monkeypatch.setattr(rate_limits, "_next_prune", 0.0)
    rate_limits.hit({"long": 60})
    assert _rows() == {"short": 1, "long": 2}  # "other" ended and was deleted


def test_wait_is_until_the_window_ends() -> None:
    count = rate_limits.Count(hits=5, expires_at=1_000.0)
    assert count.wait_s(5, now=990.0) == 10.0
    assert count.wait_s(6, now=990.0) == 0.0
    assert count.wait_s(5, now=1_000.0) == 0.0


def test_the_forwarded_address_counts_only_behind_a_trusted_proxy(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert rate_limits.client_address("192.0.2.1", "10.0.0.1, 203.0.113.9") == "192.0.2.1"
    assert rate_limits.client_address(None) == "unknown"
    monkeypatch.setenv("RESEARCH_DESK_TRUST_FORWARDED_FOR", "1")
    reset_settings_cache()
    assert rate_limits.client_address("192.0.2.1", "10.0.0.1, 203.0.113.9") == "203.0.113.9"
    assert rate_limits.client_address("192.0.2.1", " ") == "192.0.2.1"
