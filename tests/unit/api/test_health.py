"""Health that tells the truth (issue 20): the store, the data folder, the background runner
and the queue; 503 while the store or the data folder cannot be used; details for admins
only; an upload into a read-only data folder refused in one sentence, nothing half-saved."""

import io
from pathlib import Path

import pytest

from services.data import datasets, uploads
from services.errors import StorageUnavailable
from services.prompts.runner import ThreadRunner
from services.settings import get_settings, reset_settings_cache
from services.store.db import dispose_engines
from tests.unit.api.conftest import CSV, Api, People, problem_of
from tests.unwritable import keep_store_outside, unwritable

EVERY_PART_OK = {"store": "ok", "data_folder": "ok", "runner": "ok", "queue": "not_configured"}


@pytest.fixture
def store_outside(tmp_path: Path, migrated_store: Path,
                  monkeypatch: pytest.MonkeyPatch) -> None:
    keep_store_outside(tmp_path / "store", migrated_store, monkeypatch)


def test_every_part_ok_is_200_and_anonymous_callers_see_only_statuses(
        api: Api, people: People, data_dir: Path) -> None:
    for address in ("/v1/health", "/v1/health/ready"):
        response = api.get(address)
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "api_version": "1", "parts": EVERY_PART_OK}
        assert str(data_dir) not in response.text and "MB" not in response.text
    details = api.get("/v1/health/details", token=people.token(people.admin))
    assert details.status_code == 200
    parts = details.json()["parts"]
    assert {name: part["status"] for name, part in parts.items()} == EVERY_PART_OK
    assert parts["data_folder"]["free_mb"] > 0
    assert "MB free" in parts["data_folder"]["sentence"]
    assert str(data_dir) not in details.text
    problem_of(api.get("/v1/health/details"), 401)
    problem_of(api.get("/v1/health/details", token=people.token(people.analyst)), 403)


def test_low_free_space_is_a_warning_not_a_refusal(
        api: Api, people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_LOW_SPACE_MB", str(10**12))  # more than any disk has
    reset_settings_cache()
    response = api.get("/v1/health/ready")
    assert response.status_code == 200
    assert response.json()["parts"]["data_folder"] == "warning"
    details = api.get("/v1/health/details", token=people.token(people.admin)).json()
    assert "nearly full" in details["parts"]["data_folder"]["sentence"]


def test_a_read_only_data_folder_is_503(api: Api, store_outside: None,
                                        data_dir: Path) -> None:
    assert api.get("/v1/health").status_code == 200  # the store opens, the folder is made
    with unwritable(data_dir):
        for address in ("/v1/health", "/v1/health/ready"):
            response = api.get(address)
            assert response.status_code == 503
            body = response.json()
            assert body["status"] == "unavailable"
            assert body["parts"]["data_folder"] == "down" and body["parts"]["store"] == "ok"
    assert api.get("/v1/health/ready").status_code == 200  # writable again: ready again


def test_an_unreachable_store_is_503(api: Api, data_dir: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_DATABASE_URL", "postgresql+psycopg://u@127.0.0.1:1/x")
    reset_settings_cache()
    dispose_engines()
    for address in ("/v1/health", "/v1/health/ready"):
        response = api.get(address)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "unavailable"
        assert body["parts"]["store"] == "down" and body["parts"]["data_folder"] == "ok"
        assert "127.0.0.1" not in response.text and "postgresql" not in response.text


def test_an_upload_into_a_read_only_data_folder_is_refused_in_one_sentence(
        api: Api, store_outside: None, people: People, data_dir: Path) -> None:
    files = {"file": ("penguins.csv", CSV.encode(), "text/csv")}
    token = people.token(people.analyst)
    with unwritable(data_dir):
        response = api.post("/v1/datasets", token=token, files=files)
        assert problem_of(response, 503) == uploads.MSG_NOT_WRITABLE
        assert not get_settings().uploads_dir.exists()  # nothing half-saved
    assert datasets.list_datasets(people.analyst) == []
    assert api.post("/v1/datasets", token=token, files=files).status_code == 201


def test_a_read_only_uploads_folder_refuses_the_page_upload_too(store_outside: None,
                                                                 data_dir: Path) -> None:
    uploads_dir = get_settings().uploads_dir
    uploads_dir.mkdir(parents=True)
    with unwritable(uploads_dir), pytest.raises(StorageUnavailable) as refused:
        uploads.save_upload(io.BytesIO(CSV.encode()), "penguins.csv", len(CSV))
    assert str(refused.value) == uploads.MSG_NOT_WRITABLE
    assert list(uploads_dir.iterdir()) == []


def test_a_read_only_datasets_folder_refuses_the_new_dataset_and_keeps_no_upload(
        api: Api, store_outside: None, people: People) -> None:
    settings = get_settings()
    settings.datasets_dir.mkdir(parents=True)
    files = {"file": ("penguins.csv", CSV.encode(), "text/csv")}
    with unwritable(settings.datasets_dir):
        assert api.get("/v1/health/ready").status_code == 503
        response = api.post("/v1/datasets", token=people.token(people.analyst), files=files)
        assert problem_of(response, 503) == uploads.MSG_NOT_WRITABLE
        assert list(settings.datasets_dir.iterdir()) == []
    assert list(settings.uploads_dir.iterdir()) == []  # the received file went too
    assert datasets.list_datasets(people.analyst) == []


def test_a_runner_that_cannot_start_work_is_a_warning_not_a_refusal(
        api: Api, people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    assert ThreadRunner().can_start_thread(5.0)  # the real probe: a thread starts and ends
    monkeypatch.setattr(ThreadRunner, "can_start_thread", lambda self, timeout_s: False)
    response = api.get("/v1/health/ready")
    assert response.status_code == 200  # people can still sign in, open and upload
    assert response.json()["parts"]["runner"] == "warning"
    details = api.get("/v1/health/details", token=people.token(people.admin)).json()
    assert "cannot start work" in details["parts"]["runner"]["sentence"]
