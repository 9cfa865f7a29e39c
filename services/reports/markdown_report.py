"""A research item as Markdown in a zip: report.md, the charts as PNG files in images/ and
each insight's data as a formula-safe CSV in data/."""

import io
import zipfile

from services.data.dataset_files import frame_csv_bytes
from services.reports.answer_text import answer_markdown
from services.reports.bundle import (
    ItemExport,
    Picture,
    insight_frame,
    kind_label,
    rows_sentence,
    slug,
    source_sentence,
)
from services.reports.tables import markdown_table
from services.research.items import STATUS_LABELS
from services.research.safe_markdown import plain_markdown, safe_markdown

TABLE_ROWS = 50


def _plain(text: str) -> str:
    """One line of user or data text, shown as typed in Markdown."""
    return plain_markdown(" ".join(text.split()))


def build_markdown_zip(export: ItemExport, pictures: dict[int, Picture] | None = None) -> bytes:
    pictures = pictures or {}
    item = export.item
    lines = [f"# {_plain(item.title)}", "",
             f"Status: {STATUS_LABELS.get(item.status, item.status)} · owner: "
             f"{_plain(item.owner)} · updated {item.updated_at:%d %b %Y} · exported by "
             f"{_plain(export.exported_by)} on {export.exported_at:%d %b %Y %H:%M} UTC", ""]
    if item.tags:
        lines += ["Tags: " + ", ".join(_plain(t) for t in item.tags), ""]
    if item.description:
        lines += [_plain(item.description), ""]
    lines += ["## Notes", "", safe_markdown(item.notes, shift_headings=2) if item.notes.strip()
              else "No notes.",
              "", "## Saved charts and answers", ""]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, card in enumerate(export.insights, start=1):
            name = f"{index:03d}-{slug(card.title, fallback='insight')}"
            lines += [f"### {index}. {_plain(card.title)}", "",
                      f"{kind_label(card)} · saved by {_plain(card.created_by)} on "
                      f"{card.created_at:%d %b %Y}. {_plain(source_sentence(card))}", ""]
            if card.kind == "answer":
                lines += [f"**Question:** {_plain(str(card.spec.get('question') or ''))}", "",
                          answer_markdown(card.summary, card.spec, shift_headings=3), ""]
                if card.spec.get("sql"):
                    lines += ["```sql", str(card.spec["sql"]).replace("```", "'''"), "```", ""]
            picture = pictures.get(card.id)
            if picture is not None:
                archive.writestr(f"images/{name}.png", picture.png)
                lines += [f"![{_plain(picture.alt)}](images/{name}.png)", "",
                          f"_{_plain(picture.alt)}_", ""]
            elif card.kind == "chart" and card.summary:
                lines += [_plain(card.summary), ""]
            frame = insight_frame(export, card)
            if not frame.columns.empty:
                archive.writestr(f"data/{name}.csv", frame_csv_bytes(frame))
                lines += [_plain(rows_sentence(export, card)), "",
                          markdown_table(frame, limit=TABLE_ROWS), "",
                          f"The data file has these {len(frame):,} rows: "
                          f"[data/{name}.csv](data/{name}.csv)", ""]
        if not export.insights:
            lines.append("Nothing was saved to this item.")
        archive.writestr("report.md", "\n".join(lines) + "\n")
    return buffer.getvalue()
