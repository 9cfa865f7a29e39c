"""Prompt lab tests: an admin, an analyst, a viewer, and the fake Messages API."""

from collections.abc import Iterator

import pytest

from services import settings
from services.access.permissions import Role
from services.access.users import UserView
from services.claude import client as claude
from services.claude import usage
from services.prompts import runner
from services.research.items import ItemSummary
from tests.factories import make_admin, make_item, make_user
from tests.fakes.claude_server import FakeClaude, point_claude_at


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        yield server


@pytest.fixture
def claude_at_fake(fake: FakeClaude, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClaude]:
    fake.reset()
    point_claude_at(fake, monkeypatch)
    monkeypatch.setattr(claude, "_usage_sink", usage.record_usage)  # as wiring.install does
    monkeypatch.setattr(claude, "_budget_check", usage.check_budget)
    monkeypatch.setattr(claude, "_budget_hold", usage.hold_call)
    monkeypatch.setattr(claude, "_budget_release", usage.release_call)
    monkeypatch.setattr(claude, "_sink_releases_holds", True)
    monkeypatch.setattr(runner, "_runner", runner.ThreadRunner())
    yield fake
    settings.reset_settings_cache()
    claude.reset_clients()


@pytest.fixture
def admin() -> UserView:
    return make_admin()


@pytest.fixture
def analyst(admin: UserView) -> UserView:
    return make_user(admin, "ann")


@pytest.fixture
def viewer(admin: UserView) -> UserView:
    return make_user(admin, "vic", Role.VIEWER)


@pytest.fixture
def items(analyst: UserView) -> list[ItemSummary]:
    return [make_item(analyst, f"Item {n}", f"Description of item {n}")
            for n in range(1, 6)]
