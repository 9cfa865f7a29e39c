"""The Celery app: with `RESEARCH_DESK_REDIS_URL` set, Prompt lab batches and enrichments run
on workers started with `make worker`
(`celery --app services.prompts.worker worker --loglevel INFO --concurrency 2`), each with
the same settings as the app servers (store, data folder, Claude key).

One task runs one whole job (`runner.execute_job` with its own claim). Its message is
acknowledged only when the task ends (`task_acks_late`), and a worker child that dies
mid-task hands its message back to the queue (`task_reject_on_worker_lost`), so a killed
worker's job is taken up again; only calls in flight are sent twice, as on a resume. A
redelivered task usually finds the dead runner's heartbeat still fresh and cannot claim
the job yet: it tries again once the heartbeat has gone stale (else the job would wait
for a person to press Resume). A Message Batch is looked at in short tasks, each queueing
the next one, instead of one task waiting hours for the batch to end.

Redis keeps no results (`task_ignore_result`): everything a page shows is in the store.
"""

import logging
from typing import Any

import redis
from celery import Celery, Task, signals
from kombu.exceptions import OperationalError

from services.claude import wiring
from services.prompts import jobs, message_batches, runner
from services.prompts.message_batches import Polling
from services.settings import get_settings

log = logging.getLogger(__name__)

EXECUTE = "research_desk.execute_job"
POLL = "research_desk.poll_message_batch"
# Redis hands an unacknowledged message to another worker after this long. A task is one
# whole job (up to 10,000 calls, each up to RESEARCH_DESK_CLAUDE_DEADLINE_S), so it must be
# far above the longest job: below it, a job still running would be delivered a second time
# (harmless, the copy cannot claim it, but wasted). A job whose whole worker died does not
# wait this long: every app server's resume loop hands it to a worker once its heartbeat
# is stale (RESEARCH_DESK_JOB_STALE_S); a dead worker child's message comes back at once.
VISIBILITY_TIMEOUT_S = 24 * 3600
PING_TIMEOUT_S = 1.0
REDIS_TIMEOUT_S = 2.0


def make_app(url: str) -> Celery:
    """A Celery app on the Redis at `url` with the settings every job relies on."""
    celery = Celery("research_desk", broker=url, set_as_current=False)
    celery.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker takes a job only when it has a free slot
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S,
                                  "socket_connect_timeout": REDIS_TIMEOUT_S},
        # A page that starts a batch while Redis is down must not hang: the job is in the
        # store, and the resume loop sends it again once Redis is back.
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2,
                                   "interval_step": 0.5, "interval_max": 1.0},
    )
    return celery


app = make_app(get_settings().redis_url)


def _poll_every_s() -> float:
    """Each look beats the job's heartbeat, so looks come faster than it goes stale."""
    return min(message_batches.POLL_S, jobs.beat_every_s())


def _look_again(job_id: int, token: str) -> runner.OnWaiting:
    def enqueue(polling: Polling) -> None:
        poll_message_batch.apply_async((job_id, token, polling.model_dump()),
                                       countdown=_poll_every_s())
    return enqueue


@app.task(bind=True, name=EXECUTE, max_retries=None)
def execute_job(self: Task, job_id: int) -> None:
    token = jobs.runner_token()
    with runner.failed_on_surprise(job_id, token):
        if runner.execute_job(job_id, token, on_waiting=_look_again(job_id, token)):
            return
    if not jobs.is_unfinished(jobs.find(job_id)):
        return  # done or cancelled: nothing left to do
    # Another runner's heartbeat is fresh: it may be alive, or a worker child that just
    # died (this is its message, redelivered). Look again once a dead one's beat is stale.
    log.info("Job %s is held by another runner; trying again after the stale interval.",
             job_id)
    raise self.retry(countdown=jobs.stale_after_s() + 1)


@app.task(name=POLL)
def poll_message_batch(job_id: int, token: str, polling: dict[str, Any]) -> None:
    with runner.failed_on_surprise(job_id, token):
        runner.poll_message_batch(job_id, token, Polling.model_validate(polling),
                                  _look_again(job_id, token))


@signals.worker_init.connect
def _at_worker_start(**_: Any) -> None:
    settings = get_settings()
    if not settings.redis_url:
        raise SystemExit("RESEARCH_DESK_REDIS_URL is not set: a worker takes its jobs from "
                         "Redis. Set it (and the app servers' other settings) and start "
                         "the worker again.")
    if not settings.database_url or settings.database_url.startswith("duckdb"):
        raise SystemExit("A worker needs the store the app servers share "
                         "(RESEARCH_DESK_DATABASE_URL, PostgreSQL): the embedded DuckDB file "
                         "can be opened by one process only.")
    wiring.install()  # every call recorded and budgets kept, as in the app


@signals.worker_process_init.connect
def _in_each_worker_process(**_: Any) -> None:
    wiring.install()


class CeleryRunner:
    """The runner when Redis is configured: `submit` queues the job for a worker. A job
    the queue cannot take now stays queued in the store: resume loops send it again."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.app = make_app(url)

    def submit(self, job_id: int) -> None:
        try:
            self.app.send_task(EXECUTE, args=(job_id,))
        except OperationalError:
            log.warning("Job %s could not be queued (Redis unreachable); it is sent again "
                        "once Redis answers.", job_id)

    def is_active(self, job_id: int) -> bool:
        return jobs.has_live_runner(job_id)

    def queue_answers(self) -> bool:
        client = redis.Redis.from_url(self.url, socket_timeout=REDIS_TIMEOUT_S,
                                      socket_connect_timeout=REDIS_TIMEOUT_S)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def workers_answering(self, timeout_s: float = PING_TIMEOUT_S) -> int:
        try:
            return len(self.app.control.ping(timeout=timeout_s) or [])
        except OperationalError:
            return 0

    def close(self) -> None:
        self.app.close()
