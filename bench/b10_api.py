"""B10: the REST API served as `make run` serves it (uvicorn + asgi.py, a child process).

* Listing research items through the API with 10,000 items: p95 of GET
  /api/v1/research-items (a page of 50, total counted) over 200 requests, target ≤ 50 ms.
* Uploading a ~500 MB CSV through the API (multipart, streamed from disk by httpx): the
  server's peak RSS (VmHWM of its process), target ≤ 1 GB, and the time against the same
  ingest called directly (`datasets.create_from_upload` in a child process), target ≤ 1.5×.
"""

import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from bench.b1_ingest import generate_csv

ROOT = Path(__file__).resolve().parent.parent
ITEMS = 10_000
LIST_REQUESTS = 200
CSV_ROWS = 5_000_000  # ~500 MB with B1's 12 columns

_SETUP = """
import sys
from pathlib import Path
from services.access import api_tokens
from services.access.permissions import Role
from services.access.users import NewUser, create_first_admin
from services.store.db import session_scope
from services.store.models import ResearchItem, utcnow
admin = create_first_admin(NewUser(username="bench", name="Bench", role=Role.ADMIN,
                                   password="plum-orchard-58"))
now = utcnow()
with session_scope(write=True) as session:
    session.add_all([ResearchItem(title=f"Item {i}: sales by region {i % 97}",
                                  description="A question about the data.",
                                  status=("idea", "active", "done")[i % 3],
                                  tags=[f"t{i % 20}"], owner="bench",
                                  visibility="shared" if i % 2 else "private",
                                  created_at=now, updated_at=now)
                     for i in range(int(sys.argv[1]))])
print(api_tokens.create_token(admin, "bench").secret, flush=True)
"""

_DIRECT = """
import sys, time
from pathlib import Path
from services.access.permissions import Role
from services.access.users import NewUser, create_first_admin
from services.data import datasets
admin = create_first_admin(NewUser(username="bench", name="Bench", role=Role.ADMIN,
                                   password="plum-orchard-58"))
t = time.perf_counter()
view, result = datasets.create_from_upload(admin, Path(sys.argv[1]), original_name="orders.csv")
print(time.perf_counter() - t, view.rows, flush=True)
"""


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "RESEARCH_DESK_DATA_DIR": str(data_dir),
            "RESEARCH_DESK_BCRYPT_ROUNDS": "4", "RESEARCH_DESK_UPLOAD_LIMIT_MB": "4096",
            "RESEARCH_DESK_API_REQUESTS_PER_MINUTE": "100000",
            "RESEARCH_DESK_SECRETS_FILE": str(data_dir / "no-secrets.toml")}


def _python(script: str, data_dir: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=_env(data_dir),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return done.stdout.strip().splitlines()[-1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _peak_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


def _start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    log = (data_dir.parent / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "asgi:app", "--host",
                               "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                              cwd=ROOT, env=_env(data_dir), stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/api/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return server, url
        except httpx.HTTPError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("the API server did not start")


def _list_p95(client: httpx.Client, url: str) -> tuple[float, float, int]:
    for _ in range(10):  # warm-up
        client.get(f"{url}/research-items", params={"limit": 50}).raise_for_status()
    times = []
    total = 0
    for i in range(LIST_REQUESTS):
        started = time.perf_counter()
        response = client.get(f"{url}/research-items", params={"limit": 50, "offset": i * 50})
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        total = response.json()["total"]
    return statistics.quantiles(times, n=20)[18], statistics.median(times), total


def run(work_dir: Path) -> dict[str, dict]:
    csv_path = work_dir / "orders.csv"
    generate_csv(csv_path, CSV_ROWS)
    size_mb = csv_path.stat().st_size / 1024 / 1024

    direct_seconds, direct_rows = _python(_DIRECT, work_dir / "direct", str(csv_path)).split()
    data_dir = work_dir / "served"
    token = _python(_SETUP, data_dir, str(ITEMS))
    server, url = _start_server(data_dir)
    try:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=600) as client:
            p95, median, total = _list_p95(client, url)
            before_mb = _peak_mb(server.pid)
            started = time.perf_counter()
            with csv_path.open("rb") as handle:
                response = client.post(f"{url}/datasets",
                                       files={"file": ("orders.csv", handle, "text/csv")})
            api_seconds = time.perf_counter() - started
            response.raise_for_status()
            rows = response.json()["dataset"]["rows"]
            peak_mb = _peak_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert rows == int(direct_rows) == CSV_ROWS, (rows, direct_rows)
    ratio = api_seconds / float(direct_seconds)
    return {
        "B10_api_list_items_p95": {
            "value": p95, "target": 50, "unit": "ms", "ok": p95 <= 50,
            "detail": f"GET /api/v1/research-items, pages of 50 of {total:,} items, "
                      f"{LIST_REQUESTS} requests over HTTP to uvicorn; median {median:.1f} ms"},
        "B10_api_upload_peak_rss": {
            "value": peak_mb, "target": 1024, "unit": "MB", "ok": peak_mb <= 1024,
            "detail": f"VmHWM of the server process uploading a {size_mb:,.0f} MB CSV "
                      f"({CSV_ROWS:,} rows); {before_mb:,.0f} MB before the upload"},
        "B10_api_upload_ratio": {
            "value": ratio, "target": 1.5, "unit": "× direct", "ok": ratio <= 1.5,
            "detail": f"upload + ingest through the API {api_seconds:.1f} s vs "
                      f"datasets.create_from_upload called directly {float(direct_seconds):.1f} s"},
    }
