"""Batches and enrichments on a real Celery worker (issue 20): Redis as the queue, PostgreSQL
as the store (a DuckDB file cannot be shared by two processes), the fake Claude counting
what is sent. One worker per module; the crash tests kill it (or its child) and start
another. A batch runs to done on the worker; a killed worker child or a killed worker
carries on without anyone pressing Resume, sending only the calls in flight again; a
task that finds another runner's fresh heartbeat tries again later; an enrichment makes
exactly one new version; a Message Batch is looked at in short tasks."""

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest
import redis

from services.access import users
from services.access.users import UserView
from services.claude import usage
from services.data import datasets
from services.ops import health
from services.prompts import batches, enrich, jobs, runner, templates
from services.prompts.batches import BatchRequest
from services.prompts.enrich import EnrichRequest
from services.prompts.sources import RowSelection
from services.prompts.templates import OutputField, TemplateDraft
from services.prompts.worker import CeleryRunner
from services.settings import reset_settings_cache
from services.store.db import dispose_engines
from tests import redis_server as redis_fixtures
from tests.factories import make_admin, make_item, make_user
from tests.fakes.claude_server import FakeClaude
from tests.postgres_server import PostgresServer, new_database
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parents[3]
STALE_S = 3  # the worker's and this process's RESEARCH_DESK_JOB_STALE_S: quick take-overs


