"""`kill -9` of the app mid-batch, then a restart: the batch shows as resumable and resumes
without calling any finished unit again, and every call whose answer arrived is in the usage
(requests counted at the fake server)."""

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from services.access import users
from services.claude import usage
from services.prompts import batches, jobs, runner
from services.store.db import dispose_engines
from tests.fakes.claude_server import FakeClaude
from tests.unit.prompts.crash_child import UNITS

ROOT = Path(__file__).resolve().parents[3]


def _sent_per_item(fake: FakeClaude) -> Counter[str]:
    found = (re.search(r"<<(.+?)>>", r["body"]["messages"][0]["content"])
             for r in fake.message_requests)
    return Counter(m.group(1) for m in found if m)


def _kill_child_after(fake: FakeClaude, data_dir: Path, requests: int, *, pause_s: float,
                      **extra_env: str) -> None:
    """Runs the crash child's batch against `fake` and SIGKILLs it once `fake` has had
    `requests` calls of the model (and `pause_s` more)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RESEARCH_DESK_DATA_DIR": str(data_dir),
           "ANTHROPIC_API_KEY": "sk-test-fake", "ANTHROPIC_BASE_URL": fake.base_url,
           **extra_env}
    dispose_engines()  # the child owns the store until it dies
    child = subprocess.Popen([sys.executable, "-m", "tests.unit.prompts.crash_child"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(fake.message_requests) < requests:
            assert child.poll() is None, child.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the child never got going"
            time.sleep(0.01)
        time.sleep(pause_s)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()


def test_a_batch_killed_mid_way_resumes_without_repeating_finished_units(
        claude_at_fake: FakeClaude, data_dir: Path) -> None:
    claude_at_fake.set_latency(0.15)
    _kill_child_after(claude_at_fake, data_dir, 8, pause_s=0.05)
    before = _sent_per_item(claude_at_fake)

    admin = users.get_user("ada")
    assert admin is not None
    job = jobs.list_jobs(admin)[0]
    progress = jobs.progress(admin, job.id)
    assert progress.is_interrupted and progress.job.status == "running"
    assert 0 < progress.done < UNITS
    finished = {u.label for u in jobs.list_units(admin, job.id, status="succeeded")}
    assert jobs.interrupted_jobs(admin)[0].id == job.id

    batches.resume(admin, job.id)
    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner) and active.wait(job.id, timeout=60)
    after = _sent_per_item(claude_at_fake)
    progress = jobs.progress(admin, job.id)
    assert progress.job.status == "done" and progress.done == UNITS
    assert {label: after[label] for label in finished} == {name: before[name] for name in finished}
    assert set(after) == {f"Item {n}" for n in range(UNITS)}
    units = jobs.list_units(admin, job.id)
    assert len({u.unit_key for u in units}) == UNITS and len(units) == UNITS


def test_a_kill_loses_only_the_calls_in_flight_and_usage_has_every_answer(
        claude_at_fake: FakeClaude, data_dir: Path) -> None:
    """Quick calls, so that results waiting to be written would be lost: each call's usage
    and result are written the moment its answer arrives, so only calls still in flight
    (at most the concurrency) go again, and every answered request is in the usage."""
    units, concurrency = 40, 3
    claude_at_fake.set_latency(0.03)
    _kill_child_after(claude_at_fake, data_dir, 15, pause_s=0.0, CRASH_UNITS=str(units),
                      CRASH_CONCURRENCY=str(concurrency))
    sent_before = _sent_per_item(claude_at_fake)
    admin = users.get_user("ada")
    assert admin is not None
    job = jobs.list_jobs(admin)[0]
    answered = {u.label for u in jobs.list_units(admin, job.id, status="succeeded")}
    in_flight = set(sent_before) - answered  # sent, but no answer arrived before the kill
    assert max(sent_before.values()) == 1 and answered <= set(sent_before)
    assert len(in_flight) <= concurrency
    assert usage.monthly_usage("ada").calls == sum(sent_before.values()) - len(in_flight)

    batches.resume(admin, job.id)
    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner) and active.wait(job.id, timeout=60)
    sent = _sent_per_item(claude_at_fake)
    assert jobs.progress(admin, job.id).done == units
    assert set(sent) == {f"Item {n}" for n in range(units)}
    again = {label for label, times in sent.items() if times > 1}
    # A call sent in the kill's last instant may reach the fake's log after `sent_before` was
    # read, so the outcome is asserted, not the snapshot: every call in flight went again, no
    # answered call did, and no more than could be in flight.
    assert in_flight <= again and again.isdisjoint(answered) and len(again) <= concurrency
    assert max(sent.values()) <= 2
    assert usage.monthly_usage("ada").calls == sum(sent.values()) - len(again)


@pytest.fixture(autouse=True)
def _no_leftover_engines() -> None:
    dispose_engines()
