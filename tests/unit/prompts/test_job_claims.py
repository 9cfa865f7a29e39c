"""Several servers on one store: a job is claimed by exactly one runner, a runner whose job
was taken over stops at its next heartbeat, a batch whose server was killed finishes on
another server without anyone pressing Resume, and an enrichment finished by two runners
makes one new version."""

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from services import settings
from services.access import users
from services.access.users import UserView
from services.data import datasets
from services.prompts import batches, enrich, jobs, runner, templates
from services.prompts.sources import UnitInput
from services.store.db import dispose_engines, get_engine, session_scope
from services.store.models import BudgetHold, Job, utcnow
from tests.factories import make_admin, make_item
from tests.fakes.claude_server import FakeClaude
from tests.unit.prompts import test_enrich
from tests.unit.prompts.crash_child import CONCURRENCY, UNITS
from tests.unit.prompts.test_crash_resume import ROOT, _kill_child_after, _sent_per_item

ROUNDS = 20


def _stale_after(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    monkeypatch.setenv("RESEARCH_DESK_JOB_STALE_S", str(seconds))
    settings.reset_settings_cache()


def _wait_for(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


# --- a PostgreSQL store that two processes share (tests/postgres_server.py) ---------------

def _waiting_on_locks() -> int:
    """Sessions waiting on a lock, read in a transaction of its own (the view is a snapshot
    per transaction)."""
    with get_engine().connect() as probe:
        return int(probe.execute(text("SELECT count(*) FROM pg_stat_activity "
                                      "WHERE wait_event_type = 'Lock'")).scalar() or 0)


def _claim_at_once(job_id: int, children: dict[str, subprocess.Popen[str]],
                   winners: dict[int, list[str]]) -> None:
    """Both children claim the job while the test holds its row locked, so their claims
    are under way together and meet the moment the lock is let go (no timing involved)."""
    with get_engine().connect() as connection:
        connection.execute(select(Job.id).where(Job.id == job_id).with_for_update())
        for child in children.values():
            assert child.stdin is not None
            child.stdin.write(f"{job_id}\n")
            child.stdin.flush()
        _wait_for(lambda: _waiting_on_locks() == 2, timeout=20)
        connection.rollback()
    for name, child in children.items():
        assert child.stdout is not None
        if child.stdout.readline().strip() == "won":
            winners[job_id].append(name)


def test_two_processes_claiming_one_job_at_once_only_one_wins(
        postgres_url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_DATABASE_URL", postgres_url)
    settings.reset_settings_cache()
    dispose_engines()
    admin = make_admin()
    ids = [jobs.create_job(admin.username, kind="batch", title=f"Race {n}", template_id=None,
                           template_version=None, model="claude-haiku-4-5", concurrency=1,
                           source={}, units=[UnitInput(key="k", label="One", values={})],
                           estimated_cost=0.0).id for n in range(ROUNDS)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = {name: subprocess.Popen(
        [sys.executable, "-m", "tests.unit.prompts.claim_race_child", name],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for name in ("first", "second")}
    winners: dict[int, list[str]] = {job_id: [] for job_id in ids}
    try:
        for child in children.values():
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for job_id in ids:
            _claim_at_once(job_id, children, winners)
    finally:
        for child in children.values():
            child.kill()
            child.wait()
    assert all(len(names) == 1 for names in winners.values()), winners
    with session_scope() as session:
        tokens = dict(session.execute(select(Job.id, Job.runner_token)).all())
    assert all(tokens[job_id].startswith(winners[job_id][0]) for job_id in ids)


# --- a runner that lost its job ---------------------------------------------------------------

def test_a_runner_whose_job_was_taken_over_stops_at_its_next_heartbeat(
        claude_at_fake: FakeClaude, analyst: UserView) -> None:
    claude_at_fake.set_latency(0.2)
    more = [make_item(analyst, f"Item {n}") for n in range(12)]
    template = templates.create_template(analyst, templates.TemplateDraft(
        name="Slow", body="Say <<{title}>>", model="claude-haiku-4-5", max_tokens=20))
    job = batches.start_batch(analyst, batches.BatchRequest(
        template_id=template.id, concurrency=1, item_ids=[i.id for i in more]))
    _wait_for(lambda: len(claude_at_fake.message_requests) >= 2)
    with session_scope() as session:
        token = session.scalars(select(Job.runner_token).where(Job.id == job.id)).one()
    assert jobs.heartbeat(job.id, token).owned
    with session_scope(write=True) as session:  # what another server's claim leaves
        session.execute(update(Job).where(Job.id == job.id).values(
            runner_token="elsewhere:1:taken", heartbeat_at=utcnow()))
    sent_at_takeover = len(claude_at_fake.message_requests)

    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner) and active.wait(job.id, timeout=20)
    assert not jobs.heartbeat(job.id, token).owned
    # One call may be under way and one more may start before the next beat (every 0.5 s).
    late = len(claude_at_fake.message_requests) - sent_at_takeover
    assert late <= 1 + round(runner.CANCEL_CHECK_S / 0.2) + 1
    time.sleep(0.5)
    assert len(claude_at_fake.message_requests) - sent_at_takeover == late  # none after
    view = jobs.get_job(analyst, job.id)
    assert view.status == "running" and view.runner_token == "elsewhere:1:taken"
    assert jobs.progress(analyst, job.id).remaining > 0  # left to the runner that has it


# --- a server killed mid-batch ---------------------------------------------------------------

def test_a_batch_whose_server_was_killed_finishes_on_another_without_resume(
        claude_at_fake: FakeClaude, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    claude_at_fake.set_latency(0.1)
    _kill_child_after(claude_at_fake, data_dir, 6, pause_s=0.05,
                      RESEARCH_DESK_JOB_STALE_S="1")
    admin = users.get_user("ada")
    assert admin is not None
    job = jobs.list_jobs(admin)[0]
    assert jobs.get_job(admin, job.id).status == "running"  # nobody pressed anything

    _stale_after(monkeypatch, 1.0)
    loop = runner.ResumeLoop(every_s=0.2)  # the other server's loop, as app start-up runs it
    loop.thread.start()
    try:
        _wait_for(lambda: jobs.get_job(admin, job.id).status == "done")
    finally:
        loop.stop()
    progress = jobs.progress(admin, job.id)
    assert progress.done == UNITS and progress.remaining == 0
    sent = _sent_per_item(claude_at_fake)
    assert set(sent) == {f"Item {n}" for n in range(UNITS)}
    assert sum(sent.values()) <= UNITS + CONCURRENCY
    with session_scope() as session:  # the resumed job held what was left, then gave it back
        assert session.scalars(select(BudgetHold).where(BudgetHold.job_id == job.id)).all() == []


def test_a_job_whose_heartbeat_went_stale_is_requeued_once(
        claude_at_fake: FakeClaude, admin: UserView, monkeypatch: pytest.MonkeyPatch) -> None:
    job = jobs.create_job(admin.username, kind="batch", title="Lost", template_id=None,
                          template_version=None, model="claude-haiku-4-5", concurrency=1,
                          source={}, units=[UnitInput(key="k", label="One", values={})],
                          estimated_cost=0.0)
    assert jobs.claim(job.id, "elsewhere:1:first") is not None
    assert jobs.claim(job.id, "elsewhere:2:second") is None  # its runner is alive
    assert jobs.requeue_stale() == []
    with session_scope(write=True) as session:
        session.execute(update(Job).where(Job.id == job.id).values(
            heartbeat_at=utcnow() - timedelta(seconds=31)))
    assert jobs.requeue_stale() == [job.id] and jobs.requeue_stale() == []
    assert jobs.get_job(admin, job.id).status == "queued"
    assert jobs.claim(job.id, "here:3:third") is not None
    assert not jobs.heartbeat(job.id, "elsewhere:1:first").owned


# --- two finishers of one enrichment ---------------------------------------------------------

def test_two_runners_finishing_one_enrichment_make_one_version(
        claude_at_fake: FakeClaude, analyst: UserView, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    test_enrich._script(claude_at_fake)
    dataset_id = test_enrich._dataset(analyst, tmp_path)

    class Nobody:
        def submit(self, job_id: int) -> None:
            return None

        def is_active(self, job_id: int) -> bool:
            return False

    monkeypatch.setattr(runner, "_runner", Nobody())
    outcome = enrich.start_enrichment(
        analyst, test_enrich._request(test_enrich._template(analyst), dataset_id))
    assert outcome.job is not None
    job_id = outcome.job.id
    first = jobs.claim(job_id, "one:1:a")
    assert first is not None and first.template_id is not None
    version = templates.get_version(analyst, first.template_id, first.template_version)
    assert runner._Controller(first, version, "prompt.enrich", "one:1:a").run(
        jobs.pending_units(job_id)) is None
    with session_scope(write=True) as session:  # runner one went quiet; runner two took over
        session.execute(update(Job).where(Job.id == job_id).values(
            heartbeat_at=utcnow() - timedelta(minutes=5)))
    second = jobs.claim(job_id, "two:2:b")
    assert second is not None

    start = threading.Barrier(2)

    def finish(job: jobs.JobView, token: str) -> None:
        start.wait()
        runner.complete_job(job, analyst, version, token)

    finishers = [threading.Thread(target=finish, args=(first, "one:1:a")),
                 threading.Thread(target=finish, args=(second, "two:2:b"))]
    for thread in finishers:
        thread.start()
    for thread in finishers:
        thread.join(timeout=30)
    assert sorted(v.version for v in datasets.list_versions(analyst, dataset_id)) == [1, 2]
    job = jobs.get_job(analyst, job_id)
    assert job.status == "done" and enrich.new_version_of(job) == 2
    assert datasets.get_dataset(analyst, dataset_id).current_version == 2
