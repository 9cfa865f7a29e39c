"""Budget holds: work started at once cannot together spend past the monthly budget, a single
call whose maximum does not fit is refused, the Message Batches discount counts, and a
crashed job's hold does not keep the budget forever."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from services import settings
from services.access.users import UserView
from services.claude import client as claude
from services.claude import holds, usage
from services.claude.usage import BudgetChange
from services.errors import BudgetExceeded, ClaudeUnavailable
from services.prompts import batches, calls, item_runs, jobs, runner, templates
from services.prompts.batches import BatchRequest
from services.prompts.templates import TemplateDraft
from services.research.items import ItemSummary
from services.store.db import session_scope
from services.store.models import Budget, BudgetHold
from tests.fakes.claude_server import FakeClaude

MAX_TOKENS = 100


def _template(actor: UserView) -> templates.TemplateView:
    return templates.create_template(actor, TemplateDraft(
        name="Summarise", body="Summarise {title}. {description}", model="claude-haiku-4-5",
        max_tokens=MAX_TOKENS))


def _request(template: templates.TemplateView, items: list[ItemSummary],
             **change: object) -> BatchRequest:
    return BatchRequest(template_id=template.id, item_ids=[i.id for i in items],
                        concurrency=2, **change)  # type: ignore[arg-type]


def _wait(job_id: int) -> None:
    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner) and active.wait(job_id, timeout=60)


def _held(username: str) -> tuple[float, int, int]:
    """What `username`'s budget row says is held, and how many holds there are."""
    with session_scope() as session:
        row = session.get(Budget, username)
        count = len(session.scalars(select(BudgetHold.id)
                                    .where(BudgetHold.username == username)).all())
    assert row is not None
    return float(row.reserved_cost or 0.0), int(row.reserved_tokens or 0), count


def test_ten_batches_started_at_once_never_spend_past_the_budget(
        claude_at_fake: FakeClaude, admin: UserView, analyst: UserView,
        items: list[ItemSummary]) -> None:
    # Every answer uses its full length, so each batch really costs about its maximum.
    claude_at_fake.script([{"text": "long", "usage": {"output_tokens": MAX_TOKENS}}])
    template = _template(analyst)
    plan = batches.plan_batch(analyst, _request(template, items))
    assert plan.max_cost is not None
    budget = plan.max_cost * 2.5  # room for two batches, not three
    usage.set_budget(admin, BudgetChange(username="ann", monthly_cost=budget))

    def start(_: int) -> jobs.JobView | str:
        try:
            return batches.start_batch(analyst, _request(template, items), confirmed=True)
        except BudgetExceeded as refused:
            return str(refused)

    with ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(start, range(10)))
    started = [o for o in outcomes if isinstance(o, jobs.JobView)]
    refused = [o for o in outcomes if isinstance(o, str)]
    for job in started:
        _wait(job.id)
    assert len(started) == 2 and len(refused) == 8
    assert all("could cost up to" in r and "left in your Claude budget" in r for r in refused)
    one_call = plan.max_cost / plan.units
    spent = usage.monthly_usage("ann").cost
    assert spent <= budget + one_call
    assert len(claude_at_fake.message_requests) == 2 * len(items)
    held_cost, held_tokens, count = _held("ann")
    assert held_cost == pytest.approx(0.0, abs=1e-9) and held_tokens == 0 and count == 0


def test_a_single_call_whose_maximum_does_not_fit_is_refused_before_it_is_sent(
        claude_at_fake: FakeClaude, admin: UserView, analyst: UserView,
        items: list[ItemSummary]) -> None:
    template = _template(analyst)
    version = templates.get_version(analyst, template.id)
    most = calls.cost_of(version.model, 50, MAX_TOKENS)
    assert most is not None
    # Nothing spent yet, but less left than one answer of full length could cost.
    usage.set_budget(admin, BudgetChange(username="ann", monthly_cost=most / 10))
    with pytest.raises(BudgetExceeded, match=r"could cost up to \$0\.\d+, more than the "
                                             r"\$0\.\d+ left"):
        list(item_runs.run_on_item(analyst, template.id, items[0].id))
    assert claude_at_fake.message_requests == []
    assert _held("ann")[2] == 0

    usage.set_budget(admin, BudgetChange(username="ann", monthly_cost=most * 20))
    assert "".join(item_runs.run_on_item(analyst, template.id, items[0].id))
    assert len(claude_at_fake.message_requests) == 1
    held_cost, _, count = _held("ann")  # given back when the call's usage was recorded
    assert held_cost == pytest.approx(0.0, abs=1e-9) and count == 0
    assert usage.monthly_usage("ann").calls == 1


