"""The job model: long work kept in the metadata store, so leaving the page, refreshing,
signing out or restarting the app loses nothing.

A job is queued, running, done, failed or cancelled; its units are pending, running,
succeeded, failed or cancelled. A unit's key is unique within its job and a result is written
only over a unit that has not yet succeeded, so nothing is stored twice. A running job whose
runner has gone (its process died, or its heartbeat stopped) is *interrupted*: it can be
resumed, and only units without a result are sent again.

Several servers may share the store (PostgreSQL), so everything two runners could decide at
once is one conditional statement: a claim takes a job only if nobody runs it or its
heartbeat is older than `RESEARCH_DESK_JOB_STALE_S`; a heartbeat refreshes the job only for
the runner that owns it and tells a runner that lost it to stop; any server hands stale jobs
back to the queue (`requeue_stale`, run by the runner's resume loop), so a crashed server's
batch finishes elsewhere by itself; and an enrichment's last step (its new dataset version)
is taken by one runner only (`begin_finishing`).

A job holds its maximum cost against its owner's budget from the moment it is created
(`services.claude.holds`): each unit's result gives back that unit's maximum in the same
transaction that records its real usage, and finishing gives back the rest.
"""

import os
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    CursorResult,
    DateTime,
    Integer,
    Table,
    column,
    func,
    insert,
    or_,
    select,
    update,
    values,
)
from sqlalchemy import cast as cast_
from sqlalchemy.sql.expression import ColumnClause

from services.access.permissions import Role
from services.access.users import UserView
from services.claude import holds, usage
from services.claude.client import CallUsage
from services.errors import BudgetExceeded, Conflict, InvalidInput, NotFound
from services.prompts.calls import CallResult
from services.prompts.sources import UnitInput
from services.settings import get_settings
from services.store.db import session_scope
from services.store.models import Job, JobUnit, Run, utcnow

JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
# "finishing": an enrichment making its new version (one runner only, see `begin_finishing`)
ACTIVE = ("queued", "running", "finishing")
HEARTBEAT_S = 5.0
MAX_ERROR_CHARS = 2_000

_jobs = cast(Table, Job.__table__)


class ClaimLost(Exception):  # noqa: N818 - a signal between runner functions, never shown
    """This runner's job was taken over by another runner (or finished by a person): it
    stops without writing the job's status."""


class Beat(BaseModel):
    owned: bool  # False: another runner has the job now, or it was finished meanwhile
    cancel_requested: bool


class JobView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    owner: str
    title: str
    template_id: int | None
    template_version: int | None
    model: str
    status: str
    concurrency: int
    source: dict[str, Any]
    total_units: int
    estimated_cost: float
    unit_max_tokens: int | None = 0
    cancel_requested: bool
    runner_token: str
    heartbeat_at: datetime | None
    external_id: str
    message: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class UnitView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    job_id: int
    unit_key: str
    position: int
    label: str
    inputs: dict[str, Any]
    status: str
    output: str | None
    fields: dict[str, Any] | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_estimate: float
    latency_ms: float
    attempts: int
    error: str | None
    started_at: datetime | None
    finished_at: datetime | None


class Progress(BaseModel):
    job: JobView
    done: int
    failed: int
    cancelled: int
    remaining: int
    spend: float
    elapsed_s: float
    eta_s: float | None
    is_interrupted: bool

    @property
    def fraction(self) -> float:
        total = self.job.total_units or 1
        return min(1.0, (self.done + self.failed) / total)


def _changed(result: object) -> bool:
    return isinstance(result, CursorResult) and result.rowcount > 0


# --- the runner's side -----------------------------------------------------------------

def stale_after_s() -> float:
    return float(get_settings().job_stale_s)


def beat_every_s() -> float:
    """Several beats fit in the stale interval, so one slow write does not lose a job."""
    return min(HEARTBEAT_S, stale_after_s() / 4)


