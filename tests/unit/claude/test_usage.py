"""Usage records, monthly totals, budgets (enforced before a call) and Claude app settings."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from services import settings
from services.access import audit
from services.access.audit import AuditFilter
from services.claude import client as claude
from services.claude import usage
from services.claude import wiring as claude_wiring
from services.claude.client import CallUsage
from services.claude.usage import BudgetChange
from services.errors import BudgetExceeded, InvalidInput, NotFound, PermissionDenied
from tests.factories import make_admin, make_user
from tests.fakes.claude_server import FakeClaude, point_claude_at


def _call(user: str = "bob", *, tokens: tuple[int, int] = (100, 50), cost: float = 0.01,
          status: str = "succeeded", when: datetime | None = None) -> CallUsage:
    return CallUsage(user=user, feature="ask.sql", model="claude-sonnet-4-6",
                     input_tokens=tokens[0], output_tokens=tokens[1], cost_estimate=cost,
                     status=status,  # type: ignore[arg-type]
                     error="boom" if status == "failed" else None,
                     started_at=when or datetime.now(UTC))


def test_record_usage_and_monthly_totals() -> None:
    make_admin()
    usage.record_usage(_call())
    usage.record_usage(_call(tokens=(10, 5), cost=0.5, status="failed"))
    usage.record_usage(_call(user="other"))
    last_month = datetime.now(UTC).replace(day=1) - timedelta(days=2)
    usage.record_usage(_call(when=last_month, tokens=(1000, 1000)))
    used = usage.monthly_usage("bob")
    assert (used.calls, used.tokens, used.failed) == (2, 165, 1)
    assert used.cost == pytest.approx(0.51)
    assert usage.monthly_usage("nobody").calls == 0


def test_month_start_is_the_first_of_the_month() -> None:
    start = usage.month_start(datetime(2025, 3, 17, 12, 30, tzinfo=UTC))
    assert start == datetime(2025, 3, 1)
    assert usage.month_start(datetime(2025, 12, 31, 23, 0)) == datetime(2025, 12, 1)


def test_no_budget_means_no_limit() -> None:
    make_admin()
    usage.record_usage(_call(tokens=(10**8, 0)))
    usage.check_budget("bob")  # no budget row: nothing raised
    assert not usage.get_budget("bob").is_limited


def test_token_budget_is_enforced_with_a_clear_sentence() -> None:
    admin = make_admin()
    bob = make_user(admin, "bob")
    usage.set_budget(admin, BudgetChange(username=bob.username, monthly_tokens=200))
    usage.record_usage(_call(tokens=(100, 50)))
    usage.check_budget("bob")  # 150 of 200
    usage.record_usage(_call(tokens=(40, 10)))
    with pytest.raises(BudgetExceeded, match=r"200 of 200 tokens.*Ask an admin"):
        usage.check_budget("bob")


def test_cost_budget_is_enforced() -> None:
    admin = make_admin()
    make_user(admin, "bob")
    usage.set_budget(admin, BudgetChange(username="bob", monthly_cost=1.0))
    usage.record_usage(_call(cost=1.2))
    with pytest.raises(BudgetExceeded, match=r"\$1\.20 of \$1\.00"):
        usage.check_budget("bob")
    usage.set_budget(admin, BudgetChange(username="bob"))  # cleared: unlimited again
    usage.check_budget("bob")


def test_only_admins_set_budgets_and_bad_values_are_refused() -> None:
    admin = make_admin()
    bob = make_user(admin, "bob")
    with pytest.raises(PermissionDenied):
        usage.set_budget(bob, BudgetChange(username="bob", monthly_tokens=10**9))
    with pytest.raises(InvalidInput, match="zero or more"):
        usage.set_budget(admin, BudgetChange(username="bob", monthly_tokens=-1))
    with pytest.raises(InvalidInput, match="zero or more"):
        usage.set_budget(admin, BudgetChange(username="bob", monthly_cost=-0.5))
    with pytest.raises(NotFound):
        usage.set_budget(admin, BudgetChange(username="ghost", monthly_tokens=5))
    assert not usage.get_budget("bob").is_limited
    with pytest.raises(PermissionDenied):
        usage.list_budgets(bob)


def test_budget_changes_are_audited_and_listed() -> None:
    admin = make_admin()
    make_user(admin, "bob")
    usage.set_budget(admin, BudgetChange(username="bob", monthly_tokens=5000))
    usage.record_usage(_call())
    rows = {r.username: r for r in usage.list_budgets(admin)}
    assert rows["bob"].budget.monthly_tokens == 5000 and rows["bob"].used.tokens == 150
    assert rows["ada"].budget.monthly_tokens is None
    entries = audit.list_entries(admin.role, AuditFilter(action="budget_changed"))
    assert entries[0].target == "bob" and "5,000 tokens" in entries[0].detail


def test_send_sample_rows_defaults_on_and_only_admins_switch_it() -> None:
    admin = make_admin()
    bob = make_user(admin, "bob")
    assert usage.sends_sample_rows() is True
    usage.set_send_sample_rows(admin, False)
    assert usage.sends_sample_rows() is False
    with pytest.raises(PermissionDenied):
        usage.set_send_sample_rows(bob, True)
    usage.set_send_sample_rows(admin, True)
    assert usage.sends_sample_rows() is True


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        point_claude_at(server, monkeypatch)
        yield server
    settings.reset_settings_cache()
    claude.reset_clients()


def test_wiring_records_real_calls_and_blocks_over_budget(fake: FakeClaude) -> None:
    admin = make_admin()
    make_user(admin, "bob")
    claude_wiring.install()
    claude_wiring.install()  # idempotent
    assert claude_wiring.is_installed()
    text = claude.complete_text([{"role": "user", "content": "hi"}], system="s",
                                feature="test", user="bob")
    assert text
    used = usage.monthly_usage("bob")
    assert used.calls == 1 and used.tokens > 0
    usage.set_budget(admin, BudgetChange(username="bob", monthly_tokens=1))
    sent = len(fake.message_requests)
    with pytest.raises(BudgetExceeded):
        claude.complete_text([{"role": "user", "content": "hi"}], system="s",
                             feature="test", user="bob")
    assert len(fake.message_requests) == sent  # refused before any request
    fake.fail_next(status=400)
    with pytest.raises(claude.ClaudeUnavailable):
        claude.complete_text([{"role": "user", "content": "hi"}], system="s",
                             feature="test", user="ada")
    assert usage.monthly_usage("ada").failed == 1
