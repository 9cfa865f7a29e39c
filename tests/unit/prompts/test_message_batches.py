"""Large batches through the Message Batches API, end to end against the fake: submitted,
polled in the background, results saved as fetched at half price; cancel reaches the API."""

import pytest

from services.access.users import UserView
from services.prompts import batches, jobs, message_batches, runner, templates
from services.prompts.batches import BatchRequest
from services.prompts.templates import OutputField, TemplateDraft
from services.research.items import ItemSummary
from tests.fakes.claude_server import FakeClaude


@pytest.fixture(autouse=True)
def _fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(message_batches, "POLL_S", 0.05)


def _wait(job_id: int) -> None:
    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner) and active.wait(job_id, timeout=30)


def _kind_batch(fake: FakeClaude, analyst: UserView,
                items: list[ItemSummary]) -> jobs.JobView:
    """A Message Batch over the items whose answer for "Item 2" breaks the output shape."""
    fake.script([
        {"match": "Item 2", "tool_use": {"name": "record_answer", "input": {"kind": "odd"}}},
        {"tool_use": {"name": "record_answer", "input": {"kind": "idea"}}}])
    template = templates.create_template(analyst, TemplateDraft(
        name="Kind", body="Kind of {title}?", model="claude-haiku-4-5", max_tokens=50,
        output_fields=[OutputField(name="kind", type="category", choices=["idea", "bug"])]))
    return batches.start_batch(analyst, BatchRequest(template_id=template.id,
                                                     item_ids=[i.id for i in items],
                                                     use_message_batches=True))


def test_a_message_batch_is_submitted_polled_and_saved(claude_at_fake: FakeClaude,
                                                       analyst: UserView,
                                                       items: list[ItemSummary]) -> None:
    claude_at_fake.set_batch_seconds(0.3)
    job = _kind_batch(claude_at_fake, analyst, items)
    _wait(job.id)
    progress = jobs.progress(analyst, job.id)
    assert progress.job.kind == "message_batch" and progress.job.status == "done"
    assert (progress.done, progress.failed) == (4, 1)
    assert claude_at_fake.message_requests == []  # nothing went through the Messages call
    (batch,) = claude_at_fake.batches.values()
    assert progress.job.external_id == batch["id"] and len(batch["requests"]) == 5
    polls = [r for r in claude_at_fake.requests
             if r["method"] == "GET" and r["path"] == f"/v1/messages/batches/{batch['id']}"]
    assert len(polls) >= 2  # it was still in progress at least once
    units = jobs.list_units(analyst, job.id)
    assert {u.fields["kind"] for u in units if u.fields} == {"idea"}
    failed = next(u for u in units if u.status == "failed")
    assert failed.label == "Item 2" and "not one of" in (failed.error or "")
    full = units[0].input_tokens / 1e6 + units[0].output_tokens * 5 / 1e6
    assert units[0].cost_estimate == pytest.approx(full / 2)


def test_cancelling_reaches_the_api_and_resuming_sends_only_what_it_left(
        claude_at_fake: FakeClaude, analyst: UserView, items: list[ItemSummary],
        monkeypatch: pytest.MonkeyPatch) -> None:
    claude_at_fake.set_batch_seconds(60)
    template = templates.create_template(analyst, TemplateDraft(
        name="Sum", body="Sum up {title}", model="claude-haiku-4-5", max_tokens=50))
    job = batches.start_batch(analyst, BatchRequest(template_id=template.id,
                                                    item_ids=[i.id for i in items],
                                                    use_message_batches=True))
    while not jobs.get_job(analyst, job.id).external_id:
        pass
    monkeypatch.setattr(message_batches, "POLL_S", 600.0)  # between looks at the batch …
    monkeypatch.setattr(message_batches, "CHECK_S", 0.05)  # … a cancel is still seen at once
    batches.cancel(analyst, job.id)
    _wait(job.id)
    progress = jobs.progress(analyst, job.id)
    assert progress.job.status == "cancelled"
    assert (progress.done, progress.failed) == (0, 0)  # nothing ran, nothing counts as failed
    (batch,) = claude_at_fake.batches.values()
    assert batch["cancelled"]

    monkeypatch.setattr(message_batches, "POLL_S", 0.05)
    claude_at_fake.set_batch_seconds(0.1)
    batches.resume(analyst, job.id)
    _wait(job.id)
    progress = jobs.progress(analyst, job.id)
    assert progress.job.status == "done" and progress.done == len(items)
    first, second = claude_at_fake.batches.values()
    assert first["cancelled"] and len(second["requests"]) == len(items)
    assert progress.job.external_id == second["id"]


def test_retry_failed_sends_only_the_failed_units_in_a_new_batch(
        claude_at_fake: FakeClaude, analyst: UserView, items: list[ItemSummary]) -> None:
    claude_at_fake.set_batch_seconds(0.1)
    job = _kind_batch(claude_at_fake, analyst, items)
    _wait(job.id)
    assert (jobs.progress(analyst, job.id).failed) == 1
    claude_at_fake.script([{"tool_use": {"name": "record_answer", "input": {"kind": "bug"}}}])
    batches.retry_failed(analyst, job.id)
    _wait(job.id)
    progress = jobs.progress(analyst, job.id)
    assert progress.job.status == "done" and (progress.done, progress.failed) == (5, 0)
    _, again = claude_at_fake.batches.values()
    assert [r["params"]["messages"][0]["content"] for r in again["requests"]] == [
        "Kind of Item 2?"]  # the four that succeeded were not paid for twice
    kinds = {u.label: u.fields["kind"] for u in jobs.list_units(analyst, job.id) if u.fields}
    assert kinds["Item 2"] == "bug" and list(kinds.values()).count("idea") == 4