def runner_token() -> str:
    """Names one run of a job: host and pid (so a restart on the same host sees a dead
    runner) and a random part, so two runs in one process never pass for each other."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _stale_before(now: datetime) -> datetime:
    return now - timedelta(seconds=stale_after_s())


def _host_and_pid(token: str) -> tuple[str, str]:
    host, _, rest = token.partition(":")
    return host, rest.partition(":")[0]


def _dead_here(token: str) -> bool:
    """The token names a process on this host that no longer exists."""
    host, pid = _host_and_pid(token)
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    return False


def _runner_is_gone(job: Job | JobView, now: datetime) -> bool:
    if job.status == "queued":  # nobody picked it up (the app stopped before it could)
        waiting_since = job.heartbeat_at or job.created_at
        return waiting_since < _stale_before(now)
    if job.status not in ("running", "finishing"):
        return False
    if _host_and_pid(job.runner_token) == (socket.gethostname(), str(os.getpid())):
        return False  # ours: the in-process runner says whether it is still working
    if _dead_here(job.runner_token):
        return True
    beat = job.heartbeat_at or job.started_at or job.created_at
    return beat < _stale_before(now)


def find(job_id: int) -> JobView | None:
    """A job as its runner sees it (no person asking: runners act for the job's owner)."""
    with session_scope() as session:
        job = session.get(Job, job_id)
        return None if job is None else JobView.model_validate(job)


def is_unfinished(job: JobView | None) -> bool:
    return job is not None and job.status in ACTIVE


def has_live_runner(job_id: int) -> bool:
    """Some runner, here or on another server, is working on the job now."""
    job = find(job_id)
    return job is not None and job.status in ACTIVE and not _runner_is_gone(job, utcnow())


def create_job(owner: str, *, kind: str, title: str, template_id: int | None,
               template_version: int | None, model: str, concurrency: int,
               source: dict[str, Any], units: list[UnitInput],
               estimated_cost: float, unit_max_tokens: int = 0,
               what: str = "This batch") -> JobView:
    """Stores the job and its units and holds its maximum (`estimated_cost`, and
    `unit_max_tokens` per unit) against the owner's budget, in one transaction: a job the
    budget cannot cover raises `BudgetExceeded` (saying `what` could cost) and is not kept."""
    if not units:
        raise InvalidInput("There is nothing to run: choose at least one item or row.")
    keys = [u.key for u in units]
    if len(set(keys)) != len(keys):
        raise InvalidInput("The same item or row was chosen twice; choose each once.")
    with session_scope(write=True) as session:
        job = Job(kind=kind, owner=owner, title=title[:300], template_id=template_id,
                  template_version=template_version, model=model, status="queued",
                  concurrency=concurrency, source=source, total_units=len(units),
                  estimated_cost=estimated_cost, unit_max_tokens=unit_max_tokens,
                  cancel_requested=False, runner_token="", external_id="", message="",
                  created_at=utcnow())
        session.add(job)
        session.flush()
        holds.reserve(session, owner, units=len(units), unit_cost=estimated_cost / len(units),
                      unit_tokens=unit_max_tokens, what=what, job_id=job.id)
        session.execute(insert(JobUnit), [
            {"job_id": job.id, "unit_key": u.key, "position": n, "label": u.label[:300],
             "inputs": u.values, "status": "pending", "input_tokens": 0, "output_tokens": 0,
             "cache_read_tokens": 0, "cache_write_tokens": 0, "cost_estimate": 0.0,
             "latency_ms": 0.0, "attempts": 0}
            for n, u in enumerate(units)])
        return JobView.model_validate(job)


def claim(job_id: int, token: str) -> JobView | None:
    """Marks a queued (or interrupted) job as running for this runner, in one conditional
    UPDATE, so of two runners claiming at once exactly one gets it; None if it is not
    runnable (finished, cancelled, or another live runner has it)."""
    now = utcnow()
    with session_scope(write=True) as session:
        won = session.execute(
            update(_jobs).where(_jobs.c.id == job_id, _jobs.c.status.in_(ACTIVE),
                                or_(_jobs.c.runner_token == "",
                                    _jobs.c.heartbeat_at.is_(None),
                                    _jobs.c.heartbeat_at < _stale_before(now)))
            .values(status="running", runner_token=token, heartbeat_at=now,
                    started_at=func.coalesce(_jobs.c.started_at, now), finished_at=None)
            .returning(_jobs.c.id)).first()
        if won is None:
            return None
        job = session.get(Job, job_id)
        assert job is not None  # the UPDATE just found it
        if job.cancel_requested:
            _finish(session, job, "cancelled", "Cancelled before it started.")
            return None
        # A unit left "running" by a runner that died has no result: it goes again.
        session.execute(update(JobUnit).where(JobUnit.job_id == job_id,
                                              JobUnit.status == "running")
                        .values(status="pending"))
        session.flush()
        return JobView.model_validate(job)


def requeue_stale() -> list[int]:
    """Hands every job whose runner is gone back to the queue, each in one conditional
    UPDATE (of several servers doing this at once, one takes each job), with its budget hold
    renewed for what is left to send; a job the budget no longer covers stops, saying so.
    Returns the jobs requeued: the caller's runner should take them now."""
    now = utcnow()
    beat = func.coalesce(_jobs.c.heartbeat_at, _jobs.c.created_at)
    with session_scope() as session:
        candidates = session.execute(
            select(_jobs.c.id, _jobs.c.runner_token, beat < _stale_before(now)).where(
                _jobs.c.status.in_(ACTIVE),
                or_(beat < _stale_before(now),
                    _jobs.c.runner_token.like(f"{socket.gethostname()}:%")))).all()
    requeued = []
    for job_id, token, is_stale in candidates:
        dead = token if token and _dead_here(token) else None
        if dead is None and not is_stale:
            continue  # a live runner of this host
        try:
            if _requeue(job_id, dead):
                requeued.append(job_id)
        except BudgetExceeded as error:
            _stop_stale(job_id, dead, f"Stopped: {error}")
    return requeued


def _stale(now: datetime, dead_token: str | None) -> Any:
    """SQL: the job's runner is gone (its heartbeat is old, or it is a dead process here)."""
    beat_is_old = func.coalesce(_jobs.c.heartbeat_at, _jobs.c.created_at) < _stale_before(now)
    if dead_token is None:
        return beat_is_old
    return or_(beat_is_old, _jobs.c.runner_token == dead_token)


def _requeue(job_id: int, dead_token: str | None) -> bool:
    now = utcnow()
    with session_scope(write=True) as session:
        won = session.execute(
            update(_jobs).where(_jobs.c.id == job_id, _jobs.c.status.in_(ACTIVE),
                                _stale(now, dead_token))
            .values(status="queued", runner_token="", heartbeat_at=now)
            .returning(_jobs.c.id)).first()
        if won is None:
            return False
        session.execute(update(JobUnit).where(JobUnit.job_id == job_id,
                                              JobUnit.status == "running")
                        .values(status="pending"))
        job = session.get(Job, job_id)
        assert job is not None
        _hold_again(session, job)  # BudgetExceeded undoes the whole requeue
        return True


def _stop_stale(job_id: int, dead_token: str | None, message: str) -> None:
    with session_scope(write=True) as session:
        won = session.execute(
            update(_jobs).where(_jobs.c.id == job_id, _jobs.c.status.in_(ACTIVE),
                                _stale(utcnow(), dead_token))
            .values(runner_token="").returning(_jobs.c.id)).first()
        job = session.get(Job, job_id) if won is not None else None
        if job is not None:
            _finish(session, job, "cancelled", message)


def pending_units(job_id: int) -> list[UnitView]:
    with session_scope() as session:
        rows = session.scalars(select(JobUnit).where(JobUnit.job_id == job_id,
                                                     JobUnit.status == "pending")
                               .order_by(JobUnit.position))
        return [UnitView.model_validate(r) for r in rows]


def save_result(unit_id: int, result: CallResult) -> bool:
    """Writes a unit's result the moment it arrives; False if it already had one."""
    with session_scope(write=True) as session:
        done = session.execute(
            update(JobUnit).where(JobUnit.id == unit_id,
                                  JobUnit.status.notin_(("succeeded", "failed", "cancelled")))
            .values(**_result_values(result)))
        return _changed(done)


def save_results(job_id: int, results: list[tuple[int, CallResult]],
                 usages: list[CallUsage]) -> None:
    """Results and their calls' usage (`runs` rows, counted against the budget) in one
    transaction, each kind as one prepared statement run for every row; each unit that gets
    its result gives back its maximum from the job's budget hold. A unit that already has a
    result keeps it (and gives nothing back twice)."""
    if not results and not usages:
        return
    units = cast(Table, JobUnit.__table__)
    with session_scope(write=True) as session:
        connection = session.connection()  # Core statements: one prepared statement each
        if usages:
            connection.execute(insert(cast(Table, Run.__table__)),
                               [_row_values(usage.usage_row(u)) for u in usages])
            holds.add_spent(session, usages)
        if results:
            written = connection.execute(_results_update(units, results)).all()
            holds.release(session, job_id=job_id, units=len(written))


def _results_update(units: Table, results: list[tuple[int, CallResult]]) -> Any:
    """One UPDATE … FROM (VALUES …) for every result: DuckDB runs it as one statement,
    where a prepared statement per row costs about 10 ms each."""
    columns: list[ColumnClause[Any]] = [column("unit_id", Integer),
                                        column("new_attempts", Integer),
                                        column("new_finished_at", DateTime)]
    columns += [column(f"new_{k}", units.c[k].type) for k in _PLAIN_FIELDS]
    rows = []
    for unit_id, result in results:
        fields = _result_values(result)
        rows.append((unit_id, max(1, result.attempts), utcnow(),
                     *[fields[k] for k in _PLAIN_FIELDS]))
    incoming = values(*columns, name="incoming").data(rows)
    changes = {k: cast_(incoming.c[f"new_{k}"], units.c[k].type) for k in _PLAIN_FIELDS}
    return (update(units)
            .where(units.c.id == incoming.c.unit_id,
                   or_(units.c.status == "pending", units.c.status == "running"))
            .values({**changes, "attempts": units.c.attempts + incoming.c.new_attempts,
                     "finished_at": incoming.c.new_finished_at})
            .returning(units.c.id))


_PLAIN_FIELDS = ("status", "output", "fields", "input_tokens", "output_tokens",
                 "cache_read_tokens", "cache_write_tokens", "cost_estimate", "latency_ms",
                 "error")


def _row_values(row: Run) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in Run.__table__.columns if c.key != "id"}


