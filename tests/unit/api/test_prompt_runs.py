"""/v1/prompt-templates, /v1/prompt-runs and /v1/batches through the real Prompt lab
services, the real SDK and the fake Messages API."""

import csv
import io
import json
import re
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from services import settings
from services.access.users import UserView
from services.claude import client as claude
from services.claude import usage, wiring
from services.claude.usage import BudgetChange
from services.prompts import jobs, runner, templates
from services.prompts.templates import OutputField, TemplateDraft
from services.research import items
from services.research.items import ItemInput
from tests.fakes.claude_server import FakeClaude
from tests.unit.api.conftest import Api, People, problem_of, upload_csv

MODEL = "claude-haiku-4-5"


@pytest.fixture
def claude_ready(claude_at_fake: FakeClaude, monkeypatch: pytest.MonkeyPatch,
                 ) -> Iterator[FakeClaude]:
    wiring.install()
    monkeypatch.setattr(runner, "_runner", runner.ThreadRunner())
    yield claude_at_fake
    claude.reset_clients()


def _template(owner: UserView, **change: Any) -> templates.TemplateView:
    base = {"name": "Summarise", "body": "Summarise {title}. {description}", "model": MODEL,
            "max_tokens": 100, "temperature": 0.2}
    return templates.create_template(owner, TemplateDraft(**{**base, **change}))


def _item(owner: UserView, title: str, visibility: str = "shared") -> int:
    return items.create_item(owner, ItemInput(title=title, description=f"About {title}.",
                                              visibility=visibility)).id  # type: ignore[arg-type]


def _wait(batch_id: int) -> None:
    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner)
    assert active.wait(batch_id, timeout=30)


