"""A saved answer's flagged numbers are marked in the HTML report, the Markdown zip and the
notebook, with the check's sentence under the answer; the answer's own text stays text."""

import io
import zipfile

from services.claude.grounded import ONE_FLAGGED, check_answer
from services.reports import html_report, markdown_report, notebook
from services.reports.bundle import load_export
from services.research import saved_insights as research
from services.research.saved_insights import NewInsight
from tests.unit.reports.conftest import ANSWER_SQL, Story

ANSWER = "Gentoo are heaviest at **5,076 g** on average, not 5,430 g <i>really</i>."


def _save_checked_answer(story: Story) -> None:
    check = check_answer(ANSWER, story.answer, question="How heavy is each species?")
    assert [n.text for n in check.flagged] == ["5,430"]
    research.save_insight(story.owner, NewInsight(
        item_id=story.item_id, kind="answer", title="Which species is heaviest?",
        summary=ANSWER, spec={"question": "Which species is heaviest?", "sql": ANSWER_SQL,
                              "chart": None, "tables": {"penguins": "penguins"},
                              "row_count": 3, "grounded": check.model_dump(mode="json")},
        dataset_id=story.dataset_id), story.answer)


def test_html_report_marks_the_flagged_number_and_says_so(story: Story) -> None:
    _save_checked_answer(story)
    text = html_report.build_html(load_export(story.owner, story.item_id)).decode()
    assert '<mark class="unchecked">5,430</mark>' in text
    assert "<strong>5,076 g</strong>" in text and "5,076</mark>" not in text
    assert "&lt;i&gt;really&lt;/i&gt;" in text and "<i>" not in text
    assert f'<p class="check">{ONE_FLAGGED}</p>' in text
    assert text.count("<mark") == 1  # the first answer has no check: nothing marked


def test_markdown_zip_and_notebook_mark_the_flagged_number(story: Story) -> None:
    _save_checked_answer(story)
    export = load_export(story.owner, story.item_id)
    report = zipfile.ZipFile(io.BytesIO(markdown_report.build_markdown_zip(export))) \
        .read("report.md").decode()
    assert "<mark>5,430</mark>" in report and "\\<i\\>really\\</i\\>" in report
    assert f"_{ONE_FLAGGED}_" in report
    cells = notebook.build_notebook(export).cells
    assert any("<mark>5,430</mark>" in "".join(c.source) for c in cells
               if c.cell_type == "markdown")


def test_an_answer_saved_without_a_check_is_exported_as_before(story: Story) -> None:
    text = html_report.build_html(load_export(story.owner, story.item_id)).decode()
    assert "<mark" not in text and 'class="check"' not in text
