"""Limits shared by several servers, raced from two processes on one PostgreSQL database:
budget holds (one conditional UPDATE of the budgets row) and request counts (one upsert).
Never more is accepted than the limit allows, and nothing is lost."""

import os
import subprocess
import sys
import time
from pathlib import Path

from services.access import rate_limits
from services.claude import usage
from services.claude.usage import BudgetChange
from services.store.db import dispose_engines
from tests.factories import make_admin

ROOT = Path(__file__).resolve().parents[3]
TRIES = 12  # per process
CHILD = """
import sys, time
from pathlib import Path
from services.access import rate_limits
from services.errors import BudgetExceeded
from services.store.db import get_engine, session_scope
mode, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
if mode == "hold":
    from services.claude import holds  # only here: it brings the Claude SDK (slow to import)
get_engine()  # connected before the starting signal
ready.touch()
while not go.exists():
    time.sleep(0.005)
accepted = 0
for _ in range(int(sys.argv[4])):
    if mode == "hold":
        try:
            with session_scope(write=True) as session:
                holds.reserve(session, "ada", units=1, unit_cost=0.0, unit_tokens=100,
                              what="This batch")
            accepted += 1
        except BudgetExceeded:
            pass
    else:
        count = rate_limits.hit({"person:ada": 60})["person:ada"]
        accepted += count.hits <= 10
print(accepted)
"""


def _two_processes(mode: str, folder: Path) -> list[int]:
    """How many of its tries each of two processes had accepted, started at one moment."""
    dispose_engines()
    go = folder / "go"
    children = [(folder / f"ready-{n}", subprocess.Popen(
        [sys.executable, "-c", CHILD, mode, str(folder / f"ready-{n}"), str(go), str(TRIES)],
        cwd=ROOT, env=dict(os.environ), text=True, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE)) for n in range(2)]
    deadline = time.monotonic() + 60
    while not all(ready.exists() for ready, _ in children):
        assert time.monotonic() < deadline and all(c.poll() is None for _, c in children)
        time.sleep(0.005)
    go.touch()
    accepted = []
    for _, child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        accepted.append(int(out))
    return accepted


def test_budget_holds_from_two_processes_never_pass_the_budget(
        postgres_url: str, tmp_path: Path) -> None:
    admin = make_admin()  # "ada"
    usage.set_budget(admin, BudgetChange(username=admin.username, monthly_tokens=1_000))
    accepted = _two_processes("hold", tmp_path)
    assert sum(accepted) == 10  # 1,000 tokens hold exactly ten 100-token maxima
    assert usage.get_budget(admin.username).monthly_tokens == 1_000


def test_request_counts_from_two_processes_are_all_counted(
        postgres_url: str, tmp_path: Path) -> None:
    accepted = _two_processes("hit", tmp_path)
    assert sum(accepted) == 10  # a limit of 10: 24 requests, 10 accepted
    assert rate_limits.peek("person:ada")["person:ada"].hits == 2 * TRIES