def _events(text: str) -> list[tuple[str, Any]]:
    found = []
    for block in text.strip().split("\n\n"):
        head, data = block.split("\n", 1)
        found.append((head.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return found


# --- templates -------------------------------------------------------------------------

def test_templates_list_with_versions_variables_and_output_shape(api: Api,
                                                                  people: People) -> None:
    made = _template(people.analyst, output_fields=[
        OutputField(name="topic", type="category", choices=["price", "delivery"])])
    templates.update_template(people.analyst, made.id, TemplateDraft(
        name="Summarise", body="Summarise {title} for {status}.", model=MODEL))
    token = people.token(people.viewer)  # viewers may read templates
    listed = api.get("/v1/prompt-templates", token=token)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["total"] == 1 and body["limit"] == 50
    first = body["items"][0]
    assert first["versions"] == [1, 2] and first["current_version"] == 2
    assert first["latest"]["variables"] == ["title", "status"]
    assert first["latest"]["output_fields"] == []
    one = api.get(f"/v1/prompt-templates/{made.id}", token=token).json()
    assert [v["version"] for v in one["history"]] == [2, 1]
    assert one["history"][1]["variables"] == ["title", "description"]
    assert one["history"][1]["output_fields"][0] == {
        "name": "topic", "type": "category", "choices": ["price", "delivery"],
        "description": ""}
    assert "does not exist" in problem_of(api.get("/v1/prompt-templates/999", token=token),
                                          404)


# --- single runs -----------------------------------------------------------------------

def test_an_analyst_runs_a_template_once_and_the_run_is_saved(
        api: Api, people: People, claude_ready: FakeClaude) -> None:
    claude_ready.script([{"text": "Returns rose in one week."}])
    template = _template(people.analyst)
    item_id = _item(people.analyst, "Returns in March")
    token = people.token(people.analyst)
    response = api.post("/v1/prompt-runs", token=token,
                        json={"template_id": template.id, "item_id": item_id})
    assert response.status_code == 201, response.text
    run = response.json()
    assert run["status"] == "succeeded" and run["output"] == "Returns rose in one week."
    assert run["template_version"] == 1 and run["model"] == MODEL
    assert run["input_tokens"] > 0 and run["prompt"].startswith("Summarise Returns in March")
    sent = claude_ready.message_requests
    assert len(sent) == 1 and sent[0]["body"]["temperature"] == 0.2
    listed = api.get(f"/v1/prompt-runs?item_id={item_id}", token=token).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == run["id"]
    # the call is recorded as usage, under the single-run feature
    report = api.get("/v1/usage", token=token).json()
    assert [r["key"] for r in report["by_feature"]] == ["Single run"]


def test_a_streamed_run_sends_text_then_the_saved_run(api: Api, people: People,
                                                      claude_ready: FakeClaude) -> None:
    claude_ready.script([{"text": "One late delivery week explains it.", "chunk_size": 6}])
    template = _template(people.analyst)
    item_id = _item(people.analyst, "Returns in March")
    response = api.post("/v1/prompt-runs", token=people.token(people.analyst),
                        json={"template_id": template.id, "item_id": item_id,
                              "stream": True})
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    names = [name for name, _ in events]
    assert names.count("text") > 1 and names[-2:] == ["run", "done"]
    text = "".join(data["text"] for name, data in events if name == "text")
    assert text == "One late delivery week explains it."
    assert events[-2][1]["output"] == text and events[-1][1] == {"status": "succeeded"}


def test_a_run_claude_answers_in_the_wrong_shape_is_saved_as_failed(
        api: Api, people: People, claude_ready: FakeClaude) -> None:
    claude_ready.script([{"tool_use": {"name": "record_answer", "input": {"wrong": 1}}}])
    template = _template(people.analyst, output_fields=[OutputField(name="topic")])
    item_id = _item(people.analyst, "Returns")
    response = api.post("/v1/prompt-runs", token=people.token(people.analyst),
                        json={"template_id": template.id, "item_id": item_id})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "failed"
    assert "left out the field “topic”" in response.json()["error"]


def test_a_viewer_cannot_run_prompts_or_start_batches(api: Api, people: People,
                                                      claude_ready: FakeClaude) -> None:
    template = _template(people.analyst)
    item_id = _item(people.analyst, "Shared item")
    token = people.token(people.viewer)
    problem_of(api.post("/v1/prompt-runs", token=token,
                        json={"template_id": template.id, "item_id": item_id}), 403)
    problem_of(api.post("/v1/prompt-runs", token=token,
                        json={"template_id": template.id, "item_id": item_id,
                              "stream": True}), 403)
    problem_of(api.post("/v1/batches", token=token,
                        json={"template_id": template.id, "item_ids": [item_id]}), 403)
    problem_of(api.post("/v1/batches/plan", token=token,
                        json={"template_id": template.id, "item_ids": [item_id]}), 403)
    assert claude_ready.message_requests == []
    assert jobs.list_jobs(people.viewer) == []
    assert api.get(f"/v1/prompt-runs?item_id={item_id}", token=token).json()["total"] == 0


def test_another_persons_private_item_reads_as_missing(api: Api, people: People,
                                                       claude_ready: FakeClaude) -> None:
    template = _template(people.analyst)
    private = _item(people.other, "Eve's secret", visibility="private")
    token = people.token(people.analyst)
    hidden = problem_of(api.post("/v1/prompt-runs", token=token, json={
        "template_id": template.id, "item_id": private}), 404)
    missing = problem_of(api.post("/v1/prompt-runs", token=token, json={
        "template_id": template.id, "item_id": 99_999}), 404)
    assert hidden == missing
    assert problem_of(api.get(f"/v1/prompt-runs?item_id={private}", token=token), 404) == \
        problem_of(api.get("/v1/prompt-runs?item_id=99999", token=token), 404)
    assert problem_of(api.post("/v1/batches/plan", token=token, json={
        "template_id": template.id, "item_ids": [private]}), 404) == hidden
    assert claude_ready.message_requests == []


def test_a_run_over_budget_is_refused_before_any_token(api: Api, people: People,
                                                       claude_ready: FakeClaude) -> None:
    usage.set_budget(people.admin, BudgetChange(username=people.analyst.username,
                                                monthly_cost=0.0))
    template = _template(people.analyst)
    item_id = _item(people.analyst, "Returns")
    detail = problem_of(api.post("/v1/prompt-runs", token=people.token(people.analyst),
                                 json={"template_id": template.id, "item_id": item_id}), 403)
    assert "budget" in detail
    streamed = problem_of(api.post("/v1/prompt-runs", token=people.token(people.analyst),
                                   json={"template_id": template.id, "item_id": item_id,
                                         "stream": True}), 403)
    assert streamed == detail
    assert claude_ready.message_requests == []


# --- batches -----------------------------------------------------------------------------

def test_a_batch_is_planned_started_followed_listed_and_downloaded(
        api: Api, people: People, claude_ready: FakeClaude) -> None:
    claude_ready.script([{"match": "Item 2", "text": "=HYPERLINK(\"http://x\")"},
                         {"text": "A short summary."}])
    template = _template(people.analyst)
    ids = [_item(people.analyst, f"Item {n}") for n in range(1, 5)]
    token = people.token(people.analyst)
    request = {"template_id": template.id, "item_ids": ids, "concurrency": 2}
    plan = api.post("/v1/batches/plan", token=token, json=request)
    assert plan.status_code == 200, plan.text
    assert plan.json()["units"] == 4 and plan.json()["needs_confirmation"] is False
    assert plan.json()["detail"].startswith("4 calls, about")
    assert claude_ready.message_requests == []  # planning sends no prompt
    started = api.post("/v1/batches", token=token, json=request)
    assert started.status_code == 202, started.text
    batch_id = started.json()["id"]
    _wait(batch_id)
    progress = api.get(f"/v1/batches/{batch_id}", token=token).json()
    assert progress["status"] == "done" and progress["done"] == 4
    assert progress["remaining"] == 0 and progress["total_units"] == 4
    assert api.get("/v1/batches", token=token).json()["items"][0]["id"] == batch_id
    page = api.get(f"/v1/batches/{batch_id}/units?limit=3&offset=1", token=token).json()
    assert page["total"] == 4 and [u["key"] for u in page["items"]] == [
        f"item:{i}" for i in ids[1:]]
    assert page["items"][0]["output"] == "=HYPERLINK(\"http://x\")"
    none_failed = api.get(f"/v1/batches/{batch_id}/units?status=failed", token=token).json()
    assert none_failed["total"] == 0
    download = api.get(f"/v1/batches/{batch_id}/results.csv", token=token)
    assert download.status_code == 200 and download.headers["content-type"].startswith(
        "text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [r["Input"] for r in rows] == [f"Item {n}" for n in range(1, 5)]
    assert rows[1]["Answer"] == "'=HYPERLINK(\"http://x\")"  # neutralised, as the UI does
    # finished: nothing to cancel
    assert "already finished" in problem_of(
        api.post(f"/v1/batches/{batch_id}/cancel", token=token), 409)


def test_a_big_batch_needs_confirm_and_says_what_it_costs(
        api: Api, people: People, claude_ready: FakeClaude,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESEARCH_DESK_PROMPT_CONFIRM_UNITS", "2")
    settings.reset_settings_cache()
    template = _template(people.analyst)
    ids = [_item(people.analyst, f"Thing {n}") for n in range(3)]
    token = people.token(people.analyst)
    request = {"template_id": template.id, "item_ids": ids}
    assert api.post("/v1/batches/plan", token=token,
                    json=request).json()["needs_confirmation"] is True
    detail = problem_of(api.post("/v1/batches", token=token, json=request), 422)
    assert detail.startswith("Please confirm the cost first: 3 calls")
    assert jobs.list_jobs(people.analyst) == []
    started = api.post("/v1/batches", token=token, json={**request, "confirm": True})
    assert started.status_code == 202, started.text
    _wait(started.json()["id"])


def test_failed_units_are_retried_and_others_batches_read_as_missing(
        api: Api, people: People, claude_ready: FakeClaude) -> None:
    claude_ready.script([
        {"match": "Item 2", "tool_use": {"name": "record_answer", "input": {"wrong": 1}}},
        {"tool_use": {"name": "record_answer", "input": {"topic": "data"}}}])
    template = _template(people.analyst, output_fields=[OutputField(name="topic")])
    ids = [_item(people.analyst, f"Item {n}") for n in range(1, 4)]
    token = people.token(people.analyst)
    batch_id = api.post("/v1/batches", token=token, json={
        "template_id": template.id, "item_ids": ids}).json()["id"]
    _wait(batch_id)
    progress = api.get(f"/v1/batches/{batch_id}", token=token).json()
    assert progress["done"] == 2 and progress["failed"] == 1
    failed = api.get(f"/v1/batches/{batch_id}/units?status=failed", token=token).json()
    assert failed["total"] == 1 and "left out the field" in failed["items"][0]["error"]
    csv_text = api.get(f"/v1/batches/{batch_id}/results.csv?status=succeeded",
                       token=token).text
    assert "Answer: topic" in csv_text and csv_text.count("data") == 2
    # someone else's batch is a 404, as a missing one, for reading, units, CSV, cancel, retry
    other = people.token(people.other)
    for method, path in (("GET", ""), ("GET", "/units"), ("GET", "/results.csv"),
                         ("POST", "/cancel"), ("POST", "/retry-failed")):
        theirs = problem_of(api.request(method, f"/v1/batches/{batch_id}{path}", token=other),
                            404)
        assert theirs == problem_of(api.request(method, f"/v1/batches/99999{path}",
                                                token=other), 404)
    claude_ready.script([{"tool_use": {"name": "record_answer", "input": {"topic": "late"}}}])
    retried = api.post(f"/v1/batches/{batch_id}/retry-failed", token=token)
    assert retried.status_code == 202, retried.text
    _wait(batch_id)
    again = api.get(f"/v1/batches/{batch_id}", token=token).json()
    assert again["done"] == 3 and again["failed"] == 0
    assert len(claude_ready.message_requests) == 4  # only the failed one went again
    assert "nothing to run again" in problem_of(
        api.post(f"/v1/batches/{batch_id}/retry-failed", token=token), 422)


def test_a_batch_over_dataset_rows(api: Api, people: People, claude_ready: FakeClaude,
                                   tmp_path: Path) -> None:
    claude_ready.script([{"text": "A bird."}])
    dataset_id = upload_csv(people.analyst, tmp_path)
    template = _template(people.analyst, body="What is a {species} from {island}?")
    token = people.token(people.analyst)
    request = {"template_id": template.id,
               "rows": {"dataset_id": dataset_id, "mode": "filter",
                        "filter_column": "species", "filter_text": "adelie"}}
    assert api.post("/v1/batches/plan", token=token, json=request).json()["units"] == 2
    batch_id = api.post("/v1/batches", token=token, json=request).json()["id"]
    _wait(batch_id)
    units = api.get(f"/v1/batches/{batch_id}/units", token=token).json()["items"]
    assert [u["key"] for u in units] == ["row:1", "row:3"]
    assert units[0]["inputs"] == {"species": "Adelie", "island": "Torgersen"}
    unknown = problem_of(api.post("/v1/batches/plan", token=token, json={
        **request, "template_id": _template(people.analyst, body="{colour}?").id}), 422)
    assert "{colour}" in unknown and "{species}" in unknown


def test_bad_batch_requests_change_nothing(api: Api, people: People,
                                           claude_ready: FakeClaude, tmp_path: Path) -> None:
    template = _template(people.analyst)
    item_id = _item(people.analyst, "One")
    token = people.token(people.analyst)
    both = {"template_id": template.id, "item_ids": [item_id],
            "rows": {"dataset_id": upload_csv(people.analyst, tmp_path)}}
    assert "not both" in problem_of(api.post("/v1/batches", token=token, json=both), 422)
    assert "at least one" in problem_of(api.post("/v1/batches", token=token, json={
        "template_id": template.id}), 422)
    assert "not a field" in problem_of(api.post("/v1/batches", token=token, json={
        "template_id": template.id, "item_ids": [item_id], "kind": "enrich"}), 422)
    problem_of(api.post("/v1/batches", token=token, json={
        "template_id": template.id, "item_ids": [item_id], "concurrency": 99}), 422)
    problem_of(api.get("/v1/batches/1/units?limit=1000000000", token=token), 422)
    problem_of(api.get("/v1/batches/1/units?status=done'; DROP TABLE jobs;--",
                       token=token), 422)
    assert jobs.list_jobs(people.analyst) == [] and claude_ready.message_requests == []


def test_the_readme_prompt_run_example_runs(api: Api, people: People, claude_ready: FakeClaude,
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    claude_ready.script([{"text": "A short summary."}])
    _template(people.analyst, name="Summarise item")  # the README picks it by name
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    section = readme.split("## REST API", 1)[1].split("\n## ", 1)[0]
    example = re.findall(r"```python\n(.*?)```", section, re.DOTALL)[1]
    monkeypatch.chdir(tmp_path)

    def client(**kwargs: Any) -> TestClient:
        return TestClient(api.app, base_url=kwargs["base_url"], headers=kwargs["headers"])

    monkeypatch.setattr(httpx, "Client", client)
    script = tmp_path / "readme_prompt_example.py"
    script.write_text(example.replace("rdk_…", people.token(people.analyst)))
    namespace = runpy.run_path(str(script))
    printed = capsys.readouterr().out
    # the example makes its own two items, runs on the first, then batches both
    assert "succeeded A short summary." in printed and "2 calls, about" in printed
    assert namespace["batch"]["done"] == 2 and namespace["usage"]["totals"]["calls"] == 3
    assert (tmp_path / "results.csv").read_text().count("A short summary.") == 2
