"""The REST API: a FastAPI app mounted at /api beside the Streamlit UI (see asgi.py).

Documents: /api/openapi.json, interactive docs at /api/docs. Every endpoint lives under /v1.
The docs page loads Swagger UI from files shipped in the `fastapi-offline` package (under
/api/docs-assets), not from a CDN, so it works on a machine without internet.
"""

from fastapi import APIRouter, FastAPI, Response
from fastapi.middleware import Middleware
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api import (
    problems,
    routes_ask,
    routes_boards,
    routes_datasets,
    routes_prompts,
    routes_research,
    routes_sources,
    routes_usage,
)
from services.api.auth import HealthCaller
from services.api.problems import COMMON_RESPONSES
from services.api.schemas import Health, HealthDetails, HealthPartOut
from services.ops import health as checks

API_VERSION = "1"
MAX_JSON_BYTES = 1024 * 1024
DOCS_ASSETS_URL = "/docs-assets"  # Swagger UI's script, style sheet and icon

DESCRIPTION = """Research Desk for scripts and notebooks: the same data, rules and roles as
the app. Send a personal API token (Account page → API tokens) as
`Authorization: Bearer rdk_…`. Errors are `application/problem+json` (RFC 9457) with a
one-sentence `detail`."""

health_router = APIRouter(tags=["health"])


HEALTH_RESPONSES: dict[int | str, dict] = {
    503: {"description": "The metadata store or the data folder cannot be used.",
          "model": Health},
}


def _anonymous_health(response: Response) -> Health:
    report = checks.check_all()
    if not report.ready:
        response.status_code = 503
    return Health(status="ok" if report.ready else "unavailable", api_version=API_VERSION,
                  parts=report.statuses())


@health_router.get("/health", summary="Can Research Desk work?", response_model=Health,
                   responses=HEALTH_RESPONSES)
def health(response: Response) -> Health:
    """No token needed: each part's status (store, data folder, background runner, queue),
    and 503 while the store or the data folder cannot be used. No paths, versions of
    anything else, or secrets."""
    return _anonymous_health(response)


@health_router.get("/health/ready", summary="Ready for traffic? (for nginx)",
                   response_model=Health, responses=HEALTH_RESPONSES)
def ready(response: Response) -> Health:
    """The check a proxy or load balancer should use: 200 when ready, 503 when not."""
    return _anonymous_health(response)


@health_router.get("/health/details", summary="Each part in plain words (admins)",
                   response_model=HealthDetails, responses=COMMON_RESPONSES)
def health_details(user: HealthCaller) -> HealthDetails:
    """What the Admin page's Health tab shows: a sentence per part and the free space."""
    report = checks.health_for_admin(user)
    return HealthDetails(
        status="ok" if report.ready else "unavailable",
        parts={name: HealthPartOut.model_validate(part.model_dump())
               for name, part in report.parts.items()})


MSG_BODY_TOO_LARGE = "The request body is over 1 MB; send less."


class JsonSizeLimit:
    """Refuse a request body over 1 MB (413) before FastAPI reads it; uploads (multipart)
    stream to disk under their own limit. A body sent without Content-Length (chunked) is
    read here up to the limit and cut off there, so nothing is processed either way."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if kind == b"multipart/form-data":
            await self.app(scope, receive, send)
            return
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > MAX_JSON_BYTES:
            await problems.problem(413, MSG_BODY_TOO_LARGE)(scope, receive, send)
            return
        received: list[Message] = []
        size = 0
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > MAX_JSON_BYTES:
                await problems.problem(413, MSG_BODY_TOO_LARGE)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return received.pop(0) if received else await receive()

        await self.app(scope, replay, send)


def create_api() -> FastAPI:
    api = FastAPIOffline(
        title="Research Desk API", version=API_VERSION, description=DESCRIPTION,
        docs_url="/docs", redoc_url=None, openapi_url="/openapi.json",
        static_url=DOCS_ASSETS_URL, middleware=[Middleware(JsonSizeLimit)],
    )
    problems.install(api)
    v1 = APIRouter(prefix="/v1")
    v1.include_router(health_router)
    v1.include_router(routes_datasets.router)
    v1.include_router(routes_sources.router)
    v1.include_router(routes_ask.router)
    v1.include_router(routes_research.router)
    v1.include_router(routes_boards.router)
    v1.include_router(routes_prompts.templates_router)
    v1.include_router(routes_prompts.runs_router)
    v1.include_router(routes_prompts.batches_router)
    v1.include_router(routes_usage.router)
    api.include_router(v1)
    return api