def _result_values(result: CallResult) -> dict[str, Any]:
    return {"status": result.status, "output": result.output, "fields": result.fields,
            "input_tokens": result.input_tokens, "output_tokens": result.output_tokens,
            "cache_read_tokens": result.cache_read_tokens,
            "cache_write_tokens": result.cache_write_tokens,
            "cost_estimate": result.cost_estimate, "latency_ms": result.latency_ms,
            "attempts": JobUnit.attempts + max(1, result.attempts),
            "error": (result.error or "")[:MAX_ERROR_CHARS] or None, "finished_at": utcnow()}


def heartbeat(job_id: int, token: str) -> Beat:
    """Refreshes the heartbeat, only while this runner owns the job (one conditional
    UPDATE); says whether it still does and whether cancelling was asked for."""
    with session_scope(write=True) as session:
        row = session.execute(
            update(_jobs).where(_jobs.c.id == job_id, _jobs.c.runner_token == token,
                                _jobs.c.status.in_(("running", "finishing")))
            .values(heartbeat_at=utcnow()).returning(_jobs.c.cancel_requested)).first()
    if row is None:
        return Beat(owned=False, cancel_requested=False)
    return Beat(owned=True, cancel_requested=bool(row[0]))


@contextmanager
def keep_beating(job_id: int, token: str) -> Iterator[None]:
    """Beats the heartbeat on a thread while a long last step runs, so no other server
    thinks the job lost its runner."""
    done = threading.Event()

    def beat() -> None:
        while not done.wait(beat_every_s()):
            heartbeat(job_id, token)

    thread = threading.Thread(target=beat, daemon=True, name=f"job-{job_id}-beat")
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def begin_finishing(job_id: int, token: str) -> bool:
    """Takes the job's last step (an enrichment's new version) for this runner: one
    conditional UPDATE, so of two runners that both finished, only one makes it."""
    with session_scope(write=True) as session:
        won = session.execute(
            update(_jobs).where(_jobs.c.id == job_id, _jobs.c.status == "running",
                                _jobs.c.runner_token == token)
            .values(status="finishing", heartbeat_at=utcnow())
            .returning(_jobs.c.id)).first()
    return won is not None


