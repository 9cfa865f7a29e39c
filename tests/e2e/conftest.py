"""Browser tests: `streamlit run` on a free port, Debian's Chromium through Playwright.

Never skipped: if Chromium is missing the tests fail and say how to install it.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "tests" / "e2e" / "screenshots"
CHROMIUM = os.environ.get("RESEARCH_DESK_CHROMIUM", "/usr/bin/chromium")
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
# A busy CI machine can take several seconds per rerun; assertions wait for that, not 5 s.
expect.set_options(timeout=15_000)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    url: str
    data_dir: Path
    process: subprocess.Popen
    log_path: Path


def start_streamlit(data_dir: Path, extra_env: dict[str, str] | None = None, *,
                    asgi: bool = False) -> Server:
    """`streamlit run app.py`, or with `asgi=True` the way `make run` serves it: uvicorn with
    asgi.py (the UI and the REST API on one port)."""
    port = free_port()
    env = {
        **os.environ,
        "RESEARCH_DESK_DATA_DIR": str(data_dir),
        "RESEARCH_DESK_BCRYPT_ROUNDS": "4",
        "RESEARCH_DESK_SECRETS_FILE": str(data_dir / "no-secrets.toml"),
        **(extra_env or {}),
    }
    env.pop("ANTHROPIC_API_KEY", None) if "ANTHROPIC_API_KEY" not in (extra_env or {}) else None
    log_path = data_dir.parent / f"streamlit-{port}.log"
    log = log_path.open("w")
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    if asgi:
        command = [sys.executable, "-m", "uvicorn", "asgi:app", "--host", "127.0.0.1",
                   "--port", str(port)]
    process = subprocess.Popen(
        command,
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return Server(url=url, data_dir=data_dir, process=process,
                                  log_path=log_path)
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"streamlit did not start; see {log.name}")


def stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `apt-get install -y chromium`.")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield launched
        launched.close()


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


def print_log_if_failed(request: pytest.FixtureRequest, server: Server) -> None:
    """A failed journey shows the server's own log, so a CI failure explains itself."""
    if request.node.stash.get(_FAILED, False):
        print(f"--- last lines of {server.log_path.name} ---")
        print("\n".join(server.log_path.read_text(errors="replace").splitlines()[-60:]))


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    started = start_streamlit(tmp_path / "data")
    yield started
    stop(started)
    print_log_if_failed(request, started)


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(WATCH_CHANGES)
    opened = context.new_page()
    opened.set_default_timeout(30_000)
    console: list[str] = []
    opened.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    yield opened
    if request.node.stash.get(_FAILED, False):
        print(f"page at failure: {opened.url}; connection "
              f"{opened.get_attribute('[data-testid=stApp]', 'data-test-connection-state')}; "
              f"screenshot {shoot(opened, f'failed-{request.node.name}')}")
        print("--- browser console ---", *console[-30:], sep="\n")
    context.close()


# Every page records when its DOM last changed, so "settled" can mean quiet (as
# Playwright's own "networkidle" means no request for 500 ms).
WATCH_CHANGES = """
window.__rdLastChange = performance.now();
new MutationObserver(() => { window.__rdLastChange = performance.now(); })
    .observe(document, {subtree: true, childList: true, attributes: true,
                        characterData: true});
"""
QUIET_MS = 300

# The script has finished, every element of the previous run is replaced (Streamlit marks
# those "stale" until the new run's deltas arrive), no fade or transition is still running
# (a half-faded element fails the contrast check; endless spinners do not count), and the
# page has not changed for QUIET_MS (a rerun a click asked for has had time to start: while
# it runs the state is "running" again and the wait goes on).
_SETTLED = """(quietMs) => {
    const app = document.querySelector("[data-testid='stApp']");
    const quiet = window.__rdLastChange === undefined
        || performance.now() - window.__rdLastChange >= quietMs;
    return app !== null && app.getAttribute("data-test-script-state") === "notRunning"
        && document.querySelector("[data-stale='true']") === null
        && document.getAnimations().every(a => a.playState !== "running"
            || a.effect === null || a.effect.getTiming().iterations === Infinity)
        && quiet;
}"""


def wait_ready(page: Page) -> None:
    page.wait_for_selector(READY, timeout=30_000)
    page.wait_for_function(_SETTLED, arg=QUIET_MS, timeout=30_000, polling="raf")


COOKIE = "research_desk_auth"
_HAS_COOKIE = """([name, wanted]) =>
    document.cookie.split("; ").some(c => c.startsWith(name + "=")) === wanted"""


def wait_for_sign_in_cookie(page: Page, *, present: bool = True) -> None:
    """The sign-in cookie is written (or deleted) by a browser component after the page
    shows: wait until it is there (or gone)."""
    page.wait_for_function(_HAS_COOKIE, arg=[COOKIE, present], timeout=30_000)


def wait_for_charts(page: Page) -> None:
    """The first Plotly chart on the page has drawn its plot area and its title, and the
    page has settled (Plotly lays out after Streamlit has finished)."""
    chart = page.get_by_test_id("stPlotlyChart").first
    expect(chart.locator("svg.main-svg").first).to_be_visible()
    expect(chart.locator(".gtitle").first).to_be_attached()
    page.wait_for_function(_SETTLED, arg=QUIET_MS, timeout=30_000, polling="raf")


_THEME_IS = """(scheme) => {
    const app = document.querySelector("[data-testid='stApp']");
    const rgb = getComputedStyle(app).backgroundColor.match(/\\d+/g).map(Number);
    const dark = (rgb[0] + rgb[1] + rgb[2]) / 3 < 128;
    return dark === (scheme === "dark");
}"""


def shoot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


_axe = Axe()


def assert_accessible(page: Page, name: str) -> None:
    """No serious or critical axe-core violations, in light and in dark mode."""
    is_app = page.locator("[data-testid='stApp']").count() > 0  # not an exported report
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        if is_app:
            page.wait_for_function(_THEME_IS, arg=scheme)  # the app has switched its colours
            page.wait_for_function(_SETTLED, arg=QUIET_MS, polling="raf")  # and faded them
        results = _axe.run(page)
        bad = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        assert not bad, f"{name} [{scheme}] accessibility violations:\n" + "\n".join(bad)
    page.emulate_media(color_scheme="light")
