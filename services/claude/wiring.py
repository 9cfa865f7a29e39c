"""Connects `services.claude.client` to the usage store: every call recorded, budgets enforced.

`install()` is idempotent (it sets the same module-wide hooks each time), so app.py
calls it at start-up and pages that talk to Claude call it again — AppTest runs a page file
without app.py after the first run.
"""

from services.claude import client as claude
from services.claude import usage


def install() -> None:
    claude.set_usage_sink(usage.record_usage, releases_holds=True)
    claude.set_budget_check(usage.check_budget)
    claude.set_budget_hold(usage.hold_call, usage.release_call)


def is_installed() -> bool:
    return (claude._usage_sink is usage.record_usage and claude._budget_check is usage.check_budget
            and claude._budget_hold is usage.hold_call)
