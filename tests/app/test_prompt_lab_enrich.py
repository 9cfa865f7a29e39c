"""AppTest: enrich a dataset from the Prompt lab (estimate, start, progress, the new version
with an Explore link), the way in from the Dataset page, and bad input that changes nothing."""

import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from services import settings
from services.access.users import UserView
from services.claude import client as claude
from services.data import datasets
from services.prompts import enrich, jobs, message_batches, runner, templates
from services.prompts.templates import OutputField, TemplateDraft
from tests.app.helpers import all_text, button, open_page, sign_in
from tests.factories import make_admin
from tests.fakes.claude_server import FakeClaude, point_claude_at

PAGE = "pages/prompt_lab.py"
TAB = "Enrich a dataset"


@pytest.fixture
def admin() -> UserView:
    return make_admin()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClaude]:
    monkeypatch.setattr(runner, "_runner", runner.ThreadRunner())
    with FakeClaude() as server:
        point_claude_at(server, monkeypatch, max_retries=1)
        yield server
    settings.reset_settings_cache()
    claude.reset_clients()


def _dataset(admin: UserView, tmp_path: Path) -> int:
    path = tmp_path / "comments.csv"
    pd.DataFrame({"comment": ["Too expensive", "Arrived late", "Great", ""]}).to_csv(
        path, index=False)
    view, _ = datasets.create_from_upload(admin, path, original_name="comments.csv")
    return view.id


def _template(admin: UserView, *, shaped: bool = True) -> int:
    fields = [OutputField(name="category", type="category", choices=["price", "delivery",
                                                                     "praise"]),
              OutputField(name="reason")] if shaped else []
    return templates.create_template(admin, TemplateDraft(
        name="Classify", body="Classify: {comment}", model="claude-haiku-4-5",
        max_tokens=100, output_fields=fields)).id


def _lab(dataset_id: int | None = None) -> AppTest:
    at = sign_in("ada")
    if dataset_id is not None:
        at.query_params["enrich"] = str(dataset_id)  # the Dataset page's link
    else:
        at.session_state["lab_tab"] = TAB
    at = open_page(at, PAGE)
    assert not at.exception, at.exception
    return at


def test_enriching_a_dataset_makes_a_new_version_with_an_explore_link(
        admin: UserView, fake: FakeClaude, tmp_path: Path) -> None:
    fake.script([{"tool_use": {"name": "record_answer",
                               "input": {"category": "price", "reason": "About cost."}}}])
    dataset_id = _dataset(admin, tmp_path)
    _template(admin)
    at = _lab(dataset_id)
    assert at.selectbox(key="lab_enrich_dataset").value == dataset_id
    assert at.selectbox(key=f"lab_enrich_col_{dataset_id}_comment").value == "comment"
    button(at, "Estimate cost").click().run()
    assert not at.exception, at.exception
    text = all_text(at)
    assert "0 rows already have results (no cost), 3 will be sent" in text
    assert "1 is empty and will be skipped" in text
    button(at, "Add the columns").click().run()
    assert not at.exception, at.exception
    job = jobs.list_jobs(admin)[0]
    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner) and active.wait(job.id, timeout=30)
    at = _lab()  # leave and come back: the enrichment is there, finished
    text = all_text(at)
    assert "New version 2 with columns “category”, “reason”" in text
    links = [link for link in at.get("page_link") if link.proto.label == "Open in Explore"]
    assert links and f"dataset={dataset_id}" in links[0].proto.query_string
    assert "chart=bar" in links[0].proto.query_string
    assert "x=category" in links[0].proto.query_string
    assert datasets.get_dataset(admin, dataset_id).current_version == 2
    # the same again: every row is reused, nothing is sent, the version is made at once
    before = len(fake.message_requests)
    button(at, "Estimate cost").click().run()
    assert "3 rows already have results (no cost), 0 will be sent" in all_text(at)
    button(at, "Add the columns").click().run()
    assert not at.exception, at.exception
    assert len(fake.message_requests) == before
    assert datasets.get_dataset(admin, dataset_id).current_version == 3
    assert enrich.KIND == jobs.get_job(admin, job.id).kind


def test_without_a_template_with_an_output_shape_it_says_what_to_do(
        admin: UserView, fake: FakeClaude, tmp_path: Path) -> None:
    _dataset(admin, tmp_path)
    _template(admin, shaped=False)
    text = all_text(_lab())
    assert "No template with an output shape yet." in text


def test_a_column_of_empty_text_is_refused_in_one_sentence(
        admin: UserView, fake: FakeClaude, tmp_path: Path) -> None:
    path = tmp_path / "blank.csv"
    pd.DataFrame({"comment": ["", ""], "n": [1, 2]}).to_csv(path, index=False)
    view, _ = datasets.create_from_upload(admin, path, original_name="blank.csv")
    _template(admin)
    at = _lab(view.id)
    button(at, "Estimate cost").click().run()
    assert "Every chosen row is empty in “comment”" in all_text(at)
    assert jobs.list_jobs(admin) == [] and fake.requests == []


