"""A PostgreSQL restart in the middle of a batch on the in-process runner: every open
connection is cut and the store refuses work for a moment. The batch completes by itself
(nobody presses Resume), no unit is paid for twice beyond the calls in flight, and the usage
holds every call that was sent (counted at the fake Claude)."""

import time

from services.access.users import UserView
from services.claude import usage
from services.prompts import batches, jobs, runner, templates
from services.prompts.batches import BatchRequest
from services.prompts.templates import TemplateDraft
from tests.factories import make_item
from tests.fakes.claude_server import FakeClaude
from tests.postgres_server import PostgresServer, restart_postgres

UNITS, CONCURRENCY = 30, 3


def test_a_batch_survives_a_postgres_restart_and_completes_by_itself(
        postgres_server: PostgresServer, postgres_url: str, claude_at_fake: FakeClaude,
        admin: UserView) -> None:
    claude_at_fake.set_latency(0.05)
    items = [make_item(admin, f"Item {n}") for n in range(UNITS)]
    template = templates.create_template(admin, TemplateDraft(
        name="Restart", body="Summarise <<{title}>>", model="claude-haiku-4-5", max_tokens=50))
    job = batches.start_batch(admin, BatchRequest(template_id=template.id,
                                                  concurrency=CONCURRENCY,
                                                  item_ids=[i.id for i in items]))
    deadline = time.monotonic() + 60
    while len(claude_at_fake.message_requests) < 6:
        assert time.monotonic() < deadline, "the batch never got going"
        time.sleep(0.01)
    restart_postgres(postgres_server)

    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner) and active.wait(job.id, timeout=90)
    sent = len(claude_at_fake.message_requests)
    progress = jobs.progress(admin, job.id)
    assert progress.job.status == "done" and progress.done == UNITS, progress.job
    assert UNITS <= sent <= UNITS + CONCURRENCY
    assert usage.monthly_usage(admin.username).calls == sent
