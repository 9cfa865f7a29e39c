"""Runs jobs. `JobRunner` is the interface pages and services use; `ThreadRunner` (the
default) runs each job on threads inside the app process. Everything a job needs is in the
metadata store and `execute_job(job_id, token)` is the whole of the work, so with
`RESEARCH_DESK_REDIS_URL` set `get_runner` gives the Celery runner instead (in
services/prompts/worker.py): its `submit` sends `execute_job` as a task to a worker.

A job's controller keeps at most `concurrency` calls in flight, saves each result with its
usage the moment it arrives (so a crash loses only the calls still in flight, and a resume
sends only those again), beats a heartbeat, and between calls looks at the cancel flag and
the owner's budget: cancelling lets calls under way finish (and saves them); a budget
reached stops the job cleanly with the remaining units kept for later. A failed unit never
fails the job. The job's maximum is held against the budget when it is created (see
`jobs`), so its calls need no hold of their own.

A heartbeat that finds another runner owns the job stops this one: calls under way finish
and are saved, no new ones start, and the job's status is left to its owner. Each server
runs one resume loop (`start_resume_loop`, at start-up): on start and every few seconds it
hands jobs whose runner is gone back to the queue and runs them, so a batch whose server
died finishes elsewhere without anyone pressing Resume.

The store may stop answering for a moment (a PostgreSQL restart, a failover): results and
usage that could not be written are kept in memory and written once it answers again, beats
are tried again at the next tick, and a job is never called done while a unit still waits
for its result.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from services.access.users import UserView
from services.claude import caching, usage
from services.claude import client as claude
from services.claude.client import CallUsage
from services.errors import BudgetExceeded, NotFound, ResearchDeskError, StorageUnavailable
from services.prompts import calls, jobs, message_batches, templates
from services.prompts.calls import CallResult
from services.prompts.jobs import UnitView
from services.prompts.message_batches import Polling
from services.settings import get_settings

log = logging.getLogger(__name__)

FEATURES = {"batch": "prompt.batch", "enrich": "prompt.enrich"}
MAX_CONCURRENCY = 16
TICK_S = 0.2  # how often the writer thread beats the heartbeat and looks at the budget
CANCEL_CHECK_S = 0.5  # a person's cancel reaches the runner within this (it rides the beat)
RESUME_EVERY_S = 30.0  # at most; never more than a third of the stale interval
BUDGET_EVERY_S = 1.0
STORE_DOWN = (SQLAlchemyError, StorageUnavailable)  # the store did not answer this time
UNSAVED_KEPT_S = 600.0  # results waiting for the store are kept this long, then given up
ROUNDS = 3  # units left without a saved result are sent again at most this often
MSG_UNSAVED = ("Some results could not be saved because the metadata store did not answer. "
               "Resume the batch to carry on; the results that were saved are kept.")
UNEXPECTED = "Something went wrong on our side with this one; retry it."
STOPPED_UNEXPECTEDLY = ("The batch stopped because of an unexpected error. Resume it to carry "
                        "on; finished results are kept.")


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

    def running_jobs(self) -> int:
        with self._lock:
            return sum(1 for thread in self._active.values() if thread.is_alive())

    def can_start_thread(self, timeout_s: float) -> bool:
        """For the health check: a thread starts and finishes, as each job's would."""
        done = threading.Event()
        try:
            threading.Thread(target=done.set, daemon=True, name="runner-health").start()
        except RuntimeError:  # the process may start no more threads
            return False
        return done.wait(timeout_s)

    def wait(self, job_id: int, timeout: float | None = None) -> bool:
        """For tests and benchmarks: blocks until the job's controller ends."""
        with self._lock:
            thread = self._active.get(job_id)
        if thread is None:
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def _run(self, job_id: int) -> None:
        token = jobs.runner_token()
        with failed_on_surprise(job_id, token):
            execute_job(job_id, token)


@contextmanager
def failed_on_surprise(job_id: int, token: str) -> Iterator[None]:
    """An unexpected error marks the job failed (resumable) instead of leaving it running."""
    try:
        yield
    except STORE_DOWN:  # its heartbeat goes stale and a resume loop carries it on
        log.exception("Job %s stopped: the metadata store did not answer.", job_id)
    except Exception:  # the job is marked failed; the app (or worker) goes on
        log.exception("Job %s stopped unexpectedly.", job_id)
        try:
            jobs.finish(job_id, "failed", STOPPED_UNEXPECTEDLY, token=token)
        except STORE_DOWN:
            log.exception("Job %s could not be marked failed.", job_id)


