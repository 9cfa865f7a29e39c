"""A research item as one self-contained HTML file: it opens offline, charts are embedded
PNG pictures with their alt text and a data table under each, and the headings and the
language attribute let a screen reader follow it. Notes are Markdown rendered without raw
HTML, images or links (see services.research.safe_markdown): a `<script>` shows as text."""

import base64
import html

from services.reports.answer_text import answer_html
from services.reports.bundle import (
    TABLE_ROWS,
    ItemExport,
    Picture,
    insight_frame,
    kind_label,
    rows_sentence,
    source_sentence,
)
from services.reports.tables import html_table
from services.research.items import STATUS_LABELS
from services.research.safe_markdown import markdown_html

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #262730;
       background: #fff; line-height: 1.5; margin: 0; }
main { max-width: 960px; margin: 0 auto; padding: 2rem 1.5rem; }
h1 { font-size: 2rem; margin-bottom: .25rem; }
.meta { color: #55575f; font-size: .95rem; }
.tag { display: inline-block; border: 1px solid #6b5fb5; color: #4b3f99; border-radius: 1rem;
       padding: 0 .6rem; margin-right: .3rem; font-size: .85rem; }
section.insight { border-top: 1px solid #d6d6d9; padding-top: 1rem; margin-top: 2rem; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #e6e6e9; }
figcaption { color: #3d3f45; font-size: .95rem; }
.note { background: #eef4fb; border-left: 4px solid #0072B2; padding: .5rem .75rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { border: 1px solid #d6d6d9; padding: .25rem .5rem; text-align: left; }
th { background: #f3f3f5; }
pre { background: #f6f6f8; padding: .75rem; overflow-x: auto; white-space: pre-wrap; }
a { color: #0b5cad; }
mark.unchecked { background: #ffe0b2; color: inherit; padding: 0 .15rem; }
.check { color: #8a4b00; font-size: .95rem; }
"""


def _picture(picture: Picture) -> str:
    data = base64.b64encode(picture.png).decode("ascii")
    alt = html.escape(picture.alt, quote=True)
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
            f"<figcaption>{html.escape(picture.alt)}</figcaption></figure>")


def _insight(export: ItemExport, index: int, pictures: dict[int, Picture]) -> str:
    card = export.insights[index]
    parts = [f'<section class="insight" aria-labelledby="insight-{index + 1}">',
             f'<h3 id="insight-{index + 1}">{index + 1}. {html.escape(card.title)}</h3>',
             f'<p class="meta">{kind_label(card)} · saved by {html.escape(card.created_by)} on '
             f"{card.created_at:%d %b %Y}. {html.escape(source_sentence(card))}</p>"]
    if card.kind == "answer":
        question = str(card.spec.get("question") or card.title)
        parts.append(f"<p><strong>Question:</strong> {html.escape(question)}</p>")
        if card.summary:
            parts.append(answer_html(card.summary, card.spec, shift_headings=3))
        sql = card.spec.get("sql")
        if sql:
            parts.append(f"<details><summary>The SQL that was run</summary><pre><code>"
                         f"{html.escape(str(sql))}</code></pre></details>")
    picture = pictures.get(card.id)
    if picture is not None:
        parts.append(_picture(picture))
    elif card.kind == "chart" or card.spec.get("chart"):
        parts.append('<p class="note">The picture of this chart is not included; its data '
                     "is in the table below.</p>")
        if card.summary and card.kind == "chart":
            parts.append(f"<p>{html.escape(card.summary)}</p>")
    frame = insight_frame(export, card)
    if not frame.columns.empty:
        parts.append(f'<p class="rows">{html.escape(rows_sentence(export, card))}</p>')
        parts.append(html_table(frame, caption=f"Data behind “{card.title}”",
                                limit=TABLE_ROWS))
    parts.append("</section>")
    return "\n".join(parts)


def build_html(export: ItemExport, pictures: dict[int, Picture] | None = None) -> bytes:
    """The report as UTF-8 bytes. `pictures` maps insight ids to their PNG pictures."""
    pictures = pictures or {}
    item = export.item
    tags = "".join(f'<span class="tag">{html.escape(t)}</span>' for t in item.tags)
    body = [f"<h1>{html.escape(item.title)}</h1>",
            f'<p class="meta">Status: {STATUS_LABELS.get(item.status, item.status)} · '
            f"owner: {html.escape(item.owner)} · "
            f"{'shared with everyone' if item.is_shared else 'private'} · "
            f"updated {item.updated_at:%d %b %Y} · exported by "
            f"{html.escape(export.exported_by)} on {export.exported_at:%d %b %Y %H:%M} UTC</p>"]
    if tags:
        body.append(f'<p aria-label="Tags">{tags}</p>')
    if item.description:
        body.append(f"<p>{html.escape(item.description)}</p>")
    body.append("<h2>Notes</h2>")
    body.append(markdown_html(item.notes, shift_headings=2) if item.notes.strip()
                else "<p>No notes.</p>")
    body.append("<h2>Saved charts and answers</h2>")
    if not export.insights:
        body.append("<p>Nothing was saved to this item.</p>")
    body += [_insight(export, i, pictures) for i in range(len(export.insights))]
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(item.title)} — Research Desk report</title>\n"
            f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n" + "\n".join(body)
            + "\n</main>\n</body>\n</html>\n")
    return page.encode("utf-8")
