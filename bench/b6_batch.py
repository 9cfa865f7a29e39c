"""B6: 200 prompts at concurrency 8 through the job runner (the same path as a batch started
on the Prompt lab page: units in the metadata store, each result saved as it arrives, usage
recorded, budget checked) against the fake Messages API with 250 ms latency and 10 % of
requests refused with 429 + retry-after. Targets: wall ≤ 1.3 × the ideal 200 / 8 × 0.25 s =
6.25 s; no result lost or stored twice; every unit in a final state."""

import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PROMPTS = 200
CONCURRENCY = 8
LATENCY_S = 0.25
FAIL_RATE = 0.10
RETRY_AFTER_S = 0.1
TARGET_RATIO = 1.3
ENV = {"ANTHROPIC_API_KEY": "sk-bench", "RESEARCH_DESK_CLAUDE_MAX_RETRIES": "5",
       "RESEARCH_DESK_BCRYPT_ROUNDS": "4"}


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    from services import settings
    from services.claude import client as claude
    from services.store.db import dispose_engines

    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    settings.reset_settings_cache()
    claude.reset_clients()
    dispose_engines()
    try:
        yield
    finally:
        dispose_engines()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        settings.reset_settings_cache()
        claude.reset_clients()


def _batch() -> tuple[int, float]:
    """Creates the job (not timed), then times it from submit to the last saved result."""
    from services.access import users
    from services.access.permissions import Role
    from services.access.users import NewUser
    from services.claude import wiring
    from services.prompts import jobs, runner, templates
    from services.prompts.sources import UnitInput
    from services.prompts.templates import TemplateDraft

    wiring.install()
    admin = users.create_first_admin(NewUser(username="bench", name="Bench",
                                             password="orange-kettle-42", role=Role.ADMIN))
    template = templates.create_template(admin, TemplateDraft(
        name="B6", body="Summarise <<{title}>>.", model="claude-haiku-4-5", max_tokens=50))
    units = [UnitInput(key=f"item:{n}", label=f"Item {n}", values={"title": f"Item {n}"})
             for n in range(PROMPTS)]
    job = jobs.create_job("bench", kind="batch", title="B6", template_id=template.id,
                          template_version=1, model="claude-haiku-4-5",
                          concurrency=CONCURRENCY, source={}, units=units, estimated_cost=0)
    thread_runner = runner.ThreadRunner()
    started = time.perf_counter()
    thread_runner.submit(job.id)
    if not thread_runner.wait(job.id, timeout=300):
        raise RuntimeError("the batch did not finish within 5 minutes")
    return job.id, time.perf_counter() - started


def run(work_dir: Path) -> dict[str, dict]:
    from services.prompts import jobs
    from services.store.db import session_scope
    from services.store.models import JobUnit
    from tests.fakes.claude_server import FakeClaude

    ideal = PROMPTS / CONCURRENCY * LATENCY_S
    with FakeClaude(latency=LATENCY_S) as fake, _environment({
            **ENV, "ANTHROPIC_BASE_URL": fake.base_url,
            "RESEARCH_DESK_DATA_DIR": str(work_dir / "data"),
            "RESEARCH_DESK_SECRETS_FILE": str(work_dir / "no-secrets.toml")}):
        fake.script([{"text": "A short summary."}])
        fake.fail_fraction(FAIL_RATE, 429, retry_after=RETRY_AFTER_S, seed=6)
        job_id, wall = _batch()
        answered = Counter(re.search(r"<<(.+?)>>", r["body"]["messages"][0]["content"])
                           .group(1) for r in fake.message_requests if not r["refused"])
        refused = sum(1 for r in fake.message_requests if r["refused"])
        with session_scope() as session:
            statuses = Counter(u.status for u in session.query(JobUnit)
                               .filter(JobUnit.job_id == job_id))
        final = jobs.outcome_sentence(job_id)
    lost = PROMPTS - statuses["succeeded"]
    duplicated = sum(count - 1 for count in answered.values() if count > 1)
    unfinished = sum(n for s, n in statuses.items() if s not in ("succeeded", "failed"))
    ratio = wall / ideal
    ok = ratio <= TARGET_RATIO and lost == 0 and duplicated == 0 and unfinished == 0
    detail = (f"through the job runner: wall {wall:.2f} s vs ideal {ideal:.2f} s; {refused} "
              f"requests got 429 and were retried; {final[:-1]}; {lost} lost, {duplicated} "
              f"duplicated, {unfinished} not in a final state")
    return {
        "B6 batch wall / ideal": {"value": ratio, "target": TARGET_RATIO, "unit": "×",
                                  "ok": ok, "detail": detail},
        "B6 lost results": {"value": float(lost + duplicated), "target": 0.0,
                            "unit": "results", "ok": lost == 0 and duplicated == 0,
                            "detail": f"{PROMPTS} prompts: {lost} lost, {duplicated} stored "
                                      "twice"},
    }
