"""B8: the team set-up under load against the embedded default (issue 20).

16 API clients (one thread and one httpx client each, one analyst and token each) run the
same REST mix for B8_SECONDS (60) against
* the embedded default: one `uvicorn asgi:app` on the DuckDB store, as `make run` starts it;
* the team set-up: `deploy.team.start_team` in a temporary folder (PostgreSQL, Redis, two
  app servers, nginx on free ports), every request through nginx;
while two browser sessions (Chromium, headless, signed in) reload the Explore page with its
chart in a loop. Claude is the fake HTTP server of tests/fakes (ANTHROPIC_BASE_URL).

The mix, in a fixed cycle each client enters at its own place: list research items, list
datasets, a dataset's profile, chart-data, create a research item (the API's write: it has
no endpoint that saves an insight), ask (two calls of the fake Claude and a sandboxed query).
Afterwards each client lists its own items: every item it was told was created must be
there (lost writes). Errors are non-2xx answers, failed connections and failed page loads.

Target (issue 20): the team set-up serves ≥ 1.6× the embedded default's requests per second
at an equal or better p95 (all API requests together), with 0 errors and 0 lost writes.
B8_ROUNDS=2 runs embedded, team, embedded, team and compares the medians.
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.b1_ingest import generate_csv

ROOT = Path(__file__).resolve().parent.parent
SECONDS = float(os.environ.get("B8_SECONDS", "60"))
ROUNDS = int(os.environ.get("B8_ROUNDS", "1"))
CLIENTS = 16
BROWSERS = 2
CSV_ROWS = 200_000  # ~20 MB: charts and profiles do real DuckDB work, uploads stay quick
TARGET_RATIO = 1.6
ADMIN, ADMIN_PASSWORD = "ada", "plum-orchard-58"
QUESTION = "Which region has the highest total price?"
CHART_SPECS = [
    {"chart_type": "bar", "x": "region", "y": "price", "agg": "sum"},
    {"chart_type": "bar", "x": "product", "y": "quantity", "agg": "mean"},
    {"chart_type": "line", "x": "order_date", "y": "discount", "agg": "mean"},
]
CYCLE = ("list_items", "list_datasets", "profile", "chart_data", "list_items", "chart_data",
         "save_item", "profile", "list_datasets", "ask")

# Run in a child process with the set-up's environment (the embedded DuckDB file takes one
# writer, so this runs before its server starts): the admin, 16 analysts with a token each,
# and one shared dataset from the generated CSV.
_SEED = """
import json, sys
from pathlib import Path
from services.access import api_tokens
from services.access.permissions import Role
from services.access.users import NewUser, create_first_admin, create_user
from services.data import datasets
admin = create_first_admin(NewUser(username=sys.argv[2], name="Ada Bench", role=Role.ADMIN,
                                   password=sys.argv[3]))
dataset, _ = datasets.create_from_upload(admin, Path(sys.argv[1]), original_name="orders.csv")
datasets.set_shared(admin, dataset.id, True)
tokens = []
for i in range(int(sys.argv[4])):
    person = create_user(admin, NewUser(username=f"client{i:02d}", name=f"Client {i}",
                                        role=Role.ANALYST, password=sys.argv[3]))
    tokens.append(api_tokens.create_token(person, "b8").secret)
print(json.dumps({"dataset_id": dataset.id, "tokens": tokens}), flush=True)
"""

# One browser session in a child process (Playwright's sync API keeps to its thread): sign
# in, say "ready", wait for "go", then reload Explore until the time is up; prints a JSON line.
_BROWSER = """
import json, sys, time
from playwright.sync_api import sync_playwright
from playwright.sync_api import expect
from tests.e2e.conftest import _SETTLED, CHROMIUM, QUIET_MS, READY, WATCH_CHANGES
from tests.e2e.helpers import open_signed_in
# The journeys' waits (30 s) with a longer patience: on a loaded machine a slow reload is
# slow, not failed; its time is what the bench reports.
PATIENCE_MS = 120_000
expect.set_options(timeout=PATIENCE_MS)
def settled(page):
    page.wait_for_function(_SETTLED, arg=QUIET_MS, timeout=PATIENCE_MS, polling="raf")
