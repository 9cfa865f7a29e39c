"""Cost with cache prices: reads 0.1×, 5-minute writes 1.25×, 1-hour writes 2× the input."""

import pytest

from services.claude import client as claude
from services.claude.client import CallUsage
from tests.fakes.claude_server import FakeClaude

MODEL = "claude-sonnet-4-6"  # $3 per million input tokens
MILLION = 10**6


def _cost(**tokens: int) -> float | None:
    return claude.estimate_cost(MODEL, CallUsage(user="a", feature="f", model=MODEL, **tokens))


def test_cache_reads_and_writes_have_their_own_prices() -> None:
    assert _cost(input_tokens=MILLION) == pytest.approx(3.0)
    assert _cost(cache_read_tokens=MILLION) == pytest.approx(0.3)
    assert _cost(cache_write_tokens=MILLION) == pytest.approx(3.75)
    assert _cost(cache_write_tokens=MILLION, cache_write_1h_tokens=MILLION) == pytest.approx(6.0)
    assert _cost(cache_write_tokens=2 * MILLION,
                 cache_write_1h_tokens=MILLION) == pytest.approx(9.75)


def test_one_hour_writes_are_recorded_from_the_reply(
        claude_at_fake: FakeClaude) -> None:
    system = [{"type": "text", "text": "schema " * 4000,
               "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    records: list[CallUsage] = []
    claude.complete_text([{"role": "user", "content": "hi"}], system=system,  # type: ignore[arg-type]
                         feature="f", user="ann", model=MODEL, on_usage=records.append)
    assert records[0].cache_write_tokens > 0
    assert records[0].cache_write_1h_tokens == records[0].cache_write_tokens
