"""The REST API: a FastAPI app mounted at /api beside the Streamlit UI (see asgi.py).

Documents: /api/openapi.json, interactive docs at /api/docs. Every endpoint lives under /v1.
"""

from fastapi import APIRouter, FastAPI
from fastapi.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from services.api import problems, routes_ask, routes_datasets, routes_research
from services.api.schemas import Health

API_VERSION = "1"
MAX_JSON_BYTES = 1024 * 1024

DESCRIPTION = """Research Desk for scripts and notebooks: the same data, rules and roles as
the app. Send a personal API token (Account page → API tokens) as
`Authorization: Bearer rdk_…`. Errors are `application/problem+json` (RFC 9457) with a
one-sentence `detail`."""

health_router = APIRouter(tags=["health"])


@health_router.get("/health", summary="Is the API up?", response_model=Health)
def health() -> Health:
    """For load balancers: no token needed, no secrets or versions of anything else."""
    return Health(api_version=API_VERSION)


class JsonSizeLimit:
    """Refuse a JSON body over 1 MB (413) before FastAPI reads it; uploads go elsewhere."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        length = headers.get(b"content-length", b"")
        if kind.endswith(b"json") and length.isdigit() and int(length) > MAX_JSON_BYTES:
            response = problems.problem(413, "The request body is over 1 MB; send less.")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def create_api() -> FastAPI:
    api = FastAPI(
        title="Research Desk API", version=API_VERSION, description=DESCRIPTION,
        docs_url="/docs", redoc_url=None, openapi_url="/openapi.json",
        middleware=[Middleware(JsonSizeLimit)],
    )
    problems.install(api)
    v1 = APIRouter(prefix="/v1")
    v1.include_router(health_router)
    v1.include_router(routes_datasets.router)
    v1.include_router(routes_ask.router)
    v1.include_router(routes_research.router)
    api.include_router(v1)
    return api