_runner: JobRunner = ThreadRunner()
_queue_lock = threading.Lock()
_queue_runners: dict[str, JobRunner] = {}


def get_runner() -> JobRunner:
    """The Celery runner when RESEARCH_DESK_REDIS_URL is set, the in-process one otherwise."""
    url = get_settings().redis_url
    if not url:
        return _runner
    with _queue_lock:
        if url not in _queue_runners:
            from services.prompts.worker import CeleryRunner  # noqa: PLC0415 - worker imports us

            _queue_runners[url] = CeleryRunner(url)
        return _queue_runners[url]


def set_runner(runner: JobRunner) -> None:
    """Where a deployment plugs in another runner (e.g. Celery) at start-up."""
    global _runner
    _runner = runner


OnWaiting = Callable[[Polling], None]


def execute_job(job_id: int, token: str, *, on_waiting: OnWaiting | None = None) -> bool:
    """The whole work of one job; safe to call again after a crash (only units without a
    result are sent), and from several servers at once (one claims the job). False when it
    could not be claimed (finished, cancelled, or another runner's heartbeat is fresh).

    With `on_waiting` (a Celery worker), a Message Batch is looked at once and `on_waiting`
    gets where it stands, to look again later, instead of this thread waiting hours for it."""
    job = jobs.claim(job_id, token)
    if job is None:
        return False
    try:
        _execute(job, token, on_waiting)
    except jobs.ClaimLost:  # another runner has the job now; it finishes it
        log.info("Job %s was taken over by another runner; this one stopped.", job_id)
    return True


def poll_message_batch(job_id: int, token: str, polling: Polling,
                       on_waiting: OnWaiting) -> None:
    """One short look at a job's Message Batch for the runner that claimed it; a job that
    was finished or taken over meanwhile ends here quietly."""
    job = jobs.find(job_id)
    if job is None or job.runner_token != token or job.status != "running":
        return
    prepared = _prepare(job, token)
    if prepared is None:
        return
    try:
        _check_batch(job, *prepared, token, polling, on_waiting)
    except jobs.ClaimLost:
        log.info("Job %s was taken over by another runner; this one stopped.", job_id)


def _prepare(job: jobs.JobView,
             token: str) -> tuple[UserView, templates.TemplateVersionView] | None:
    """The job's owner and template version; None (the job failed, saying why) if gone."""
    if job.template_id is None:
        jobs.finish(job.id, "failed", "This batch has no prompt template.", token=token)
        return None
    from services.access.users import get_user  # noqa: PLC0415 - avoid an import cycle

    person = get_user(job.owner)
    if person is None:
        jobs.finish(job.id, "failed", "The account that started this batch no longer exists.",
                    token=token)
        return None
    try:
        version = templates.get_version(person, job.template_id, job.template_version)
    except NotFound as error:
        jobs.finish(job.id, "failed", str(error), token=token)
        return None
    return person, version


def _execute(job: jobs.JobView, token: str, on_waiting: OnWaiting | None) -> None:
    prepared = _prepare(job, token)
    if prepared is None:
        return
    person, version = prepared
    feature = FEATURES.get(job.kind, "prompt.batch")
    if job.kind == "message_batch" or job.source.get("message_batches"):
        if on_waiting is not None:
            _check_batch(job, person, version, token, Polling(), on_waiting)
            return
        stop = message_batches.run(job, version, token, feature)
    else:
        stop = _run_units(job, version, feature, token)
    _conclude(job, person, version, token, stop)


def _check_batch(job: jobs.JobView, person: UserView, version: templates.TemplateVersionView,
                 token: str, polling: Polling, on_waiting: OnWaiting) -> None:
    step = message_batches.check(job, version, token, polling,
                                 FEATURES.get(job.kind, "prompt.batch"))
    if isinstance(step, Polling):
        on_waiting(step)
        return
    _conclude(job, person, version, token, step)


def _conclude(job: jobs.JobView, person: UserView, version: templates.TemplateVersionView,
              token: str, stop: tuple[jobs.JobStatus, str] | None) -> None:
    job_id = job.id
    if stop is not None:
        status, message = stop
        jobs.finish(job_id, status, message, token=token)
        return
    complete_job(job, person, version, token)


