"""Prompt runs and batches with prompt caching: the template's fixed text is the cached
prefix and each row's values come after it; short templates are sent as before; long
batches and Message Batches keep the prefix for an hour."""

from typing import Any

import pytest

from services.access.users import UserView
from services.claude import caching
from services.prompts import batches, calls, jobs, message_batches, runner, templates
from services.prompts.batches import BatchRequest
from services.prompts.templates import OutputField, TemplateDraft
from services.research.items import ItemSummary
from tests.fakes.claude_server import FakeClaude

MODEL = "claude-sonnet-4-6"  # 2,048 tokens at least, in the fake as in the API
RULES = "Read the item below and say in one line what kind of work it is. " * 150  # ~2.5k


@pytest.fixture(autouse=True)
def _fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(message_batches, "POLL_S", 0.05)


def _template(actor: UserView, body: str, **change: Any) -> templates.TemplateView:
    return templates.create_template(actor, TemplateDraft(
        name="Kind", body=body, model=MODEL, max_tokens=50, **change))


def _wait(job_id: int) -> None:
    active = runner.get_runner()
    assert isinstance(active, runner.ThreadRunner) and active.wait(job_id, timeout=30)


def _controls(body: dict[str, Any]) -> list[dict[str, str]]:
    blocks = list(body["system"]) if isinstance(body["system"], list) else []
    for message in body["messages"]:
        if isinstance(message["content"], list):
            blocks += message["content"]
    return [b["cache_control"] for b in blocks if "cache_control" in b]


def _text(content: str | list[dict[str, Any]]) -> str:
    return content if isinstance(content, str) else "".join(b["text"] for b in content)


@pytest.mark.parametrize("body", ["Fixed {{braces}} then {title}: {description}.",
                                  "{title} first, then {{fixed}} text",
                                  "No variables at all {{x}}", "Ends with {title}"])
def test_the_two_parts_join_to_the_filled_text(body: str) -> None:
    values = {"title": "T {x}", "description": "D"}
    values = {k: v for k, v in values.items() if k in templates.variables_in(body)}
    fixed, rest = templates.fill_parts(body, values)
    assert fixed + rest == templates.fill(body, values)
    assert fixed == templates.fixed_text(body) and "{title}" not in fixed


def test_a_batch_writes_the_cache_once_then_reads_it(
        claude_at_fake: FakeClaude, analyst: UserView, items: list[ItemSummary]) -> None:
    claude_at_fake.script([{"text": "An idea."}])
    template = _template(analyst, RULES + "\n\nItem: {title}. {description}")
    job = batches.start_batch(analyst, BatchRequest(template_id=template.id, concurrency=4,
                                                    item_ids=[i.id for i in items]))
    _wait(job.id)
    assert jobs.progress(analyst, job.id).done == len(items)
    sent = [r["body"] for r in claude_at_fake.message_requests]
    for body in sent:  # the same text, the fixed part first and marked
        fixed, rest = body["messages"][0]["content"]
        assert fixed == {"type": "text", "text": RULES + "\n\nItem: ",
                         "cache_control": {"type": "ephemeral"}}
        assert rest["type"] == "text" and "cache_control" not in rest
        assert isinstance(body["system"], str)
    assert sorted(_text(b["messages"][0]["content"]) for b in sent) == sorted(
        f"{RULES}\n\nItem: {i.title}. {i.description}" for i in items)
    units = jobs.list_units(analyst, job.id)
    writes = [u for u in units if u.cache_write_tokens]
    assert len(writes) == 1 and writes[0].cache_read_tokens == 0  # the first unit, alone
    reads = [u for u in units if u is not writes[0]]
    assert all(u.cache_read_tokens == writes[0].cache_write_tokens for u in reads)
    assert all(u.input_tokens < 100 for u in reads)  # only the row's values at full price


def test_a_short_template_is_sent_unmarked(
        claude_at_fake: FakeClaude, analyst: UserView, items: list[ItemSummary]) -> None:
    claude_at_fake.script([{"text": "Short."}])
    template = _template(analyst, "Summarise {title}. {description}")
    job = batches.start_batch(analyst, BatchRequest(template_id=template.id,
                                                    item_ids=[i.id for i in items]))
    _wait(job.id)
    for request in claude_at_fake.message_requests:
        body = request["body"]
        assert isinstance(body["messages"][0]["content"], str) and not _controls(body)
    assert all(u.cache_write_tokens == u.cache_read_tokens == 0
               for u in jobs.list_units(analyst, job.id))


def test_a_body_that_starts_with_a_variable_caches_the_system_prompt(analyst: UserView) -> None:
    template = _template(analyst, "{title}", system_prompt=RULES,
                         output_fields=[OutputField(name="kind")])
    system, messages = calls.request_for(template.latest, {"title": "Item 1"})
    assert system == [{"type": "text", "text": calls.system_for(template.latest),
                       "cache_control": {"type": "ephemeral"}}]
    assert messages == [{"role": "user", "content": "Item 1"}]


