"""What an admin saves on one server shows on another at once (issue 20: a budget saved on
one server showed on the other after 67 s). Server B is a long-lived process that has read
everything once (filling any cache it keeps); server A, this test, changes budgets, the
sample-rows switch, a recorded Claude call and a tag; B's next reading must show them all.
A static check keeps store-backed screens from caching with a time-to-live again."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from services.claude import usage
from services.claude.client import CallUsage
from services.claude.usage import BudgetChange
from services.research import items
from services.store.db import dispose_engines
from tests.factories import make_admin, make_user

ROOT = Path(__file__).resolve().parents[3]
SERVER_B = """
import json, sys
from services.access.users import get_user
from services.claude import usage, usage_report
from services.research import items
admin = get_user("ada")
for _ in sys.stdin:  # one reading per line asked, as a page rerun would read
    report = usage_report.cached_report(admin, *usage_report.this_month())
    print(json.dumps({
        "budget": usage.get_budget("bob").monthly_tokens,
        "listed": {r.username: r.budget.monthly_tokens for r in usage.list_budgets(admin)},
        "samples": usage.sends_sample_rows(),
        "calls": report.totals.calls,
        "state": items.list_state(),
        "tags": items.list_tags(admin),
    }), flush=True)
"""
# Screens that keep something for a while: each keeps what never comes from the store
# (Claude's model list) or is keyed by the store's state (research.py's `list_state`).
TTL_CACHES_ALLOWED = {"components/claude_admin.py": 1, "pages/prompt_lab.py": 1,
                      "pages/research.py": 1,
                      # not the store's data: a data source's own tables, read where they live
                      # (the pages say when they were read, and "Read again" reads now)
                      "components/add_from_database.py": 2, "components/explore_data.py": 1,
                      # keyed by the store's state (the board as read now, its layout, the
                      # versions its tiles draw, the datasets the person may see): the minute
                      # only bounds how long a live table's tile is kept
                      "pages/boards.py": 2}


def _read(server: subprocess.Popen) -> dict:
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write("read\n")
    server.stdin.flush()
    line = server.stdout.readline()
    assert line, server.stderr.read() if server.stderr else "server B stopped"
    return json.loads(line)


def test_a_change_on_one_server_shows_on_the_other_at_once_postgres(postgres_url: str) -> None:
    admin = make_admin()
    bob = make_user(admin, "bob")
    dispose_engines()
    server_b = subprocess.Popen([sys.executable, "-c", SERVER_B], cwd=ROOT,
                                env=dict(os.environ), text=True, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        before = _read(server_b)
        assert before["budget"] is None and before["samples"] is True
        usage.set_budget(admin, BudgetChange(username=bob.username, monthly_tokens=15_000))
        usage.set_send_sample_rows(admin, False)
        usage.record_usage(CallUsage(user=bob.username, feature="ask",
                                     model="claude-sonnet-4-6", input_tokens=10))
        items.create_item(admin, items.ItemInput(title="Penguins", tags=["field work"]))
        after = _read(server_b)
    finally:
        if server_b.stdin is not None:
            server_b.stdin.close()
        try:
            server_b.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server_b.kill()
            server_b.wait()
    assert after["budget"] == 15_000 and after["listed"]["bob"] == 15_000
    assert after["samples"] is False
    assert after["calls"] == before["calls"] + 1
    assert after["state"] != before["state"] and after["tags"] == ["field work"]


def test_no_screen_keeps_store_data_for_a_time_to_live() -> None:
    found = {}
    for folder in ("components", "pages"):
        for path in sorted((ROOT / folder).glob("*.py")):
            hits = len(re.findall(r"st\.cache_(?:data|resource)\([^)]*\bttl\s*=",
                                  path.read_text(encoding="utf-8")))
            if hits:
                found[f"{folder}/{path.name}"] = hits
    assert found == TTL_CACHES_ALLOWED, (
        "A screen caches with a time-to-live: another server's change would show only when "
        "it runs out. Key the cache by the store's state, or read from the store.")