STATE = '''() => { const app = document.querySelector("[data-testid='stApp']");
    return app === null ? "no app" : app.getAttribute("data-test-connection-state") + ", script "
        + app.getAttribute("data-test-script-state"); }'''
def what_it_shows(page):
    # where a failed reload stopped: connection, headings, charts, messages
    try:
        alerts = page.locator("[data-testid=stAlert], [data-testid=stException]")
        return (f"connection {page.evaluate(STATE)}; headings "
                f"{page.locator('h1').all_inner_texts()[:3]}; "
                f"{page.get_by_test_id('stPlotlyChart').count()} charts; messages: "
                f"{' / '.join(alerts.all_inner_texts())[:300] or 'none'}")
    except Exception as error:
        return f"page unreadable: {str(error).splitlines()[0][:100]}"
url, user, password, dataset_id, seconds = sys.argv[1:6]
times, errors = [], []
with sync_playwright() as playwright:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(WATCH_CHANGES)
    page = context.new_page()
    page.set_default_timeout(PATIENCE_MS)
    open_signed_in(page, url, user, password)
    print("ready", flush=True)
    sys.stdin.readline()
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            page.goto(f"{url}/explore?dataset={dataset_id}")
            page.wait_for_selector(READY, timeout=PATIENCE_MS)
            settled(page)
            chart = page.get_by_test_id("stPlotlyChart").first
            expect(chart.locator("svg.main-svg").first).to_be_visible()
            expect(chart.locator(".gtitle").first).to_be_attached()
            settled(page)
            times.append((time.perf_counter() - started) * 1000)
        except Exception as error:  # counted, and the loop goes on as a person would reload
            first = str(error).splitlines()[0][:150]
            errors.append(f"{first} ({what_it_shows(page)})")
    browser.close()
