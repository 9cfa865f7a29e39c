"""The Usage page's cached report: kept until a new call is recorded, then computed afresh."""

from datetime import UTC, date, datetime

import pytest

from services.claude import usage, usage_report
from services.claude.client import CallUsage
from services.errors import InvalidInput
from tests.factories import make_admin, make_user

MARCH = (date(2026, 3, 1), date(2026, 3, 31))


def _call(user: str, cost: float = 0.01) -> None:
    usage.record_usage(CallUsage(
        user=user, feature="prompt.batch", model="claude-haiku-4-5", input_tokens=100,
        output_tokens=10, latency_ms=200, cost_estimate=cost, status="succeeded",
        started_at=datetime(2026, 3, 10, 12, tzinfo=UTC)))


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    usage_report.clear_cached_reports()


def test_a_rerun_reuses_the_report_until_a_new_call_is_recorded() -> None:
    admin = make_admin()
    _call("ann")
    first = usage_report.cached_report(admin, *MARCH)
    assert usage_report.cached_report(admin, *MARCH) is first  # no aggregation again
    assert first.totals.calls == 1
    _call("bob", cost=0.5)
    fresh = usage_report.cached_report(admin, *MARCH)
    assert fresh is not first
    assert fresh.totals.calls == 2 and fresh.totals.cost == pytest.approx(0.51)
    assert fresh == usage_report.report(admin, *MARCH)


def test_each_person_and_period_has_its_own_report() -> None:
    admin = make_admin()
    ann = make_user(admin, "ann")
    _call("ann")
    _call("ada")
    assert usage_report.cached_report(admin, *MARCH).totals.calls == 2
    assert usage_report.cached_report(admin, *MARCH, person="ada").totals.calls == 1
    assert usage_report.cached_report(ann, *MARCH, person="ada").person == "ann"  # own only
    assert usage_report.cached_report(admin, date(2026, 4, 1), date(2026, 4, 2)).totals.calls == 0


def test_bad_ranges_are_still_refused_and_nothing_is_kept() -> None:
    admin = make_admin()
    with pytest.raises(InvalidInput, match="before the start"):
        usage_report.cached_report(admin, MARCH[1], MARCH[0])
    assert usage_report.newest_call_id() == 0
