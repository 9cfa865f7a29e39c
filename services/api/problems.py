"""Errors as `application/problem+json` (RFC 9457), with the app's own sentences.

Every `ResearchDeskError` already carries a sentence written for people; it becomes `detail`.
Anything unexpected is logged with a reference id and answered with a short apology, never a
stack trace.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from services import errors
from services.logs import report_unexpected

PROBLEM_TYPE = "application/problem+json"

class RateLimited(errors.ResearchDeskError):
    """Too many requests from one person or, without a valid token, from one address; the
    sentence names which, and `retry_after_s` becomes the Retry-After header."""

    def __init__(self, retry_after_s: int, sentence: str) -> None:
        super().__init__(sentence)
        self.retry_after_s = retry_after_s


# Most specific first: the first class an error is an instance of decides.
STATUS_OF: list[tuple[type[errors.ResearchDeskError], int]] = [
    (RateLimited, 429),
    (errors.TooLarge, 413),
    (errors.AuthenticationFailed, 401),
    (errors.PermissionDenied, 403),
    (errors.BudgetExceeded, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.InvalidInput, 422),
    (errors.UnsafeQuery, 422),
    (errors.QueryTimeout, 422),
    (errors.QueryFailed, 422),
    (errors.ClaudeUnavailable, 503),
    (errors.StorageUnavailable, 503),
    (errors.SourceUnavailable, 503),
]

TITLES = {
    401: "Not signed in", 403: "Not allowed", 404: "Not found", 405: "Method not allowed",
    409: "Conflict", 413: "Too large", 422: "Invalid input", 429: "Too many requests",
    500: "Something went wrong", 503: "Unavailable",
}

MSG_NO_TOKEN = ("Send your API token in the Authorization header (Authorization: Bearer "
                "rdk_…). Create one on your Account page.")
MSG_BAD_BODY = "The request body could not be read as JSON; nothing was changed."


class Problem(BaseModel):
    """An error, as RFC 9457 describes it; `detail` is one sentence written for people."""

    type: str = Field(default="about:blank", examples=["about:blank"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["This dataset does not exist or is not shared with you."])
    instance: str | None = Field(default=None, examples=["/api/v1/datasets/17"])


def problem(status: int, detail: str, *, request: Request | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(title=TITLES.get(status, "Error"), status=status, detail=detail,
                   instance=str(request.url.path) if request is not None else None)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers,
                        media_type=PROBLEM_TYPE)


def status_of(error: errors.ResearchDeskError) -> int:
    return next((code for kind, code in STATUS_OF if isinstance(error, kind)), 422)


def _response(status: int, description: str) -> dict[str, Any]:
    return {"description": description, "model": Problem,
            "content": {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _response(401, "No valid API token in the Authorization header (missing, "
                        "malformed, expired or revoked), or a token in the address."),
    403: _response(403, "The token's role may not do this."),
    404: _response(404, "It does not exist or is not shared with you."),
    413: _response(413, "The request body is over its size limit; nothing was read."),
    422: _response(422, "The input is not valid; nothing was changed."),
    429: _response(429, "Too many requests from this person (all their tokens together) or, "
                        "without a valid token, from this address; see Retry-After."),
}
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: _response(413, "The upload is over the size limit; nothing was kept."),
}
SOURCE_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: _response(503, "The data source's database cannot be reached or refused us just "
                        "now; nothing was changed."),
}
CLAUDE_RESPONSES: dict[int | str, dict[str, Any]] = {
    503: _response(503, "Claude is not configured or not reachable."),
}


def install(app: FastAPI) -> None:
    """Every error the API can give, as problem+json."""

    @app.exception_handler(errors.ResearchDeskError)
    async def _known(request: Request, error: errors.ResearchDeskError) -> JSONResponse:
        headers = ({"Retry-After": str(error.retry_after_s)}
                   if isinstance(error, RateLimited) else None)
        return problem(status_of(error), str(error), request=request, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return problem(422, validation_sentence(error.errors()), request=request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:  # a body FastAPI could not parse (e.g. nested too deep)
            return problem(422, MSG_BAD_BODY, request=request)
        detail = error.detail if isinstance(error.detail, str) else "That did not work."
        if error.status_code == 404:
            detail = "There is nothing at this address. See /api/docs for what is."
        if error.status_code == 405:
            detail = "This address does not take that kind of request. See /api/docs."
        return problem(error.status_code, detail, request=request,
                       headers=getattr(error, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        reference = report_unexpected(error, where=f"api {request.url.path}")
        return problem(500, "Sorry, something went wrong on our side. If it keeps happening, "
                            f"give an admin this reference: {reference}.", request=request)


def validation_sentence(problems: Any) -> str:
    """One sentence for the first thing wrong, naming the field as the request spells it."""
    items = list(problems or [])
    if not items:
        return "The input is not valid; nothing was changed."
    first = items[0]
    where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body",))
    kind = str(first.get("type", ""))
    message = str(first.get("msg", "is not valid")).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return f"“{where}” is not a field this request takes; nothing was changed."
    if kind == "missing":
        return f"“{where}” is required; nothing was changed."
    if kind == "json_invalid":
        return MSG_BAD_BODY
    field = f"“{where}”: " if where else ""
    return f"{field}{message.rstrip('.')}; nothing was changed."
