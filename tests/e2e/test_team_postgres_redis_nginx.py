"""The team set-up in Chromium (issue 20): PostgreSQL, Redis, two app servers and nginx,
started by `deploy.team` (what `make team` runs) in a temporary folder on free ports.

One browser signs in through nginx, uploads a file and creates a research item; a second
browser, whose routing cookie sends it to the other app server, sees both; the REST API and
a streamed Ask work through nginx too. Which server answered is read from nginx's access
log, which names the upstream and the routing cookie of every request.
"""

import json
import re
import shutil
import socket
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from deploy.team import TeamHandle, TeamPorts, start_team, stop_team
from services.access import api_tokens, users
from services.access.permissions import Role
from services.access.users import NewUser
from services.settings import reset_settings_cache
from services.store.db import dispose_engines
from tests.e2e.conftest import _FAILED, COOKIE, wait_for_sign_in_cookie, wait_ready
from tests.e2e.helpers import ADMIN_PASSWORD, open_in_menu, open_signed_in, wait_until_settled
from tests.fakes.claude_server import FakeClaude

TITLE = "Which region sells most?"
SALES = "region,amount\nNorth,120\nSouth,80\nNorth,40\nEast,10\n"
ROUTE = "rd_route"


def _free_ports(count: int) -> list[int]:
    probes = [socket.socket() for _ in range(count)]
    try:  # all open at once, so the ports differ
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@pytest.fixture
def fake() -> Iterator[FakeClaude]:
    with FakeClaude() as server:
        server.script([
            {"when_tools": True, "tool_use": {"name": "run_sql", "input": {
                "sql": 'SELECT "region", sum("amount") AS "total" FROM "sales" GROUP BY 1 '
                       'ORDER BY 2 DESC',
                "chart": None, "explanation": "Adds up the amounts per region."}}},
            {"when_tools": False, "text": "North sells the most: 160 in all.", "chunk_size": 6},
        ])
        yield server


@pytest.fixture
def team(fake: FakeClaude, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         request: pytest.FixtureRequest) -> Iterator[tuple[TeamHandle, str]]:
    """A running team set-up with a first admin and their API token (made through the
    services on the team's PostgreSQL); everything is stopped and removed afterwards."""
    # In /tmp itself: as root, PostgreSQL (user postgres) must reach its folder, and
    # pytest's own temporary folders are closed to other users.
    folder = Path(tempfile.mkdtemp(prefix="rd-team-"))
    proxy, app_1, app_2, postgres, redis = _free_ports(5)
    try:
        handle = start_team(folder, TeamPorts(proxy=proxy, apps=(app_1, app_2),
                                              postgres=postgres, redis=redis),
                            {"ANTHROPIC_API_KEY": "sk-test-fake",
                             "ANTHROPIC_BASE_URL": fake.base_url})
        for name in ("RESEARCH_DESK_DATABASE_URL", "RESEARCH_DESK_DATA_DIR"):
            monkeypatch.setenv(name, handle.env[name])
        reset_settings_cache()
        dispose_engines()
        admin = users.create_first_admin(NewUser(username="ada", name="Ada Lovelace",
                                                 password=ADMIN_PASSWORD, role=Role.ADMIN))
        secret = api_tokens.create_token(admin, "team test").secret
        dispose_engines()
        yield handle, secret
    finally:
        dispose_engines()
        stop_team(folder)
        _print_logs_if_failed(request, folder)
        shutil.rmtree(folder, ignore_errors=True)


def _print_logs_if_failed(request: pytest.FixtureRequest, folder: Path) -> None:
    """A failed run shows the servers' own logs, so a CI failure explains itself."""
    if not request.node.stash.get(_FAILED, False):
        return
    for log in sorted((folder / "logs").glob("*.log")) + [folder / "nginx" / "logs" /
                                                           "error.log"]:
        if log.exists():
            print(f"--- last lines of {log.name} ---")
            print("\n".join(log.read_text(errors="replace").splitlines()[-30:]))


def _upstreams(handle: TeamHandle, route: str) -> set[str]:
    """The app servers nginx sent requests with this routing cookie to."""
    found = set()
    for line in handle.access_log.read_text().splitlines():
        if line.endswith(f" route={route}"):
            found.update(re.findall(r"upstream=(\S+)", line))
    return found