def finish(job_id: int, status: JobStatus, message: str = "", *,
           token: str | None = None) -> bool:
    """Ends the job; with `token`, only if that runner still owns it (a runner that lost it
    leaves it to the one that has it). Returns whether the job was ended."""
    with session_scope(write=True) as session:
        if token is not None:
            owned = session.execute(
                update(_jobs).where(_jobs.c.id == job_id, _jobs.c.runner_token == token,
                                    _jobs.c.status.in_(("running", "finishing")))
                .values(runner_token="").returning(_jobs.c.id)).first()
            if owned is None:
                return False
        job = session.get(Job, job_id)
        if job is None:
            return False
        _finish(session, job, status, message)
        return True


def _finish(session: Any, job: Job, status: str, message: str) -> None:
    if status == "cancelled":
        session.execute(update(JobUnit).where(JobUnit.job_id == job.id,
                                              JobUnit.status == "pending")
                        .values(status="cancelled"))
    job.status = status
    job.message = message
    job.finished_at = utcnow()
    job.runner_token = ""
    holds.release(session, job_id=job.id)


def outcome_sentence(job_id: int) -> str:
    with session_scope() as session:
        counts = Counter(dict(session.execute(
            select(JobUnit.status, func.count()).where(JobUnit.job_id == job_id)
            .group_by(JobUnit.status)).all()))
    sentence = f"{counts['succeeded']:,} succeeded"
    if counts["failed"]:
        sentence += f", {counts['failed']:,} failed (you can retry the failed ones)"
    return sentence + "."


