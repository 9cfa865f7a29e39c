"""A Message Batch looked at in short checks, as Celery workers do it (each check is a task
that queues the next): checked until it ends and saved; a person's cancel reaches the API
at the next check; a check for a job another runner took ends quietly. Here the checks run
one after the other in this process; tests/unit/prompts/test_celery_worker_redis_postgres.py
runs them on a worker."""

import time

import pytest

from services.access.users import UserView
from services.prompts import batches, jobs, message_batches, runner, templates
from services.prompts.batches import BatchRequest
from services.prompts.message_batches import Polling
from services.prompts.templates import TemplateDraft
from services.store.db import session_scope
from services.store.models import Job
from tests.factories import make_item
from tests.fakes.claude_server import FakeClaude

TOKEN = "worker-host:77:abc"


class _Nowhere:
    def submit(self, job_id: int) -> None:
        return None

    def is_active(self, job_id: int) -> bool:
        return False


@pytest.fixture
def job_id(claude_at_fake: FakeClaude, analyst: UserView, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(message_batches, "POLL_S", 0.05)
    monkeypatch.setattr(batches, "get_runner", _Nowhere)  # the test plays the worker
    items = [make_item(analyst, f"Item {n}") for n in range(3)]
    template = templates.create_template(analyst, TemplateDraft(
        name="Sum", body="Summarise {title}", model="claude-haiku-4-5", max_tokens=50))
    return batches.start_batch(analyst, BatchRequest(
        template_id=template.id, item_ids=[i.id for i in items], use_message_batches=True)).id


def _checks_until_finished(job_id: int, first: list[Polling], *,
                           between: object = None) -> int:
    """Runs the queued checks (what the poll tasks do) until none is queued; returns how many."""
    count = 0
    while first:
        polling = first.pop()
        count += 1
        assert count < 500, "the checks never ended"
        if callable(between):
            between(count)
        time.sleep(0.01)
        runner.poll_message_batch(job_id, TOKEN, polling, first.append)
    return count


def test_a_batch_is_checked_in_short_looks_until_it_ends_and_is_saved(
        job_id: int, claude_at_fake: FakeClaude, analyst: UserView) -> None:
    claude_at_fake.set_batch_seconds(0.4)
    queued: list[Polling] = []
    assert runner.execute_job(job_id, TOKEN, on_waiting=queued.append)
    assert len(queued) == 1 and len(claude_at_fake.batches) == 1  # submitted, not waited for
    assert jobs.find(job_id).status == "running"  # type: ignore[union-attr]
    checks = _checks_until_finished(job_id, queued)
    progress = jobs.progress(analyst, job_id)
    assert progress.job.status == "done" and progress.done == 3
    (batch,) = claude_at_fake.batches.values()
    polls = [r for r in claude_at_fake.requests
             if r["method"] == "GET" and r["path"] == f"/v1/messages/batches/{batch['id']}"]
    assert checks >= 2 and len(polls) >= 2 and claude_at_fake.message_requests == []


def test_a_cancel_reaches_the_api_at_the_next_check(
        job_id: int, claude_at_fake: FakeClaude, analyst: UserView) -> None:
    claude_at_fake.set_batch_seconds(60)
    queued: list[Polling] = []
    runner.execute_job(job_id, TOKEN, on_waiting=queued.append)

    def cancel_at_the_third(count: int) -> None:
        if count == 3:
            batches.cancel(analyst, job_id)

    _checks_until_finished(job_id, queued, between=cancel_at_the_third)
    progress = jobs.progress(analyst, job_id)
    assert progress.job.status == "cancelled" and progress.done == 0
    (batch,) = claude_at_fake.batches.values()
    assert batch["cancelled"]


def test_a_check_for_a_job_another_runner_took_ends_quietly(
        job_id: int, claude_at_fake: FakeClaude) -> None:
    claude_at_fake.set_batch_seconds(60)
    queued: list[Polling] = []
    runner.execute_job(job_id, TOKEN, on_waiting=queued.append)
    with session_scope(write=True) as session:  # another runner owns it now
        job = session.get(Job, job_id)
        assert job is not None
        job.runner_token = "other-host:1:xyz"
    polls = len(claude_at_fake.requests)
    runner.poll_message_batch(job_id, TOKEN, queued.pop(), queued.append)
    assert queued == [] and len(claude_at_fake.requests) == polls
    assert jobs.find(job_id).runner_token == "other-host:1:xyz"  # type: ignore[union-attr]
