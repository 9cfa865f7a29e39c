"""Health with a job queue (issue 20, RESEARCH_DESK_REDIS_URL set): the queue is Redis
answering, the runner is the number of Celery workers answering a ping; an unreachable
Redis is 503 (nothing new can run), no worker is a warning (jobs wait in the queue)."""

import socket
import time
from pathlib import Path

import pytest

from services.ops import health
from services.prompts import runner
from services.prompts.worker import CeleryRunner
from services.settings import reset_settings_cache
from tests.unit.api.conftest import Api, People


def test_a_reachable_queue_without_workers_is_ready_with_a_warning(
        api: Api, people: People, redis_url: str) -> None:
    assert isinstance(runner.get_runner(), CeleryRunner)
    response = api.get("/v1/health/ready")
    assert response.status_code == 200
    assert response.json()["parts"] == {"store": "ok", "data_folder": "ok",
                                         "runner": "warning", "queue": "ok"}
    details = api.get("/v1/health/details", token=people.token(people.admin)).json()
    assert details["parts"]["queue"]["sentence"] == "The job queue (Redis) answers."
    assert "No worker answers" in details["parts"]["runner"]["sentence"]
    assert "make worker" in details["parts"]["runner"]["sentence"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens there once the probe closes


def test_an_unreachable_queue_is_503_said_plainly_and_quickly(
        api: Api, people: People, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    monkeypatch.setenv("RESEARCH_DESK_REDIS_URL", url)
    reset_settings_cache()
    started = time.monotonic()
    for address in ("/v1/health", "/v1/health/ready"):
        response = api.get(address)
        assert response.status_code == 503
        assert response.json()["parts"]["queue"] == "down"
        assert response.json()["parts"]["store"] == "ok"
        assert url not in response.text
    assert time.monotonic() - started < 30  # a down Redis does not hang the check
    details = api.get("/v1/health/details", token=people.token(people.admin)).json()
    assert "Redis) cannot be reached" in details["parts"]["queue"]["sentence"]
    assert str(port_of(url)) not in details["parts"]["queue"]["sentence"]


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def test_without_redis_the_in_process_runner_is_said(api: Api, people: People) -> None:
    assert isinstance(runner.get_runner(), runner.ThreadRunner)
    details = api.get("/v1/health/details", token=people.token(people.admin)).json()
    assert details["parts"]["queue"]["status"] == "not_configured"
    assert "inside the app process" in details["parts"]["queue"]["sentence"]


@pytest.mark.parametrize(("workers", "sentence"), [
    (1, "1 worker answers and runs the batches and enrichments."),
    (3, "3 workers answer and run the batches and enrichments."),
])
def test_the_workers_answering_are_counted_in_a_grammatical_sentence(
        redis_url: str, monkeypatch: pytest.MonkeyPatch, workers: int, sentence: str) -> None:
    monkeypatch.setattr(CeleryRunner, "workers_answering", lambda self, timeout_s=1.0: workers)
    part = health.check_runner()
    assert (part.status, part.sentence) == ("ok", sentence)
