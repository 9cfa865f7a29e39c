"""The one sanitiser for text we did not write (issue 18, point 3): notes, Claude's answers,
names and cells keep their formatting, but no image, link or autolinkable address survives."""

import time

import pytest

from services.research.safe_markdown import markdown_html, plain_markdown, safe_markdown
from tests.markdown_checks import SECRET, hostile_forms, live_markup, rendered_html, visible_text

FORMS = hostile_forms("http://sink.test")


@pytest.mark.parametrize("form", FORMS)
def test_no_form_leaves_anything_live(form: str) -> None:
    for out in (safe_markdown(FORMS[form]), plain_markdown(FORMS[form])):
        assert live_markup(out) == [], out
        assert "<a " not in markdown_html(FORMS[form]) and "<img" not in markdown_html(FORMS[form])


@pytest.mark.parametrize("form", ["inline image", "reference image", "nested",
                                  "in a table", "in a list and quote", "in a heading"])
def test_images_lose_their_address(form: str) -> None:
    shown = visible_text(safe_markdown(FORMS[form]))
    assert ".png" not in shown, shown


def test_links_show_their_text_and_address_as_code() -> None:
    out = safe_markdown(f"See [the report](https://example.org/r?{SECRET}) for more.")
    assert out == f"See the report (`https://example.org/r?{SECRET}`) for more."
    assert visible_text(safe_markdown(FORMS["reference link"])) == \
        f"See the report (http://sink.test/l?{SECRET})."
    assert visible_text(safe_markdown(FORMS["bare URL"])) == \
        f"Open http://sink.test/b?{SECRET} or www.sink.test/w?{SECRET}."  # full stop stays out


def test_plain_text_shows_exactly_as_typed() -> None:
    for text in FORMS.values():
        if "\n" not in text:
            assert visible_text(plain_markdown(text)) == " ".join(text.split()), text
    assert visible_text(plain_markdown("- 1. # a | b `c` **d** _e_ ~f~ \\g")) == \
        "- 1. # a | b `c` **d** _e_ ~f~ \\g"


def test_a_table_cell_stays_in_its_cell() -> None:
    cell = plain_markdown("![c](http://host/x.png) | `a|b` \n next", in_table=True)
    page = rendered_html(f"| {cell} | two |\n|---|---|\n| x | y |")
    assert page.count("<th>") == 2 and "<img" not in page and "<a " not in page


def test_formatting_stays_and_headings_move_down() -> None:
    text = ("# Findings\n\n**bold** _it_ ~~gone~~ `code <b>`\n\n- one\n- two\n  1. sub\n\n"
            "> quote\n\n| a | b |\n|:--|--:|\n| 1 | 2 |\n\n```sql\nselect '<b>'\n```\n\n***")
    page = markdown_html(text, shift_headings=2)
    for part in ("<h3>Findings</h3>", "<strong>bold</strong>", "<em>it</em>", "<s>gone</s>",
                 "<code>code &lt;b&gt;</code>", "<li>one</li>", "<ol>", "<blockquote>",
                 '<th style="text-align:left">a</th>', 'class="language-sql"',
                 "select '&lt;b&gt;'", "<hr />"):
        assert part in page, part
    assert safe_markdown("###### Six", shift_headings=3).startswith("###### ")


def test_code_keeps_what_was_typed() -> None:
    out = safe_markdown("Use `` a`b `` and\n\n````\n```\n<img src=http://x>\n````")
    page = rendered_html(out)
    assert "<code>a`b</code>" in page and "&lt;img src=http://x&gt;" in page
    assert "<img" not in page


def test_ten_thousand_lines_are_handled() -> None:
    text = "\n".join(f"- line {n} with [a link](https://example.org/{n}) and <b>" for n in
                     range(10_000))
    started = time.perf_counter()
    out = safe_markdown(text)
    markdown_html(text)
    assert time.perf_counter() - started < 60  # a guard against runaway patterns, not a benchmark
    assert out.count("\n") == 9_999 and "<b>" not in out


def test_no_second_copy_of_the_sanitiser() -> None:
    from tests.unit.one_home import files_matching

    assert files_matching(r"markdown_it|MarkdownIt") == ["services/research/safe_markdown.py"]
    assert files_matching(r"def (notes_markdown|is_safe_link|_md_cell\b.*\n.*replace)") == []
