"""Prompt caching on the Usage page and /api/v1/usage: cache reads and writes per feature,
the money caching saved and the cost with cache prices, each equal to a hand computation
from the price table (US$ per million tokens: Sonnet input 3, output 15, cache read 0.3,
5-minute write 3.75; Haiku 1, 5, 0.1, 1.25; a 1-hour write is 2× the input price)."""

from datetime import UTC, date, datetime

import pytest

from services.access.users import UserView
from services.claude import client as claude
from services.claude import usage, usage_report
from services.claude.client import CallUsage
from services.claude.usage import BudgetChange
from services.claude.usage_report import UsageRow
from tests.factories import make_admin, make_user
from tests.fakes.claude_server import FakeClaude
from tests.unit.api.conftest import Api, People

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
DAY = datetime(2026, 3, 10, 12, tzinfo=UTC)
SONNET, HAIKU = "claude-sonnet-4-6", "claude-haiku-4-5"


def _record(feature: str, model: str, *, user: str = "bob", discount: float = 1.0,
            **tokens: int) -> CallUsage:
    """One call as the client records it: its cost from the one cost function."""
    call = CallUsage(user=user, feature=feature, model=model, started_at=DAY, **tokens)
    call.cost_estimate = (claude.estimate_cost(model, call) or 0.0) * discount
    usage.record_usage(call)
    return call


@pytest.fixture
def calls() -> UserView:
    admin = make_admin()
    # Ask on Sonnet: 20,000 read back, 5,000 written for 5 minutes
    _record("ask.sql", SONNET, input_tokens=1_000, output_tokens=100,
            cache_read_tokens=20_000, cache_write_tokens=5_000)
    _record("ask.answer", SONNET, input_tokens=200, output_tokens=300, cache_read_tokens=4_000)
    # a batch on Haiku whose template was written for an hour
    _record("prompt.batch", HAIKU, input_tokens=500, output_tokens=50,
            cache_read_tokens=30_000, cache_write_tokens=3_000, cache_write_1h_tokens=3_000)
    _record("prompt.enrich", HAIKU, input_tokens=100, output_tokens=10)  # nothing cached
    return admin


def _by_feature(report: usage_report.UsageReport) -> dict[str, UsageRow]:
    return {r.key: r for r in report.groups["feature"]}


def test_cache_figures_per_feature_equal_a_hand_computation(calls: UserView) -> None:
    found = usage_report.report(calls, *MARCH)
    rows = _by_feature(found)
    ask, batch, enrich = rows["Ask"], rows["Batch"], rows["Enrich"]
    assert (ask.cache_read_tokens, ask.cache_write_tokens, ask.cache_write_1h_tokens) == (
        24_000, 5_000, 0)
    assert (batch.cache_read_tokens, batch.cache_write_tokens,
            batch.cache_write_1h_tokens) == (30_000, 3_000, 3_000)
    # saved = reads × (input − read price) − writes × (write price − input price)
    ask_saved = (24_000 * (3 - 0.3) - 5_000 * (3.75 - 3)) / 1e6
    batch_saved = (30_000 * (1 - 0.1) - 3_000 * (2 * 1 - 1)) / 1e6
    assert ask.cache_saving == pytest.approx(ask_saved)  # 0.061050
    assert batch.cache_saving == pytest.approx(batch_saved)  # 0.024
    assert enrich.cache_saving == 0
    assert found.totals.cache_saving == pytest.approx(ask_saved + batch_saved)
    # the cost shown is the cost with cache prices
    ask_cost = (1_200 * 3 + 400 * 15 + 24_000 * 0.3 + 5_000 * 3.75) / 1e6
    batch_cost = (500 * 1 + 50 * 5 + 30_000 * 0.1 + 3_000 * 2) / 1e6
    assert ask.cost == pytest.approx(ask_cost, rel=1e-5)
    assert batch.cost == pytest.approx(batch_cost, rel=1e-5)


def test_one_hour_writes_cost_twice_the_input_price() -> None:
    hour = CallUsage(user="a", feature="f", model=HAIKU, cache_write_tokens=1_000_000,
                     cache_write_1h_tokens=1_000_000)
    hour.cost_estimate = claude.estimate_cost(HAIKU, hour)
    five = hour.model_copy(update={"cache_write_1h_tokens": 0})
    five.cost_estimate = claude.estimate_cost(HAIKU, five)
    assert hour.cost_estimate == pytest.approx(2.0) and five.cost_estimate == pytest.approx(1.25)
    assert claude.cache_saving(hour) == pytest.approx(-1.0)  # stored, never read back
    assert claude.cache_saving(five) == pytest.approx(-0.25)
    row = usage.usage_row(hour)
    assert (row.cache_write_tokens, row.cache_write_1h_tokens) == (1_000_000, 1_000_000)


