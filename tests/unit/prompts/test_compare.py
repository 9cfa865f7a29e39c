"""Compare: the same prompt on two or three models side by side."""

import pytest

from services.access.users import UserView
from services.errors import InvalidInput, PermissionDenied
from services.prompts import compare, templates
from services.prompts.templates import TemplateDraft
from services.research.items import ItemSummary
from tests.fakes.claude_server import FakeClaude

MODELS = ["claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-7"]


def _template(actor: UserView) -> templates.TemplateView:
    return templates.create_template(actor, TemplateDraft(
        name="Explain", body="Explain {title}", model="claude-haiku-4-5", max_tokens=100))


def test_three_models_answer_side_by_side(claude_at_fake: FakeClaude, analyst: UserView,
                                          items: list[ItemSummary]) -> None:
    claude_at_fake.script([{"text": "An explanation."}])
    results = compare.compare_on_item(analyst, _template(analyst).id, items[0].id, MODELS)
    assert [r.model for r in results] == MODELS
    assert all(r.status == "succeeded" and r.output == "An explanation." for r in results)
    assert all(r.input_tokens > 0 and r.latency_ms > 0 for r in results)
    costs = [r.cost_estimate for r in results]
    assert costs[0] < costs[1] < costs[2]  # haiku < sonnet < opus in the price table
    sent = sorted(r["body"]["model"] for r in claude_at_fake.message_requests)
    assert sent == sorted(MODELS)


def test_one_failing_model_does_not_hide_the_others(claude_at_fake: FakeClaude,
                                                    analyst: UserView,
                                                    items: list[ItemSummary]) -> None:
    claude_at_fake.fail_next(status=404, count=1)
    results = compare.compare_on_item(analyst, _template(analyst).id, items[0].id, MODELS[:2])
    assert sorted(r.status for r in results) == ["failed", "succeeded"]


def test_bad_comparisons_are_refused(claude_at_fake: FakeClaude, analyst: UserView,
                                     viewer: UserView, items: list[ItemSummary]) -> None:
    template = _template(analyst)
    with pytest.raises(InvalidInput, match="two or three"):
        compare.compare_on_item(analyst, template.id, items[0].id, MODELS[:1])
    with pytest.raises(InvalidInput, match="two or three"):
        compare.compare_on_item(analyst, template.id, items[0].id, [*MODELS, "claude-x"])
    with pytest.raises(PermissionDenied):
        compare.compare_on_item(viewer, template.id, items[0].id, MODELS[:2])
    assert claude_at_fake.message_requests == []
