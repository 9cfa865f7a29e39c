"""Formatting for people: numbers with separators, dates as people write them, safe text."""

import re
from datetime import date, datetime

from services.data import display_text

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$:&=\"'%@/])")
# In Claude's text only emphasis stays: * and _ are left for **bold** and _italics_.
_MODEL_SPECIAL = re.compile(r"([\\`{}\[\]()#+\-.!|>~<$:&=\"'%@/])")
_REFERENCE_DEFINITION = re.compile(r"^[ \t]{0,3}\[[^\]\n]*\]:[^\n]*$", re.MULTILINE)
_IMAGE = re.compile(r"!\[([^\[\]\n]*)\](?:\([^)\n]*\)|\[[^\]\n]*\])?")
_LINK = re.compile(r"\[([^\[\]\n]*)\]\(\s*<?([^)\s>]*)>?[^)\n]*\)")
_REFERENCE_LINK = re.compile(r"\[([^\[\]\n]*)\]\[[^\]\n]*\]")
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}:[^<>\s]*)>")
_HTML = re.compile(r"<!--.*?-->|</?[A-Za-z][^<>]*>", re.DOTALL)


def escape_markdown(text: str) -> str:
    """The one door for user or data text (names, cells, messages) into anything Streamlit
    renders as Markdown (markdown, write, titles, captions, alerts, labels): it shows as
    typed, never as markup, so no image, link, HTML or colour directive can come from it."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def model_markdown(text: str) -> str:
    """Claude's answer made safe to render: bold and italics stay; images are dropped (a
    remote image would send data out of the page), links become plain "text (address)"
    that cannot be clicked, and HTML is removed. Everything else shows as written."""
    text = _REFERENCE_DEFINITION.sub("", text)
    text = _AUTOLINK.sub(lambda m: m.group(1), text)
    text = _HTML.sub("", text)
    for _ in range(3):  # brackets nested inside brackets, innermost first
        text = _IMAGE.sub(lambda m: m.group(1), text)
        text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})" if m.group(2)
                         else m.group(1), text)
        text = _REFERENCE_LINK.sub(lambda m: m.group(1), text)
    return _MODEL_SPECIAL.sub(r"\\\1", text)


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
