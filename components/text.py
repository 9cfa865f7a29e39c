"""Formatting for people: numbers with separators, dates as people write them, safe text."""

from datetime import date, datetime

from services.data import display_text
from services.research.safe_markdown import marked_markdown, plain_markdown, safe_markdown


def escape_markdown(text: object) -> str:
    """The one door for user or data text (names, cells, messages) into anything Streamlit
    renders as Markdown (markdown, write, titles, captions, alerts, labels): it shows as
    typed, never as markup, and an address in it shows as code that cannot be clicked."""
    return plain_markdown(text)


def model_markdown(text: str, marks: list[tuple[int, int]] | None = None) -> str:
    """Claude's answer made safe to render (see services.research.safe_markdown): formatting stays;
    no image, link or HTML comes through. Its headings sit below the page's own. `marks`:
    spans of the text to highlight (numbers its check could not find in the result)."""
    if marks:
        return marked_markdown(text, marks, before=":orange-background[", after="]",
                               shift_headings=3)
    return safe_markdown(text, shift_headings=3)


def number(value: float | int | None, *, digits: int = 2) -> str:
    """Numbers for people; the rule lives in services.data.display_text (one home)."""
    return display_text.number(value, digits=digits)


def percent(part: float, whole: float) -> str:
    return display_text.share(part, whole)


def when(moment: datetime | date | None) -> str:
    """An app time (stored in UTC) as people write it: "1 Mar 2024 14:05"."""
    if moment is None:
        return "—"
    return display_text.moment(moment, with_time=isinstance(moment, datetime), seconds=False)


def file_size(size: int) -> str:
    step = 1024.0
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < step or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= step
    return f"{value:,.1f} TB"
