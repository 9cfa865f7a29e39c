"""The README's "REST API for scripts and notebooks" examples work as written: every curl and
Python example of that section runs, in order, against a live server (`uvicorn asgi:app`, as
`make run` serves it) on a fresh store, with the fake Claude behind it (issue 19.9).

The store holds what the README says a person has made by then: an admin with a token, the
Prompt lab template the examples name ("Summarise item") and, made after it so it comes first
in the newest-first list, the enrich walk-through's row template ("Classify comment"). The
operators' block (`python -m services.cli …`) is not an API example and is not run: it would
revoke the token the later examples use. The README's code runs in child processes (bash with
real curl and jq; python), never in this one; only the address and the token are filled in.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from services.access import api_tokens
from services.prompts import templates
from services.prompts.templates import OutputField, TemplateDraft
from services.store.db import dispose_engines
from tests.factories import make_admin
from tests.fakes.claude_server import FakeClaude

ROOT = Path(__file__).resolve().parents[2]
SECTION = "REST API for scripts and notebooks"
README_URL = "http://127.0.0.1:8501"
README_TOKEN = "rdk_…"
SALES_CSV = "region,amount\nNorth,120\nSouth,80\nNorth,40\nEast,95\n"


def section_examples() -> list[tuple[str, str]]:
    """(language, code) of every bash and python code fence in the section, in order."""
    tokens = MarkdownIt().parse((ROOT / "README.md").read_text(encoding="utf-8"))
    inside, found = False, []
    for number, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            inside = tokens[number + 1].content == SECTION
        elif inside and token.type == "fence" and token.info in ("bash", "python"):
            found.append((token.info, token.content))
    return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_api(data_dir: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    admin = make_admin()
    secret = api_tokens.create_token(admin, "readme").secret
    templates.create_template(admin, TemplateDraft(
        name="Summarise item", model="claude-haiku-4-5", max_tokens=200,
        body="Summarise this research question in one sentence: {title}. {description}"))
    templates.create_template(admin, TemplateDraft(
        name="Classify comment", model="claude-haiku-4-5", max_tokens=200,
        body="Classify this customer comment: {comment}", output_fields=[
            OutputField(name="category", type="category",
                        choices=["price", "delivery", "praise", "other"]),
            OutputField(name="reason")]))
    dispose_engines()  # the server process opens the store next
    with FakeClaude() as fake:
        port = _free_port()
        env = {**os.environ, "ANTHROPIC_API_KEY": "sk-test-fake",
               "ANTHROPIC_BASE_URL": fake.base_url}
        log = (tmp_path / "server.log").open("w")
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "asgi:app", "--host", "127.0.0.1",
             "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/api/v1/health", timeout=2):
                        break
                except OSError:
                    assert time.monotonic() < deadline and server.poll() is None, (
                        (tmp_path / "server.log").read_text())
                    time.sleep(0.2)
            yield url, secret
        finally:
            server.terminate()
            server.wait(timeout=15)
            log.close()


def _filled_in(code: str, url: str, secret: str) -> str:
    return code.replace(README_URL, url).replace(README_TOKEN, secret)


def test_every_rest_api_example_runs_in_order_on_a_fresh_store(
        live_api: tuple[str, str], tmp_path: Path) -> None:
    url, secret = live_api
    work = tmp_path / "work"
    work.mkdir()
    (work / "sales.csv").write_text(SALES_CSV, encoding="utf-8")
    examples = section_examples()
    assert [language for language, _ in examples] == [
        "bash", "bash", "python", "bash", "python"]
    assert examples[0][1].startswith("python -m services.cli create-admin")  # not run
    outputs = []
    for language, code in examples[1:]:
        code = _filled_in(code, url, secret)
        if language == "bash":
            # set -e with curl failing on an HTTP error: a refused request stops the example
            command = ["bash", "-c", "set -eo pipefail\n"
                       "curl() { command curl --fail-with-body \"$@\"; }\n" + code]
        else:
            command = [sys.executable, "-c", code]
        # RD_TOKEN as the first curl example exports it in the reader's shell
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "PYTHONPATH": "", "RD_TOKEN": secret})
        assert done.returncode == 0, f"{language} example failed:\n{code}\n{done.stderr}"
        outputs.append(done.stdout)
    uploaded, first_python, runs, second_python = outputs
    assert '"name":"Sales 2024"' in uploaded
    assert "region" in first_python and "amount" in first_python
    assert re.search(r'"status":\s*"succeeded"', runs)
    assert "succeeded" in second_python and (work / "results.csv").exists()
    assert "Which region sold most?" in (work / "results.csv").read_text(encoding="utf-8")
