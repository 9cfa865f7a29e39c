"""The Celery tasks' own decisions, called in this process (no worker, no Redis): a task
that finds another runner's fresh heartbeat asks to be retried after the stale interval
(a redelivered task would otherwise strand the job); a task for a finished job ends
quietly; the worker's settings are the ones every job relies on."""

import pytest
from celery.exceptions import Retry

from services.access.users import UserView
from services.prompts import batches, jobs, templates, worker
from services.prompts.batches import BatchRequest
from services.prompts.templates import TemplateDraft
from services.settings import reset_settings_cache
from tests.factories import make_item
from tests.fakes.claude_server import FakeClaude


class _Nowhere:
    def submit(self, job_id: int) -> None:
        return None

    def is_active(self, job_id: int) -> bool:
        return False


@pytest.fixture
def job_id(claude_at_fake: FakeClaude, analyst: UserView,
           monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(batches, "get_runner", _Nowhere)  # the test plays the worker
    items = [make_item(analyst, f"Item {n}") for n in range(3)]
    template = templates.create_template(analyst, TemplateDraft(
        name="Sum", body="Summarise {title}", model="claude-haiku-4-5", max_tokens=50))
    return batches.start_batch(analyst, BatchRequest(
        template_id=template.id, item_ids=[i.id for i in items])).id


def test_a_task_that_cannot_claim_because_the_heartbeat_is_fresh_retries_later(
        job_id: int, claude_at_fake: FakeClaude, monkeypatch: pytest.MonkeyPatch) -> None:
    assert jobs.claim(job_id, "elsewhere:4242:gone") is not None
    asked: dict[str, float] = {}

    def retry(**options: float) -> Retry:
        asked.update(options)
        return Retry("later")

    monkeypatch.setattr(worker.execute_job, "retry", retry)
    with pytest.raises(Retry):
        worker.execute_job(job_id)
    assert asked["countdown"] > jobs.stale_after_s()
    assert claude_at_fake.message_requests == []  # the other runner's job was left alone


def test_a_task_for_a_finished_job_ends_quietly(job_id: int,
                                                claude_at_fake: FakeClaude) -> None:
    worker.execute_job(job_id)  # runs it here, to done
    done = jobs.find(job_id)
    assert done is not None and done.status == "done"
    sent = len(claude_at_fake.message_requests)
    assert worker.execute_job(job_id) is None
    assert jobs.find(job_id) == done and len(claude_at_fake.message_requests) == sent == 3


def test_the_worker_acknowledges_late_and_takes_one_job_at_a_time() -> None:
    conf = worker.app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    # a task is a whole job, which may run for hours: it must not be delivered twice meanwhile
    assert conf.broker_transport_options["visibility_timeout"] >= 12 * 3600
    assert conf.task_ignore_result  # pages read everything from the store


@pytest.mark.parametrize(("redis_url", "database_url", "said"), [
    ("", "postgresql+psycopg://u@127.0.0.1:5432/rd", "RESEARCH_DESK_REDIS_URL is not set"),
    ("redis://127.0.0.1:6379/0", "", "embedded DuckDB file can be opened by one process"),
])
def test_a_worker_without_redis_or_a_shared_store_refuses_to_start_saying_why(
        redis_url: str, database_url: str, said: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_REDIS_URL", redis_url)
    monkeypatch.setenv("RESEARCH_DESK_DATABASE_URL", database_url)
    reset_settings_cache()
    with pytest.raises(SystemExit, match=said):
        worker._at_worker_start()
