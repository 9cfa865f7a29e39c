"""Usage report: grouped by day, person, model and feature; admins see all, others theirs."""

from datetime import UTC, date, datetime, timedelta

import pytest

from services.access.users import UserView
from services.claude import usage, usage_report
from services.claude.client import CallUsage
from services.claude.usage import BudgetChange
from services.errors import InvalidInput
from tests.factories import make_admin, make_item, make_user

DAY = datetime(2026, 3, 10, 12, tzinfo=UTC)


def _call(user: str, feature: str, model: str, latency: float, *, failed: bool = False,
          days: int = 0) -> None:
    usage.record_usage(CallUsage(
        user=user, feature=feature, model=model, input_tokens=100, output_tokens=10,
        cache_read_tokens=5, cache_write_tokens=2, latency_ms=latency, cost_estimate=0.01,
        status="failed" if failed else "succeeded", started_at=DAY + timedelta(days=days)))


@pytest.fixture
def people() -> tuple[UserView, UserView]:
    admin = make_admin()
    ann = make_user(admin, "ann")
    for n in range(20):
        _call("ann", "prompt.batch", "claude-haiku-4-5", 100 + n * 10, failed=n < 2)
    _call("ann", "ask.sql", "claude-sonnet-4-6", 500, days=1)
    _call("ada", "prompt.single", "claude-sonnet-4-6", 900, days=1)
    return admin, ann


def test_admins_see_everyone_grouped_four_ways(people: tuple[UserView, UserView]) -> None:
    admin, _ = people
    found = usage_report.report(admin, date(2026, 3, 1), date(2026, 3, 31))
    assert found.totals.calls == 22 and found.totals.cache_read_tokens == 110
    assert {r.key: r.calls for r in found.groups["person"]} == {"ada": 1, "ann": 21}
    features = {r.key: r for r in found.groups["feature"]}
    assert set(features) == {"Ask", "Batch", "Single run"}
    batch = features["Batch"]
    assert batch.error_rate == pytest.approx(0.1)
    assert batch.p50_ms == pytest.approx(195) and batch.p95_ms == pytest.approx(280.5)
    assert [r.key for r in found.groups["day"]] == ["2026-03-10", "2026-03-11"]
    assert {r.key for r in found.groups["model"]} == {"claude-haiku-4-5", "claude-sonnet-4-6"}


def test_others_see_only_their_own(people: tuple[UserView, UserView]) -> None:
    _, ann = people
    found = usage_report.report(ann, date(2026, 3, 1), date(2026, 3, 31), person="ada")
    assert found.person == "ann" and found.totals.calls == 21
    assert [r.key for r in found.groups["person"]] == ["ann"]


def test_bad_ranges_are_refused(people: tuple[UserView, UserView]) -> None:
    admin, _ = people
    with pytest.raises(InvalidInput, match="before the start"):
        usage_report.report(admin, date(2026, 3, 5), date(2026, 3, 1))
    with pytest.raises(InvalidInput, match="at most"):
        usage_report.report(admin, date(2024, 1, 1), date(2026, 1, 1))


def test_my_month_counts_my_work_and_what_is_left() -> None:
    admin = make_admin()
    item = make_item(admin, "Mine")
    assert item.id
    usage.record_usage(CallUsage(user="ada", feature="ask.sql", model="claude-haiku-4-5",
                                 cost_estimate=0.25))
    usage.set_budget(admin, BudgetChange(username="ada", monthly_cost=1.0))
    stats = usage_report.my_month(admin)
    assert (stats.items, stats.calls) == (1, 1)
    assert stats.spend == pytest.approx(0.25) and stats.budget_left == pytest.approx(0.75)
    assert stats.tokens_left is None
