"""`kill -9` of the app mid-batch, then a restart: the batch shows as resumable and resumes
without calling any finished unit again (requests counted at the fake server)."""

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
from services.prompts import batches, jobs, runner
from services.store.db import dispose_engines
from tests.fakes.claude_server import FakeClaude
from tests.unit.prompts.crash_child import UNITS

ROOT = Path(__file__).resolve().parents[3]


def _sent_per_item(fake: FakeClaude) -> Counter[str]:
    found = (re.search(r"<<(.+?)>>", r["body"]["messages"][0]["content"])
             for r in fake.message_requests)
    return Counter(m.group(1) for m in found if m)


def test_a_batch_killed_mid_way_resumes_without_repeating_finished_units(
        claude_at_fake: FakeClaude, data_dir: Path) -> None:
    claude_at_fake.set_latency(0.15)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RESEARCH_DESK_DATA_DIR": str(data_dir),
           "ANTHROPIC_API_KEY": "sk-test-fake", "ANTHROPIC_BASE_URL": claude_at_fake.base_url}
    dispose_engines()  # the child owns the store until it dies
    child = subprocess.Popen([sys.executable, "-m", "tests.unit.prompts.crash_child"],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while len(claude_at_fake.message_requests) < 8:
            assert child.poll() is None, child.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the child never got going"
            time.sleep(0.01)
        time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
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


@pytest.fixture(autouse=True)
def _no_leftover_engines() -> None:
    dispose_engines()