print(json.dumps({"times": times, "errors": errors}), flush=True)
"""


@dataclass
class Setup:
    name: str
    url: str  # where clients and browsers go (nginx for the team)
    dataset_id: int
    tokens: list[str]
    servers: list[str]  # each app server directly, to warm it up before the clock starts
    pids: list[int]  # the set-up's processes (their children count too), for CPU time


@dataclass
class ClientLog:
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    created: list[int] = field(default_factory=list)


@dataclass
class RunFigures:
    name: str
    seconds: float
    requests: int
    rps: float
    p95_ms: float
    per_action: dict[str, tuple[int, float, float]]  # count, p50, p95 (ms)
    errors: list[str]
    lost: int
    created: int
    page_loads: list[float]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    server_cpu_s: float  # CPU seconds the set-up's processes used during the measured time

    @property
    def summary(self) -> str:
        actions = ", ".join(f"{name} {p50:.0f}/{p95:.0f}"
                            for name, (_, p50, p95) in sorted(self.per_action.items()))
        pages = (f"Explore reloads {len(self.page_loads)} ({_pct(self.page_loads, 50) / 1000:.1f}"
                 f"/{_pct(self.page_loads, 95) / 1000:.1f} s)") if self.page_loads else \
            "Explore reloads 0"
        return (f"{self.name}: {self.rps:.1f} req/s ({self.requests:,} in {self.seconds:.0f} s), "
                f"p95 {self.p95_ms:.0f} ms, p50/p95 ms: {actions}; {pages}; "
                f"{len(self.errors)} errors, {self.lost} of {self.created} writes lost; "
                f"server CPU {self.server_cpu_s:.0f} s ({self.server_cpu_s / self.seconds:.2f} "
                f"cores, {self.requests / max(self.server_cpu_s, 0.001):.1f} requests per CPU "
                f"second); load {self.load_before[0]:.1f}→{self.load_after[0]:.1f}")


def _pct(values: list[float], percent: int) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(percent / 100 * len(ordered)) - 1))]


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def _common_env(claude_url: str) -> dict[str, str]:
    return {"RESEARCH_DESK_BCRYPT_ROUNDS": "4",
            "RESEARCH_DESK_API_REQUESTS_PER_MINUTE": "1000000",
            "RESEARCH_DESK_SECRETS_FILE": "/nonexistent/b8-secrets.toml",
            "ANTHROPIC_API_KEY": "sk-b8-fake", "ANTHROPIC_BASE_URL": claude_url}


def _seed(env: dict[str, str], work: Path) -> tuple[int, list[str]]:
    csv_path = work / "orders.csv"
    generate_csv(csv_path, CSV_ROWS)
    done = subprocess.run([sys.executable, "-c", _SEED, str(csv_path), ADMIN, ADMIN_PASSWORD,
                           str(CLIENTS)], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"seeding failed: {done.stderr[-2000:]}")
    seeded = json.loads(done.stdout.strip().splitlines()[-1])
    return int(seeded["dataset_id"]), list(seeded["tokens"])


@contextmanager
def _fake_claude() -> Iterator[str]:
    """The fake Claude in a child process, so its threads take no GIL from the clients."""
    port = _free_ports(1)[0]
    fake = subprocess.Popen([sys.executable, "-m", "tests.fakes.claude_server", "--port",
                             str(port)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        assert fake.stdout is not None
        fake.stdout.readline()  # "fake Claude listening on …"
        yield f"http://127.0.0.1:{port}"
    finally:
        fake.terminate()
        fake.wait(timeout=30)


def _wait_ready(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/api/v1/health/ready", timeout=3).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not become ready")


@contextmanager
def _embedded(work: Path, claude_url: str) -> Iterator[Setup]:
    """One `uvicorn asgi:app` on the embedded DuckDB store (`make run`)."""
    work.mkdir(parents=True)
    env = {**os.environ, **_common_env(claude_url), "RESEARCH_DESK_DATA_DIR": str(work / "data")}
    env.pop("RESEARCH_DESK_DATABASE_URL", None)
    env.pop("RESEARCH_DESK_REDIS_URL", None)
    dataset_id, tokens = _seed(env, work)
    port = _free_ports(1)[0]
    log_path = work / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "uvicorn", "asgi:app", "--host",
                                   "127.0.0.1", "--port", str(port)],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, server, log_path)
        yield Setup("embedded", url, dataset_id, tokens, [url], [server.pid])
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@contextmanager
def _team(work: Path, claude_url: str) -> Iterator[Setup]:
    """deploy/team.py's set-up in a temporary folder on free ports; requests go to nginx."""
    from deploy.team import TeamPorts, start_team, stop_team

    proxy, app_1, app_2, postgres, redis = _free_ports(5)
    ports = TeamPorts(proxy=proxy, apps=(app_1, app_2), postgres=postgres, redis=redis)
    work.mkdir(parents=True)
    # As root, PostgreSQL runs as `postgres` and must reach its folder: the bench's own
    # work folder is owner-only, so the team folder lives in a folder it may pass through.
    outer = Path(tempfile.mkdtemp(prefix="b8-team-"))
    os.chmod(outer, 0o711)
    folder = outer / "team"
    try:
        team = start_team(folder, ports, _common_env(claude_url))
        dataset_id, tokens = _seed(team.env, work)
        yield Setup("team", team.url, dataset_id, tokens,
                    [team.app_url(i) for i in range(len(ports.apps))], _team_pids(folder))
    finally:
        stop_team(folder)
        shutil.rmtree(outer, ignore_errors=True)


