"""Formatting for people: numbers with separators, dates as people write them, safe text."""

import re
from datetime import date, datetime

from services import display_text

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$:])")


def escape_markdown(text: str) -> str:
    """User-provided text inside st.markdown must show as typed, never as markup."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def number(value: float | int | None, *, digits: int = 2) -> str:
    """Numbers for people; the rule lives in services.display_text (one home)."""
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
