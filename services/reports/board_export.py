"""A board as one self-contained HTML file, like a research item's report: it opens offline,
each chart tile is an embedded PNG picture whose alt text is the tile's one-sentence summary,
every tile has its data table, numbers are large text, and notes are Markdown rendered
without raw HTML, images or links. No scripts: a `<script>` in any name shows as text.
"""

import base64
import html
from datetime import datetime

import pandas as pd
import plotly.graph_objects as go
from pydantic import BaseModel

from services.access.users import UserView
from services.boards.models import BoardView, TileView
from services.boards.tiles import MAX_TABLE_ROWS, TileContent
from services.charts.chart_figure import for_export
from services.charts.chart_png import render_png
from services.errors import InvalidInput
from services.reports.html_report import _STYLE as ITEM_STYLE  # the item report's look
from services.reports.pictures import render_pictures
from services.reports.tables import html_table
from services.research.safe_markdown import markdown_html
from services.store.models import utcnow

PNG_SIZE = {"width": 1200, "height": 700, "scale": 2}  # as Explore's "Download chart (PNG)"
_STYLE = ITEM_STYLE + """
section.tile { border-top: 1px solid #d6d6d9; padding-top: 1rem; margin-top: 2rem; }
.number { font-size: 3rem; font-weight: 700; line-height: 1.1; margin: .5rem 0 0; }
.change { font-size: 1.25rem; color: #3d3f45; margin: .25rem 0 .5rem; }
"""


class BoardExport(BaseModel):
    board: BoardView
    contents: list[TileContent]  # tiles.board_contents: layout order
    exported_by: str
    exported_at: datetime
    filters_sentence: str = ""  # the board's filter bar and selections in words, if any


def load_board_export(actor: UserView, board: BoardView, contents: list[TileContent],
                      filters_sentence: str = "") -> BoardExport:
    return BoardExport(board=board, contents=contents, exported_by=actor.username,
                       exported_at=utcnow(), filters_sentence=filters_sentence)


def figure_json(content: TileContent) -> str | None:
    """A chart tile's figure on white with dark text, as plotly JSON (None: no chart)."""
    if content.figure is None or content.problem:
        return None
    return str(for_export(go.Figure(content.figure)).to_json())


def board_pictures(contents: list[TileContent], *, budget_s: float = 60.0) -> dict[int, bytes]:
    """Tile id → PNG for as many chart tiles as fit in the budget (one renderer for all,
    pictures kept on disk by content, as the item report does)."""
    figures = {c.tile_id: f for c in contents if (f := figure_json(c)) is not None}
    return render_pictures(figures, budget_s=budget_s)


def tile_png(content: TileContent) -> bytes:
    """One chart tile as a PNG at slide size; `ExportFailed` in one sentence."""
    found = figure_json(content)
    if found is None:
        raise InvalidInput("Only a chart tile can be saved as a picture.")
    return render_png(found, **PNG_SIZE)


# --- the page ---------------------------------------------------------------------------------


def _text(value: object) -> str:
    return html.escape(str(value))


def _picture(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}">'
            f"<figcaption>{_text(alt)}</figcaption></figure>")


def _answer(tile: TileView | None) -> list[str]:
    """An Ask answer's question and SQL, from the tile's stored spec."""
    spec = tile.spec if tile is not None and tile.kind == "table" else None
    if not spec:
        return []
    parts = []
    if spec.get("question"):
        parts.append(f"<p><strong>Question:</strong> {_text(spec['question'])}</p>")
    if spec.get("sql"):
        parts.append("<details><summary>The SQL that was run</summary><pre><code>"
                     f"{_text(spec['sql'])}</code></pre></details>")
    return parts


def _tile(content: TileContent, number: int, tile: TileView | None,
          pictures: dict[int, bytes]) -> str:
    anchor = f"tile-{number}"
    parts = [f'<section class="tile" aria-labelledby="{anchor}">',
             f'<h3 id="{anchor}">{number}. {_text(content.title)}</h3>']
    if content.problem:
        parts.append(f'<p class="note">{_text(content.problem)}</p></section>')
        return "\n".join(parts)
    if content.kind == "chart":
        picture = pictures.get(content.tile_id)
        if picture is not None:
            parts.append(_picture(picture, content.summary))
        else:
            parts.append('<p class="note">The picture of this chart is not included; its '
                         "data is in the table below.</p>")
            parts.append(f"<p>{_text(content.summary)}</p>")
    elif content.kind == "number":
        parts.append(f'<p class="number">{_text(content.number_text)}</p>')
        if content.change_text:
            parts.append(f'<p class="change">{_text(content.change_text)}</p>')
        parts.append(f"<p>{_text(content.summary)}</p>")
    elif content.kind == "note":
        parts.append(markdown_html(content.note_html, shift_headings=3))
    else:
        parts += _answer(tile)
        parts.append(f"<p>{_text(content.summary)}</p>")
    for sentence in (content.version_sentence, content.filters_sentence):
        if sentence:
            parts.append(f'<p class="meta">{_text(sentence)}</p>')
    if content.table_columns:
        frame = pd.DataFrame(content.table_rows, columns=content.table_columns)
        parts.append(html_table(frame, caption=f"Data behind “{content.title}”",
                                limit=MAX_TABLE_ROWS))
        if content.table_note:
            parts.append(f'<p class="rows">{_text(content.table_note)}</p>')
    parts.append("</section>")
    return "\n".join(parts)


def build_board_html(export: BoardExport, pictures: dict[int, bytes] | None = None) -> bytes:
    """The board as UTF-8 bytes. `pictures` maps tile ids to their PNG pictures; a chart
    without one says so and keeps its summary and data table."""
    pictures = pictures or {}
    board = export.board
    tiles = {t.id: t for t in board.tiles}
    body = [f"<h1>{_text(board.title)}</h1>",
            f'<p class="meta">A board by {_text(board.owner)} · '
            f"{'shared with everyone' if board.visibility == 'shared' else 'private'} · "
            f"updated {board.updated_at:%d %b %Y} · exported by {_text(export.exported_by)} "
            f"on {export.exported_at:%d %b %Y %H:%M} UTC</p>"]
    if board.description:
        body.append(f"<p>{_text(board.description)}</p>")
    if export.filters_sentence:
        body.append(f'<p class="note">{_text(export.filters_sentence)}</p>')
    body.append("<h2>Tiles</h2>")
    if not export.contents:
        body.append("<p>This board has no tiles yet.</p>")
    body += [_tile(c, n, tiles.get(c.tile_id), pictures)
             for n, c in enumerate(export.contents, start=1)]
    page = (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_text(board.title)} — Research Desk board</title>\n"
            f"<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n" + "\n".join(body)
            + "\n</main>\n</body>\n</html>\n")
    return page.encode("utf-8")