def _run_units(job: jobs.JobView, version: templates.TemplateVersionView, feature: str,
               token: str) -> tuple[jobs.JobStatus, str] | None:
    """Sends every unit without a result. Units whose results could not be saved (the store
    was down too long) are still without one: they go again, a few rounds at most."""
    for _ in range(ROUNDS):
        pending = jobs.pending_units(job.id)
        if not pending:
            return None
        stop = _Controller(job, version, feature, token).run(pending)
        if stop is not None:
            return stop
    return ("failed", MSG_UNSAVED) if jobs.pending_units(job.id) else None


def complete_job(job: jobs.JobView, person: UserView,
                 version: templates.TemplateVersionView, token: str) -> None:
    """The last step once every unit has its result. An enrichment's new version is made by
    one runner only: the one whose atomic step to "finishing" succeeds."""
    if job.kind != "enrich":
        jobs.finish(job.id, "done", jobs.outcome_sentence(job.id), token=token)
        return
    from services.prompts import enrich  # noqa: PLC0415 - enrich starts jobs here

    if not jobs.begin_finishing(job.id, token):
        return  # another runner has it (or a person ended it): it is theirs to finish
    with jobs.keep_beating(job.id, token):
        message = enrich.complete(job, person, version)
    jobs.finish(job.id, "done", message, token=token)


# --- the resume loop -----------------------------------------------------------------------

def resume_stale_jobs() -> list[int]:
    """Takes every job whose runner is gone (a crashed or stopped server) and runs it here."""
    requeued = jobs.requeue_stale()
    for job_id in requeued:
        log.info("Job %s lost its runner; carrying it on here.", job_id)
        get_runner().submit(job_id)
    return requeued


class ResumeLoop:
    """A daemon thread calling `resume_stale_jobs` now and then every `every_s`."""

    def __init__(self, every_s: float) -> None:
        self.every_s = every_s
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True, name="job-resume")

    def _loop(self) -> None:
        while True:
            try:
                resume_stale_jobs()
            except Exception:  # the store may be briefly unreachable: try again later
                log.exception("Looking for jobs to resume failed.")
            if self.stopped.wait(self.every_s):
                return

    def stop(self) -> None:
        global _resume_loop
        self.stopped.set()
        self.thread.join()
        with _resume_lock:
            if _resume_loop is self:
                _resume_loop = None


_resume_lock = threading.Lock()
_resume_loop: ResumeLoop | None = None


def start_resume_loop() -> ResumeLoop:
    """Starts this process's resume loop, once (later calls return the running one)."""
    global _resume_loop
    with _resume_lock:
        if _resume_loop is None:
            _resume_loop = ResumeLoop(min(RESUME_EVERY_S, jobs.stale_after_s() / 3))
            _resume_loop.thread.start()
        return _resume_loop


