"""Through the API: a prompt run is added to an item only by its owner or an admin (403 for
anyone else, nothing saved); prompt inputs name only datasets the caller may see; anyone
who may read an item may export it (issue 18.5, 18.6)."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.claude import client as claude
from services.claude import wiring
from services.prompts import runner, templates
from services.prompts.templates import TemplateDraft
from services.research import items
from services.research.items import ItemInput
from tests.fakes.claude_server import FakeClaude
from tests.unit.api.conftest import Api, People, problem_of
from tests.unit.item_story import (
    OWNERS_PRIVATE,
    OWNERS_SIZE,
    RUNNERS_OWN,
    SHARED,
    shared_item_with_three_datasets,
)

MODEL = "claude-haiku-4-5"


@pytest.fixture
def claude_ready(claude_at_fake: FakeClaude, monkeypatch: pytest.MonkeyPatch,
                 ) -> Iterator[FakeClaude]:
    wiring.install()
    monkeypatch.setattr(runner, "_runner", runner.ThreadRunner())
    yield claude_at_fake
    claude.reset_clients()


def _template(people: People, body: str) -> int:
    return templates.create_template(people.analyst, TemplateDraft(
        name="T", body=body, model=MODEL, max_tokens=50)).id


def test_only_the_owner_or_an_admin_adds_a_run_to_an_item(api: Api, people: People,
                                                           claude_ready: FakeClaude) -> None:
    template_id = _template(people, "Summarise {title}")
    item_id = items.create_item(people.other, ItemInput(title="Eve's question",
                                                        visibility="shared")).id
    url = f"/v1/research-items/{item_id}"
    before = api.get(url, token=people.token(people.other)).json()["updated_at"]
    bob = people.token(people.analyst)  # an analyst who reads Eve's item, not its owner
    body = {"template_id": template_id, "item_id": item_id}
    assert "owner or an admin" in problem_of(api.post("/v1/prompt-runs", token=bob,
                                                      json=body), 403)
    problem_of(api.post("/v1/prompt-runs", token=bob, json={**body, "stream": True}), 403)
    assert claude_ready.message_requests == []
    assert api.get(f"/v1/prompt-runs?item_id={item_id}", token=bob).json()["total"] == 0
    assert api.get(url, token=bob).json()["updated_at"] == before
    assert api.get(url, token=bob).json()["can_edit"] is False
    claude_ready.script([{"text": "By the owner."}, {"text": "By an admin."}])
    for person in (people.other, people.admin):
        response = api.post("/v1/prompt-runs", token=people.token(person), json=body)
        assert response.status_code == 201, response.text
    listed = api.get(f"/v1/prompt-runs?item_id={item_id}", token=bob).json()
    assert [r["created_by"] for r in listed["items"]] == ["ada", "eve"]
    assert api.get(url, token=bob).json()["updated_at"] > before


def test_a_run_and_a_batch_name_only_datasets_the_caller_may_see(
        api: Api, people: People, claude_ready: FakeClaude, tmp_path: Path) -> None:
    story = shared_item_with_three_datasets(people.other, people.admin, tmp_path)
    template_id = _template(people, "Data used: {dataset_summary}")
    claude_ready.script([{"text": "Noted."}, {"text": "Noted too."}])
    response = api.post("/v1/prompt-runs", token=people.token(people.admin),
                        json={"template_id": template_id, "item_id": story.item_id})
    assert response.status_code == 201, response.text
    prompt = response.json()["prompt"]
    assert SHARED in prompt and RUNNERS_OWN in prompt
    assert OWNERS_PRIVATE not in prompt and OWNERS_SIZE not in prompt
    # an analyst's batch over Eve's shared item: its stored inputs hold only the shared one
    bob = people.token(people.analyst)
    started = api.post("/v1/batches", token=bob, json={"template_id": template_id,
                                                       "item_ids": [story.item_id]})
    assert started.status_code == 202, started.text
    batch_id = started.json()["id"]
    units = api.get(f"/v1/batches/{batch_id}/units", token=bob).json()["items"]
    assert units[0]["inputs"]["dataset_summary"] == f"{SHARED} (2 rows, 3 columns)"
    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner) and active.wait(batch_id, timeout=30)
    sent = claude_ready.message_requests[-1]["body"]["messages"][0]["content"]
    assert SHARED in str(sent) and OWNERS_PRIVATE not in str(sent)


def test_anyone_who_reads_an_item_may_export_it(api: Api, people: People) -> None:
    shared = items.create_item(people.other, ItemInput(title="Shared", visibility="shared"))
    private = items.create_item(people.other, ItemInput(title="Private"))
    for person in (people.viewer, people.analyst, people.admin):
        token = people.token(person)
        exported = api.get(f"/v1/research-items/{shared.id}/export?format=html", token=token)
        assert exported.status_code == 200 and b"Shared" in exported.content
        problem_of(api.get(f"/v1/research-items/{private.id}/export", token=token), 404)
