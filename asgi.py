"""One server, two faces: the Streamlit UI and the REST API on one port (`make run`).

    uvicorn asgi:app --host 127.0.0.1 --port 8501

serves the app at /, the API at /api/v1/…, its OpenAPI document at /api/openapi.json and
interactive docs at /api/docs. The metadata store is migrated here, before the server takes
requests (several servers starting at once on one PostgreSQL take turns).
"""

import logging
from pathlib import Path

import streamlit as st
from starlette.routing import Mount

from services.api.app import create_api
from services.claude import wiring as claude_wiring
from services.data.datasets import remove_partial_files
from services.errors import StorageUnavailable
from services.logs import configure_logging
from services.prompts.runner import start_resume_loop
from services.store import db

configure_logging()
try:
    db.migrate()
except StorageUnavailable:  # the app's first page then shows the reason in plain words
    logging.getLogger(__name__).exception("metadata store not ready at start-up")
try:  # half-written files a crash left behind, before any request (not only the first page)
    remove_partial_files()
except OSError:
    logging.getLogger(__name__).exception("could not tidy up the data folder at start-up")
claude_wiring.install()  # the API's Ask records usage and keeps budgets, as the pages do
start_resume_loop()  # batches whose server stopped carry on here, even with no page open

app = st.App(Path(__file__).resolve().parent / "app.py",
             routes=[Mount("/api", app=create_api())])