class _Controller:
    """Dispatches a job's units, at most `concurrency` at once. Each worker writes its call's
    result and usage (one transaction) as soon as the answer arrives: what Claude was paid
    for is recorded before anything else happens. A writer thread beats the heartbeat and
    looks at the owner's budget once a second, so the dispatching loop never waits for the
    store: it only reads the flags the writer sets. For a person with a budget each call is
    also checked against what is already spent just before it is sent."""

    def __init__(self, job: jobs.JobView, version: templates.TemplateVersionView,
                 feature: str, token: str) -> None:
        self.job = job
        self.version = version
        self.feature = feature
        self.token = token
        self.last_beat = 0.0
        self.last_budget = time.monotonic()  # the budget was just read (is_budgeted below)
        self.cancelled = False
        self.lost = False  # another runner owns the job now
        self.budget_error: str | None = None
        self.lock = threading.Lock()
        self.write_lock = threading.Lock()
        self.results: list[tuple[int, CallResult]] = []
        self.usages: list[CallUsage] = []
        self.finished = threading.Event()
        self.store_warned = 0.0
        self.is_budgeted = usage.get_budget(job.owner).is_limited
        self.long_run = False  # set per round: its units outlast a 5-minute cache entry

    # -- the writer thread --

    def write_loop(self) -> None:
        while not self.finished.wait(TICK_S):
            self.try_to(self.beat)
            self.try_to(self.check_budget)
            self.try_to(self.flush)  # what the store refused earlier
        give_up = time.monotonic() + UNSAVED_KEPT_S
        while not self.try_to(self.flush) and time.monotonic() < give_up:
            time.sleep(TICK_S)

    def try_to(self, step: Callable[[], None]) -> bool:
        """Runs one step that needs the store; False (said in the log now and then) when the
        store did not answer: the step is tried again at the next tick."""
        try:
            step()
        except STORE_DOWN as error:
            now = time.monotonic()
            if now - self.store_warned > 10:
                self.store_warned = now
                log.warning("Job %s: the metadata store did not answer (%s); trying again.",
                            self.job.id, type(error).__name__)
            return False
        return True

    def beat(self) -> None:
        now = time.monotonic()
        if now - self.last_beat < min(jobs.beat_every_s(), CANCEL_CHECK_S):
            return
        self.last_beat = now
        beat = jobs.heartbeat(self.job.id, self.token)
        self.lost = self.lost or not beat.owned
        self.cancelled = beat.cancel_requested or self.cancelled

    def flush(self) -> None:
        with self.write_lock:
            with self.lock:
                results, self.results = self.results, []
                usages, self.usages = self.usages, []
            sink = claude.usage_sink()
            try:
                jobs.save_results(self.job.id, results,
                                  usages if sink is usage.record_usage else [])
            except STORE_DOWN:
                with self.lock:  # kept for the next try: nothing paid for is forgotten
                    self.results[:0] = results
                    self.usages[:0] = usages
                raise
            if sink is not None and sink is not usage.record_usage:
                for used in usages:
                    sink(used)

    # -- the dispatching loop --

    def check_budget(self) -> None:
        """The owner's budget, looked at once a second on the writer thread (a budget an
        admin sets mid-run stops the job; for a person with a budget each call is also
        checked in `call` just before it is sent)."""
        now = time.monotonic()
        if now - self.last_budget < BUDGET_EVERY_S:
            return
        self.last_budget = now
        try:
            usage.check_budget(self.job.owner)
        except BudgetExceeded as error:
            self.budget_error = str(error)

    def stop_reason(self) -> tuple[jobs.JobStatus, str] | None:
        if self.budget_error is not None:
            return ("cancelled", f"Stopped: {self.budget_error}")
        if self.cancelled:
            return ("cancelled", "Cancelled. Results that arrived are kept.")
        return None

    def run(self, units: list[UnitView]) -> tuple[jobs.JobStatus, str] | None:
        concurrency = max(1, min(MAX_CONCURRENCY, self.job.concurrency))
        self.long_run = caching.runs_long(len(units), concurrency)
        # A cached prefix can be read only once a call has written it: the first unit goes
        # alone, the others follow and read it instead of each writing it again.
        warm_up = calls.caches(self.version, self.job.model or None)
        in_flight: set[Future[None]] = set()
        stop: tuple[jobs.JobStatus, str] | None = None
        writer = threading.Thread(target=self.write_loop, daemon=True,
                                  name=f"job-{self.job.id}-writer")
        writer.start()
        try:
            with ThreadPoolExecutor(concurrency,
                                    thread_name_prefix=f"job-{self.job.id}") as pool:
                for unit in units:
                    while len(in_flight) >= concurrency:
                        _, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                    stop = self.stop_reason()
                    if stop is not None or self.lost:
                        break
                    in_flight.add(pool.submit(self.call, unit))
                    if warm_up:
                        warm_up = False
                        _, in_flight = wait(in_flight)
                wait(in_flight)
        finally:
            self.finished.set()
            writer.join()
        if self.lost:
            raise jobs.ClaimLost
        return stop or self.stop_reason() if self.budget_error else stop

    def call(self, unit: UnitView) -> None:
        seen: list[CallUsage] = []
        try:
            if self.is_budgeted:  # real use can outrun the estimate the job holds
                usage.check_budget(self.job.owner)
            with claude.sink_deferred(budget_checked=True):
                result = calls.run_prompt(self.job.owner, self.version,
                                          {k: str(v) for k, v in unit.inputs.items()},
                                          feature=self.feature, model=self.job.model or None,
                                          seen=seen, long_run=self.long_run)
        except BudgetExceeded as error:
            self.budget_error = str(error)  # not sent: the unit stays pending for later
            return
        except ResearchDeskError as error:
            result = CallResult(status="failed", model=self.job.model, error=str(error))
        except Exception:  # one unit's surprise must not stop the others
            log.exception("Unit %s of job %s failed unexpectedly.", unit.id, self.job.id)
            result = CallResult(status="failed", model=self.job.model, error=UNEXPECTED)
        with self.lock:
            self.results.append((unit.id, result))
            self.usages.extend(seen)
        self.try_to(self.flush)  # if the store does not answer, the writer thread tries again
