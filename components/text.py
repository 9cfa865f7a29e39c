"""Formatting for people: numbers with separators, dates as people write them, safe text."""

import math
import re
from datetime import date, datetime

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$:])")


def escape_markdown(text: str) -> str:
    """User-provided text inside st.markdown must show as typed, never as markup."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def number(value: float | int | None, *, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    return f"{value:.{digits + 1}g}"


def percent(part: float, whole: float) -> str:
    if not whole:
        return "0%"
    share = 100 * part / whole
    if 0 < share < 1:
        return "<1%"
    return f"{share:.0f}%"


def when(moment: datetime | date | None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, datetime):
        return moment.strftime("%-d %b %Y, %H:%M")
    return moment.strftime("%-d %b %Y")


def file_size(size: int) -> str:
    step = 1024.0
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < step or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= step
    return f"{value:,.1f} TB"
