"""/v1/usage and budgets: the Usage page's numbers for scripts; others see only their own."""

from datetime import UTC, datetime, timedelta

import pytest

from services.access import audit
from services.access.audit import AuditFilter
from services.claude import usage, usage_report
from services.claude.client import CallUsage
from services.claude.usage import BudgetChange
from tests.fakes.claude_server import FakeClaude
from tests.unit.api.conftest import Api, People, problem_of

DAY = datetime(2026, 3, 10, 12, tzinfo=UTC)
RANGE = "since=2026-03-01&until=2026-03-31"


def _call(user: str, feature: str, model: str, latency: float, *, failed: bool = False,
          days: int = 0, cost: float = 0.01, when: datetime = DAY) -> None:
    usage.record_usage(CallUsage(
        user=user, feature=feature, model=model, input_tokens=100, output_tokens=10,
        cache_read_tokens=5, cache_write_tokens=2, latency_ms=latency, cost_estimate=cost,
        status="failed" if failed else "succeeded", started_at=when + timedelta(days=days)))


@pytest.fixture
def calls(people: People) -> People:
    for n in range(20):
        _call("bob", "prompt.batch", "claude-haiku-4-5", 100 + n * 10, failed=n < 2)
    _call("bob", "ask.sql", "claude-sonnet-4-6", 500, days=1)
    _call("ada", "prompt.single", "claude-sonnet-4-6", 900, days=1)
    _call("eve", "prompt.enrich", "claude-haiku-4-5", 300, days=2)
    return people


def test_an_analyst_gets_their_own_usage_grouped_four_ways(api: Api, calls: People) -> None:
    response = api.get(f"/v1/usage?{RANGE}", token=calls.token(calls.analyst))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["person"] == "bob" and body["since"] == "2026-03-01"
    totals = body["totals"]
    assert totals["calls"] == 21 and totals["input_tokens"] == 2100
    assert totals["cache_read_tokens"] == 105 and totals["cache_write_tokens"] == 42
    assert totals["cost"] == pytest.approx(0.21) and totals["failed"] == 2
    assert totals["error_rate"] == pytest.approx(2 / 21, abs=1e-6)
    assert [r["key"] for r in body["by_person"]] == ["bob"]
    assert [r["key"] for r in body["by_day"]] == ["2026-03-10", "2026-03-11"]
    features = {r["key"]: r for r in body["by_feature"]}
    assert set(features) == {"Ask", "Batch"}
    assert features["Batch"]["p50_ms"] == pytest.approx(195)
    assert features["Batch"]["p95_ms"] == pytest.approx(280.5)
    assert {r["key"] for r in body["by_model"]} == {"claude-haiku-4-5", "claude-sonnet-4-6"}


def test_the_api_gives_the_usage_pages_numbers(api: Api, calls: People) -> None:
    page = usage_report.report(calls.admin, DAY.date().replace(day=1),
                               DAY.date().replace(day=31))
    body = api.get(f"/v1/usage?{RANGE}", token=calls.token(calls.admin)).json()
    assert body["person"] is None and body["totals"]["calls"] == page.totals.calls == 23
    assert [(r["key"], r["calls"]) for r in body["by_person"]] == [
        (r.key, r.calls) for r in page.groups["person"]]
    assert {r["key"] for r in body["by_feature"]} == {"Ask", "Batch", "Single run", "Enrich"}
    one = api.get(f"/v1/usage?{RANGE}&person=eve", token=calls.token(calls.admin)).json()
    assert one["person"] == "eve" and one["totals"]["calls"] == 1


def test_a_new_call_shows_at_once_though_the_report_is_cached(api: Api,
                                                              calls: People) -> None:
    token = calls.token(calls.other)
    assert api.get(f"/v1/usage?{RANGE}", token=token).json()["totals"]["calls"] == 1
    _call("eve", "ask.sql", "claude-haiku-4-5", 100)
    assert api.get(f"/v1/usage?{RANGE}", token=token).json()["totals"]["calls"] == 2