def test_the_dataset_page_links_to_enrichment(admin: UserView, tmp_path: Path) -> None:
    dataset_id = _dataset(admin, tmp_path)
    at = sign_in("ada")
    at.query_params["id"] = str(dataset_id)
    at.session_state[f"dataset_tab_{dataset_id}"] = "Clean"
    open_page(at, "pages/dataset.py")
    assert not at.exception, at.exception
    links = [link.proto for link in at.get("page_link")
             if link.proto.label == "Add columns with Claude"]
    assert links and links[0].page == "prompt_lab"
    assert links[0].query_string == f"enrich={dataset_id}"


class _Nobody:
    """A runner that never runs anything (as if the app stopped before it could)."""

    def submit(self, job_id: int) -> None:
        return None

    def is_active(self, job_id: int) -> bool:
        return False


def _stopped_enrichment(admin: UserView, tmp_path: Path,
                        monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    from services.prompts.enrich import EnrichRequest
    from services.prompts.sources import RowSelection

    monkeypatch.setattr(runner, "_runner", _Nobody())
    dataset_id = _dataset(admin, tmp_path)
    outcome = enrich.start_enrichment(admin, EnrichRequest(
        template_id=_template(admin), rows=RowSelection(dataset_id=dataset_id)))
    assert outcome.job is not None
    return dataset_id, outcome.job.id


def test_the_dataset_page_shows_a_running_enrichment(
        admin: UserView, fake: FakeClaude, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    dataset_id, _ = _stopped_enrichment(admin, tmp_path, monkeypatch)
    at = sign_in("ada")
    at.query_params["id"] = str(dataset_id)
    at.session_state[f"dataset_tab_{dataset_id}"] = "Clean"
    open_page(at, "pages/dataset.py")
    assert not at.exception, at.exception
    text = all_text(at)
    assert "Enrich: Classify (v1) × 3 rows of comments" in text
    assert "waiting to start" in text


def test_a_cancelled_enrichment_offers_to_save_its_results(
        admin: UserView, fake: FakeClaude, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from services.prompts.calls import CallResult

    dataset_id, job_id = _stopped_enrichment(admin, tmp_path, monkeypatch)
    first = jobs.pending_units(job_id)[0]
    assert jobs.save_result(first.id, CallResult(
        status="succeeded", model="claude-haiku-4-5",
        fields={"category": "price", "reason": "About cost."}))
    jobs.request_cancel(admin, job_id)
    at = _lab()
    assert "stopped" in all_text(at)
    button(at, "Save the results so far as a new version").click().run()
    assert not at.exception, at.exception
    assert "New version 2 with columns “category”, “reason”: 1 row got values" in all_text(at)
    frame = pd.read_parquet(datasets.get_version(admin, dataset_id).parquet_path)
    assert list(frame["category"].fillna("-")) == ["price", "-", "-", "-"]
    assert fake.message_requests == []


def test_changing_the_choices_after_an_estimate_asks_for_a_new_one(
        admin: UserView, fake: FakeClaude, tmp_path: Path) -> None:
    dataset_id = _dataset(admin, tmp_path)
    _template(admin)
    at = _lab(dataset_id)
    button(at, "Estimate cost").click().run()
    assert any(b.label == "Add the columns" for b in at.button)
    at.radio(key="lab_enrich_mode").set_value("sample").run()
    assert not at.exception, at.exception
    assert not any(b.label == "Add the columns" for b in at.button)
    assert jobs.list_jobs(admin) == []


def test_a_large_enrichment_can_go_through_the_message_batches_api(
        admin: UserView, fake: FakeClaude, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(message_batches, "POLL_S", 0.05)
    path = tmp_path / "many.csv"
    pd.DataFrame({"comment": [f"Comment number {n}" for n in range(120)]}).to_csv(
        path, index=False)
    dataset_id = datasets.create_from_upload(admin, path, original_name="many.csv")[0].id
    _template(admin)
    fake.set_batch_seconds(3600)  # it stays in progress: the test looks at how it started
    at = _lab(dataset_id)
    button(at, "Estimate cost").click().run()
    assert not at.exception, at.exception
    offer = at.checkbox(key="lab_enrich_api")
    assert "half price" in offer.label and not offer.value
    offer.check().run()
    if any(c.key == "lab_enrich_confirm" for c in at.checkbox):
        at.checkbox(key="lab_enrich_confirm").check().run()
    button(at, "Add the columns").click().run()
    assert not at.exception, at.exception
    job = jobs.list_jobs(admin)[0]
    assert job.kind == enrich.KIND and job.source["message_batches"] is True
    for _ in range(200):  # the runner submits the one batch in the background
        if jobs.get_job(admin, job.id).external_id:
            break
        time.sleep(0.05)
    (batch,) = fake.batches.values()
    assert len(batch["requests"]) == 120 and fake.message_requests == []
    jobs.request_cancel(admin, job.id)
    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner) and active.wait(job.id, timeout=30)
