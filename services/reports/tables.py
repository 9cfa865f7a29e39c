"""Tables for reports: cells written for people (numbers with separators), in HTML or
Markdown, at most a few hundred rows."""

import html

import pandas as pd

from services.data import display_text
from services.research.safe_markdown import plain_markdown


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return display_text.number(value)
    return str(value)


def html_table(frame: pd.DataFrame, *, caption: str, limit: int) -> str:
    shown = frame.head(limit)
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in shown.columns)
    body = "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in shown.itertuples(index=False, name=None))
    note = f" (the first {limit:,} of these {len(frame):,} rows)" if len(frame) > limit else ""
    return (f'<div class="table-wrap"><table>\n<caption>{html.escape(caption)}{note}'
            f"</caption>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n"
            "</table></div>")


def _md_cell(text: str) -> str:
    return plain_markdown(text, in_table=True)


def markdown_table(frame: pd.DataFrame, *, limit: int) -> str:
    if frame.columns.empty:
        return "_No rows were saved._"
    shown = frame.head(limit)
    lines = ["| " + " | ".join(_md_cell(str(c)) for c in shown.columns) + " |",
             "| " + " | ".join("---" for _ in shown.columns) + " |"]
    lines += ["| " + " | ".join(_md_cell(_cell(v)) for v in row) + " |"
              for row in shown.itertuples(index=False, name=None)]
    if len(frame) > limit:
        lines.append(f"\n_The first {limit:,} of these {len(frame):,} rows; the data file has "
                     "them all._")
    return "\n".join(lines)