def _team_pids(folder: Path) -> list[int]:
    """App servers, worker, Redis (pid files), nginx and PostgreSQL's postmaster."""
    files = [*sorted((folder / "run").glob("*.pid")), folder / "nginx" / "nginx.pid",
             folder / "postgres" / "data" / "postmaster.pid"]
    pids = []
    for path in files:
        try:
            pids.append(int(path.read_text().split()[0]))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def _cpu_seconds(roots: list[int]) -> float:
    """User + system CPU seconds of these processes and their live descendants (from
    /proc: on a shared machine, how much of the cores a set-up actually got)."""
    stats: dict[int, tuple[int, int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    children: dict[int, list[int]] = {}
    for pid, (parent, _) in stats.items():
        children.setdefault(parent, []).append(pid)
    ticks, seen, todo = 0, set(), [pid for pid in roots if pid in stats]
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.add(pid)
            ticks += stats[pid][1]
            todo += children.get(pid, [])
    return ticks / os.sysconf("SC_CLK_TCK")


def _action(client: httpx.Client, name: str, setup: Setup, step: int) -> int | None:
    """One request of the mix; returns the new item's id for a write."""
    dataset = f"/api/v1/datasets/{setup.dataset_id}"
    if name == "list_items":
        client.get("/api/v1/research-items", params={"limit": 20}).raise_for_status()
    elif name == "list_datasets":
        client.get("/api/v1/datasets", params={"limit": 20}).raise_for_status()
    elif name == "profile":
        client.get(f"{dataset}/profile").raise_for_status()
    elif name == "chart_data":
        spec = CHART_SPECS[step % len(CHART_SPECS)]
        client.post(f"{dataset}/chart-data", json={"spec": spec}).raise_for_status()
    elif name == "save_item":
        response = client.post("/api/v1/research-items", json={
            "title": f"B8 finding {step}", "description": "Saved under load.",
            "tags": ["b8"]})
        response.raise_for_status()
        return int(response.json()["id"])
    elif name == "ask":
        response = client.post("/api/v1/ask", json={"question": QUESTION,
                                                    "dataset_ids": [setup.dataset_id]})
        response.raise_for_status()
        if response.json()["status"] != "answered":
            raise RuntimeError(f"ask: {response.json()['status']} {response.json()['error']}")
    return None


def _warm_up(setup: Setup, log: ClientLog) -> None:
    """Every action once on every app server (imports, caches, connections, the profile),
    so the measured minute compares serving, not starting."""
    for server in setup.servers:
        with httpx.Client(base_url=server, timeout=300,
                          headers={"Authorization": f"Bearer {setup.tokens[0]}"}) as client:
            for name in sorted(set(CYCLE)):
                for step in range(len(CHART_SPECS) if name == "chart_data" else 1):
                    created = _action(client, name, setup, step)
                    if created is not None:
                        log.created.append(created)


def _client(setup: Setup, index: int, deadline: float, log: ClientLog) -> None:
    with httpx.Client(base_url=setup.url, timeout=120,
                      headers={"Authorization": f"Bearer {setup.tokens[index]}"}) as client:
        step = index
        while time.monotonic() < deadline:
            name = CYCLE[step % len(CYCLE)]
            started = time.perf_counter()
            try:
                created = _action(client, name, setup, step)
            except (httpx.HTTPError, RuntimeError, ValueError, KeyError) as error:
                body = error.response.text[:200] if isinstance(
                    error, httpx.HTTPStatusError) else ""
                log.errors.append(f"{name}: {error!s:.200} {body}")
            else:
                log.times.setdefault(name, []).append((time.perf_counter() - started) * 1000)
                if created is not None:
                    log.created.append(created)
            step += 1


def _stored_items(setup: Setup, token: str) -> set[int]:
    """The ids of the client's own items, read back through the same door afterwards."""
    found: set[int] = set()
    with httpx.Client(base_url=setup.url, timeout=120,
                      headers={"Authorization": f"Bearer {token}"}) as client:
        offset = 0
        while True:
            page = client.get("/api/v1/research-items", params={
                "scope": "mine", "limit": 100, "offset": offset}).raise_for_status().json()
            found.update(int(item["id"]) for item in page["items"])
            offset += 100
            if offset >= page["total"]:
                return found


def _start_browsers(setup: Setup) -> list[subprocess.Popen]:
    browsers = [subprocess.Popen([sys.executable, "-c", _BROWSER, setup.url, ADMIN,
                                  ADMIN_PASSWORD, str(setup.dataset_id), str(SECONDS)],
                                 cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
                for _ in range(BROWSERS)]
    for browser in browsers:
        assert browser.stdout is not None
        if browser.stdout.readline().strip() != "ready":
            for other in browsers:
                other.kill()
            raise RuntimeError(f"a browser could not sign in: "
                               f"{browser.communicate(timeout=30)[1][-2000:]}")
    return browsers


def _browser_results(browsers: list[subprocess.Popen]) -> tuple[list[float], list[str]]:
    times: list[float] = []
    errors: list[str] = []
    for browser in browsers:
        out, err = browser.communicate(timeout=SECONDS + 300)
        try:
            result = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            errors.append(f"browser session failed: {err[-300:]}")
            continue
        times += result["times"]
        errors += [f"Explore reload: {e}" for e in result["errors"]]
    return times, errors


def _load(setup: Setup) -> RunFigures:
    logs = [ClientLog() for _ in range(CLIENTS)]
    _warm_up(setup, logs[0])
    browsers = _start_browsers(setup)
    load_before = os.getloadavg()
    cpu_before = _cpu_seconds(setup.pids)
    started = time.monotonic()
    deadline = started + SECONDS
    for browser in browsers:
        assert browser.stdin is not None
        browser.stdin.write("go\n")
        browser.stdin.flush()
    threads = [threading.Thread(target=_client, args=(setup, i, deadline, logs[i]))
               for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    load_after = os.getloadavg()
    server_cpu_s = _cpu_seconds(setup.pids) - cpu_before
    page_loads, browser_errors = _browser_results(browsers)
    lost = sum(len(set(log.created) - _stored_items(setup, setup.tokens[i]))
               for i, log in enumerate(logs))
    times: dict[str, list[float]] = {}
    for log in logs:
        for name, values in log.times.items():
            times.setdefault(name, []).extend(values)
    every = [value for values in times.values() for value in values]
    return RunFigures(
        name=setup.name, seconds=elapsed, requests=len(every), rps=len(every) / elapsed,
        p95_ms=_pct(every, 95),
        per_action={name: (len(v), _pct(v, 50), _pct(v, 95)) for name, v in times.items()},
        errors=[e for log in logs for e in log.errors] + browser_errors, lost=lost,
        created=sum(len(log.created) for log in logs), page_loads=page_loads,
        load_before=load_before, load_after=load_after, server_cpu_s=server_cpu_s)


def _measure(work: Path, name: str) -> RunFigures:
    with _fake_claude() as claude_url:
        setup_of = _team if name == "team" else _embedded
        with setup_of(work / name, claude_url) as setup:
            figures = _load(setup)
    print(f"   {figures.summary}", flush=True)
    for error in figures.errors[:5]:
        print(f"     error: {error}", flush=True)
    return figures


def run(work_dir: Path) -> dict[str, dict]:
    runs: dict[str, list[RunFigures]] = {"embedded": [], "team": []}
    for round_no in range(ROUNDS):
        for name in ("embedded", "team"):
            runs[name].append(_measure(work_dir / f"round{round_no}", name))
    embedded_rps = statistics.median(r.rps for r in runs["embedded"])
    team_rps = statistics.median(r.rps for r in runs["team"])
    embedded_p95 = statistics.median(r.p95_ms for r in runs["embedded"])
    team_p95 = statistics.median(r.p95_ms for r in runs["team"])
    ratio = team_rps / embedded_rps
    every = runs["embedded"] + runs["team"]
    errors = sum(len(r.errors) for r in every)
    lost = sum(r.lost for r in every)
    created = sum(r.created for r in every)
    where = (f"{CLIENTS} API clients + {BROWSERS} browsers, {SECONDS:g} s, "
             f"{ROUNDS} round(s), {os.cpu_count()} cores")
    details = "; ".join(r.summary for r in every)
    return {
        "B8_team_rps_ratio": {
            "value": ratio, "target": TARGET_RATIO, "unit": "× embedded req/s",
            "ok": ratio >= TARGET_RATIO and team_p95 <= embedded_p95,
            "detail": f"team {team_rps:.1f} vs embedded {embedded_rps:.1f} requests/s at p95 "
                      f"{team_p95:.0f} vs {embedded_p95:.0f} ms ({where}); {details}"},
        "B8_team_p95": {
            "value": team_p95, "target": embedded_p95, "unit": "ms",
            "ok": team_p95 <= embedded_p95,
            "detail": "p95 of every API request through nginx; target: the embedded "
                      "default's p95 under the same load"},
        "B8_errors": {
            "value": float(errors), "target": 0, "unit": "errors", "ok": errors == 0,
            "detail": "non-2xx answers, failed requests and failed Explore reloads, both "
                      "set-ups: " + (" | ".join(e for r in every for e in r.errors[:3])
                                      or "none")},
        "B8_lost_writes": {
            "value": float(lost), "target": 0, "unit": "items", "ok": lost == 0,
            "detail": f"{lost} of {created:,} research items created under load missing when "
                      "each client listed its own items afterwards"},
    }
