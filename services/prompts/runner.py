"""Runs jobs. `JobRunner` is the interface pages and services use; `ThreadRunner` (the
default) runs each job on threads inside the app process. Everything a job needs is in the
metadata store and `execute_job(job_id, token)` is the whole of the work, so a Celery worker
on Redis can run the same jobs later: its runner's `submit` sends `execute_job` as a task.

A job's controller keeps at most `concurrency` calls in flight, saves each result the
moment it arrives, beats a heartbeat, and between calls looks at the cancel flag and the
owner's budget: cancelling lets calls under way finish (and saves them); a budget reached
stops the job cleanly with the remaining units kept for later. A failed unit never fails
the job.
"""

import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Protocol

from services.claude import usage
from services.errors import BudgetExceeded, NotFound, ResearchDeskError
from services.prompts import calls, jobs, templates
from services.prompts.calls import CallResult
from services.prompts.jobs import UnitView
from services.store.db import session_scope
from services.store.models import Job

log = logging.getLogger(__name__)

FEATURES = {"batch": "prompt.batch", "enrich": "prompt.enrich"}
MAX_CONCURRENCY = 16
UNEXPECTED = "Something went wrong on our side with this one; retry it."


class JobRunner(Protocol):
    def submit(self, job_id: int) -> None: ...

    def is_active(self, job_id: int) -> bool: ...


class ThreadRunner:
    """One controller thread per job, each with its own pool of `concurrency` workers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[int, threading.Thread] = {}

    def submit(self, job_id: int) -> None:
        with self._lock:
            thread = self._active.get(job_id)
            if thread is not None and thread.is_alive():
                return
            thread = threading.Thread(target=self._run, args=(job_id,), daemon=True,
                                      name=f"job-{job_id}")
            self._active[job_id] = thread
            thread.start()

    def is_active(self, job_id: int) -> bool:
        with self._lock:
            thread = self._active.get(job_id)
            return thread is not None and thread.is_alive()

    def wait(self, job_id: int, timeout: float | None = None) -> bool:
        """For tests and benchmarks: blocks until the job's controller ends."""
        with self._lock:
            thread = self._active.get(job_id)
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self, job_id: int) -> None:
        try:
            execute_job(job_id, jobs.runner_token())
        except Exception:  # the job is marked failed; the app goes on
            log.exception("Job %s stopped unexpectedly.", job_id)
            jobs.finish(job_id, "failed", "The batch stopped because of an unexpected error. "
                        "Resume it to carry on; finished results are kept.")


_runner: JobRunner = ThreadRunner()


def get_runner() -> JobRunner:
    return _runner


def set_runner(runner: JobRunner) -> None:
    """Where a deployment plugs in another runner (e.g. Celery) at start-up."""
    global _runner
    _runner = runner


def execute_job(job_id: int, token: str) -> None:
    """The whole work of one job; safe to call again after a crash (only units without a
    result are sent)."""
    job = jobs.claim(job_id, token)
    if job is None:
        return
    if job.template_id is None:
        jobs.finish(job_id, "failed", "This batch has no prompt template.")
        return
    with session_scope() as session:
        owner = session.get(Job, job_id).owner  # type: ignore[union-attr]
    from services.access.users import get_user  # noqa: PLC0415 - avoid an import cycle

    person = get_user(owner)
    if person is None:
        jobs.finish(job_id, "failed", "The account that started this batch no longer exists.")
        return
    try:
        version = templates.get_version(person, job.template_id, job.template_version)
    except NotFound as error:
        jobs.finish(job_id, "failed", str(error))
        return
    feature = FEATURES.get(job.kind, "prompt.batch")
    stop = _Controller(job, version, feature, token).run(jobs.pending_units(job_id))
    if stop is not None:
        status, message = stop
        jobs.finish(job_id, status, message)
        return
    jobs.finish(job_id, "done", jobs.outcome_sentence(job_id))


class _Controller:
    def __init__(self, job: jobs.JobView, version: templates.TemplateVersionView,
                 feature: str, token: str) -> None:
        self.job = job
        self.version = version
        self.feature = feature
        self.token = token
        self.last_beat = 0.0
        self.cancelled = False
        self.budget_error: str | None = None

    def beat(self) -> None:
        now = time.monotonic()
        if now - self.last_beat < min(jobs.HEARTBEAT_S, 0.5):
            return
        self.last_beat = now
        self.cancelled = jobs.heartbeat(self.job.id, self.token) or self.cancelled

    def run(self, units: list[UnitView]) -> tuple[jobs.JobStatus, str] | None:
        concurrency = max(1, min(MAX_CONCURRENCY, self.job.concurrency))
        in_flight: set[Future[None]] = set()
        stop: tuple[jobs.JobStatus, str] | None = None
        with ThreadPoolExecutor(concurrency, thread_name_prefix=f"job-{self.job.id}") as pool:
            for unit in units:
                while len(in_flight) >= concurrency:
                    _, in_flight = wait(in_flight, timeout=jobs.HEARTBEAT_S,
                                        return_when=FIRST_COMPLETED)
                    self.beat()
                self.beat()
                if self.budget_error is not None:
                    stop = ("cancelled", f"Stopped: {self.budget_error}")
                    break
                if self.cancelled:
                    stop = ("cancelled", "Cancelled. Results that arrived are kept.")
                    break
                try:
                    usage.check_budget(self.job.owner)
                except BudgetExceeded as error:
                    stop = ("cancelled", f"Stopped: {error}")
                    break
                if not jobs.start_unit(unit.id):
                    continue
                in_flight.add(pool.submit(self.call, unit))
            while in_flight:
                _, in_flight = wait(in_flight, timeout=jobs.HEARTBEAT_S,
                                    return_when=FIRST_COMPLETED)
                self.beat()
        if stop is None and self.budget_error is not None:
            stop = ("cancelled", f"Stopped: {self.budget_error}")
        return stop

    def call(self, unit: UnitView) -> None:
        try:
            result = calls.run_prompt(self.job.owner, self.version,
                                      {k: str(v) for k, v in unit.inputs.items()},
                                      feature=self.feature, model=self.job.model or None)
        except BudgetExceeded as error:
            jobs.release_unit(unit.id)
            self.budget_error = str(error)
            return
        except ResearchDeskError as error:
            result = CallResult(status="failed", model=self.job.model, error=str(error))
        except Exception:  # one unit's surprise must not stop the others
            log.exception("Unit %s of job %s failed unexpectedly.", unit.id, self.job.id)
            result = CallResult(status="failed", model=self.job.model, error=UNEXPECTED)
        jobs.save_result(unit.id, result)
