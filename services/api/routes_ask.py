"""/v1/ask: a question about datasets in; the answer, its SQL and its rows out.

The same Ask service as the Ask page: it checks the role (analysts and admins) and access to
every dataset before any Claude token is spent, and Claude's SQL only runs through the guard
and the sandbox. With `stream=true` the answer arrives as server-sent events.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from services.access import caller_checks
from services.access.users import UserView
from services.api.auth import Caller
from services.api.problems import CLAUDE_RESPONSES, COMMON_RESPONSES
from services.api.routes_datasets import version_profile
from services.api.schemas import AskIn, AskOut
from services.claude import ask as ask_service
from services.claude import grounded
from services.claude.ask import AskResult, AskTable
from services.claude.ask_tables import short_name
from services.data import datasets
from services.data.sql_names import derive_sql_names
from services.errors import BudgetExceeded, ClaudeUnavailable

router = APIRouter(tags=["ask"], responses=COMMON_RESPONSES | CLAUDE_RESPONSES)

MAX_ROWS_OUT = 1000
SSE_DOC = {"description": "With `stream=true`: server-sent events `result` (the AskOut "
                          "without the answer), `answer` ({\"text\": …} pieces) and `done` "
                          "(the status, and `unchecked_numbers` with `number_check` as in "
                          "AskOut).",
           "content": {"text/event-stream": {"schema": {"type": "string"}}}}


def build_tables(user: UserView, dataset_ids: list[int]) -> list[AskTable]:
    """One table per dataset, in order, named as the Ask page names them
    (`ask_tables.short_name`); 404 for any the caller cannot see (before any work)."""
    caller = caller_checks.require_claude(actor=user)
    picked = [datasets.get_dataset(caller, i) for i in dict.fromkeys(dataset_ids)]
    names = derive_sql_names([short_name(d.name) for d in picked])
    tables = []
    for dataset, sql_name in zip(picked, names, strict=True):
        version = datasets.get_version(caller, dataset.id)
        tables.append(AskTable(sql_name=sql_name, display_name=dataset.name,
                               parquet_path=version.parquet_path, dataset_id=dataset.id,
                               profile=version_profile(Path(version.parquet_path))))
    return tables


def _out(result: AskResult) -> AskOut:
    frame = result.frame
    rows: list[dict[str, Any]] = []
    columns: list[str] = []
    if frame is not None:
        columns = [str(c) for c in frame.columns]
        rows = json.loads(frame.head(MAX_ROWS_OUT).to_json(
            orient="records", date_format="iso", default_handler=str))
    return AskOut(question=result.question, status=result.status, answer=result.answer_text,
                  sql=result.sql, columns=columns, rows=rows, total_rows=result.total_rows,
                  truncated=result.truncated or (frame is not None and len(frame) > MAX_ROWS_OUT),
                  rows_counted=result.rows_counted,
                  chart=result.chart.model_dump() if result.chart else None, error=result.error,
                  **_number_check(result))


def _number_check(result: AskResult, answer: str | None = None) -> dict[str, Any]:
    """The written answer's numbers checked against its rows (services.claude.grounded)."""
    check = grounded.check_result(result, answer)
    if check is None:
        return {}
    return {"unchecked_numbers": [n.text for n in check.flagged],
            "number_check": check.sentence}


def _event(name: str, data: object) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


def _stream(user: UserView, question: str, tables: list[AskTable]) -> Iterator[str]:
    """Plan and run first (event `result`), then the answer as it arrives (`answer`)."""
    try:
        plan = ask_service.plan_query(question, tables, actor=user)
    except (ClaudeUnavailable, BudgetExceeded) as error:
        unavailable = AskResult(question=question, status="unavailable", error=str(error))
        yield _event("result", _out(unavailable).model_dump(mode="json"))
        yield _event("done", {"status": "unavailable"})
        return
    result = ask_service.run_with_repairs(question, plan, tables, actor=user)
    yield _event("result", _out(result).model_dump(mode="json"))
    written: list[str] = []
    try:
        for piece in ask_service.stream_answer(question, result, actor=user):
            written.append(piece)
            yield _event("answer", {"text": piece})
    except (ClaudeUnavailable, BudgetExceeded) as error:
        yield _event("error", {"detail": str(error)})
    yield _event("done", {"status": result.status, **_number_check(result, "".join(written))})


@router.post("/ask", summary="Ask a question about datasets", response_model=AskOut,
             responses={200: SSE_DOC | {"model": AskOut,
                                         "description": "The answer, its SQL and rows."}})
async def ask(user: Caller, body: AskIn) -> Any:
    """Claude writes one read-only SQL query over the datasets, the sandbox runs it, and the
    answer is written from the rows it returned. At most 1,000 rows come back."""
    tables = await run_in_threadpool(build_tables, user, body.dataset_ids)
    if body.stream:
        return StreamingResponse(_stream(user, body.question, tables),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})
    result = await run_in_threadpool(ask_service.ask, body.question, tables, actor=user)
    return _out(result)