def test_the_message_batches_discount_counts_for_confirmation_and_budget(
        claude_at_fake: FakeClaude, admin: UserView, analyst: UserView,
        items: list[ItemSummary], monkeypatch: pytest.MonkeyPatch) -> None:
    template = _template(analyst)
    full = batches.plan_batch(analyst, _request(template, items))
    half = batches.plan_batch(analyst, _request(template, items, use_message_batches=True))
    assert full.max_cost is not None and half.max_cost == pytest.approx(full.max_cost / 2)
    assert "half price" in half.cost_sentence
    # A confirmation threshold between the two prices: only the full price needs it.
    monkeypatch.setenv("RESEARCH_DESK_PROMPT_CONFIRM_COST", str(full.max_cost * 0.75))
    from services import settings  # noqa: PLC0415 - the setting changes just above

    settings.reset_settings_cache()
    assert batches.plan_batch(analyst, _request(template, items)).needs_confirmation
    assert not batches.plan_batch(
        analyst, _request(template, items, use_message_batches=True)).needs_confirmation
    usage.set_budget(admin, BudgetChange(username="ann", monthly_cost=full.max_cost * 0.75))
    with pytest.raises(BudgetExceeded):
        batches.start_batch(analyst, _request(template, items), confirmed=True)
    monkeypatch.setattr(runner, "_runner", _Idle())  # the job stays queued, holding
    job = batches.start_batch(analyst, _request(template, items, use_message_batches=True))
    assert job.estimated_cost == pytest.approx(half.max_cost)
    assert _held("ann")[0] == pytest.approx(half.max_cost)


class _Idle:
    """A runner that never runs anything: a job that was started and then lost its runner."""

    def submit(self, job_id: int) -> None:
        return

    def is_active(self, job_id: int) -> bool:
        return False


def test_a_lost_jobs_hold_is_given_back_when_stale_or_resumed(
        claude_at_fake: FakeClaude, admin: UserView, analyst: UserView,
        items: list[ItemSummary], monkeypatch: pytest.MonkeyPatch) -> None:
    template = _template(analyst)
    plan = batches.plan_batch(analyst, _request(template, items))
    assert plan.max_cost is not None
    usage.set_budget(admin, BudgetChange(username="ann", monthly_cost=plan.max_cost * 1.5))
    monkeypatch.setattr(runner, "_runner", _Idle())
    lost = batches.start_batch(analyst, _request(template, items), confirmed=True)
    with pytest.raises(BudgetExceeded):  # the lost job still holds its maximum
        batches.start_batch(analyst, _request(template, items), confirmed=True)

    # Resuming gives back what the lost job held and holds what is left to send, once.
    batches.resume(analyst, lost.id)
    assert _held("ann")[0] == pytest.approx(plan.max_cost) and _held("ann")[2] == 1

    monkeypatch.setenv("RESEARCH_DESK_JOB_STALE_S", "0.001")  # its heartbeat is now "old"
    settings.reset_settings_cache()
    time.sleep(0.01)
    second = batches.start_batch(analyst, _request(template, items), confirmed=True)
    assert _held("ann")[0] == pytest.approx(plan.max_cost) and _held("ann")[2] == 1
    jobs.finish(second.id, "cancelled", "Cancelled.")
    assert _held("ann")[2] == 0


def test_a_single_calls_hold_is_given_back_however_the_call_ends(
        claude_at_fake: FakeClaude, admin: UserView, analyst: UserView,
        monkeypatch: pytest.MonkeyPatch) -> None:
    usage.set_budget(admin, BudgetChange(username="ann", monthly_cost=5.0))
    message = [{"role": "user", "content": "Hello"}]
    claude_at_fake.fail_next(status=400)
    with pytest.raises(ClaudeUnavailable):  # failed: recorded, and its hold given back
        claude.complete_text(message, system="s", feature="t", user="ann")
    assert _held("ann")[2] == 0 and usage.monthly_usage("ann").failed == 1
    monkeypatch.setattr(claude, "_usage_sink", None)  # nothing records it: released anyway
    assert claude.complete_text(message, system="s", feature="t", user="ann")
    assert _held("ann")[2] == 0
    chunks = claude.stream_text(message, system="s", feature="t", user="ann")
    assert _held("ann")[2] == 1  # held from the moment the call is made
    monkeypatch.setattr(holds, "CALL_GRACE_S", -10_000.0)  # a call that never ended is stale
    del chunks
    with session_scope(write=True) as session:
        holds.sweep(session, "ann")
    assert _held("ann")[0] == pytest.approx(0.0, abs=1e-9) and _held("ann")[2] == 0
