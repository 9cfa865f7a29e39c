"""B6: 200 prompts at concurrency 8 through services.claude.client against the fake Messages API
(250 ms latency, 10 % of requests refused with 429 + retry-after). Target: wall ≤ 1.3 × the
ideal 200 / 8 × 0.25 s = 6.25 s, and no result lost."""

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from services import settings
from services.claude import client as claude
from services.errors import ResearchDeskError
from tests.fakes.claude_server import FakeClaude

PROMPTS = 200
CONCURRENCY = 8
LATENCY_S = 0.25
FAIL_RATE = 0.10
RETRY_AFTER_S = 0.1
TARGET_RATIO = 1.3


@contextmanager
def _aimed_at(fake: FakeClaude) -> Iterator[None]:
    overrides = {"ANTHROPIC_API_KEY": "sk-bench", "ANTHROPIC_BASE_URL": fake.base_url,
                 "RESEARCH_DESK_CLAUDE_MAX_RETRIES": "5",
                 "RESEARCH_DESK_SECRETS_FILE": "/nonexistent/secrets.toml"}
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    settings.reset_settings_cache()
    claude.reset_clients()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        settings.reset_settings_cache()
        claude.reset_clients()


def _one(index: int) -> str | None:
    try:
        return claude.complete_text([{"role": "user", "content": f"Summarise item {index}."}],
                                    system="Be brief.", feature="bench.b6", user="bench")
    except ResearchDeskError:
        return None


def run(work_dir: Path) -> dict[str, dict]:
    ideal = PROMPTS / CONCURRENCY * LATENCY_S
    with FakeClaude(latency=LATENCY_S) as fake, _aimed_at(fake):
        fake.script([{"text": "A short summary."}])
        fake.fail_fraction(FAIL_RATE, 429, retry_after=RETRY_AFTER_S, seed=6)
        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            results = list(pool.map(_one, range(PROMPTS)))
        wall = time.perf_counter() - started
        refused = sum(1 for r in fake.message_requests if r["body"] is not None) - PROMPTS
    lost = sum(1 for r in results if r is None)
    ratio = wall / ideal
    detail = (f"wall {wall:.2f} s vs ideal {ideal:.2f} s; {refused} requests got 429 and were "
              f"retried; {lost} lost")
    return {
        "B6 batch wall / ideal": {"value": ratio, "target": TARGET_RATIO, "unit": "×",
                                  "ok": ratio <= TARGET_RATIO and lost == 0, "detail": detail},
        "B6 lost results": {"value": float(lost), "target": 0.0, "unit": "results",
                            "ok": lost == 0, "detail": f"{PROMPTS} prompts"},
    }
