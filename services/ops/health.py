"""Can Research Desk work right now? One check per part it depends on, each said plainly.

The store answers a `SELECT 1` within a few seconds; the data folder exists, takes a small
file (made and removed again, in it and in the upload and dataset folders it already has)
and has room; the background runner can start a thread, or with Redis configured
(`RESEARCH_DESK_REDIS_URL`) Celery workers answer a ping; the queue (Redis) answers, or is
not configured (jobs run in-process). Research Desk is *ready* while the store, the data
folder and a configured queue work: a runner or disk-space problem is a warning, not a
reason to turn people away.

Anyone may ask for the status of each part (no paths, versions or secrets in it); the
sentences and free space are for admins (`read_health`).
"""

import logging
import shutil
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import text

from services.access.permissions import require
from services.access.users import UserView
from services.prompts.runner import ThreadRunner, get_runner
from services.prompts.worker import CeleryRunner
from services.settings import get_settings
from services.store.db import get_engine

log = logging.getLogger(__name__)

Status = Literal["ok", "warning", "down", "not_configured"]
PART_NAMES = ("store", "data_folder", "runner", "queue")
# Without these nothing can be saved, opened or run ("not_configured" is fine).
READY_NEEDS = ("store", "data_folder", "queue")
STORE_TIMEOUT_S = 3.0
RUNNER_TIMEOUT_S = 2.0
LABELS = {"store": "Metadata store", "data_folder": "Data folder",
          "runner": "Background runner", "queue": "Job queue"}


class PartHealth(BaseModel):
    status: Status
    sentence: str  # plain words for an admin; never a path or a secret
    free_mb: int | None = None  # the data folder's free disk space


class HealthReport(BaseModel):
    ready: bool
    parts: dict[str, PartHealth]

    def statuses(self) -> dict[str, Status]:
        """What anyone may see: each part's status, nothing more."""
        return {name: part.status for name, part in self.parts.items()}


# One store probe at a time: a store that hangs keeps one thread waiting, not one per check.
_probe_lock = threading.Lock()
_probe_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="health-store")
_store_probe: Future[None] | None = None


def _select_one() -> None:
    with get_engine().connect() as connection:
        connection.execute(text("SELECT 1"))


def check_store() -> PartHealth:
    global _store_probe
    with _probe_lock:
        if _store_probe is None or _store_probe.done():
            _store_probe = _probe_pool.submit(_select_one)
        probe = _store_probe
    try:
        probe.result(timeout=STORE_TIMEOUT_S)
    except FutureTimeout:
        return PartHealth(status="down", sentence=(
            f"The metadata store did not answer within {STORE_TIMEOUT_S:g} seconds."))
    except Exception as error:  # any failure to connect or answer means the same to people
        log.warning("health: metadata store unreachable",
                    extra={"error_type": type(error).__name__})
        return PartHealth(status="down", sentence=(
            "The metadata store cannot be reached: nobody can sign in or open their work. "
            "Check that the database is running and RESEARCH_DESK_DATABASE_URL is right."))
    return PartHealth(status="ok", sentence="The metadata store answers.")


def _takes_a_file(folder: Path) -> bool:
    """Really write: permissions, a read-only disk and a full one all show up here."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".health-", delete=True) as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError:
        return False
    return True


def check_data_folder() -> PartHealth:
    settings = get_settings()
    folder = settings.data_dir
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)  # what the first write does
    except OSError:
        pass
    if not folder.is_dir():
        return PartHealth(status="down", sentence=(
            "The data folder does not exist and cannot be made: uploads and new versions "
            "cannot be saved. Check RESEARCH_DESK_DATA_DIR."))
    writable = [settings.uploads_dir, settings.datasets_dir]
    if not all(_takes_a_file(f) for f in (folder, *[f for f in writable if f.is_dir()])):
        return PartHealth(status="down", sentence=(
            "The data folder is not writable: uploads and new versions cannot be saved. "
            "Give the account Research Desk runs as write access to it, or free its disk."))
    free_mb = shutil.disk_usage(folder).free // (1024 * 1024)
    if free_mb < settings.low_space_mb:
        return PartHealth(status="warning", free_mb=free_mb, sentence=(
            f"The data folder's disk is nearly full: {free_mb:,} MB free (a warning below "
            f"{settings.low_space_mb:,} MB). Free some space before uploads start failing."))
    return PartHealth(status="ok", free_mb=free_mb,
                      sentence=f"The data folder is writable, with {free_mb:,} MB free.")


def check_runner() -> PartHealth:
    runner = get_runner()
    if isinstance(runner, CeleryRunner):
        if not runner.queue_answers():  # workers are asked through the queue
            return PartHealth(status="warning", sentence=(
                "The workers cannot be asked while the job queue is unreachable."))
        workers = runner.workers_answering()
        if not workers:
            return PartHealth(status="warning", sentence=(
                "No worker answers: batches and enrichments wait in the queue until one "
                "runs (make worker)."))
        verbs = "answers and runs" if workers == 1 else "answer and run"
        return PartHealth(status="ok", sentence=(
            f"{workers} worker{'' if workers == 1 else 's'} {verbs} the batches and "
            "enrichments."))
    if not isinstance(runner, ThreadRunner):
        return PartHealth(status="ok", sentence="Batches run on a separate worker.")
    if not runner.can_start_thread(RUNNER_TIMEOUT_S):
        return PartHealth(status="warning", sentence=(
            "The background runner cannot start work: batches and enrichments will wait. "
            "Restart Research Desk."))
    running = runner.running_jobs()
    return PartHealth(status="ok", sentence=(
        f"The background runner is alive inside the app ({running} batch"
        f"{'' if running == 1 else 'es'} running)."))


def check_queue() -> PartHealth:
    runner = get_runner()
    if not isinstance(runner, CeleryRunner):
        return PartHealth(status="not_configured", sentence=(
            "No job queue is configured: batches run inside the app process."))
    if not runner.queue_answers():
        return PartHealth(status="down", sentence=(
            "The job queue (Redis) cannot be reached: new batches and enrichments cannot "
            "start. Check that Redis is running and RESEARCH_DESK_REDIS_URL is right."))
    return PartHealth(status="ok", sentence="The job queue (Redis) answers.")


def check_all() -> HealthReport:
    parts = {"store": check_store(), "data_folder": check_data_folder(),
             "runner": check_runner(), "queue": check_queue()}
    ready = all(parts[name].status != "down" for name in READY_NEEDS)
    return HealthReport(ready=ready, parts=parts)


def health_for_admin(actor: UserView) -> HealthReport:
    """Every part with its sentence and the free space; admins only."""
    require(actor.role, "read_health")
    return check_all()