def _route_to_other_server(handle: TeamHandle, taken: str) -> str:
    """A routing cookie that nginx hashes to the server `taken` is not on."""
    for attempt in range(64):
        route = f"probe{attempt}"
        request = urllib.request.Request(f"{handle.url}/api/v1/health/ready",
                                         headers={"Cookie": f"{ROUTE}={route}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        deadline = time.monotonic() + 5  # nginx logs a request just after answering it
        while not (reached := _upstreams(handle, route)) and time.monotonic() < deadline:
            time.sleep(0.05)
        if reached - {taken}:
            return route
    raise AssertionError("no routing cookie reached the second app server")


def _api(handle: TeamHandle, path: str, token: str, body: dict | None = None) -> str:
    request = urllib.request.Request(
        f"{handle.url}/api/v1{path}", data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200
        return str(response.read().decode())


def _titles(handle: TeamHandle, token: str) -> list[str]:
    return [i["title"] for i in json.loads(_api(handle, "/research-items", token))["items"]]


def _create_item(page: Page, handle: TeamHandle, token: str) -> None:
    """Create the item through the form on the settled page (no sign-in cookie write still
    under way). A rerun landing during the button's run can still lose the click or the move
    to the new item on a loaded machine: then the button is pressed again only if the item
    was not created, and otherwise the item is opened from the list, as a person would."""
    wait_until_settled(page)
    page.get_by_test_id("stExpander").get_by_text("New research item").click()
    page.get_by_role("textbox", name="Title", exact=True).fill(TITLE)
    page.get_by_role("button", name="Create item").click()
    wait_ready(page)
    heading = page.get_by_role("heading", name=TITLE)
    try:
        expect(heading).to_be_visible()
        return
    except AssertionError:
        pass
    if TITLE in _titles(handle, token):
        page.get_by_role("link", name=TITLE).click()
    else:
        page.get_by_role("button", name="Create item").click()
    wait_ready(page)
    expect(heading).to_be_visible()


def test_two_servers_behind_nginx_share_postgres_redis_and_the_data_folder(
        team: tuple[TeamHandle, str], page: Page, browser: Browser) -> None:
    handle, token = team
    sales = handle.folder / "sales.csv"
    sales.write_text(SALES)

    # First browser: sign in through nginx, upload (the upload's PUT must reach the server
    # that holds the session), create an item.
    open_signed_in(page, handle.url)
    expect(page.get_by_role("heading", name="Welcome, Ada Lovelace").first).to_be_visible()
    wait_for_sign_in_cookie(page)
    open_in_menu(page, "Datasets")
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(sales))
    wait_ready(page)
    page.get_by_role("button", name="Create dataset").click()
    wait_ready(page)
    expect(page.get_by_text("“sales” is ready:")).to_be_visible()
    open_in_menu(page, "Research")
    _create_item(page, handle, token)

    cookies = {c["name"]: c for c in page.context.cookies()}
    first_route = cookies[ROUTE]["value"]
    first_server = _upstreams(handle, first_route)
    assert len(first_server) == 1, first_server  # every request of this browser, one server
    assert any("PUT /_stcore/upload_file/" in line and f"route={first_route}" in line
               for line in handle.access_log.read_text().splitlines())

    # Second browser on the other server, signed in by the same cookie (one shared key).
    second_route = _route_to_other_server(handle, next(iter(first_server)))
    other = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        other.add_cookies([{**cookies[COOKIE]},
                           {"name": ROUTE, "value": second_route, "url": handle.url}])
        second = other.new_page()
        second.set_default_timeout(30_000)
        second.goto(handle.url)
        wait_ready(second)
        expect(second.get_by_role("heading", name="Welcome, Ada Lovelace").first).to_be_visible()
        open_in_menu(second, "Datasets")
        expect(second.get_by_text("sales", exact=True).first).to_be_visible()
        open_in_menu(second, "Research")
        expect(second.get_by_role("link", name=TITLE)).to_be_visible()
    finally:
        other.close()
    second_server = _upstreams(handle, second_route)
    assert len(second_server) == 1 and second_server.isdisjoint(first_server), (
        first_server, second_server)

    # The REST API and a streamed Ask through nginx.
    listed = json.loads(_api(handle, "/datasets", token))
    dataset_id = next(d["id"] for d in listed["items"] if d["name"] == "sales")
    assert _titles(handle, token) == [TITLE]
    stream = _api(handle, "/ask", token, {"question": "Which region sells most?",
                                          "dataset_ids": [dataset_id], "stream": True})
    events = [block.split("\n", 1) for block in stream.strip().split("\n\n")]
    names = [head.removeprefix("event: ") for head, _ in events]
    assert names[0] == "result" and names[-1] == "done" and names.count("answer") > 1
    answer = "".join(json.loads(data.removeprefix("data: "))["text"]
                     for head, data in events if head == "event: answer")
    assert answer == "North sells the most: 160 in all."
    assert json.loads(events[0][1].removeprefix("data: "))["rows"][0] == {
        "region": "North", "total": 160}

    # The Celery worker runs and answers the servers: batches and enrichments go there.
    assert handle.worker_running()
    details = json.loads(_api(handle, "/health/details", token))
    assert details["parts"]["runner"]["sentence"].startswith("1 worker answers"), details
    assert details["parts"]["queue"]["status"] == "ok", details
