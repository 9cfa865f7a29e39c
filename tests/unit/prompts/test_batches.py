"""Batches through the job runner against the fake Messages API: results saved as they come,
faults retried, failed units never fail the batch, cancel, retry failed, budgets, roles."""

import time

import pytest

from services.access.users import UserView
from services.claude import usage
from services.claude.usage import BudgetChange
from services.data import datasets
from services.errors import BudgetExceeded, InvalidInput, PermissionDenied
from services.prompts import batches, jobs, runner, templates
from services.prompts.batches import BatchRequest
from services.prompts.templates import OutputField, TemplateDraft
from services.research.items import ItemSummary
from tests.factories import make_item
from tests.fakes.claude_server import FakeClaude


def _template(actor: UserView, **change: object) -> templates.TemplateView:
    base = {"name": "Summarise", "body": "Summarise {title}. {description}",
            "model": "claude-haiku-4-5", "max_tokens": 100}
    return templates.create_template(actor, TemplateDraft(**{**base, **change}))  # type: ignore[arg-type]


def _wait(job_id: int) -> None:
    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner)
    assert active.wait(job_id, timeout=30)


def test_a_batch_over_items_saves_every_result(claude_at_fake: FakeClaude, analyst: UserView,
                                               items: list[ItemSummary]) -> None:
    claude_at_fake.script([{"text": "A short summary."}])
    template = _template(analyst, temperature=0.2)
    job = batches.start_batch(analyst, BatchRequest(template_id=template.id,
                                                    item_ids=[i.id for i in items]))
    _wait(job.id)
    progress = jobs.progress(analyst, job.id)
    assert progress.job.status == "done" and progress.done == 5 and progress.failed == 0
    units = jobs.list_units(analyst, job.id)
    assert {u.output for u in units} == {"A short summary."}
    assert all(u.input_tokens > 0 and u.latency_ms > 0 for u in units)
    sent = [r["body"]["messages"][0]["content"] for r in claude_at_fake.message_requests]
    assert sorted(sent) == sorted(f"Summarise {i.title}. {i.description}" for i in items)
    assert [r["body"].get("temperature") for r in claude_at_fake.message_requests] == [0.2] * 5


def test_faults_are_retried_and_a_failed_unit_never_fails_the_batch(
        claude_at_fake: FakeClaude, analyst: UserView, items: list[ItemSummary]) -> None:
    claude_at_fake.fail_next(status=429, count=2, retry_after=0.05)
    claude_at_fake.fail_next(status=529, count=1)
    claude_at_fake.drop_next(count=1)
    claude_at_fake.script([{"match": "Item 3", "text": "x"}])  # item 3 then fails below
    template = _template(analyst, output_fields=[OutputField(name="topic")])
    claude_at_fake.script([
        {"match": "Item 3", "tool_use": {"name": "record_answer", "input": {"wrong": 1}}},
        {"tool_use": {"name": "record_answer", "input": {"topic": "data"}}}])
    job = batches.start_batch(analyst, BatchRequest(template_id=template.id, concurrency=2,
                                                    item_ids=[i.id for i in items]))
    _wait(job.id)
    progress = jobs.progress(analyst, job.id)
    assert progress.job.status == "done"
    assert (progress.done, progress.failed) == (4, 1)
    failed = jobs.list_units(analyst, job.id, status="failed")[0]
    assert failed.label == "Item 3" and "left out the field “topic”" in (failed.error or "")
    assert "1 failed" in progress.job.message


def test_retry_failed_sends_only_the_failed_units(claude_at_fake: FakeClaude,
                                                  analyst: UserView,
                                                  items: list[ItemSummary]) -> None:
    claude_at_fake.script([{"match": "Item 2", "text": "oops"}, {"text": "fine"}])
    claude_at_fake.fail_next(status=400, count=1)  # not retried: the first call fails
    template = _template(analyst)
    job = batches.start_batch(analyst, BatchRequest(template_id=template.id, concurrency=1,
                                                    item_ids=[i.id for i in items]))
    _wait(job.id)
    assert jobs.progress(analyst, job.id).failed == 1
    before = len(claude_at_fake.message_requests)
    batches.retry_failed(analyst, job.id)
    _wait(job.id)
    progress = jobs.progress(analyst, job.id)
    assert (progress.done, progress.failed, progress.job.status) == (5, 0, "done")
    assert len(claude_at_fake.message_requests) == before + 1


def test_cancel_keeps_results_that_arrived_and_stops_the_rest(
        claude_at_fake: FakeClaude, analyst: UserView) -> None:
    many = [make_item(analyst, f"Thing {n}") for n in range(30)]
    claude_at_fake.set_latency(0.2)
    template = _template(analyst)
    job = batches.start_batch(analyst, BatchRequest(template_id=template.id, concurrency=2,
                                                    item_ids=[i.id for i in many]))
    deadline = time.monotonic() + 10
    while jobs.progress(analyst, job.id).done < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    batches.cancel(analyst, job.id)
    _wait(job.id)
    progress = jobs.progress(analyst, job.id)
    assert progress.job.status == "cancelled"
    assert progress.done >= 2 and progress.cancelled > 0
    assert progress.done + progress.cancelled == 30
    assert len(claude_at_fake.message_requests) == progress.done
    batches.resume(analyst, job.id)
    _wait(job.id)
    assert jobs.progress(analyst, job.id).done == 30
    assert len(claude_at_fake.message_requests) == 30  # nothing finished was sent again


