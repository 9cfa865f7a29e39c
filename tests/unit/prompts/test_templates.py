"""Templates: variables, checks with one-sentence reasons, output shapes, versions, roles."""

import pytest

from services.access.users import UserView
from services.errors import InvalidInput, NotFound, PermissionDenied
from services.prompts import templates
from services.prompts.templates import OutputField, ShapeMismatch, TemplateDraft

SHAPE = [OutputField(name="category", type="category", choices=["praise", "complaint"]),
         OutputField(name="reason"), OutputField(name="score", type="number"),
         OutputField(name="urgent", type="yes_no")]


def _draft(**change: object) -> TemplateDraft:
    base = {"name": "Summarise", "body": "Summarise {title}: {description}",
            "model": "claude-haiku-4-5", "max_tokens": 200, "temperature": 0.2}
    return TemplateDraft(**{**base, **change})  # type: ignore[arg-type]


def test_fill_replaces_variables_and_keeps_doubled_braces() -> None:
    text = templates.fill("Hi {name}, {{literal}} {name} {Customer comment}",
                          {"name": "Ada", "Customer comment": "too slow"})
    assert text == "Hi Ada, {literal} Ada too slow"
    assert templates.variables_in("{a} {b} {a} {{c}}") == ["a", "b"]


def test_unknown_variable_is_named_with_the_known_ones() -> None:
    with pytest.raises(InvalidInput) as caught:
        templates.fill("About {titel}", {"title": "x", "description": "y"})
    message = str(caught.value)
    assert "{titel}" in message and "{title}" in message and "{description}" in message


def test_values_are_not_evaluated() -> None:
    assert templates.fill("{x}", {"x": "{y} {__class__}"}) == "{y} {__class__}"


@pytest.mark.parametrize(("change", "words"), [
    ({"body": "   "}, "empty"),
    ({"name": ""}, "name"),
    ({"max_tokens": 0}, "between"),
    ({"max_tokens": 100_000}, "between"),
    ({"temperature": 1.5}, "Temperature"),
    ({"output_fields": [OutputField(name="kind", type="category", choices=["a"])]}, "two"),
    ({"output_fields": [OutputField(name="a"), OutputField(name="A")]}, "Two output"),
    ({"output_fields": [OutputField(name="1bad")]}, "start with a letter"),
])
def test_bad_drafts_are_refused_with_a_sentence(admin: UserView, change: dict,
                                                words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        templates.create_template(admin, _draft(**change))
    assert templates.list_templates(admin) == []


def test_output_shape_becomes_a_tool_schema() -> None:
    tool = templates.output_tool(SHAPE)
    assert tool is not None
    props = tool["input_schema"]["properties"]
    assert props["category"] == {"type": "string", "enum": ["praise", "complaint"]}
    assert props["score"] == {"type": "number"} and props["urgent"] == {"type": "boolean"}
    assert tool["input_schema"]["required"] == ["category", "reason", "score", "urgent"]
    assert templates.output_tool([]) is None


def test_replies_off_the_shape_fail_with_the_reason() -> None:
    good = {"category": "praise", "reason": "kind words", "score": 4, "urgent": False}
    assert templates.check_output(SHAPE, good) == good
    with pytest.raises(ShapeMismatch, match="not one of"):
        templates.check_output(SHAPE, {**good, "category": "maybe"})
    with pytest.raises(ShapeMismatch, match="left out"):
        templates.check_output(SHAPE, {"category": "praise"})
    with pytest.raises(ShapeMismatch, match="not a number"):
        templates.check_output(SHAPE, {**good, "score": "four"})
    with pytest.raises(ShapeMismatch, match="yes or no"):
        templates.check_output(SHAPE, {**good, "urgent": "no"})


def test_every_edit_makes_a_new_version(analyst: UserView) -> None:
    made = templates.create_template(analyst, _draft())
    assert made.current_version == 1
    edited = templates.update_template(analyst, made.id, _draft(body="Shorter: {title}"))
    assert edited.current_version == 2
    first = templates.get_version(analyst, made.id, 1)
    assert first.body == "Summarise {title}: {description}"
    assert [v.version for v in templates.list_versions(analyst, made.id)] == [2, 1]


def test_viewers_cannot_make_templates_and_others_cannot_edit(
        analyst: UserView, viewer: UserView, admin: UserView) -> None:
    with pytest.raises(PermissionDenied):
        templates.create_template(viewer, _draft())
    made = templates.create_template(admin, _draft())
    with pytest.raises(PermissionDenied):
        templates.update_template(analyst, made.id, _draft(body="mine now"))
    templates.archive_template(admin, made.id)
    with pytest.raises(NotFound):
        templates.get_version(admin, made.id)