def test_others_usage_is_for_admins_only_and_bad_ranges_are_refused(api: Api,
                                                                    calls: People) -> None:
    token = calls.token(calls.analyst)
    assert "Only admins" in problem_of(api.get(f"/v1/usage?{RANGE}&person=eve", token=token),
                                       403)
    own = api.get(f"/v1/usage?{RANGE}&person=bob", token=token)
    assert own.status_code == 200 and own.json()["totals"]["calls"] == 21
    assert "before the start date" in problem_of(
        api.get("/v1/usage?since=2026-03-31&until=2026-03-01", token=token), 422)
    assert "at most 366 days" in problem_of(
        api.get("/v1/usage?since=2020-01-01&until=2026-03-01", token=token), 422)
    problem_of(api.get("/v1/usage?since=yesterday", token=token), 422)
    problem_of(api.get("/v1/usage"), 401)


def test_the_default_range_is_this_month(api: Api, people: People) -> None:
    _call("bob", "ask.sql", "claude-haiku-4-5", 100, when=datetime.now(UTC))
    body = api.get("/v1/usage", token=people.token(people.analyst)).json()
    first, today = usage_report.this_month()
    assert body["since"] == first.isoformat() and body["until"] == today.isoformat()
    assert body["totals"]["calls"] == 1


def test_my_budget_and_what_is_left(api: Api, people: People) -> None:
    token = people.token(people.analyst)
    unlimited = api.get("/v1/usage/budget", token=token).json()
    assert unlimited["monthly_cost"] is None and unlimited["cost_left"] is None
    assert unlimited["detail"] == "No monthly limit is set."
    usage.set_budget(people.admin, BudgetChange(username="bob", monthly_cost=25.0,
                                                monthly_tokens=1000))
    _call("bob", "ask.sql", "claude-haiku-4-5", 100, cost=3.12, when=datetime.now(UTC))
    body = api.get("/v1/usage/budget", token=token).json()
    assert body["person"] == "bob" and body["calls"] == 1
    assert body["cost_used"] == pytest.approx(3.12) and body["cost_left"] == pytest.approx(21.88)
    assert body["tokens_used"] == 117 and body["tokens_left"] == 883
    assert body["detail"] == "$21.88 of $25.00 and 883 of 1,000 tokens left this month."
    assert "Only admins" in problem_of(api.get("/v1/usage/budget?person=eve", token=token),
                                       403)
    theirs = api.get("/v1/usage/budget?person=bob", token=people.token(people.admin)).json()
    assert theirs["cost_left"] == pytest.approx(21.88)


def test_only_admins_set_budgets_and_it_is_audited(api: Api, people: People) -> None:
    for who in (people.analyst, people.viewer):
        problem_of(api.request("PUT", "/v1/usage/budgets/bob", token=people.token(who),
                               json={"monthly_cost": 1000}), 403)
    assert usage.get_budget("bob").monthly_cost is None
    admin = people.token(people.admin)
    response = api.request("PUT", "/v1/usage/budgets/bob", token=admin,
                           json={"monthly_cost": 10})
    assert response.status_code == 200, response.text
    assert response.json()["monthly_cost"] == 10 and response.json()["cost_left"] == 10
    assert usage.get_budget("bob").updated_by == "ada"
    entries = audit.list_entries(people.admin.role, AuditFilter(action="budget_changed"))
    assert entries and entries[0].target == "bob"
    assert "no account called" in problem_of(api.request(
        "PUT", "/v1/usage/budgets/nobody", token=admin, json={"monthly_cost": 1}), 404)
    problem_of(api.request("PUT", "/v1/usage/budgets/bob", token=admin,
                           json={"monthly_cost": -1}), 422)
    problem_of(api.request("PUT", "/v1/usage/budgets/bob", token=admin,
                           json={"monthly_cost": 1, "currency": "EUR"}), 422)
    cleared = api.request("PUT", "/v1/usage/budgets/bob", token=admin, json={})
    assert cleared.json()["detail"] == "No monthly limit is set."


def test_a_viewer_sees_their_own_usage(api: Api, people: People,
                                       claude_at_fake: FakeClaude) -> None:
    body = api.get("/v1/usage", token=people.token(people.viewer)).json()
    assert body["person"] == "vic" and body["totals"]["calls"] == 0
    assert api.get("/v1/usage/budget", token=people.token(people.viewer)).status_code == 200