def set_external_id(job_id: int, external_id: str) -> None:
    with session_scope(write=True) as session:
        job = session.get(Job, job_id)
        if job is not None:
            job.external_id = external_id


# --- people's side ---------------------------------------------------------------------

def _load(session: Any, actor: UserView, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None or (job.owner != actor.username and actor.role != Role.ADMIN):
        raise NotFound("That batch does not exist or is not yours.")
    return job


def get_job(actor: UserView, job_id: int) -> JobView:
    with session_scope() as session:
        return JobView.model_validate(_load(session, actor, job_id))


def list_jobs(actor: UserView, *, limit: int = 50) -> list[JobView]:
    with session_scope() as session:
        rows = session.scalars(select(Job).where(Job.owner == actor.username)
                               .order_by(Job.id.desc()).limit(limit))
        return [JobView.model_validate(r) for r in rows]


def request_cancel(actor: UserView, job_id: int) -> JobView:
    """Asks the runner to stop: calls under way finish and are saved, no new ones start. An
    interrupted job (no live runner) is cancelled at once."""
    with session_scope(write=True) as session:
        job = _load(session, actor, job_id)
        if job.status not in ACTIVE:
            raise Conflict("This batch has already finished, so there is nothing to cancel.")
        job.cancel_requested = True
        if job.status == "queued" or _runner_is_gone(job, utcnow()):
            _finish(session, job, "cancelled", "Cancelled.")
        session.flush()
        return JobView.model_validate(job)


def reopen(actor: UserView, job_id: int, *, failed_too: bool) -> JobView:
    """Queues a finished or interrupted job again: units without a result (and, with
    `failed_too`, the failed ones) will be sent; succeeded units never are."""
    with session_scope(write=True) as session:
        job = _load(session, actor, job_id)
        if job.status == "running" and not _runner_is_gone(job, utcnow()):
            raise Conflict("This batch is still running.")
        statuses = ["pending", "cancelled", "running"] + (["failed"] if failed_too else [])
        again = session.execute(
            update(JobUnit).where(JobUnit.job_id == job_id, JobUnit.status.in_(statuses))
            .values(status="pending", error=None))
        if not _changed(again) and job.status != "running":
            raise InvalidInput("Every unit of this batch already has its result; nothing to "
                               "run again.")
        _hold_again(session, job)
        job.status = "queued"
        job.runner_token = ""  # nobody runs it now: the next claim takes it at once
        if failed_too:  # failed units go in a new Message Batch, not the one that failed them
            job.external_id = ""
        job.cancel_requested = False
        job.message = ""
        job.finished_at = None
        job.heartbeat_at = utcnow()
        session.flush()
        return JobView.model_validate(job)


def _hold_again(session: Any, job: Job) -> None:
    """A reopened job gives back what it held (its runner may have died holding it) and
    holds the maximum of the units it will send now; `BudgetExceeded` leaves it as it was."""
    holds.release(session, job_id=job.id)
    pending = int(session.scalar(select(func.count()).where(JobUnit.job_id == job.id,
                                                            JobUnit.status == "pending")) or 0)
    if pending:
        holds.reserve(session, job.owner, units=pending,
                      unit_cost=job.estimated_cost / max(1, job.total_units),
                      unit_tokens=int(job.unit_max_tokens or 0),
                      what="Running the rest of this batch", job_id=job.id)


def progress(actor: UserView, job_id: int) -> Progress:
    with session_scope() as session:
        job = _load(session, actor, job_id)
        counts = Counter(dict(session.execute(
            select(JobUnit.status, func.count()).where(JobUnit.job_id == job_id)
            .group_by(JobUnit.status)).all()))
        spend = float(session.scalar(
            select(func.coalesce(func.sum(JobUnit.cost_estimate), 0.0))
            .where(JobUnit.job_id == job_id)) or 0.0)
        view = JobView.model_validate(job)
    now = utcnow()
    end = view.finished_at or now
    elapsed = (end - view.started_at).total_seconds() if view.started_at else 0.0
    finished = counts["succeeded"] + counts["failed"]
    remaining = counts["pending"] + counts["running"]
    eta = None
    if view.status == "running" and finished and remaining:
        eta = elapsed / finished * remaining
    return Progress(job=view, done=counts["succeeded"], failed=counts["failed"],
                    cancelled=counts["cancelled"], remaining=remaining, spend=spend,
                    elapsed_s=max(0.0, elapsed), eta_s=eta,
                    is_interrupted=view.status in ACTIVE and _runner_is_gone(view, now))


def list_units(actor: UserView, job_id: int, *, status: str | None = None) -> list[UnitView]:
    with session_scope() as session:
        _load(session, actor, job_id)
        statement = select(JobUnit).where(JobUnit.job_id == job_id).order_by(JobUnit.position)
        if status:
            statement = statement.where(JobUnit.status == status)
        return [UnitView.model_validate(r) for r in session.scalars(statement)]


def interrupted_jobs(actor: UserView) -> list[JobView]:
    now = utcnow()
    return [j for j in list_jobs(actor) if j.status in ACTIVE and _runner_is_gone(j, now)]
