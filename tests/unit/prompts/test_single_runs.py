"""Preview (filled prompt, count_tokens, cost) and a single run on a research item: streamed,
saved on the item with usage, latency, model and template version."""

import pytest

from services.access.users import UserView
from services.errors import ClaudeUnavailable, InvalidInput, NotFound, PermissionDenied
from services.prompts import item_runs, templates
from services.prompts.templates import OutputField, TemplateDraft
from services.research.items import ItemSummary
from tests.factories import make_item
from tests.fakes.claude_server import FakeClaude


def _template(actor: UserView, **change: object) -> templates.TemplateView:
    base = {"name": "Summarise", "body": "Summarise {title}: {description}",
            "system_prompt": "Be brief.", "model": "claude-haiku-4-5", "max_tokens": 300}
    return templates.create_template(actor, TemplateDraft(**{**base, **change}))  # type: ignore[arg-type]


def test_preview_fills_the_prompt_and_counts_tokens_at_the_api(
        claude_at_fake: FakeClaude, analyst: UserView,
        items: list[ItemSummary]) -> None:
    template = _template(analyst)
    shown = item_runs.preview_on_item(analyst, template.id, items[0].id)
    assert shown.prompt == "Summarise Item 1: Description of item 1"
    assert shown.is_counted and shown.input_tokens > 0
    counts = [r for r in claude_at_fake.requests if r["path"] == "/v1/messages/count_tokens"]
    assert len(counts) == 1 and claude_at_fake.message_requests == []
    # haiku: $1 per million in, $5 per million out (the ceiling uses all 300 answer tokens)
    assert shown.cost_estimate == pytest.approx((shown.input_tokens + 300 * 5) / 1_000_000)


def test_preview_without_claude_is_a_rough_estimate(analyst: UserView,
                                                    items: list[ItemSummary]) -> None:
    template = _template(analyst)
    shown = item_runs.preview_on_item(analyst, template.id, items[0].id)
    assert not shown.is_counted and shown.input_tokens > 0


def test_a_single_run_streams_and_is_saved_on_the_item(
        claude_at_fake: FakeClaude, analyst: UserView, items: list[ItemSummary]) -> None:
    claude_at_fake.script([{"text": "Item one is about testing things well.", "chunk_size": 5}])
    template = _template(analyst)
    chunks = list(item_runs.run_on_item(analyst, template.id, items[0].id))
    assert len(chunks) > 3 and "".join(chunks) == "Item one is about testing things well."
    runs = item_runs.runs_for_item(analyst, items[0].id)
    assert len(runs) == 1
    run = runs[0]
    assert run.status == "succeeded" and run.output == "".join(chunks)
    assert run.model == "claude-haiku-4-5" and run.template_version == 1
    assert run.input_tokens > 0 and run.output_tokens > 0 and run.latency_ms > 0
    assert run.cost_estimate > 0
    assert claude_at_fake.message_requests[0]["body"]["stream"] is True


def test_a_structured_run_saves_its_fields(claude_at_fake: FakeClaude, analyst: UserView,
                                           items: list[ItemSummary]) -> None:
    claude_at_fake.script([{"tool_use": {"name": "record_answer",
                                         "input": {"topic": "tests", "urgent": True}}}])
    template = _template(analyst, output_fields=[OutputField(name="topic"),
                                                 OutputField(name="urgent", type="yes_no")])
    text = "".join(item_runs.run_on_item(analyst, template.id, items[1].id))
    assert "topic" in text and "tests" in text
    run = item_runs.runs_for_item(analyst, items[1].id)[0]
    assert run.fields == {"topic": "tests", "urgent": True}


def test_a_failed_run_is_saved_with_its_reason(claude_at_fake: FakeClaude, analyst: UserView,
                                               items: list[ItemSummary]) -> None:
    claude_at_fake.fail_next(status=401)
    template = _template(analyst)
    with pytest.raises(ClaudeUnavailable, match="refused"):
        list(item_runs.run_on_item(analyst, template.id, items[0].id))
    run = item_runs.runs_for_item(analyst, items[0].id)[0]
    assert run.status == "failed" and "refused" in (run.error or "")


def test_runs_are_refused_for_viewers_unknown_variables_and_hidden_items(
        claude_at_fake: FakeClaude, admin: UserView, analyst: UserView, viewer: UserView,
        items: list[ItemSummary]) -> None:
    template = _template(analyst)
    with pytest.raises(PermissionDenied):
        item_runs.run_on_item(viewer, template.id, items[0].id)
    odd = _template(analyst, body="About {colour}")
    with pytest.raises(InvalidInput, match=r"\{colour\}.*\{title\}"):
        item_runs.run_on_item(analyst, odd.id, items[0].id)
    private = make_item(admin, "Admin's own")
    with pytest.raises(NotFound):
        item_runs.run_on_item(analyst, template.id, private.id)
    with pytest.raises(NotFound):
        item_runs.runs_for_item(analyst, private.id)
    assert claude_at_fake.message_requests == []
