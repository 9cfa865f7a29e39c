"""The fake Messages API, shared by the Claude, fault and Ask tests."""

from collections.abc import Iterator

import pytest

from services import settings
from services.claude import client as claude
from tests.fakes.claude_server import FakeClaude, point_claude_at


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        yield server


@pytest.fixture
def claude_at_fake(fake: FakeClaude, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClaude]:
    """The real SDK aimed at a freshly reset fake, with fast retries."""
    fake.reset()
    point_claude_at(fake, monkeypatch)
    yield fake
    settings.reset_settings_cache()
    claude.reset_clients()