@pytest.mark.parametrize(("body", "title"), [("  \n{title}", "Item 1"),
                                             ("Rules first. {title}\n", "")])
def test_no_block_is_only_spaces(analyst: UserView, body: str, title: str) -> None:
    template = _template(analyst, RULES + body if title == "" else body, system_prompt=RULES)
    system, messages = calls.request_for(template.latest, {"title": title})
    content = messages[0]["content"]
    blocks = [*(system if isinstance(system, list) else []),
              *(content if isinstance(content, list) else [{"text": content}])]
    assert all(b["text"].strip() for b in blocks)
    assert _text(content) == templates.fill(template.latest.body, {"title": title})
    assert len([b for b in blocks if "cache_control" in b]) == 1


def test_a_long_batch_keeps_its_prefix_for_an_hour(
        claude_at_fake: FakeClaude, analyst: UserView, items: list[ItemSummary],
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert not caching.runs_long(60, 1) and caching.runs_long(61, 1)
    assert not caching.runs_long(400, 8) and caching.runs_long(500, 8)
    monkeypatch.setattr(caching, "TYPICAL_CALL_S", 120.0)  # 5 units one at a time: 10 min
    claude_at_fake.script([{"text": "An idea."}])
    template = _template(analyst, RULES + "\n\nItem: {title}")
    job = batches.start_batch(analyst, BatchRequest(template_id=template.id, concurrency=1,
                                                    item_ids=[i.id for i in items]))
    _wait(job.id)
    bodies = [r["body"] for r in claude_at_fake.message_requests]
    assert all(_controls(b) == [{"type": "ephemeral", "ttl": "1h"}] for b in bodies)
    units = sorted(jobs.list_units(analyst, job.id), key=lambda u: u.id)
    assert units[0].cache_write_tokens > 0
    claude_at_fake.advance_clock(1800)  # half an hour later the prefix is still there
    again = calls.run_prompt(analyst.username, template.latest, {"title": "Item 9"},
                             feature="prompt.batch", long_run=True)
    assert again.cache_read_tokens == units[0].cache_write_tokens


def test_message_batch_requests_carry_the_same_prefix(
        claude_at_fake: FakeClaude, analyst: UserView, items: list[ItemSummary]) -> None:
    claude_at_fake.set_batch_seconds(0.1)
    claude_at_fake.script([{"tool_use": {"name": "record_answer", "input": {"kind": "idea"}}}])
    template = _template(analyst, RULES + "\n\nItem: {title}",
                         output_fields=[OutputField(name="kind")])
    job = batches.start_batch(analyst, BatchRequest(template_id=template.id,
                                                    item_ids=[i.id for i in items],
                                                    use_message_batches=True))
    _wait(job.id)
    assert jobs.progress(analyst, job.id).done == len(items)
    (batch,) = claude_at_fake.batches.values()
    for request, item in zip(batch["requests"], sorted(items, key=lambda i: i.id), strict=True):
        params = request["params"]
        system, messages = calls.request_for(template.latest, {"title": item.title},
                                             long_run=True)
        assert (params["system"], params["messages"]) == (system, messages)
        assert _controls(params) == [{"type": "ephemeral", "ttl": "1h"}]
        assert params["tools"][0]["name"] == "record_answer"


def test_a_message_batch_reads_the_prefix_its_first_request_wrote(
        claude_at_fake: FakeClaude, analyst: UserView, items: list[ItemSummary]) -> None:
    claude_at_fake.set_batch_seconds(0.1)
    claude_at_fake.script([{"text": "An idea."}])
    template = _template(analyst, RULES + "\n\nItem: {title}")
    job = batches.start_batch(analyst, BatchRequest(template_id=template.id,
                                                    item_ids=[i.id for i in items],
                                                    use_message_batches=True))
    _wait(job.id)
    units = jobs.list_units(analyst, job.id)
    writes = [u for u in units if u.cache_write_tokens]
    assert len(writes) == 1
    assert all(u.cache_read_tokens == writes[0].cache_write_tokens
               for u in units if u is not writes[0])


def test_runs_on_items_one_after_another_read_the_prefix(
        claude_at_fake: FakeClaude, analyst: UserView, items: list[ItemSummary]) -> None:
    from services.prompts import item_runs

    claude_at_fake.script([{"text": "An idea."}])
    template = _template(analyst, RULES + "\n\nItem: {title}")
    for item in items[:2]:
        assert "".join(item_runs.run_on_item(analyst, template.id, item.id)) == "An idea."
    first, second = (r["body"] for r in claude_at_fake.message_requests)
    assert _controls(first) == _controls(second) == [{"type": "ephemeral"}]
    runs = [item_runs.runs_for_item(analyst, i.id)[0] for i in items[:2]]
    assert runs[0].prompt == f"{RULES}\n\nItem: {items[0].title}"