def test_a_budget_reached_mid_batch_stops_it_cleanly(claude_at_fake: FakeClaude,
                                                     admin: UserView, analyst: UserView,
                                                     items: list[ItemSummary]) -> None:
    template = _template(analyst)
    probe = batches.plan_batch(analyst, BatchRequest(template_id=template.id,
                                                     item_ids=[items[0].id]))
    # Enough for the estimate of the whole batch, but real calls use more tokens here.
    claude_at_fake.script([{"text": "long", "usage": {"input_tokens": 5_000}}])
    usage.set_budget(admin, BudgetChange(username="ann",
                                         monthly_tokens=probe.input_tokens * 5 + 600 + 9_000))
    job = batches.start_batch(analyst, BatchRequest(template_id=template.id, concurrency=1,
                                                    item_ids=[i.id for i in items]))
    _wait(job.id)
    progress = jobs.progress(analyst, job.id)
    assert progress.job.status == "cancelled"
    assert "budget" in progress.job.message
    assert progress.done == 2 and len(claude_at_fake.message_requests) == 2


def test_a_batch_over_the_budget_is_refused_before_any_token(
        claude_at_fake: FakeClaude, admin: UserView, analyst: UserView,
        items: list[ItemSummary]) -> None:
    usage.set_budget(admin, BudgetChange(username="ann", monthly_cost=0.000001))
    template = _template(analyst)
    with pytest.raises(BudgetExceeded, match="could cost up to"):
        batches.start_batch(analyst, BatchRequest(template_id=template.id,
                                                  item_ids=[i.id for i in items]))
    assert claude_at_fake.message_requests == []
    assert jobs.list_jobs(analyst) == []


def test_bad_batches_are_refused_and_change_nothing(claude_at_fake: FakeClaude,
                                                    analyst: UserView, viewer: UserView,
                                                    items: list[ItemSummary]) -> None:
    template = _template(analyst)
    with pytest.raises(InvalidInput, match="nothing to run"):
        batches.start_batch(analyst, BatchRequest(template_id=template.id, item_ids=[]))
    with pytest.raises(PermissionDenied):
        batches.start_batch(viewer, BatchRequest(template_id=template.id,
                                                 item_ids=[items[0].id]))
    with pytest.raises(InvalidInput, match="Calls at once"):
        batches.start_batch(analyst, BatchRequest(template_id=template.id, concurrency=0,
                                                  item_ids=[items[0].id]))
    unknown = _template(analyst, body="About {colour}")
    with pytest.raises(InvalidInput, match=r"\{colour\}.*\{title\}"):
        batches.start_batch(analyst, BatchRequest(template_id=unknown.id,
                                                  item_ids=[items[0].id]))
    assert jobs.list_jobs(analyst) == [] and claude_at_fake.message_requests == []


def test_a_big_batch_asks_for_confirmation_first(claude_at_fake: FakeClaude,
                                                 analyst: UserView,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_PROMPT_CONFIRM_UNITS", "3")
    from services import settings
    settings.reset_settings_cache()
    many = [make_item(analyst, f"Thing {n}") for n in range(4)]
    template = _template(analyst)
    request = BatchRequest(template_id=template.id, item_ids=[i.id for i in many])
    assert batches.plan_batch(analyst, request).needs_confirmation
    with pytest.raises(InvalidInput, match="confirm the cost"):
        batches.start_batch(analyst, request)
    assert jobs.list_jobs(analyst) == []
    job = batches.start_batch(analyst, request, confirmed=True)
    _wait(job.id)
    assert jobs.progress(analyst, job.id).done == 4


def test_a_template_edited_while_its_batch_runs_keeps_its_version(
        claude_at_fake: FakeClaude, analyst: UserView, items: list[ItemSummary]) -> None:
    claude_at_fake.set_latency(0.05)
    template = _template(analyst)
    job = batches.start_batch(analyst, BatchRequest(template_id=template.id, concurrency=1,
                                                    item_ids=[i.id for i in items]))
    templates.update_template(analyst, template.id, TemplateDraft(
        name="Summarise", body="CHANGED {title}", model="claude-haiku-4-5"))
    _wait(job.id)
    assert jobs.get_job(analyst, job.id).template_version == 1
    sent = [r["body"]["messages"][0]["content"] for r in claude_at_fake.message_requests]
    assert len(sent) == 5 and not any("CHANGED" in s for s in sent)


def test_a_batch_over_dataset_rows_with_filter_sample_and_empty_text(
        claude_at_fake: FakeClaude, analyst: UserView) -> None:
    sample = datasets.create_from_sample(analyst, "tips")
    template = _template(analyst, body="Day {day}, time {time}, total {total_bill}")
    rows = batches.BatchRequest(template_id=template.id, rows=batches.RowSelection(
        dataset_id=sample.id, mode="filter", filter_column="day", filter_text="fri"))
    plan = batches.plan_batch(analyst, rows)
    assert plan.units == 19
    sampled = rows.model_copy(update={"rows": rows.rows.model_copy(  # type: ignore[union-attr]
        update={"mode": "sample", "sample_size": 7})})
    job = batches.start_batch(analyst, sampled)
    _wait(job.id)
    units = jobs.list_units(analyst, job.id)
    assert len(units) == 7 and all(u.unit_key.startswith("row:") for u in units)
    assert all(u.status == "succeeded" for u in units)
    wrong = _template(analyst, body="About {colour}")
    with pytest.raises(InvalidInput, match=r"\{colour\}.*\{day\}"):
        batches.plan_batch(analyst, rows.model_copy(update={"template_id": wrong.id}))
