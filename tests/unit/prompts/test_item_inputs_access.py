"""Inputs built for a prompt respect what the person running it may see: `{dataset_summary}`
on someone else's shared item never names (or sizes) the owner's private datasets, neither
in what Claude gets nor in the run saved on the item (issue 18.5)."""

import json
from pathlib import Path

from services.access.users import UserView
from services.prompts import item_runs, sources, templates
from services.prompts.templates import TemplateDraft
from tests.factories import make_user
from tests.fakes.claude_server import FakeClaude
from tests.unit.item_story import (
    OWNERS_PRIVATE,
    OWNERS_SIZE,
    RUNNERS_OWN,
    SHARED,
    shared_item_with_three_datasets,
)


def _summary_template(actor: UserView) -> int:
    return templates.create_template(actor, TemplateDraft(
        name="Data", body="Data used: {dataset_summary}", model="claude-haiku-4-5",
        max_tokens=50)).id


def test_a_run_on_someone_elses_item_names_only_datasets_the_runner_may_see(
        claude_at_fake: FakeClaude, admin: UserView, tmp_path: Path) -> None:
    alice = make_user(admin, "alice")
    story = shared_item_with_three_datasets(alice, admin, tmp_path)
    claude_at_fake.script([{"text": "Noted."}])
    template_id = _summary_template(admin)
    assert "".join(item_runs.run_on_item(admin, template_id, story.item_id)) == "Noted."
    saved = item_runs.runs_for_item(alice, story.item_id)[0]  # what every reader reads
    assert SHARED in saved.prompt and "2 rows, 3 columns" in saved.prompt
    assert RUNNERS_OWN in saved.prompt and "3 rows, 4 columns" in saved.prompt
    assert OWNERS_PRIVATE not in saved.prompt and OWNERS_SIZE not in saved.prompt
    sent = json.dumps(claude_at_fake.message_requests[0]["body"])
    assert SHARED in sent and OWNERS_PRIVATE not in sent and OWNERS_SIZE not in sent


def test_preview_and_batch_inputs_of_an_analyst_leave_out_the_owners_private_datasets(
        admin: UserView, tmp_path: Path) -> None:
    alice = make_user(admin, "alice")
    bob = make_user(admin, "bob")  # an analyst reading Alice's shared item
    story = shared_item_with_three_datasets(alice, admin, tmp_path)
    template_id = _summary_template(bob)
    shown = item_runs.preview_on_item(bob, template_id, story.item_id).prompt
    assert shown == "Data used: Team sales (2 rows, 3 columns)"
    batch_values = sources.item_inputs(bob, [story.item_id])[0].values  # batches and compare
    assert batch_values["dataset_summary"] == "Team sales (2 rows, 3 columns)"
    # the owner sees her own, so her own preview lists it
    own = item_runs.preview_on_item(alice, template_id, story.item_id).prompt
    assert OWNERS_PRIVATE in own and OWNERS_SIZE in own and RUNNERS_OWN not in own
