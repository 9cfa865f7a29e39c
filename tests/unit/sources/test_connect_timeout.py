"""A source whose server takes the connection but never answers is given up after the connect
timeout, with the "cannot be reached" sentence (issue 21: nothing hangs longer than the
statement timeout plus the connect timeout)."""

import socket
import time

import pytest

from services.settings import reset_settings_cache
from services.sources import problems
from services.sources.catalog import SourceInput
from services.sources.check import check_connection
from tests.factories import make_admin


def test_a_silent_server_is_given_up_after_the_connect_timeout(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_SOURCE_CONNECT_TIMEOUT_S", "1")
    reset_settings_cache()
    admin = make_admin()
    with socket.socket() as silent:  # listens, so the connection is taken, and never speaks
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        new = SourceInput.parse(name="silent", url=f"postgresql://reader@127.0.0.1:{port}/db",
                                password="pw")
        started = time.monotonic()
        checked = check_connection(admin, new)
        waited = time.monotonic() - started
    assert not checked.ok and checked.message == problems.unreachable(new.address)
    assert waited < 20  # 1 s of timeout; generous for a loaded machine, far below a hang