@dataclass
class Team:
    """The module's store, queue, data folder and worker (restarted by the crash tests)."""

    database_url: str
    redis_url: str
    data_dir: Path
    log: Path
    fake: FakeClaude
    worker: subprocess.Popen | None = None
    starts: int = field(default=0)

    def env(self) -> dict[str, str]:
        return {"RESEARCH_DESK_DATABASE_URL": self.database_url,
                "RESEARCH_DESK_REDIS_URL": self.redis_url,
                "RESEARCH_DESK_DATA_DIR": str(self.data_dir),
                "RESEARCH_DESK_JOB_STALE_S": str(STALE_S),
                "ANTHROPIC_API_KEY": "sk-test-fake", "ANTHROPIC_BASE_URL": self.fake.base_url,
                "RESEARCH_DESK_CLAUDE_MAX_RETRIES": "3"}

    def start_worker(self) -> None:
        """`make worker`'s command (prefork, two children) on a free node name."""
        self.starts += 1
        env = {**os.environ, "PYTHONPATH": str(ROOT),
               "RESEARCH_DESK_SECRETS_FILE": "/nonexistent/secrets.toml", **self.env()}
        with self.log.open("ab") as log:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "--app", "services.prompts.worker", "worker",
                 "--loglevel", "INFO", "--concurrency", "2", "--pool", "prefork",
                 "--hostname", f"rd{self.starts}@%h", "--without-gossip", "--without-mingle"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)  # its own group: a kill reaches its children too
        probe = CeleryRunner(self.redis_url)
        try:
            deadline = time.monotonic() + 60
            while probe.workers_answering(0.5) < 1:
                assert self.worker.poll() is None, self.log.read_text()[-3000:]
                assert time.monotonic() < deadline, "the worker never answered a ping"
        finally:
            probe.close()

    def kill_worker(self) -> None:
        if self.worker is None:
            return
        try:
            os.killpg(self.worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.worker.wait()
        self.worker = None


@pytest.fixture(scope="module")
def team(postgres_server: PostgresServer, redis_server: RedisServer, fake: FakeClaude,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    folder = tmp_path_factory.mktemp("celery-team")
    url = redis_server.url(next(redis_fixtures._databases))
    redis.Redis.from_url(url).flushdb()
    made = Team(database_url=new_database(postgres_server), redis_url=url,
                data_dir=folder / "data", log=folder / "worker.log", fake=fake)
    try:
        made.start_worker()
        yield made
    finally:
        made.kill_worker()


@pytest.fixture
def admin(team: Team, claude_at_fake: FakeClaude, monkeypatch: pytest.MonkeyPatch) -> UserView:
    """This process as an app server of the team: the module's store, queue and folder."""
    for name, value in team.env().items():
        if not name.startswith("ANTHROPIC"):
            monkeypatch.setenv(name, value)
    reset_settings_cache()
    dispose_engines()
    if team.worker is None or team.worker.poll() is not None:
        team.start_worker()
    return users.get_user("ada") or make_admin()


def _person(admin: UserView, name: str) -> UserView:
    return make_user(admin, name)


def _start_batch(person: UserView, units: int, concurrency: int, **request: object) -> int:
    items = [make_item(person, f"Item {n}") for n in range(units)]
    template = templates.create_template(person, TemplateDraft(
        name=f"Summarise {time.monotonic_ns()}", body="Summarise <<{title}>>",
        model="claude-haiku-4-5", max_tokens=50))
    job = batches.start_batch(person, BatchRequest(
        template_id=template.id, concurrency=concurrency, item_ids=[i.id for i in items],
        **request))  # type: ignore[arg-type]
    return job.id


def _wait_until_finished(job_id: int, team: Team, timeout_s: float = 60) -> jobs.JobView:
    deadline = time.monotonic() + timeout_s
    while True:
        job = jobs.find(job_id)
        assert job is not None
        if job.status not in jobs.ACTIVE:
            return job
        assert time.monotonic() < deadline, (job.status, team.log.read_text()[-3000:])
        time.sleep(0.1)


def _sent_per_item(fake: FakeClaude) -> Counter[str]:
    found = (re.search(r"<<(.+?)>>", r["body"]["messages"][0]["content"])
             for r in fake.message_requests)
    return Counter(m.group(1) for m in found if m)


def _wait_for_requests(fake: FakeClaude, count: int, team: Team) -> None:
    deadline = time.monotonic() + 60
    while len(fake.message_requests) < count:
        assert time.monotonic() < deadline, team.log.read_text()[-3000:]
        time.sleep(0.005)


def test_a_batch_started_by_a_person_runs_to_done_on_the_worker(
        team: Team, admin: UserView, claude_at_fake: FakeClaude) -> None:
    person = _person(admin, "bea")
    assert isinstance(runner.get_runner(), CeleryRunner)
    job_id = _start_batch(person, units=6, concurrency=2)
    job = _wait_until_finished(job_id, team)
    assert job.status == "done", job.message
    assert jobs.progress(person, job_id).done == 6
    assert _sent_per_item(claude_at_fake) == Counter({f"Item {n}": 1 for n in range(6)})
    assert usage.monthly_usage("bea").calls == 6
    report = health.check_all()
    assert report.ready and report.parts["queue"].status == "ok"
    assert report.parts["runner"].sentence.startswith("1 worker answers")


def _assert_only_calls_in_flight_went_again(person: UserView, job_id: int, units: int,
                                            concurrency: int, answered_before: set[str],
                                            sent_before: Counter[str],
                                            fake: FakeClaude) -> None:
    in_flight = set(sent_before) - answered_before  # sent, no answer saved before the kill
    assert max(sent_before.values()) == 1 and len(in_flight) <= concurrency
    sent = _sent_per_item(fake)
    assert set(sent) == {f"Item {n}" for n in range(units)}
    assert jobs.progress(person, job_id).done == units
    again = {label for label, times in sent.items() if times > 1}
    # A call sent in the kill's last instant may reach the fake's log after `sent_before` was
    # read, so the outcome is asserted, not the snapshot: no answered call went again, and
    # no more went again than could be in flight.
    assert again.isdisjoint(answered_before) and len(again) <= concurrency
    assert max(sent.values()) <= 2
    assert sum(sent.values()) <= units + concurrency
    # every answer that was saved is in the usage; those lost with the kill were sent again
    assert usage.monthly_usage(person.username).calls == sum(sent.values()) - len(again)


def test_a_killed_worker_child_s_batch_completes_by_itself(
        team: Team, admin: UserView, claude_at_fake: FakeClaude) -> None:
    """kill -9 of the child running the job: its message goes back to the queue, the
    redelivered task waits out the dead child's heartbeat and carries the batch on."""
    person = _person(admin, "cid")
    units, concurrency = 40, 3
    claude_at_fake.set_latency(0.03)
    job_id = _start_batch(person, units, concurrency)
    _wait_for_requests(claude_at_fake, 15, team)
    job = jobs.find(job_id)
    assert job is not None and job.runner_token
    child = int(job.runner_token.split(":")[1])
    assert child != team.worker.pid  # type: ignore[union-attr] - a pool child runs it
    os.kill(child, signal.SIGKILL)
    sent_before = _sent_per_item(claude_at_fake)
    answered = {u.label for u in jobs.list_units(person, job_id, status="succeeded")}

    finished = _wait_until_finished(job_id, team)
    assert finished.status == "done", finished.message
    assert finished.runner_token == "" and team.worker.poll() is None  # type: ignore[union-attr]
    _assert_only_calls_in_flight_went_again(person, job_id, units, concurrency, answered,
                                            sent_before, claude_at_fake)


def test_a_killed_worker_s_batch_completes_on_a_new_worker(
        team: Team, admin: UserView, claude_at_fake: FakeClaude) -> None:
    """kill -9 of the whole worker, a new worker started: the app server's resume loop
    (as asgi.py runs it) hands the job to the new worker, nobody presses Resume."""
    person = _person(admin, "dov")
    units, concurrency = 30, 3
    claude_at_fake.set_latency(0.03)
    job_id = _start_batch(person, units, concurrency)
    _wait_for_requests(claude_at_fake, 10, team)
    team.kill_worker()
    sent_before = _sent_per_item(claude_at_fake)
    answered = {u.label for u in jobs.list_units(person, job_id, status="succeeded")}
    team.start_worker()
    loop = runner.ResumeLoop(every_s=0.5)
    loop.thread.start()
    try:
        finished = _wait_until_finished(job_id, team)
    finally:
        loop.stop()
    assert finished.status == "done", finished.message
    _assert_only_calls_in_flight_went_again(person, job_id, units, concurrency, answered,
                                            sent_before, claude_at_fake)


class _Later:
    """A runner that queues nothing: the test decides when the worker hears of the job."""

    def submit(self, job_id: int) -> None:
        return None

    def is_active(self, job_id: int) -> bool:
        return False


def test_a_task_that_finds_a_fresh_heartbeat_tries_again_and_finishes(
        team: Team, admin: UserView, claude_at_fake: FakeClaude,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """What a redelivered task meets: the job's dead runner beat a moment ago. It may not
    claim yet; it must not give up either (the job would wait for Resume)."""
    person = _person(admin, "eve")
    with monkeypatch.context() as patched:
        patched.setattr(batches, "get_runner", _Later)
        job_id = _start_batch(person, units=4, concurrency=2)
    assert jobs.claim(job_id, "elsewhere:4242:gone") is not None  # beat just now, then died
    started = time.monotonic()
    runner.get_runner().submit(job_id)

    finished = _wait_until_finished(job_id, team)
    assert finished.status == "done", finished.message
    assert time.monotonic() - started >= STALE_S - 1  # it waited for the beat to go stale
    assert _sent_per_item(claude_at_fake) == Counter({f"Item {n}": 1 for n in range(4)})

    runner.get_runner().submit(job_id)  # a task for a finished job ends quietly
    time.sleep(1.0)
    assert jobs.find(job_id) == finished and len(claude_at_fake.message_requests) == 4


def test_an_enrichment_on_the_worker_makes_exactly_one_new_version(
        team: Team, admin: UserView, claude_at_fake: FakeClaude) -> None:
    person = _person(admin, "fay")
    claude_at_fake.script([
        {"match": "slow", "tool_use": {"name": "record_answer", "input": {"kind": "speed"}}},
        {"tool_use": {"name": "record_answer", "input": {"kind": "price"}}}])
    path = team.data_dir.parent / "comments.csv"
    pd.DataFrame({"comment": ["Too dear", "Delivery was slow", "Pricey", "Slow again"]}
                 ).to_csv(path, index=False)
    dataset, _ = datasets.create_from_upload(person, path, original_name="comments.csv")
    template = templates.create_template(person, TemplateDraft(
        name="Kind", body="Kind of: {comment}", model="claude-haiku-4-5", max_tokens=50,
        output_fields=[OutputField(name="kind", type="category",
                                   choices=["price", "speed"])]))
    outcome = enrich.start_enrichment(person, EnrichRequest(
        template_id=template.id, rows=RowSelection(dataset_id=dataset.id)))
    assert outcome.job is not None
    finished = _wait_until_finished(outcome.job.id, team)
    assert finished.status == "done", finished.message
    assert "New version 2" in finished.message
    assert sorted(v.version for v in datasets.list_versions(person, dataset.id)) == [1, 2]
    frame = pd.read_parquet(datasets.get_version(person, dataset.id).parquet_path)
    assert list(frame["kind"]) == ["price", "speed", "price", "speed"]


def test_a_message_batch_is_looked_at_in_short_tasks_until_it_ends(
        team: Team, admin: UserView, claude_at_fake: FakeClaude) -> None:
    person = _person(admin, "gus")
    claude_at_fake.set_batch_seconds(2.0)
    job_id = _start_batch(person, units=3, concurrency=2, use_message_batches=True)
    finished = _wait_until_finished(job_id, team)
    assert finished.status == "done", finished.message
    assert jobs.progress(person, job_id).done == 3
    (batch,) = claude_at_fake.batches.values()
    polls = [r for r in claude_at_fake.requests
             if r["method"] == "GET" and r["path"] == f"/v1/messages/batches/{batch['id']}"]
    assert len(polls) >= 2 and claude_at_fake.message_requests == []
    assert usage.monthly_usage("gus").calls == 3
