"""A saved Ask answer's words in an export, with the numbers its check flagged marked and the
check's sentence under them (the same marks the app shows; see services.claude.grounded)."""

import html
from typing import Any

from services.claude.grounded import stored_check
from services.research.safe_markdown import marked_html, marked_markdown, plain_markdown


def _check_parts(spec: dict[str, Any]) -> tuple[list[tuple[int, int]], str]:
    check = stored_check(spec.get("grounded"))
    return (check.spans, check.sentence) if check is not None else ([], "")


def answer_markdown(summary: str, spec: dict[str, Any], *, shift_headings: int = 3) -> str:
    """The answer as safe Markdown; a flagged number in <mark> (GitHub and Jupyter show it
    highlighted, anything else shows the tags), then the check's sentence."""
    spans, sentence = _check_parts(spec)
    text = marked_markdown(summary, spans, before="<mark>", after="</mark>",
                           shift_headings=shift_headings)
    return f"{text}\n\n_{plain_markdown(sentence)}_" if sentence else text


def answer_html(summary: str, spec: dict[str, Any], *, shift_headings: int = 3) -> str:
    """The answer as safe HTML; a flagged number in <mark>, then the check's sentence."""
    spans, sentence = _check_parts(spec)
    text = marked_html(summary, spans, shift_headings=shift_headings)
    return f'{text}<p class="check">{html.escape(sentence)}</p>' if sentence else text