def test_message_batches_save_at_their_half_price() -> None:
    admin = make_admin()
    _record("prompt.batch", HAIKU, discount=claude.BATCH_DISCOUNT, cache_read_tokens=100_000)
    batch = _by_feature(usage_report.report(admin, *MARCH))["Batch"]
    assert batch.cost == pytest.approx(100_000 * 0.1 / 1e6 * 0.5, rel=1e-5)
    assert batch.cache_saving == pytest.approx(100_000 * 0.9 / 1e6 * 0.5)


def test_a_repeated_prompt_at_the_fake_is_counted_and_its_saving_recorded(
        claude_at_fake: FakeClaude) -> None:
    admin = make_admin()
    system = [{"type": "text", "text": "schema " * 4000,
               "cache_control": {"type": "ephemeral", "ttl": "1h"}}]
    seen: list[CallUsage] = []
    for question in ("first", "second"):
        claude.complete_text([{"role": "user", "content": question}], system=system,  # type: ignore[arg-type]
                             feature="ask.answer", user="bob", model=SONNET,
                             on_usage=seen.append)
    for call in seen:
        usage.record_usage(call.model_copy(update={"started_at": DAY}))
    written, read = seen[0].cache_write_1h_tokens, seen[1].cache_read_tokens
    assert written > 0 and read == written
    ask = _by_feature(usage_report.report(admin, *MARCH))["Ask"]
    assert ask.cache_write_1h_tokens == written and ask.cache_read_tokens == read
    assert ask.cache_saving == pytest.approx((read * (3 - 0.3) - written * (6 - 3)) / 1e6)


def test_the_sentence_says_what_caching_read_and_saved() -> None:
    def row(**figures: float) -> UsageRow:
        base = {"key": "total", "calls": 3, "input_tokens": 0, "output_tokens": 0,
                "cache_read_tokens": 0, "cache_write_tokens": 0, "cache_write_1h_tokens": 0,
                "cost": 1.0, "cache_saving": 0.0, "failed": 0, "p50_ms": 0, "p95_ms": 0}
        return UsageRow.model_validate({**base, **figures})

    said = usage_report.cache_sentence(row(cache_read_tokens=1_234_567, cache_saving=3.4),
                                       "this month")
    assert said == "Cached prompt text read 1.2 million tokens this month and saved $3.40."
    assert "saved nothing" in usage_report.cache_sentence(row(), "this month")
    unread = usage_report.cache_sentence(row(cache_write_tokens=2_000, cache_saving=-0.0025),
                                         "this month")
    assert "not read back yet" in unread and "$0.003 extra" in unread
    worse = usage_report.cache_sentence(
        row(cache_read_tokens=10, cache_write_tokens=9_000, cache_saving=-0.02), "this month")
    assert "cost $0.020 more than reading it saved" in worse


def test_the_api_gives_cache_figures_per_feature() -> None:
    people = People()
    _record("ask.sql", SONNET, input_tokens=1_000, cache_read_tokens=20_000,
            cache_write_tokens=5_000)
    _record("prompt.batch", HAIKU, user="ada", cache_read_tokens=30_000,
            cache_write_tokens=3_000, cache_write_1h_tokens=3_000)
    body = Api().get("/v1/usage?since=2026-03-01&until=2026-03-31",
                     token=people.token(people.admin)).json()
    features = {r["key"]: r for r in body["by_feature"]}
    assert features["Batch"]["cache_write_1h_tokens"] == 3_000
    assert features["Batch"]["cache_saving"] == pytest.approx(0.024)
    assert features["Ask"]["cache_read_tokens"] == 20_000
    assert body["totals"]["cache_saving"] == pytest.approx(0.024 + (20_000 * 2.7
                                                                    - 5_000 * 0.75) / 1e6)
    own = Api().get("/v1/usage?since=2026-03-01&until=2026-03-31",
                    token=people.token(people.analyst)).json()
    assert own["person"] == "bob" and [r["key"] for r in own["by_feature"]] == ["Ask"]


def test_monthly_token_sums_and_budgets_pass_two_to_the_31st() -> None:
    admin = make_admin()
    make_user(admin, "bob")
    usage.set_budget(admin, BudgetChange(username="bob", monthly_tokens=5_000_000_000))
    assert usage.get_budget("bob").monthly_tokens == 5_000_000_000
    for _ in range(3):  # each call fits a 32-bit count; the month's sum does not
        usage.record_usage(CallUsage(user="bob", feature="prompt.batch", model=HAIKU,
                                     input_tokens=900_000_000, cache_read_tokens=900_000_000,
                                     cost_estimate=0.0))
    assert usage.monthly_usage("bob").tokens == 5_400_000_000
    with pytest.raises(usage.BudgetExceeded, match="5,400,000,000 of 5,000,000,000"):
        usage.check_budget("bob")
